import ArgumentParser
import Foundation
import StarlingEval
import StarlingFeatures
import StarlingModels
import StarlingTensor

/// A click dataset with its pipeline fitted on the training rows and every part encoded with it.
struct EncodedClickDataset {
    let prepared: ClickDatasetSelection.Prepared
    let pipeline: FeaturePipeline
    let train: EncodedFeatures
    let validation: ClickEvaluator
    let test: ClickEvaluator

    init(_ selection: ClickDatasetSelection) throws {
        let p = try selection.load()
        let pipeline = try FeaturePipeline.fit(p.specs, on: p.train.table)
        func evaluator(_ part: LabeledFeatureTable, _ role: String) throws -> ClickEvaluator {
            ClickEvaluator(features: try pipeline.encode(part.table), labels: part.labels, tasks: part.tasks,
                           datasetName: p.name, splitDescription: "\(p.splitDescription); evaluated on \(role)")
        }
        prepared = p
        self.pipeline = pipeline
        train = try pipeline.encode(p.train.table)
        validation = try evaluator(p.validation, "validation")
        test = try evaluator(p.test, "test")
    }

    var describe: String {
        "\(prepared.name): \(prepared.train.rowCount) training rows (positive rate \(String(format: "%.3f", prepared.train.positiveRate()))), \(prepared.validation.rowCount) validation, \(prepared.test.rowCount) test; \(pipeline.fieldCount) fields, \(pipeline.tableRows) embedding rows"
    }

    /// A fresh model of the named architecture.
    func model(_ name: ClickModelName, options: ClickTrainingOptions) throws -> any ClickModel {
        guard name.isMultiTask == (prepared.train.tasks.count > 1) else {
            throw ValidationError("\(name.rawValue) predicts \(name.isMultiTask ? "click and purchase" : "click only"); dataset \(prepared.name) has tasks \(prepared.train.tasks.joined(separator: ", ")) (use --dataset taobao for the multi-task models, criteo or ml-100k for the others)")
        }
        switch name {
        case .deepfm: return try DeepFM(pipeline: pipeline, configuration: options.deepFM, seed: options.seed)
        case .wideDeep: return try WideAndDeep(pipeline: pipeline, configuration: options.wideAndDeep, seed: options.seed)
        case .sharedBottom: return try SharedBottom(pipeline: pipeline, configuration: options.sharedBottom, seed: options.seed)
        case .mmoe: return try MMoE(pipeline: pipeline, configuration: options.mmoe, seed: options.seed)
        case .esmm: return try ESMM(pipeline: pipeline, configuration: options.esmm, seed: options.seed)
        }
    }

    /// Trains with validation AUC (the mean over tasks for multi-task models) after every epoch
    /// selecting the weights kept.
    func train(_ model: some ClickModel, options: ClickTrainingOptions, progressInterval: Double = 1) throws -> ClickModelTrainer {
        let trainer = try ClickModelTrainer(configuration: options.trainingConfiguration)
        trainer.progressInterval = progressInterval
        let validation = self.validation
        let select = options.patience > 0 ? "val mean AUC" : nil
        trainer.train(model, features: train, labels: prepared.train.labels, events: { Console.report($0, label: model.modelName) },
                      afterEpoch: { _ in
                          var m = validation.metrics(model).mapKeys { "val \($0)" }
                          let aucs = m.filter { $0.key.hasSuffix("AUC") }.map(\.value)
                          if !aucs.isEmpty { m["val mean AUC"] = aucs.reduce(0, +) / Double(aucs.count) }
                          return m
                      }, selectBy: select)
        if let epoch = trainer.selectedEpoch { Console.status("[\(model.modelName)] kept the weights of epoch \(epoch) (best mean validation AUC)") }
        return trainer
    }
}

extension Dictionary {
    func mapKeys(_ transform: (Key) -> Key) -> [Key: Value] {
        Dictionary(uniqueKeysWithValues: map { (transform($0.key), $0.value) })
    }
}

