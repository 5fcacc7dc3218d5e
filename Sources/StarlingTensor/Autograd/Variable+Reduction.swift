extension Variable {
    /// The sum of all elements (a scalar of shape `[]`).
    public func sum() -> Variable {
        let shape = self.shape
        let i = id
        return unary(Tensor(scalar: value.sum)) { g, sink in
            sink.accumulate(i, Tensor(shape: shape, repeating: g.scalar))
        }
    }

    /// The mean of all elements (a scalar of shape `[]`).
    public func mean() -> Variable {
        let shape = self.shape
        let n = Float(Swift.max(value.count, 1))
        let i = id
        return unary(Tensor(scalar: value.sum / n)) { g, sink in
            sink.accumulate(i, Tensor(shape: shape, repeating: g.scalar / n))
        }
    }

    /// The sum over the given axes (removed unless `keepingDimensions`).
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Variable {
        let shape = self.shape
        let normalized = axes.map { Tensor.normalize(axis: $0, rank: shape.count, op: "sum(alongAxes:)") }
        var kept = shape
        for a in normalized { kept[a] = 1 }
        let i = id
        return unary(value.sum(alongAxes: normalized, keepingDimensions: keepingDimensions)) { g, sink in
            sink.accumulate(i, g.reshaped(kept).expanded(to: shape))
        }
    }

    /// The sum along one axis.
    public func sum(alongAxis axis: Int, keepingDimension: Bool = false) -> Variable {
        sum(alongAxes: [axis], keepingDimensions: keepingDimension)
    }

    /// The mean over the given axes.
    public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Variable {
        let n = axes.map { shape[Tensor.normalize(axis: $0, rank: rank, op: "mean(alongAxes:)")] }.reduce(1, *)
        return sum(alongAxes: axes, keepingDimensions: keepingDimensions) * (1 / Float(Swift.max(n, 1)))
    }

    /// The mean along one axis.
    public func mean(alongAxis axis: Int, keepingDimension: Bool = false) -> Variable {
        mean(alongAxes: [axis], keepingDimensions: keepingDimension)
    }
}
