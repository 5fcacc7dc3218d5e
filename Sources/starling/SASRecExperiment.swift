import ArgumentParser
import Foundation
import StarlingData
import StarlingEval
import StarlingModels
import StarlingTensor

/// SASRec's hyper-parameters and training settings on the command line (the paper's Amazon Games values by default).
struct SASRecOptions: ParsableArguments {
    @Option(name: .long, help: "Folder holding the datasets (default: $STARLING_DATA, then ../shared/datasets).") var data: String?
    @Option(name: .customLong("max-length"), help: "Most recent items a sequence keeps.") var maxLength = 50
    @Option(help: "Embedding and hidden width.") var hidden = 50
    @Option(help: "Self-attention blocks.") var blocks = 2
    @Option(help: "Attention heads.") var heads = 1
    @Option(help: "Dropout rate.") var dropout: Float = 0.5
    @Option(help: "Epochs.") var epochs = 200
    @Option(name: .customLong("batch-size"), help: "Sequences per step.") var batchSize = 128
    @Option(name: .customLong("lr"), help: "Adam learning rate.") var learningRate: Float = 0.001
    @Option(name: .customLong("evaluate-every"), help: "Validation every N epochs (0: never; the last epoch is kept).") var evaluateEvery = 10
    @Option(help: "Stop after this many validations without a better NDCG@10 (0: never).") var patience = 5
    @Option(help: "Seed of the initial weights, the sampling and dropout.") var seed: UInt64 = 42
    @Option(help: "Worker threads (default: all cores).") var threads = Parallel.coreCount

    func modelConfiguration(itemCount: Int) -> SASRec.Configuration {
        SASRec.Configuration(itemCount: itemCount, maxLength: maxLength, hiddenUnits: hidden, blocks: blocks, heads: heads, dropout: dropout)
    }

    var trainingConfiguration: SASRecTrainingConfiguration {
        var t = SASRecTrainingConfiguration()
        t.epochs = epochs
        t.batchSize = batchSize
        t.learningRate = learningRate
        t.evaluateEvery = evaluateEvery
        t.patience = patience
        t.seed = seed
        t.threads = threads
        return t
    }
}

/// The SASRec paper's data and protocol on Amazon Games (`sasrec/Video.txt`): per user, the last
/// item is the test target, the second last the validation target, the rest trains; each target is
/// ranked against 100 negatives drawn uniformly (seeded) from the items the user never touched.
/// The validation sequence is the training sequence; the test sequence appends the validation item.
struct SASRecProtocol {
    /// The seed of the negative draws: fixed, so every model is scored on the same candidates.
    static let negativeSeed: UInt64 = 2018
    static let description = "SASRec leave-one-out on sasrec/Video.txt (last item test, second last validation, rest train)"

    let split: SequenceSplit
    let validation: SampledRankingEvaluator
    let test: SampledRankingEvaluator

    init(root: URL, threads: Int = Parallel.coreCount) throws {
        split = SequenceSplit(try SASRecSequences.games(root: root))
        let train = split.trainMatrix
        validation = .sampling(train: train, targets: split.validationItems, negatives: 100, seed: Self.negativeSeed, name: "sasrec-games",
                               splitDescription: Self.description + "; validation target, training sequence as input",
                               alsoExcluded: split.testItems, ks: [10], threads: threads)
        test = .sampling(train: train, targets: split.testItems, negatives: 100, seed: Self.negativeSeed + 1, name: "sasrec-games",
                         splitDescription: Self.description + "; test target, training sequence + validation item as input",
                         alsoExcluded: split.validationItems, ks: [10], threads: threads)
    }

    /// Each user's training items, oldest first.
    var trainingSequences: [[Int32]] { (0..<split.userCount).map { Array(split.trainSequence(of: $0)) } }

    /// The sequences a test prediction reads: training items, then the validation item.
    var testSequences: [[Int32]] {
        (0..<split.userCount).map { u in Array(split.trainSequence(of: u)) + (split.validationItems[u] >= 0 ? [split.validationItems[u]] : []) }
    }

    /// Everything but the test items, as a user × item matrix: what a model may learn from before
    /// the test (models other than SASRec train on it when `--dataset sasrec-games` is chosen).
    var testTimeInteractions: InteractionMatrix { InteractionMatrix(itemCount: split.itemCount, sequences: testSequences) }

    var describe: String {
        "sasrec-games: \(split.userCount) users, \(split.itemCount) items, \(split.trainItems.count) training actions, \(split.testUsers.count) test users"
    }