/// `starling train deepfm` and `starling train wide-deep`.
struct ClickTrainCommand {
    static func run(_ name: ClickModelName, selection: ClickDatasetSelection, options: ClickTrainingOptions, output: String) throws {
        let data = try EncodedClickDataset(selection)
        Console.status(data.describe)
        let model = try data.model(name, options: options)
        Console.status("[\(model.modelName)] \(model.parameterCount) parameters, \(options.epochs) epochs, batch \(options.batchSize), \(options.optimizer.rawValue) lr \(options.learningRate), \(options.threads) threads")
        let trainer = try data.train(model, options: options)
        var file = try model.checkpoint()
        file.metadata["dataset_selection"] = selection.dataset.rawValue
        file.metadata["split_seed"] = "\(selection.splitSeed)"
        file.metadata["min_count"] = "\(selection.minCount)"
        file.metadata["training"] = String(decoding: try JSONEncoder().encode(options.trainingConfiguration), as: UTF8.self)
        if let epoch = trainer.selectedEpoch { file.metadata["selected_epoch"] = "\(epoch) (best mean validation AUC)" }
        try file.write(to: URL(fileURLWithPath: output))
        Console.status("checkpoint written to \(output)")
        try TrainingArtifacts.write(history: [(model.modelName, trainer.history)], beside: output, protocol: data.test.evaluationProtocol,
                                    metrics: ["val AUC", "val LogLoss", "val click AUC", "val purchase AUC"])
        print(data.test.evaluate(model, details: ["checkpoint": output]).summary)
    }
}

struct TrainDeepFM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deepfm", abstract: "DeepFM click model (Criteo sample or MovieLens-100K as CTR): progress, checkpoint, test AUC and log loss.")
    @OptionGroup var selection: ClickDatasetSelection
    @OptionGroup var options: ClickTrainingOptions
    @Option(help: "Checkpoint to write (history and curve go beside it).") var output = "runs/deepfm.safetensors"
    func run() throws { try ClickTrainCommand.run(.deepfm, selection: selection, options: options, output: output) }
}

struct TrainWideAndDeep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wide-deep", abstract: "Wide & Deep click model (Criteo sample or MovieLens-100K as CTR): progress, checkpoint, test AUC and log loss.")
    @OptionGroup var selection: ClickDatasetSelection
    @OptionGroup var options: ClickTrainingOptions
    @Option(help: "Checkpoint to write (history and curve go beside it).") var output = "runs/wide-deep.safetensors"
    func run() throws { try ClickTrainCommand.run(.wideDeep, selection: selection, options: options, output: output) }
}

struct TrainSharedBottom: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shared-bottom", abstract: "Shared-Bottom click + purchase model on Taobao UserBehavior: progress, checkpoint, per-task test AUC.")
    @OptionGroup var selection: ClickDatasetSelection
    @OptionGroup var options: ClickTrainingOptions
    @Option(help: "Checkpoint to write (history and curve go beside it).") var output = "runs/shared-bottom.safetensors"
    func run() throws { try ClickTrainCommand.run(.sharedBottom, selection: selection, options: options, output: output) }
}

struct TrainMMoE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mmoe", abstract: "MMoE click + purchase model on Taobao UserBehavior: progress, checkpoint, per-task test AUC.")
    @OptionGroup var selection: ClickDatasetSelection
    @OptionGroup var options: ClickTrainingOptions
    @Option(help: "Checkpoint to write (history and curve go beside it).") var output = "runs/mmoe.safetensors"
    func run() throws { try ClickTrainCommand.run(.mmoe, selection: selection, options: options, output: output) }
}

struct TrainESMM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "esmm", abstract: "ESMM click + purchase (CTCVR over the entire impression space) on Taobao UserBehavior: progress, checkpoint, per-task test AUC.")
    @OptionGroup var selection: ClickDatasetSelection
    @OptionGroup var options: ClickTrainingOptions
    @Option(help: "Checkpoint to write (history and curve go beside it).") var output = "runs/esmm.safetensors"
    func run() throws { try ClickTrainCommand.run(.esmm, selection: selection, options: options, output: output) }
}
