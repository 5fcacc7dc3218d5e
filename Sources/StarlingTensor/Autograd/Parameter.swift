/// A trainable tensor: a weight matrix, a bias, or an embedding table.
///
/// Parameters are shared by reference between a model, the tapes that read them, and the optimizer
/// that updates them. Reads may happen from several threads at once (data-parallel training,
/// serving); the value is only replaced by an optimizer step or a checkpoint load, which callers
/// must not run while a read is in flight. That contract is what the `@unchecked Sendable`
/// conformance relies on.
public final class Parameter: @unchecked Sendable {
    /// The name under which the parameter is saved in checkpoints, e.g. `mlp.0.weight`.
    public let name: String
    /// The current value.
    public var value: Tensor
    /// Whether the optimizer should update the parameter row-sparsely (embedding tables: only the
    /// rows a batch touched).
    public let isEmbeddingTable: Bool

    /// A parameter with an initial value.
    public init(name: String, value: Tensor, isEmbeddingTable: Bool = false) {
        precondition(!isEmbeddingTable || value.rank == 2,
                     "Parameter \(name): an embedding table must be rank 2, got \(value.shape)")
        self.name = name
        self.value = value
        self.isEmbeddingTable = isEmbeddingTable
    }

    /// The parameter's shape.
    public var shape: [Int] { value.shape }

    /// A key identifying this parameter object in gradient and optimizer-state maps.
    public var key: ObjectIdentifier { ObjectIdentifier(self) }
}
