import Foundation
import StarlingFeatures
import StarlingModels
import StarlingTensor

/// Evaluates a ``ClickModel`` pointwise on held-out rows: per task, AUC and log loss over every
/// row (no sampling), the usual click-through-rate protocol.
public struct ClickEvaluator: Sendable {
    /// Encoded held-out rows.
    public let features: EncodedFeatures
    /// Their labels, one array per task.
    public let labels: [[Float]]
    /// The task names (metric prefixes when there are several).
    public let tasks: [String]
    /// The dataset's name for reports.
    public let datasetName: String
    /// How the held-out rows were chosen.
    public let splitDescription: String
    /// Threads for inference.
    public var threads = Parallel.coreCount

    public init(features: EncodedFeatures, labels: [[Float]], tasks: [String], datasetName: String, splitDescription: String) {
        precondition(labels.count == tasks.count && labels.allSatisfy { $0.count == features.rowCount },
                     "ClickEvaluator: one label per row and task expected")
        self.features = features
        self.labels = labels
        self.tasks = tasks
        self.datasetName = datasetName
        self.splitDescription = splitDescription
    }

    /// The protocol every figure of this evaluator carries.
    public var evaluationProtocol: EvaluationProtocol {
        EvaluationProtocol(ranking: "pointwise", candidates: "every held-out row (\(features.rowCount)); AUC and log loss per task",
                           split: splitDescription, ks: [], ties: "AUC counts ties one half")
    }

    /// `AUC` and `LogLoss` (prefixed by the task name when the model has several tasks).
    public func metrics(_ model: some ClickModel) -> [String: Double] {
        precondition(model.tasks == tasks, "ClickEvaluator: model predicts \(model.tasks), the labels are \(tasks)")
        let predictions = model.predict(features, threads: threads)
        var out: [String: Double] = [:]
        for (t, task) in tasks.enumerated() {
            let prefix = tasks.count == 1 ? "" : "\(task) "
            let truth = labels[t].map { $0 > 0.5 }
            if let auc = ClassificationMetrics.auc(scores: predictions[t], labels: truth) { out[prefix + "AUC"] = auc }
            out[prefix + "LogLoss"] = ClassificationMetrics.logLoss(probabilities: predictions[t], labels: truth)
        }
        return out
    }

    /// The metrics as a report.
    public func evaluate(_ model: some ClickModel, details: [String: String] = [:]) -> EvaluationReport {
        let start = Date()
        let values = metrics(model)
        return EvaluationReport(model: model.modelName, dataset: datasetName, evaluationProtocol: evaluationProtocol,
                                metrics: values, users: features.rowCount, seconds: Date().timeIntervalSince(start), details: details)
    }
}
