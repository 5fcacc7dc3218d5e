import ArgumentParser
import Foundation
import StarlingEval
import StarlingModels

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a checkpoint under its dataset's protocol and print the metrics.")

    @Option(help: "The checkpoint written by `starling train`.") var checkpoint = "runs/neumf.safetensors"
    @OptionGroup var dataset: DatasetOptions
    @Option(name: .customLong("k"), parsing: .upToNextOption, help: "Cut-offs (default 10).") var ks: [Int] = [10]
    @Flag(help: "Print one JSON object: model, dataset, protocol, metrics.") var json = false
    @Option(help: "Also write the JSON report to this file.") var output: String?

    func run() throws {
        let (model, metadata) = try NeuMF.load(from: URL(fileURLWithPath: checkpoint))
        let split = try dataset.ncfSplit()
        guard model.userCount == split.train.userCount, model.itemCount == split.train.itemCount else {
            throw ValidationError("\(checkpoint): model has \(model.userCount) users × \(model.itemCount) items, the dataset \(split.train.userCount) × \(split.train.itemCount)")
        }
        var details = ["checkpoint": checkpoint]
        details["configuration"] = metadata["configuration"]
        details["pretrained"] = metadata["pretrained"]
        let report = SampledRankingEvaluator(split: split, ks: ks).evaluate(model, details: details)
        let text = try report.json()
        if let output { try Console.write(text + "\n", to: output) }
        print(json ? text : report.summary)
    }
}
