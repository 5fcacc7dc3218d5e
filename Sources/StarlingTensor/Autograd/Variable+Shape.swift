extension Variable {
    /// The same values with another shape (one dimension may be `-1`).
    public func reshaped(_ shape: [Int]) -> Variable {
        let original = self.shape
        let i = id
        return unary(value.reshaped(shape)) { g, sink in sink.accumulate(i, g.reshaped(original)) }
    }

    /// The matrix transpose of a rank-2 variable.
    public func transposed() -> Variable {
        let i = id
        return unary(value.transposed()) { g, sink in sink.accumulate(i, g.transposed()) }
    }

    /// The dimensions reordered: dimension `k` of the result is dimension `permutation[k]` of this one.
    public func permuted(_ permutation: [Int]) -> Variable {
        var inverse = [Int](repeating: 0, count: permutation.count)
        for (k, p) in permutation.enumerated() { inverse[p] = k }
        let i = id
        return unary(value.permuted(permutation)) { g, sink in sink.accumulate(i, g.permuted(inverse)) }
    }

    /// Joins variables along an axis.
    public static func concatenate(_ parts: [Variable], alongAxis axis: Int) -> Variable {
        precondition(!parts.isEmpty, "concatenate: no variables given")
        let tape = parts[0].tape
        for p in parts { checkSameTape(parts[0], p, "concatenate") }
        let out = Tensor.concatenate(parts.map(\.value), alongAxis: axis)
        let a = Tensor.normalize(axis: axis, rank: out.rank, op: "concatenate")
        let ids = parts.map(\.id)
        let widths = parts.map { $0.shape[a] }
        return tape.record(out, inputs: parts) { g, sink in
            var start = 0
            for (id, w) in zip(ids, widths) {
                if sink.needs(id) { sink.accumulate(id, g.slice(alongAxis: a, start..<(start + w))) }
                start += w
            }
        }
    }

    /// The part with indices `range` along `axis`.
    public func slice(alongAxis axis: Int, _ range: Range<Int>) -> Variable {
        let shape = self.shape
        let a = Tensor.normalize(axis: axis, rank: shape.count, op: "slice")
        let i = id
        return unary(value.slice(alongAxis: a, range)) { g, sink in
            var full = Tensor(shape: shape)
            full.addSlice(g, alongAxis: a, at: range.lowerBound)
            sink.accumulate(i, full)
        }
    }

    /// Splits along an axis into consecutive parts of the given sizes.
    public func split(sizes: [Int], alongAxis axis: Int) -> [Variable] {
        let a = Tensor.normalize(axis: axis, rank: rank, op: "split")
        precondition(sizes.reduce(0, +) == shape[a], "split: sizes \(sizes) do not add up to dimension \(shape[a]) of \(shape)")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(alongAxis: a, start..<(start + size))
        }
    }

    /// The slices at `indices` along `axis` (index-select). The gradient is scattered back densely;
    /// use ``Tape/embedding(_:indices:)`` for tables that should get row-sparse gradients.
    public func gather(_ indices: [Int32], alongAxis axis: Int = 0) -> Variable {
        let shape = self.shape
        let a = Tensor.normalize(axis: axis, rank: shape.count, op: "gather")
        let i = id
        return unary(value.gather(indices, alongAxis: a)) { g, sink in
            var full = Tensor(shape: shape)
            let (outer, dim, inner) = Tensor.split(shape, at: a)
            let src = g.readPointer, dst = full.writePointer()
            for o in 0..<outer {
                for (k, idx) in indices.enumerated() {
                    VectorKernels.add(src + (o * indices.count + k) * inner, into: dst + (o * dim + Int(idx)) * inner, inner)
                }
            }
            sink.accumulate(i, full)
        }
    }
}
