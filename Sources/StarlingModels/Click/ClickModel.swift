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

/// A click model built from its fitted pipeline and a `Codable` configuration: what the five
/// architectures share, so that saving and loading are written once. The configuration and the
/// pipeline travel in the checkpoint's metadata.
public protocol ConfiguredClickModel: ClickModel {
    associatedtype Configuration: Codable & Sendable
    /// The `model` metadata value of the architecture's checkpoints.
    static var checkpointKind: String { get }
    /// The hyper-parameters.
    var configuration: Configuration { get }
    /// A freshly initialised model.
    init(pipeline: FeaturePipeline, configuration: Configuration, seed: UInt64) throws(ModelError)
}

extension ConfiguredClickModel {
    public func checkpoint() throws -> SafeTensorsFile {
        var metadata = try ModelCheckpoint.metadata(kind: Self.checkpointKind, configuration: configuration)
        metadata["pipeline"] = try pipeline.json()
        metadata["tasks"] = tasks.joined(separator: ",")
        return SafeTensorsFile(tensors: stateDictionary(), metadata: metadata)
    }

    /// Loads a model saved with ``Checkpointable/save(to:)``, with the file's metadata; another
    /// kind of checkpoint, or a broken configuration or pipeline, is an error naming the path.
    public static func load(from url: URL) throws -> (model: Self, metadata: [String: String]) {
        let (file, configuration) = try ModelCheckpoint.open(url, kind: checkpointKind, configuration: Configuration.self)
        let pipeline: FeaturePipeline
        do {
            pipeline = try FeaturePipeline.decode(json: try file.metadata("pipeline", path: url.path))
        } catch let error as CheckpointError { throw error } catch {
            throw ModelError.badConfiguration(path: url.path, reason: "feature pipeline: \(error)")
        }
        let model = try Self(pipeline: pipeline, configuration: configuration, seed: 0)
        try model.loadStateDictionary(file.tensors)
        return (model, file.metadata)
    }
}
