import ArgumentParser
import Foundation
import StarlingEval
import StarlingModels

struct Quickstart: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train NeuMF briefly on MovieLens-1M (NCF split), evaluate it and print the metrics.")

    @OptionGroup var dataset: DatasetOptions
    @Option(help: "Training epochs.") var epochs = 3
    @Option(help: "Where the checkpoint goes.") var output = "runs/quickstart-neumf.safetensors"

    func run() throws {
        let split = try dataset.ncfSplit()
        Console.status("Starling quickstart: NeuMF (32 factors, 3 MLP layers) on \(split.name), \(split.train.count) training pairs")
        var training = PointwiseTrainingConfiguration()
        training.epochs = epochs
        let evaluator = SampledRankingEvaluator(split: split)
        var session = NeuMFTrainingSession(split: split, evaluator: evaluator, evalEvery: 1)
        let result = try session.train(NeuMF.Configuration(userCount: split.train.userCount, itemCount: split.train.itemCount),
                                       training, label: "NeuMF")
        var file = try result.model.checkpoint()
        file.metadata["dataset"] = split.name
        try file.write(to: URL(fileURLWithPath: output))
        try TrainingArtifacts.write(history: [("NeuMF", result.history)], beside: output, protocol: evaluator.evaluationProtocol)
        let report = evaluator.evaluate(result.model, details: ["checkpoint": output])
        print(try report.json())
        print(report.summary)
        Console.status("checkpoint: \(output)  (evaluate again with: starling evaluate --checkpoint \(output) --json)")
    }
}
