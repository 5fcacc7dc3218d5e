import ArgumentParser
import Foundation
import StarlingData
import StarlingEval
import StarlingModels
import StarlingTensor

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model, show progress, evaluate it, and write a checkpoint.",
        subcommands: [TrainNeuMF.self, TrainPopularity.self, TrainItemKNN.self, TrainEASE.self, TrainIALS.self, TrainBPR.self,
                      TrainItem2Vec.self, TrainDeepFM.self, TrainWideAndDeep.self,
                      TrainSharedBottom.self, TrainMMoE.self, TrainESMM.self, TrainSASRec.self, TrainLightGCN.self])
}

struct TrainNeuMF: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neumf",
        abstract: "NeuMF on the NCF MovieLens-1M split: progress, checkpoint, training history and curve.")

    @OptionGroup var dataset: DatasetOptions
    @OptionGroup var options: NeuMFOptions

    @Option(help: "Checkpoint to write (history and curve go beside it).") var output = "runs/neumf.safetensors"
    @Option(name: .customLong("eval-every"), help: "Evaluate on the test protocol every N epochs (0: only at the end).")
    var evalEvery = 1
    @Flag(help: "Pre-train GMF and MLP, then initialise NeuMF from them (the paper's NeuMF with pre-training).")
    var pretrain = false
    @Option(name: .customLong("finetune-optimizer"), help: "Optimizer for NeuMF after pre-training.")
    var finetuneOptimizer: PointwiseTrainingConfiguration.OptimizerKind = .sgd
    @Option(name: .customLong("finetune-learning-rate"), help: "Learning rate for NeuMF after pre-training.")
    var finetuneLearningRate: Float = 0.001
    @Option(name: .customLong("finetune-epochs"), help: "Epochs for NeuMF after pre-training (default: --epochs).")
    var finetuneEpochs: Int?
    @Flag(help: "Hold out one training item per user (+99 sampled negatives) and keep the weights of the epoch with the best validation NDCG@10 (early stopping); the test set is never used for selection.")
    var validation = false
    @Option(help: "With --validation: stop after this many epochs without a better validation NDCG@10.")
    var patience = 4

    func run() throws {
        let split = try dataset.ncfSplit()
        Console.status("dataset \(split.name): \(split.train.userCount) users, \(split.train.itemCount) items, \(split.train.count) training pairs, \(split.testUsers.count) test users")
        let evaluator = SampledRankingEvaluator(split: split, ks: [10], threads: options.threads)
        var session = NeuMFTrainingSession(split: split, evaluator: evaluator, evalEvery: evalEvery)
        if validation {
            let (reduced, held) = split.holdingOutValidation(seed: options.seed)
            session.trainingData = reduced
            session.validator = SampledRankingEvaluator(split: held, ks: [10], threads: options.threads)
            session.patience = patience
            Console.status("validation: \(held.testUsers.count) held-out training items (each with 99 sampled negatives) select the epoch; \(reduced.count) pairs remain for training")
        }
        let model: NeuMF
        var history: [(String, [EpochSummary])] = []
        if pretrain {
            let gmf = try session.train(options.modelConfiguration(users: split.train.userCount, items: split.train.itemCount, variant: .gmf),
                                        options.trainingConfiguration, label: "GMF")
            let mlp = try session.train(options.modelConfiguration(users: split.train.userCount, items: split.train.itemCount, variant: .mlp),
                                        options.trainingConfiguration, label: "MLP")
            history += [("GMF", gmf.history), ("MLP", mlp.history)]
            var fine = options.trainingConfiguration
            fine.optimizer = finetuneOptimizer
            fine.learningRate = finetuneLearningRate
            fine.epochs = finetuneEpochs ?? options.epochs
            let fused = try NeuMF(pretrainedGMF: gmf.model, mlp: mlp.model)
            let result = try session.train(fused, fine, label: "NeuMF (pre-trained)")
            history.append(("NeuMF", result.history))
            model = result.model
        } else {
            let result = try session.train(options.modelConfiguration(users: split.train.userCount, items: split.train.itemCount),
                                           options.trainingConfiguration, label: options.variant.rawValue)
            history.append((options.variant.rawValue, result.history))
            model = result.model
        }
        var file = try model.checkpoint()
        file.metadata["dataset"] = split.name
        file.metadata["training"] = String(decoding: try JSONEncoder().encode(options.trainingConfiguration), as: UTF8.self)
        file.metadata["pretrained"] = pretrain ? "true" : "false"
        if let selected = session.selectedEpoch { file.metadata["selected_epoch"] = "\(selected) (best validation NDCG@10)" }
        try file.write(to: URL(fileURLWithPath: output))
        Console.status("checkpoint written to \(output)")
        try TrainingArtifacts.write(history: history, beside: output, protocol: evaluator.evaluationProtocol)
        let report = evaluator.evaluate(model, details: ["checkpoint": output])
        print(report.summary)
    }
}