    /// Trains a new SASRec with validation every `evaluateEvery` epochs (keeping the best), then
    /// leaves it holding the test sequences.
    func train(_ options: SASRecOptions, label: String = "SASRec", progressInterval: Double = 5) throws -> (model: SASRec, trainer: SASRecTrainer) {
        let model = try SASRec(options.modelConfiguration(itemCount: split.itemCount), sequences: trainingSequences, seed: options.seed)
        let trainer = try SASRecTrainer(configuration: options.trainingConfiguration)
        trainer.progressInterval = progressInterval
        Console.status("[\(label)] \(model.parameterCount) parameters; d \(options.hidden), \(options.blocks) blocks, \(options.heads) heads, dropout \(options.dropout), max length \(options.maxLength); \(options.epochs) epochs of batch \(options.batchSize), lr \(options.learningRate), \(options.threads) threads")
        let validation = self.validation
        trainer.train(model, on: split, events: { Console.report($0, label: label) }) { _ in
            let m = validation.evaluate(model).metrics
            return ["val HR@10": m["HR@10"] ?? .nan, "val NDCG@10": m["NDCG@10"] ?? .nan]
        }
        if let epoch = trainer.selectedEpoch { Console.status("[\(label)] kept the weights of epoch \(epoch) (best validation NDCG@10)") }
        try model.setSequences(testSequences)
        return (model, trainer)
    }
}

struct TrainSASRec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sasrec",
        abstract: "SASRec on the paper's Amazon Games sequences: progress, validation-selected epoch, test HR@10/NDCG@10 (100 sampled negatives), checkpoint, history and curve.")

    @OptionGroup var options: SASRecOptions
    @Option(help: "Checkpoint to write (history and curve go beside it).") var output = "runs/sasrec-games.safetensors"
    @Flag(help: "Print the test report as JSON instead of a summary line.") var json = false

    func run() throws {
        let data = try SASRecProtocol(root: try DataRoot.resolve(explicit: options.data), threads: options.threads)
        Console.status(data.describe)
        let (model, trainer) = try data.train(options)
        var file = try model.checkpoint()
        file.metadata["dataset_selection"] = DatasetName.sasrecGames.rawValue
        file.metadata["training"] = String(decoding: try JSONEncoder().encode(options.trainingConfiguration), as: UTF8.self)
        if let epoch = trainer.selectedEpoch { file.metadata["selected_epoch"] = "\(epoch) (best validation NDCG@10)" }
        try file.write(to: URL(fileURLWithPath: output))
        Console.status("checkpoint written to \(output)")
        try TrainingArtifacts.write(history: [("SASRec", trainer.history)], beside: output, protocol: data.test.evaluationProtocol)
        let report = data.test.evaluate(model, details: ["checkpoint": output, "selected_epoch": trainer.selectedEpoch.map(String.init) ?? "last"])
        print(json ? try report.json() : report.summary)
    }
}

/// Trains SASRec for a few epochs and reports sequences per second (and test accuracy), for
/// side-by-side runs with PyTorch (scripts/bench_sasrec_vs_pytorch.py).
struct SASRecBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sasrec", abstract: "SASRec training throughput on Amazon Games (JSON).")

    @OptionGroup var options: SASRecOptions
    @Flag(help: "Also evaluate the test protocol after training.") var eval = false

    func run() throws {
        var options = self.options
        if !CommandLine.arguments.contains("--epochs") { options.epochs = 3 }
        options.evaluateEvery = 0
        let data = try SASRecProtocol(root: try DataRoot.resolve(explicit: options.data), threads: options.threads)
        Console.status(data.describe)
        let (model, trainer) = try data.train(options, progressInterval: 5)
        let trainSeconds = trainer.history.reduce(0) { $0 + $1.seconds - $1.samplingSeconds }
        let sequences = Double(trainer.history.count * ((data.split.userCount + options.batchSize - 1) / options.batchSize) * options.batchSize)
        var result: [String: Any] = [
            "engine": "starling", "build": BenchEnvironment.build, "model": model.modelName, "dataset": "sasrec-games",
            "parameters": model.parameterCount, "batch_size": options.batchSize, "threads": options.threads, "epochs": trainer.history.count,
            "train_seconds": trainSeconds.rounded(to: 3),
            "sampling_seconds": trainer.history.reduce(0) { $0 + $1.samplingSeconds }.rounded(to: 3),
            "sequences_per_second": (sequences / max(trainSeconds, 1e-9)).rounded(),
            "seconds_per_epoch": (trainSeconds / Double(max(trainer.history.count, 1))).rounded(to: 3),
            "epoch_losses": trainer.history.map { $0.loss.rounded(to: 5) },
            "timing": "forward, backward and Adam step of each batch; sampling excluded (sampling_seconds)",
        ]
        if eval {
            let m = data.test.evaluate(model).metrics
            result["test_hr@10"] = (m["HR@10"] ?? .nan).rounded(to: 4)
            result["test_ndcg@10"] = (m["NDCG@10"] ?? .nan).rounded(to: 4)
            result["protocol"] = data.test.evaluationProtocol.split
        }
        let json = try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
}
