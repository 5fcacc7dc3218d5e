/// The gradients of a loss with respect to parameters: dense tensors for ordinary weights, and
/// row-sparse blocks for embedding tables.
///
/// Produced by ``Tape/gradients(of:)``; summed across data-parallel workers with ``add(_:)``;
/// consumed by an ``Optimizer``.
public struct Gradients: Sendable {
    /// Dense gradients by parameter.
    public var dense: [ObjectIdentifier: Tensor] = [:]
    /// Row-sparse gradients by parameter.
    public var sparse: [ObjectIdentifier: SparseRows] = [:]

    public init() {}

    /// The dense gradient of `parameter`, if it received one.
    public subscript(_ parameter: Parameter) -> Tensor? {
        dense[parameter.key] ?? sparse[parameter.key]?.densified()
    }

    /// Whether no parameter received a gradient.
    public var isEmpty: Bool { dense.isEmpty && sparse.isEmpty }

    /// Adds another set of gradients into this one.
    public mutating func add(_ other: Gradients) {
        for (k, g) in other.dense {
            if dense[k] == nil { dense[k] = g } else { dense[k]!.add(g) }
        }
        for (k, g) in other.sparse {
            if sparse[k] == nil { sparse[k] = g } else { sparse[k]!.append(g) }
        }
    }

    /// Sums a list of gradient sets in list order (deterministic for a fixed list).
    public static func sum(_ parts: [Gradients]) -> Gradients {
        var total = Gradients()
        for p in parts { total.add(p) }
        return total
    }

    /// Multiplies every gradient by `factor`.
    public mutating func scale(by factor: Float) {
        for k in dense.keys { dense[k]!.scale(by: factor) }
        for k in sparse.keys { sparse[k]!.values.scale(by: factor) }
    }

    /// Sums duplicate rows of every sparse gradient.
    public mutating func coalesce() {
        for k in sparse.keys where !sparse[k]!.isCoalesced { sparse[k] = sparse[k]!.coalesced() }
    }

    /// The Euclidean norm of all gradients taken together (sparse gradients are coalesced first,
    /// so the norm is that of the true gradient).
    public mutating func globalNorm() -> Float {
        coalesce()
        var total: Double = 0
        for g in dense.values { total += Double(g.squaredNorm) }
        for g in sparse.values { total += Double(g.values.squaredNorm) }
        return Float(total.squareRoot())
    }

    /// Scales all gradients down so that their global norm is at most `maxNorm`; returns the norm
    /// before clipping.
    @discardableResult
    public mutating func clipGlobalNorm(to maxNorm: Float) -> Float {
        precondition(maxNorm > 0, "clipGlobalNorm: maxNorm must be positive, got \(maxNorm)")
        let norm = globalNorm()
        if norm > maxNorm { scale(by: maxNorm / (norm + 1e-6)) }
        return norm
    }
}