/// Trains NeuMF variants on an NCF split with per-epoch evaluation and progress output, and
/// optionally selects the epoch on a validation hold-out.
struct NeuMFTrainingSession {
    let split: NCFSplit
    let evaluator: SampledRankingEvaluator
    let evalEvery: Int
    /// The data trained on (the split's training data, minus a validation hold-out if any).
    var trainingData: InteractionMatrix
    /// Validation protocol for early stopping and epoch selection.
    var validator: SampledRankingEvaluator?
    var patience = 4
    /// The epoch whose weights were kept (with a validator).
    private(set) var selectedEpoch: Int?

    init(split: NCFSplit, evaluator: SampledRankingEvaluator, evalEvery: Int) {
        self.split = split
        self.evaluator = evaluator
        self.evalEvery = evalEvery
        self.trainingData = split.train
    }

    mutating func train(_ configuration: NeuMF.Configuration, _ training: PointwiseTrainingConfiguration, label: String) throws
        -> (model: NeuMF, history: [EpochSummary]) {
        try train(try NeuMF(configuration, seed: training.seed), training, label: label)
    }

    mutating func train(_ model: NeuMF, _ training: PointwiseTrainingConfiguration, label: String) throws
        -> (model: NeuMF, history: [EpochSummary]) {
        Console.status("[\(label)] \(model.parameterCount) parameters, MLP widths \(model.configuration.variant == .gmf ? [] : model.configuration.mlpWidths), \(training.epochs) epochs, batch \(training.batchSize), \(training.optimizer.rawValue) lr \(training.learningRate), \(training.threads) threads")
        let trainer = try PointwiseTrainer(configuration: training)
        var best: (epoch: Int, score: Double, weights: [String: Tensor])?
        let (evaluator, validator, evalEvery, patience) = (self.evaluator, self.validator, self.evalEvery, self.patience)
        trainer.train(model, on: trainingData, events: { Console.report($0, label: label) }, afterEpoch: { epoch in
            var metrics: [String: Double] = [:]
            if let validator {
                let v = validator.evaluate(model).metrics
                metrics["val HR@10"] = v["HR@10"]
                metrics["val NDCG@10"] = v["NDCG@10"]
                if best == nil || v["NDCG@10"]! > best!.score {
                    best = (epoch, v["NDCG@10"]!, model.stateDictionary())
                }
            }
            if evalEvery > 0 && (epoch % evalEvery == 0 || epoch == training.epochs) {
                metrics.merge(evaluator.evaluate(model).metrics.filter { !$0.key.hasPrefix("MRR") }) { $1 }
            }
            return metrics
        }, stopAfter: { summary in
            guard let best else { return false }
            return summary.epoch - best.epoch >= patience
        })
        if let best {
            try model.loadStateDictionary(best.weights)
            selectedEpoch = best.epoch
            Console.status("[\(label)] kept the weights of epoch \(best.epoch) (best validation NDCG@10 \(String(format: "%.4f", best.score)))")
        }
        return (model, trainer.history)
    }
}

/// One stage of a training run in the history file (`GMF`, `MLP`, `NeuMF`, …), in run order.
struct TrainingStage: Codable {
    var stage: String
    var epochs: [EpochSummary]
}

/// The training history (JSON) and its curve (SVG) written next to a checkpoint.
enum TrainingArtifacts {
    static func write(history: [(String, [EpochSummary])], beside checkpoint: String, protocol: EvaluationProtocol,
                      metrics: [String] = ["HR@10", "NDCG@10", "val HR@10", "val NDCG@10"]) throws {
        let base = checkpoint.hasSuffix(".safetensors") ? String(checkpoint.dropLast(".safetensors".count)) : checkpoint
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let stages = history.map { TrainingStage(stage: $0.0, epochs: $0.1) }
        try Console.write(String(decoding: try encoder.encode(stages), as: UTF8.self), to: base + ".history.json")
        try Console.write(curve(history: history, protocol: `protocol`, metrics: metrics), to: base + ".curve.svg")
        Console.status("history and curve written to \(base).history.json and \(base).curve.svg")
    }

    /// The training curve as SVG: one panel per training stage (GMF, MLP, NeuMF when pre-training).
    static func curve(history: [(String, [EpochSummary])], protocol: EvaluationProtocol?,
                      metrics: [String] = ["HR@10", "NDCG@10", "val HR@10", "val NDCG@10"]) -> String {
        let describe = `protocol`.map { "\($0.ranking) metrics (\($0.candidates))" } ?? "metrics"
        let charts = history.map { name, epochs -> LineChart in
            var series: [LineChart.Series] = [.init(name: "loss", points: epochs.map { (Double($0.epoch), $0.loss) }, dashed: true)]
            for metric in metrics {
                let points = epochs.compactMap { e in e.metrics[metric].map { (Double(e.epoch), $0) } }
                if !points.isEmpty { series.append(.init(name: metric, points: points)) }
            }
            return LineChart(title: "\(name): \(describe)", xLabel: "epoch", yLabel: "value", series: series)
        }
        return charts.count == 1 ? charts[0].svg() : LineChart.stacked(charts)
    }
}
