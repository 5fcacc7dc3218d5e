/// Multi-head self-attention (Vaswani et al. 2017): input projections, scaled dot-product
/// attention per head, and an output projection.
public final class MultiHeadAttention: Module {
    public let heads: Int
    public let query: Linear, key: Linear, value: Linear, output: Linear

    public init(dimension: Int, heads: Int, name: String, rng: inout RandomGenerator) {
        precondition(heads > 0 && dimension % heads == 0,
                     "MultiHeadAttention \(name): dimension \(dimension) must be divisible by heads \(heads)")
        self.heads = heads
        query = Linear(inputs: dimension, outputs: dimension, name: "\(name).query", rng: &rng)
        key = Linear(inputs: dimension, outputs: dimension, name: "\(name).key", rng: &rng)
        value = Linear(inputs: dimension, outputs: dimension, name: "\(name).value", rng: &rng)
        output = Linear(inputs: dimension, outputs: dimension, name: "\(name).output", rng: &rng)
    }

    public var parameters: [Parameter] { [query, key, value, output].flatMap(\.parameters) }

    /// Self-attention over `x` of shape `[batch, length, dimension]`.
    /// - Parameters:
    ///   - causal: each position attends only to itself and earlier positions.
    ///   - keyPadding: `batch × length` flags, `true` at padding positions.
    public func callAsFunction(_ x: Variable, causal: Bool = false, keyPadding: [Bool]? = nil) -> Variable {
        precondition(x.rank == 3, "MultiHeadAttention: input must be [batch, length, dimension], got \(x.shape)")
        let (b, t, d) = (x.shape[0], x.shape[1], x.shape[2])
        let dh = d / heads
        func split(_ y: Variable) -> Variable { y.reshaped([b, t, heads, dh]).permuted([0, 2, 1, 3]) }
        let q = split(query(x)), k = split(key(x)), v = split(value(x))
        let attended = q.scaledDotProductAttention(key: k, value: v, causal: causal, keyPadding: keyPadding)
        return output(attended.permuted([0, 2, 1, 3]).reshaped([b, t, d]))
    }
}
