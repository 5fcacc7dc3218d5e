extension Tensor {
    /// The matrix transpose of a rank-2 tensor (a copy; blocked for cache friendliness).
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed(): needs a rank-2 tensor, got shape \(shape)")
        let rows = shape[0], cols = shape[1]
        var out = Tensor(uninitializedShape: [cols, rows])
        Tensor.transpose(readPointer, out.writePointer(), rows: rows, cols: cols)
        return out
    }

    /// Copies the `rows×cols` row-major matrix at `src` transposed into `dst`.
    static func transpose(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        let block = 32
        var i0 = 0
        while i0 < rows {
            let i1 = Swift.min(i0 + block, rows)
            var j0 = 0
            while j0 < cols {
                let j1 = Swift.min(j0 + block, cols)
                for i in i0..<i1 { for j in j0..<j1 { dst[j * rows + i] = src[i * cols + j] } }
                j0 = j1
            }
            i0 = i1
        }
    }

    /// The dimensions reordered: dimension `i` of the result is dimension `permutation[i]` of this tensor.
    public func permuted(_ permutation: [Int]) -> Tensor {
        precondition(permutation.count == rank && Set(permutation) == Set(0..<rank),
                     "permuted(_:): \(permutation) is not a permutation of 0..<\(rank)")
        if permutation == Array(0..<rank) { return self }
        let outShape = permutation.map { shape[$0] }
        var out = Tensor(uninitializedShape: outShape)
        // Source strides, taken in the output's dimension order.
        var srcStrides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { srcStrides[i] = srcStrides[i + 1] * shape[i + 1] }
        let strides = permutation.map { srcStrides[$0] }
        let src = readPointer, dst = out.writePointer()
        let innerDim = outShape[rank - 1], innerStride = strides[rank - 1]
        let outer = count / Swift.max(innerDim, 1)
        var counter = [Int](repeating: 0, count: rank)
        var offset = 0
        var o = 0
        for _ in 0..<outer {
            if innerStride == 1 {
                (dst + o).update(from: src + offset, count: innerDim)
            } else {
                for j in 0..<innerDim { dst[o + j] = src[offset + j * innerStride] }
            }
            o += innerDim
            var d = rank - 2
            while d >= 0 {
                counter[d] += 1
                offset += strides[d]
                if counter[d] < outShape[d] { break }
                offset -= strides[d] * outShape[d]
                counter[d] = 0
                d -= 1
            }
        }
        return out
    }

    /// Joins tensors along an axis; all other dimensions must match.
    public static func concatenate(_ parts: [Tensor], alongAxis axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "concatenate: no tensors given")
        let first = parts[0]
        let a = normalize(axis: axis, rank: first.rank, op: "concatenate")
        var outShape = first.shape
        outShape[a] = 0
        for p in parts {
            var s = p.shape
            precondition(s.count == first.rank, "concatenate: ranks differ (\(first.shape) vs \(p.shape))")
            s[a] = 0
            var f = first.shape; f[a] = 0
            precondition(s == f, "concatenate: shapes \(first.shape) and \(p.shape) differ outside axis \(a)")
            outShape[a] += p.shape[a]
        }
        var out = Tensor(uninitializedShape: outShape)
        let (outer, total, inner) = split(outShape, at: a)
        let dst = out.writePointer()
        var start = 0
        for p in parts {
            let width = p.shape[a] * inner
            let src = p.readPointer
            for o in 0..<outer {
                (dst + o * total * inner + start * inner).update(from: src + o * width, count: width)
            }
            start += p.shape[a]
        }
        return out
    }

    /// The sub-tensor with indices `range` along `axis` (a copy).
    public func slice(alongAxis axis: Int, _ range: Range<Int>) -> Tensor {
        let a = Tensor.normalize(axis: axis, rank: rank, op: "slice")
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[a],
                     "slice: range \(range) out of bounds for dimension \(a) of shape \(shape)")
        var outShape = shape
        outShape[a] = range.count
        var out = Tensor(uninitializedShape: outShape)
        let (outer, dim, inner) = Tensor.split(shape, at: a)
        let width = range.count * inner
        let src = readPointer, dst = out.writePointer()
        for o in 0..<outer {
            (dst + o * width).update(from: src + (o * dim + range.lowerBound) * inner, count: width)
        }
        return out
    }

    /// Adds `part` into the region `range` along `axis` of this tensor (the reverse of ``slice(alongAxis:_:)``).
    public mutating func addSlice(_ part: Tensor, alongAxis axis: Int, at start: Int) {
        let a = Tensor.normalize(axis: axis, rank: rank, op: "addSlice")
        let (outer, dim, inner) = Tensor.split(shape, at: a)
        let width = part.shape[a] * inner
        let src = part.readPointer, dst = writePointer()
        for o in 0..<outer {
            VectorKernels.add(src + o * width, into: dst + (o * dim + start) * inner, width)
        }
    }

    /// The slices at `indices` along `axis`, stacked in that order (index-select).
    public func gather(_ indices: [Int32], alongAxis axis: Int = 0) -> Tensor {
        let a = Tensor.normalize(axis: axis, rank: rank, op: "gather")
        let (outer, dim, inner) = Tensor.split(shape, at: a)
        var outShape = shape
        outShape[a] = indices.count
        var out = Tensor(uninitializedShape: outShape)
        let src = readPointer, dst = out.writePointer()
        for i in indices {
            precondition(i >= 0 && Int(i) < dim, "gather: index \(i) out of range 0..<\(dim) along axis \(a)")
        }
        for o in 0..<outer {
            for (k, i) in indices.enumerated() {
                (dst + (o * indices.count + k) * inner).update(from: src + (o * dim + Int(i)) * inner, count: inner)
            }
        }
        return out
    }
}
