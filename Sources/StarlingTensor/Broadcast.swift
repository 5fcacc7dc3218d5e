/// NumPy-style broadcasting for element-wise binary operations.
///
/// Shapes are aligned on their trailing dimensions; a dimension of 1 stretches to match the other.
public enum Broadcast {
    public typealias V = SIMD16<Float>

    /// The broadcast shape of two shapes, stopping with a message naming `op` if they are incompatible.
    public static func shape(_ a: [Int], _ b: [Int], op: String) -> [Int] {
        let r = max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.count ? 1 : a[i - (r - a.count)]
            let db = i < r - b.count ? 1 : b[i - (r - b.count)]
            precondition(da == db || da == 1 || db == 1,
                         "\(op): shapes \(a) and \(b) cannot be broadcast together")
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// Element strides of `shape` viewed inside the broadcast shape `out` (0 along stretched dimensions).
    @usableFromInline static func strides(of shape: [Int], in out: [Int]) -> [Int] {
        let r = out.count
        var strides = [Int](repeating: 0, count: r)
        var s = 1
        for i in stride(from: r - 1, through: 0, by: -1) {
            let k = i - (r - shape.count)
            let d = k >= 0 ? shape[k] : 1
            strides[i] = (d == 1 && out[i] != 1) ? 0 : s
            s *= d
        }
        return strides
    }

    /// Merges adjacent dimensions that both operands walk contiguously, so the loop nest is as
    /// shallow as possible. Returns dimensions and both operands' strides, outermost first.
    @usableFromInline static func collapse(_ out: [Int], _ sa: [Int], _ sb: [Int]) -> ([Int], [Int], [Int]) {
        var dims: [Int] = [], ka: [Int] = [], kb: [Int] = []
        for i in stride(from: out.count - 1, through: 0, by: -1) where out[i] != 1 {
            if let d = dims.last, ka.last! * d == sa[i], kb.last! * d == sb[i] {
                dims[dims.count - 1] = d * out[i]
            } else {
                dims.append(out[i]); ka.append(sa[i]); kb.append(sb[i])
            }
        }
        if dims.isEmpty { return ([1], [1], [1]) }
        return (dims.reversed(), ka.reversed(), kb.reversed())
    }

    /// `out = f(a, b)` with broadcasting.
    @inlinable @inline(__always)
    public static func apply<Op: BinaryOperator>(_ a: Tensor, _ b: Tensor, name: String, _ op: Op) -> Tensor {
        if a.shape == b.shape {
            var out = Tensor(uninitializedShape: a.shape)
            VectorKernels.zip(a.readPointer, b.readPointer, out.writePointer(), a.count, op)
            return out
        }
        let shape = Broadcast.shape(a.shape, b.shape, op: name)
        var out = Tensor(uninitializedShape: shape)
        let o = out.writePointer()
        let pa = a.readPointer, pb = b.readPointer
        if b.count == 1 {
            VectorKernels.map(pa, o, a.count, Elementwise.WithRight(op, pb[0]))
            return out
        }
        if a.count == 1 {
            VectorKernels.map(pb, o, b.count, Elementwise.WithLeft(op, pa[0]))
            return out
        }
        let (dims, sa, sb) = collapse(shape, strides(of: a.shape, in: shape), strides(of: b.shape, in: shape))
        let inner = dims[dims.count - 1]
        let ia = sa[sa.count - 1], ib = sb[sb.count - 1]
        let outerDims = dims.count - 1
        var counter = [Int](repeating: 0, count: max(outerDims, 1))
        var offA = 0, offB = 0, offO = 0
        let outerCount = dims.count == 1 ? 1 : dims[0..<outerDims].reduce(1, *)
        for _ in 0..<outerCount {
            let xa = pa + offA, xb = pb + offB, xo = o + offO
            if ia == 1 && ib == 1 {
                VectorKernels.zip(xa, xb, xo, inner, op)
            } else if ia == 1 {
                VectorKernels.map(xa, xo, inner, Elementwise.WithRight(op, xb[0]))
            } else if ib == 1 {
                VectorKernels.map(xb, xo, inner, Elementwise.WithLeft(op, xa[0]))
            } else {
                xo.update(repeating: op.apply(xa[0], xb[0]), count: inner)
            }
            offO += inner
            // Advance the outer multi-index.
            var d = outerDims - 1
            while d >= 0 {
                counter[d] += 1
                offA += sa[d]; offB += sb[d]
                if counter[d] < dims[d] { break }
                offA -= sa[d] * dims[d]; offB -= sb[d] * dims[d]
                counter[d] = 0
                d -= 1
            }
        }
        return out
    }
}
