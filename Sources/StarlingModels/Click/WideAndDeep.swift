import Foundation
import StarlingFeatures
import StarlingTensor

/// Wide & Deep (Cheng et al., DLRS 2016): a linear model over every field, crosses included (the
/// wide part, memorisation), plus a feed-forward network over the embeddings of the non-cross
/// fields and the standardised numbers (the deep part, generalisation), summed into one logit:
/// `ŷ = σ(w_wideᵀ[x, φ(x)] + MLP([e_1, …, e_D, x_numeric]) + b)`.
///
/// The paper trains the wide part with FTRL and the deep part with AdaGrad; here both parts are
/// trained jointly by one optimizer (Adam by default).
public final class WideAndDeep: ConfiguredClickModel, @unchecked Sendable {
    /// The architecture's hyper-parameters.
    public struct Configuration: Codable, Sendable, Equatable {
        /// The width of each deep field embedding (32 in the paper).
        public var embeddingWidth: Int
        /// Hidden layer widths of the deep part (1024-512-256 in the paper).
        public var hiddenLayers: [Int]
        /// Dropout after each hidden layer.
        public var dropout: Float

        public init(embeddingWidth: Int = 32, hiddenLayers: [Int] = [1024, 512, 256], dropout: Float = 0) {
            self.embeddingWidth = embeddingWidth
            self.hiddenLayers = hiddenLayers
            self.dropout = dropout
        }

        func validate() throws(ModelError) {
            guard embeddingWidth > 0, hiddenLayers.allSatisfy({ $0 > 0 }) else {
                throw .invalidArgument("Wide&Deep: the embedding width and hidden layer widths must be positive")
            }
            guard dropout >= 0, dropout < 1 else { throw .invalidArgument("Wide&Deep: dropout must be in [0, 1)") }
        }
    }

    public let configuration: Configuration
    public let pipeline: FeaturePipeline
    /// Wide weights (and the deep fields' vectors, which the wide part does not read).
    public let embeddings: FeatureEmbeddings
    public let deep: MultilayerPerceptron
    private let deepFields: [Int]

    /// A freshly initialised model over the pipeline's fields.
    public init(pipeline: FeaturePipeline, configuration: Configuration = Configuration(), seed: UInt64 = 42) throws(ModelError) {
        try configuration.validate()
        deepFields = pipeline.deepFields
        guard !deepFields.isEmpty else { throw .invalidArgument("Wide&Deep: every field is wide-only; the deep part has no input") }
        self.configuration = configuration
        self.pipeline = pipeline
        var rng = RandomGenerator(seed: seed)
        embeddings = FeatureEmbeddings(rows: pipeline.tableRows, width: configuration.embeddingWidth, name: "wide", rng: &rng)
        deep = MultilayerPerceptron(inputs: deepFields.count * configuration.embeddingWidth + pipeline.valueFields.count,
                                    hidden: configuration.hiddenLayers, outputs: 1, dropout: configuration.dropout,
                                    name: "deep", rng: &rng)
    }

    public var modelName: String { "Wide&Deep" }
    public var tasks: [String] { ["click"] }
    public var parameters: [Parameter] { embeddings.parameters + deep.parameters }

    public func logits(_ features: EncodedFeatures, on tape: Tape) -> [Variable] {
        let wide = embeddings.firstOrder(features, on: tape)
        let deepFeatures = deepFields.count == features.fieldCount
            ? features : features.selecting(rows: 0..<features.rowCount, fields: deepFields)
        var input = embeddings.fields(deepFeatures, on: tape)
            .reshaped([features.rowCount, deepFields.count * configuration.embeddingWidth])
        if features.valueFieldCount > 0 {
            input = Variable.concatenate([input, tape.constant(Tensor(features.values, shape: [features.rowCount, features.valueFieldCount]))],
                                         alongAxis: 1)
        }
        return [wide + deep(input).reshaped([-1])]
    }

    // MARK: checkpoints

    /// The `model` metadata value of Wide & Deep checkpoints.
    public static let checkpointKind = "wide-deep"
}
