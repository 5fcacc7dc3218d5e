/// A table of learned vectors, one row per id, updated row-sparsely.
public final class Embedding: Module {
    public let table: Parameter

    /// - Parameters:
    ///   - count: the number of rows (ids).
    ///   - dimension: the width of each vector.
    ///   - initialization: how the rows are drawn (default `N(0, 0.01²)`, the NCF paper's choice).
    public init(count: Int, dimension: Int, name: String,
                initialization: WeightInitialization = .normal(standardDeviation: 0.01), rng: inout RandomGenerator) {
        precondition(count > 0 && dimension > 0, "Embedding \(name): sizes must be positive, got \(count)×\(dimension)")
        table = Parameter(name: "\(name).weight", value: initialization.tensor(shape: [count, dimension], using: &rng),
                          isEmbeddingTable: true)
    }

    public var parameters: [Parameter] { [table] }
    public var count: Int { table.shape[0] }
    public var dimension: Int { table.shape[1] }

    /// The rows for `indices`, shape `[indices.count, dimension]`.
    public func callAsFunction(_ indices: [Int32], on tape: Tape) -> Variable {
        tape.embedding(table, indices: indices)
    }

    /// Sums or averages bags of rows (see ``Tape/embeddingBag(_:indices:offsets:reduction:weights:)``).
    public func bags(_ indices: [Int32], offsets: [Int], reduction: BagReduction = .mean, on tape: Tape) -> Variable {
        tape.embeddingBag(table, indices: indices, offsets: offsets, reduction: reduction)
    }
}
