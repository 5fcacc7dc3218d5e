import ArgumentParser
import Foundation
import StarlingData
import StarlingEval
import StarlingModels
import StarlingTensor

/// LightGCN's hyper-parameters and training settings on the command line (the paper's Gowalla values by default).
struct LightGCNOptions: ParsableArguments {
    @Option(help: "Embedding width.") var factors = 64
    @Option(help: "Propagation layers K.") var layers = 3
    @Option(help: "Epochs (an upper bound with --budget-seconds).") var epochs = 1000
    @Option(name: .customLong("batch-size"), help: "BPR triples per step.") var batchSize = 2048
    @Option(name: .customLong("lr"), help: "Adam learning rate.") var learningRate: Float = 0.001
    @Option(name: .customLong("l2"), help: "λ of the L2 term on the batch's layer-0 embeddings.") var regularization: Float = 1e-4
    @Option(name: .customLong("eval-every"), help: "Evaluate every N epochs (0: only after the last).") var evalEvery = 20
    @Option(name: .customLong("budget-seconds"), help: "Start no new epoch after this many training seconds (sampling included, evaluation not).")
    var budgetSeconds: Double?
    @Option(help: "Seed of the initial embeddings and the sampling.") var seed: UInt64 = 42
    @Option(help: "Worker threads (default: all cores).") var threads = Parallel.coreCount

    var modelConfiguration: LightGCN.Configuration { LightGCN.Configuration(factors: factors, layers: layers) }

    var trainingConfiguration: LightGCNTrainingConfiguration {
        var t = LightGCNTrainingConfiguration()
        t.epochs = epochs
        t.batchSize = batchSize
        t.learningRate = learningRate
        t.regularization = regularization
        t.evaluateEvery = evalEvery
        t.timeBudgetSeconds = budgetSeconds
        t.seed = seed
        t.threads = threads
        return t
    }

    /// Trains on `data`, evaluating its protocol on evaluation epochs.
    func train(_ data: PreparedDataset, label: String = "LightGCN", progressInterval: Double = 10) throws -> (LightGCN, LightGCNTrainer) {
        let model = try LightGCN(data.train, configuration: modelConfiguration, seed: seed)
        let trainer = try LightGCNTrainer(configuration: trainingConfiguration)
        trainer.progressInterval = progressInterval
        Console.status("[\(label)] \(model.parameterCount) parameters; \(layers) layers of width \(factors) over \(model.graph.entryCount) graph entries; batch \(batchSize), lr \(learningRate), λ \(regularization), \(threads) threads")
        trainer.train(model, events: { Console.report($0, label: label) }) { _ in
            data.evaluate(model).metrics.filter { $0.key.hasSuffix("@20") }
        }
        return (model, trainer)
    }
}

struct TrainLightGCN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lightgcn",
        abstract: "LightGCN (BPR, mean of propagated layers): progress, periodic full-ranking evaluation, checkpoint, history and curve.")

    @OptionGroup var selection: DatasetSelection
    @OptionGroup var options: LightGCNOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let data = try selection.prepare()
        Console.status("dataset \(data.describe)")
        let (model, trainer) = try options.train(data)
        let path = output.output ?? "runs/lightgcn-\(data.name).safetensors"
        var file = try model.checkpoint()
        file.metadata["dataset"] = data.name
        file.metadata["dataset_selection"] = selection.dataset.rawValue
        file.metadata["split_seed"] = "\(selection.splitSeed)"
        file.metadata["training"] = String(decoding: try JSONEncoder().encode(options.trainingConfiguration), as: UTF8.self)
        try file.write(to: URL(fileURLWithPath: path))
        Console.status("checkpoint written to \(path)")
        let report = data.evaluate(model, details: ["checkpoint": path, "epochs": "\(trainer.history.count)"])
        try TrainingArtifacts.write(history: [("LightGCN", trainer.history)], beside: path, protocol: report.evaluationProtocol,
                                    metrics: ["Recall@20", "NDCG@20"])
        let text = try report.json()
        if let path = output.report { try Console.write(text + "\n", to: path) }
        print(output.json ? text : report.summary)
    }
}

/// LightGCN seconds per epoch and accuracy on the Gowalla split, for side-by-side runs with
/// PyTorch (scripts/bench_lightgcn_vs_pytorch.py).
struct LightGCNBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lightgcn", abstract: "LightGCN seconds per epoch and Recall@20 on Gowalla (JSON).")

    @Option(name: .long, help: "Folder holding the datasets (default: $STARLING_DATA, then ../shared/datasets).") var data: String?
    @OptionGroup var options: LightGCNOptions

    func run() throws {
        var options = self.options
        if !CommandLine.arguments.contains("--epochs") && options.budgetSeconds == nil { options.epochs = 2 }
        var arguments = ["--dataset", DatasetName.gowalla.rawValue, "--k", "20"]
        if let data { arguments += ["--data", data] }
        let prepared = try DatasetSelection.parse(arguments).prepare()
        Console.status("dataset \(prepared.describe)")
        let (model, trainer) = try options.train(prepared)
        let training = trainer.history.map { $0.seconds - $0.samplingSeconds }
        var elapsed: Double = 0
        let epochs: [[String: Any]] = trainer.history.map { e in
            elapsed += e.seconds
            var row: [String: Any] = ["epoch": e.epoch, "seconds": (e.seconds - e.samplingSeconds).rounded(to: 3),
                                      "sample_seconds": e.samplingSeconds.rounded(to: 3), "loss": e.loss.rounded(to: 5),
                                      "elapsed": elapsed.rounded(to: 2)]
            for (k, v) in e.metrics { row[k.lowercased()] = v.rounded(to: 4) }
            return row
        }
        let result: [String: Any] = [
            "engine": "starling", "build": BenchEnvironment.build, "model": model.modelName, "dataset": prepared.name,
            "parameters": model.parameterCount, "batch_size": options.batchSize, "threads": options.threads,
            "epochs": epochs, "seconds_per_epoch": (training.reduce(0, +) / Double(max(training.count, 1))).rounded(to: 3),
            "timing": "seconds: an epoch's steps (propagation, loss, gradient, Adam); sampling in sample_seconds; evaluation in neither",
        ]
        let json = try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
}
