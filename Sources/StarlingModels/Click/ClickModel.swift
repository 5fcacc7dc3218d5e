import Foundation
import StarlingFeatures
import StarlingTensor

/// A model that predicts, per example, the probability of one or more binary outcomes (click,
/// purchase) from features encoded by its ``FeaturePipeline``: the protocol shared by
/// Wide & Deep, DeepFM and the multi-task models.
public protocol ClickModel: Checkpointable, Sendable {
    /// A short name for reports (`DeepFM`).
    var modelName: String { get }
    /// The fitted features the model was trained with; serving encodes requests with it.
    var pipeline: FeaturePipeline { get }
    /// The predicted outcomes, e.g. `["click"]` or `["click", "purchase"]`.
    var tasks: [String] { get }
    /// One logit per row and task: `tasks.count` variables of shape `[rows]`.
    func logits(_ features: EncodedFeatures, on tape: Tape) -> [Variable]
    /// The training loss of a batch with its labels (one array per task).
    func loss(_ features: EncodedFeatures, labels: [[Float]], on tape: Tape) -> Variable
    /// Probabilities per task and row, for already-computed logits.
    func probabilities(fromLogits logits: [Tensor]) -> [[Float]]
}

extension ClickModel {
    /// The sum over tasks of the mean binary cross-entropy.
    public func loss(_ features: EncodedFeatures, labels: [[Float]], on tape: Tape) -> Variable {
        let outputs = logits(features, on: tape)
        precondition(outputs.count == labels.count, "\(modelName).loss: \(labels.count) label arrays for \(outputs.count) tasks")
        var total = Loss.binaryCrossEntropy(logits: outputs[0], targets: Tensor(labels[0]))
        for t in 1..<outputs.count { total = total + Loss.binaryCrossEntropy(logits: outputs[t], targets: Tensor(labels[t])) }
        return total
    }

    /// `σ(logit)` per task.
    public func probabilities(fromLogits logits: [Tensor]) -> [[Float]] {
        logits.map { $0.scalars.map { 1 / (1 + Foundation.exp(-$0)) } }
    }

    /// Probabilities per task and row (inference, no gradients), computed in chunks on `threads`
    /// threads. Safe to call from several threads at once.
    public func predict(_ features: EncodedFeatures, threads: Int = Parallel.coreCount, chunk: Int = 2048) -> [[Float]] {
        let chunks = (features.rowCount + chunk - 1) / chunk
        let parts = Parallel.mapInOrder(chunks, threads: threads) { c -> [[Float]] in
            let rows = (c * chunk)..<Swift.min((c + 1) * chunk, features.rowCount)
            let tape = Tape(training: false, recording: false)
            return probabilities(fromLogits: logits(features.selecting(rows: rows), on: tape).map(\.value))
        }
        return (0..<tasks.count).map { t in parts.flatMap { $0[t] } }
    }

    /// Encodes raw rows with the model's pipeline and predicts them: the serving path.
    public func predict(_ table: RawFeatureTable) throws(FeatureError) -> [[Float]] {
        predict(try pipeline.encode(table), threads: 1)
    }
}

/// Checkpoint metadata and loading shared by the click models: the configuration and the fitted
/// pipeline travel in the safetensors metadata.
enum ClickModelCheckpoint {
    static func file(_ model: some ClickModel, kind: String, configuration: some Encodable) throws -> SafeTensorsFile {
        var metadata = try ModelCheckpoint.metadata(kind: kind, configuration: configuration)
        metadata["pipeline"] = try model.pipeline.json()
        metadata["tasks"] = model.tasks.joined(separator: ",")
        return SafeTensorsFile(tensors: model.stateDictionary(), metadata: metadata)
    }

    /// Opens a checkpoint of `kind`, builds the model from its pipeline and configuration, and
    /// loads its weights.
    static func load<M: ClickModel, C: Decodable>(_ url: URL, kind: String, configuration: C.Type,
                                                  make: (FeaturePipeline, C) throws -> M) throws -> (model: M, metadata: [String: String]) {
        let (file, c, pipeline) = try open(url, kind: kind, configuration: C.self)
        let model = try make(pipeline, c)
        try model.loadStateDictionary(file.tensors)
        return (model, file.metadata)
    }

    static func open<C: Decodable>(_ url: URL, kind: String, configuration: C.Type) throws -> (SafeTensorsFile, C, FeaturePipeline) {
        let (file, c) = try ModelCheckpoint.open(url, kind: kind, configuration: C.self)
        do {
            return (file, c, try FeaturePipeline.decode(json: try file.metadata("pipeline", path: url.path)))
        } catch let error as CheckpointError { throw error } catch {
            throw ModelError.badConfiguration(path: url.path, reason: "feature pipeline: \(error)")
        }
    }
}
