import ArgumentParser
import Foundation
import StarlingFeatures
import StarlingModels
import StarlingTensor

/// Trains a click model for a few epochs and reports training throughput and test accuracy, for
/// side-by-side runs with PyTorch (scripts/bench_click_vs_pytorch.py).
struct ClickBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "click", abstract: "DeepFM / Wide & Deep training throughput and test AUC (JSON).")

    @Option(help: "Model: \(ClickModelName.allCases.map(\.rawValue).joined(separator: ", ")).") var model: ClickModelName = .deepfm
    @OptionGroup var selection: ClickDatasetSelection
    @OptionGroup var options: ClickTrainingOptions
    @Option(help: "Also write the encoded training and test rows (safetensors) for a peer to train on the same inputs.")
    var export: String?

    func run() throws {
        let data = try EncodedClickDataset(selection)
        Console.status(data.describe)
        if let export { try Self.export(data, to: export) }
        let model = try data.model(self.model, options: options)
        let trainer = try data.train(model, options: options, progressInterval: 5)
        let seconds = trainer.history.reduce(0) { $0 + $1.seconds }
        let rows = Double(data.train.rowCount * trainer.history.count)
        let test = data.test.metrics(model)
        var result: [String: Any] = [
            "engine": "starling", "build": BenchEnvironment.build, "model": model.modelName, "dataset": data.prepared.name,
            "fields": data.pipeline.fieldCount, "embedding_rows": data.pipeline.tableRows, "parameters": model.parameterCount,
            "batch_size": options.batchSize, "threads": options.threads, "epochs": trainer.history.count,
            "train_seconds": seconds.rounded(to: 3), "samples_per_second": (rows / max(seconds, 1e-9)).rounded(),
            "epoch_losses": trainer.history.map { $0.loss.rounded(to: 5) },
            "val_auc": trainer.history.compactMap { $0.metrics["val AUC"]?.rounded(to: 4) },
            "protocol": data.test.evaluationProtocol.split,
        ]
        // Single-task metrics are "AUC"/"LogLoss"; multi-task ones "<task> AUC"/"<task> LogLoss".
        let tasks = model.tasks
        for (index, task) in tasks.enumerated() {
            let prefix = tasks.count == 1 ? "" : "\(task) "
            let auc = (test["\(prefix)AUC"] ?? .nan).rounded(to: 4), logLoss = (test["\(prefix)LogLoss"] ?? .nan).rounded(to: 4)
            if tasks.count > 1 { result["test_\(task)_auc"] = auc; result["test_\(task)_logloss"] = logLoss }
            if index == 0 { result["test_auc"] = auc; result["test_logloss"] = logLoss }
        }
        let json = try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }

    /// Writes `train.*` and `test.*` tensors (indices, weights, bag starts, values, `labels` (the
    /// first task's) and `labels.<task>` for every task) and the layout (`table_rows`, `fields`,
    /// `value_fields`, `deep_fields`, `tasks`) as metadata.
    static func export(_ data: EncodedClickDataset, to path: String) throws {
        var file = SafeTensorsFile()
        func add(_ prefix: String, _ f: EncodedFeatures, _ labels: [[Float]]) {
            file.integerTensors["\(prefix).indices"] = .init(shape: [f.indices.count], values: f.indices)
            file.integerTensors["\(prefix).bag_starts"] = .init(shape: [f.bagStarts.count], values: f.bagStarts.map { Int32($0) })
            file.tensors["\(prefix).weights"] = Tensor(f.weights)
            file.tensors["\(prefix).values"] = Tensor(f.values, shape: [f.rowCount, f.valueFieldCount])
            file.tensors["\(prefix).labels"] = Tensor(labels[0])
            for (task, values) in zip(data.prepared.train.tasks, labels) { file.tensors["\(prefix).labels.\(task)"] = Tensor(values) }
        }
        add("train", data.train, data.prepared.train.labels)
        add("test", data.test.features, data.test.labels)
        file.metadata = ["table_rows": "\(data.pipeline.tableRows)", "fields": "\(data.pipeline.fieldCount)",
                         "value_fields": data.pipeline.valueFields.map(String.init).joined(separator: ","),
                         "deep_fields": data.pipeline.deepFields.map(String.init).joined(separator: ","),
                         "dataset": data.prepared.name, "tasks": data.prepared.train.tasks.joined(separator: ",")]
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        try file.write(to: URL(fileURLWithPath: path))
        Console.status("encoded rows written to \(path)")
    }
}
