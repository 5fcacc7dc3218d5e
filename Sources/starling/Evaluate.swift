import ArgumentParser
import Foundation
import StarlingEval
import StarlingFeatures
import StarlingModels
import StarlingTensor

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate any checkpoint under its dataset's protocol and print the metrics.",
        discussion: """
        NeuMF checkpoints are evaluated on the NCF ML-1M split (sampled: 99 given negatives). Click models (deepfm, \
        wide-deep, shared-bottom, mmoe, esmm) are evaluated on their dataset's test rows (AUC, log loss), encoded with the checkpoint's own feature pipeline. Other models \
        (popularity, itemknn, ease, ials, bpr-mf, item2vec) are evaluated on the dataset they were trained on, read from the \
        checkpoint, unless --dataset names another with the same users and items.
        """)

    @Option(help: "The checkpoint written by `starling train`.") var checkpoint = "runs/neumf.safetensors"
    @Option(help: "Dataset (default: the one recorded in the checkpoint): \(DatasetName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var dataset: DatasetName?
    @Option(name: .long, help: "Folder holding the datasets (default: $STARLING_DATA, then ../shared/datasets).")
    var data: String?
    @Option(name: .customLong("k"), parsing: .upToNextOption, help: "Cut-offs (default: 10 for sampled protocols, 10 and 20 for full ranking).")
    var ks: [Int] = []
    @Flag(help: "Full ranking only: also compute GAUC over all unseen items.") var auc = false
    @Flag(help: "Print one JSON object: model, dataset, protocol, metrics.") var json = false
    @Option(help: "Also write the JSON report to this file.") var output: String?

    func run() throws {
        let url = URL(fileURLWithPath: checkpoint)
        let report: EvaluationReport
        if try SafeTensorsFile(contentsOf: url).metadata("model", path: checkpoint) == NeuMF.checkpointKind {
            report = try evaluateNeuMF(url)
        } else if try ModelLoader.isClickModel(url) {
            report = try evaluateClickModel(url)
        } else {
            report = try evaluateRecommender(url)
        }
        let text = try report.json()
        if let output { try Console.write(text + "\n", to: output) }
        print(json ? text : report.summary)
    }

    private func evaluateNeuMF(_ url: URL) throws -> EvaluationReport {
        if let dataset, dataset != .ncfML1M { throw ValidationError("NeuMF checkpoints are evaluated on ncf-ml-1m, not \(dataset.rawValue)") }
        let (model, metadata) = try NeuMF.load(from: url)
        let split = try DatasetOptions.parse(data.map { ["--data", $0] } ?? []).ncfSplit()
        guard model.userCount == split.train.userCount, model.itemCount == split.train.itemCount else {
            throw ValidationError("\(checkpoint): model has \(model.userCount) users × \(model.itemCount) items, the dataset \(split.train.userCount) × \(split.train.itemCount)")
        }
        var details = ["checkpoint": checkpoint]
        details["configuration"] = metadata["configuration"]
        details["pretrained"] = metadata["pretrained"]
        return SampledRankingEvaluator(split: split, ks: ks.isEmpty ? [10] : ks).evaluate(model, details: details)
    }

    /// Click models: the recorded dataset's test rows, encoded with the checkpoint's own pipeline
    /// (exactly as serving would), AUC and log loss.
    private func evaluateClickModel(_ url: URL) throws -> EvaluationReport {
        let model = try ModelLoader.loadClickModel(from: url)
        let metadata = try SafeTensorsFile(contentsOf: url).metadata
        guard let name = dataset?.rawValue ?? metadata["dataset_selection"] else {
            throw ValidationError("\(checkpoint) does not record its dataset; pass --dataset")
        }
        var arguments = ["--dataset", name]
        if let seed = metadata["split_seed"] { arguments += ["--split-seed", seed] }
        if let minCount = metadata["min_count"] { arguments += ["--min-count", minCount] }
        if let data { arguments += ["--data", data] }
        let prepared = try ClickDatasetSelection.parse(arguments).load()
        let evaluator = ClickEvaluator(features: try model.pipeline.encode(prepared.test.table), labels: prepared.test.labels,
                                       tasks: prepared.test.tasks, datasetName: prepared.name,
                                       splitDescription: "\(prepared.splitDescription); evaluated on test")
        var details = ["checkpoint": checkpoint]
        details["configuration"] = metadata["configuration"]
        details["selected_epoch"] = metadata["selected_epoch"]
        return evaluator.evaluate(model, details: details)
    }

    private func evaluateRecommender(_ url: URL) throws -> EvaluationReport {
        let (model, metadata) = try ModelLoader.load(from: url)
        guard let name = dataset ?? metadata["dataset_selection"].flatMap(DatasetName.init(rawValue:)) else {
            throw ValidationError("\(checkpoint) does not record its dataset; pass --dataset")
        }
        // Options structs are only complete when parsed, so the selection is parsed from arguments.
        var arguments = ["--dataset", name.rawValue]
        if let seed = metadata["split_seed"] { arguments += ["--split-seed", seed] }
        if let data { arguments += ["--data", data] }
        if !ks.isEmpty { arguments += ["--k"] + ks.map(String.init) }
        if auc { arguments.append("--auc") }
        let selection = try DatasetSelection.parse(arguments)
        let prepared = try selection.prepare()
        guard model.userCount == prepared.train.userCount, model.itemCount == prepared.train.itemCount else {
            throw ValidationError("\(checkpoint): model has \(model.userCount) users × \(model.itemCount) items, \(prepared.name) has \(prepared.train.userCount) × \(prepared.train.itemCount)")
        }
        var details = ["checkpoint": checkpoint]
        details["configuration"] = metadata["configuration"]
        details["fit_seconds"] = metadata["fit_seconds"]
        return prepared.evaluate(model, details: details)
    }
}
