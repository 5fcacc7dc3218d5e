import StarlingFeatures
import StarlingTensor

/// The sparse half of a click model: one embedding table over every field's rows (see
/// ``FeaturePipeline``) and one scalar weight per row, the first-order (linear) term.
public final class FeatureEmbeddings: Module {
    /// `[tableRows, width]` field embeddings.
    public let vectors: Embedding
    /// `[tableRows, 1]` first-order weights.
    public let weights: Embedding
    /// The global bias.
    public let bias: Parameter

    /// Embeddings `N(0, 0.01²)`, first-order weights and bias zero.
    public init(rows: Int, width: Int, name: String, rng: inout RandomGenerator) {
        vectors = Embedding(count: rows, dimension: width, name: "\(name).vectors", rng: &rng)
        weights = Embedding(count: rows, dimension: 1, name: "\(name).linear", initialization: .zeros, rng: &rng)
        bias = Parameter(name: "\(name).bias", value: Tensor(shape: [1]))
    }

    public var parameters: [Parameter] { [vectors.table, weights.table, bias] }
    /// The embedding width.
    public var width: Int { vectors.dimension }

    /// `b + Σ_fields Σ_bag w_row · weight`: the linear term, shape `[rows]`.
    public func firstOrder(_ features: EncodedFeatures, on tape: Tape) -> Variable {
        let summed = tape.embeddingBag(weights.table, indices: features.indices, offsets: features.rowOffsets,
                                       reduction: .sum, weights: features.weights)
        return summed.reshaped([-1]) + tape.parameter(bias)
    }

    /// Each field's weighted bag of vectors, shape `[rows, fields, width]`.
    public func fields(_ features: EncodedFeatures, on tape: Tape) -> Variable {
        tape.embeddingBag(vectors.table, indices: features.indices, offsets: features.bagOffsets, reduction: .sum,
                          weights: features.weights)
            .reshaped([features.rowCount, features.fieldCount, width])
    }
}
