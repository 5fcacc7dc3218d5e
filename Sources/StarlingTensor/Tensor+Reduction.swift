extension Tensor {
    /// The sum along one axis; the axis is removed unless `keepingDimension` is true.
    public func sum(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let a = Tensor.normalize(axis: axis, rank: rank, op: "sum(alongAxis:)")
        let (outer, dim, inner) = Tensor.split(shape, at: a)
        var outShape = shape
        if keepingDimension { outShape[a] = 1 } else { outShape.remove(at: a) }
        var out = Tensor(shape: outShape)
        let src = readPointer, dst = out.writePointer()
        if inner == 1 {
            for o in 0..<outer { dst[o] = VectorKernels.sum(src + o * dim, dim) }
        } else {
            for o in 0..<outer {
                let d = dst + o * inner
                for k in 0..<dim { VectorKernels.add(src + (o * dim + k) * inner, into: d, inner) }
            }
        }
        return out
    }

    /// The sum over several axes (each removed unless `keepingDimensions`).
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let normalized = Set(axes.map { Tensor.normalize(axis: $0, rank: rank, op: "sum(alongAxes:)") })
        var result = self
        for a in normalized.sorted(by: >) {
            result = result.sum(alongAxis: a, keepingDimension: keepingDimensions)
        }
        return result
    }

    /// The mean along one axis.
    public func mean(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let a = Tensor.normalize(axis: axis, rank: rank, op: "mean(alongAxis:)")
        return sum(alongAxis: a, keepingDimension: keepingDimension) * (1 / Float(max(shape[a], 1)))
    }

    /// Broadcasts this tensor, whose shape has 1 in the reduced positions of `shape`, up to `shape`
    /// (the reverse of a keep-dimension reduction).
    public func expanded(to target: [Int]) -> Tensor {
        if shape == target { return self }
        return Broadcast.apply(Tensor(uninitializedShape: target), self, name: "expanded(to:)", Elementwise.Second())
    }
}
