import Foundation
import StarlingFeatures
import StarlingTensor

/// DeepFM (Guo et al., IJCAI 2017): a factorisation machine and a deep network sharing one
/// embedding per field, summed into one click logit:
/// `ŷ = σ(b + Σ w_i x_i + Σ_{i<j} ⟨v_i x_i, v_j x_j⟩ + MLP([v_1 x_1, …, v_F x_F]))`.
///
/// Numeric fields are embedded as their field vector scaled by the standardised value, as in
/// the paper.
public final class DeepFM: ConfiguredClickModel, @unchecked Sendable {
    /// The architecture's hyper-parameters.
    public struct Configuration: Codable, Sendable, Equatable {
        /// The width of each field embedding (10 in the paper).
        public var embeddingWidth: Int
        /// Hidden layer widths of the deep part (400-400-400 in the paper).
        public var hiddenLayers: [Int]
        /// Dropout after each hidden layer (0.5 in the paper).
        public var dropout: Float

        public init(embeddingWidth: Int = 10, hiddenLayers: [Int] = [400, 400, 400], dropout: Float = 0.5) {
            self.embeddingWidth = embeddingWidth
            self.hiddenLayers = hiddenLayers
            self.dropout = dropout
        }

        func validate() throws(ModelError) {
            guard embeddingWidth > 0, hiddenLayers.allSatisfy({ $0 > 0 }) else {
                throw .invalidArgument("DeepFM: the embedding width and hidden layer widths must be positive")
            }
            guard dropout >= 0, dropout < 1 else { throw .invalidArgument("DeepFM: dropout must be in [0, 1)") }
        }
    }

    public let configuration: Configuration
    public let pipeline: FeaturePipeline
    public let embeddings: FeatureEmbeddings
    public let deep: MultilayerPerceptron

    /// A freshly initialised model over the pipeline's fields.
    public init(pipeline: FeaturePipeline, configuration: Configuration = Configuration(), seed: UInt64 = 42) throws(ModelError) {
        try configuration.validate()
        self.configuration = configuration
        self.pipeline = pipeline
        var rng = RandomGenerator(seed: seed)
        embeddings = FeatureEmbeddings(rows: pipeline.tableRows, width: configuration.embeddingWidth, name: "fm", rng: &rng)
        deep = MultilayerPerceptron(inputs: pipeline.fieldCount * configuration.embeddingWidth, hidden: configuration.hiddenLayers,
                                    outputs: 1, dropout: configuration.dropout, name: "deep", rng: &rng)
    }

    public var modelName: String { "DeepFM" }
    public var tasks: [String] { ["click"] }
    public var parameters: [Parameter] { embeddings.parameters + deep.parameters }

    public func logits(_ features: EncodedFeatures, on tape: Tape) -> [Variable] {
        let fields = embeddings.fields(features, on: tape)
        let fm = embeddings.firstOrder(features, on: tape) + fields.factorizationMachineInteraction()
        let dnn = deep(fields.reshaped([features.rowCount, features.fieldCount * configuration.embeddingWidth]))
        return [fm + dnn.reshaped([-1])]
    }

    // MARK: checkpoints

    /// The `model` metadata value of DeepFM checkpoints.
    public static let checkpointKind = "deepfm"
}
