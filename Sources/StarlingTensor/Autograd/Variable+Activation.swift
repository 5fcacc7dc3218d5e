import Foundation

extension Variable {
    public typealias V = SIMD16<Float>

    /// `max(x, 0)` element-wise.
    public func relu() -> Variable {
        let out = value.map(Elementwise.ReLU())
        let i = id
        return unary(out) { g, sink in sink.accumulate(i, g.zip(out, Elementwise.ReLUGradient())) }
    }

    /// `x` where positive, `slope·x` elsewhere.
    public func leakyRelu(slope: Float = 0.01) -> Variable {
        let x = value
        let out = x.map(Elementwise.LeakyReLU(slope: slope))
        let i = id
        return unary(out) { g, sink in sink.accumulate(i, g.zip(x, Elementwise.LeakyReLUGradient(slope: slope))) }
    }

    /// The logistic function `1 / (1 + e^-x)`.
    public func sigmoid() -> Variable {
        let out = value.map(Elementwise.Sigmoid())
        let i = id
        return unary(out) { g, sink in sink.accumulate(i, g.zip(out, Elementwise.SigmoidGradient())) }
    }

    /// The hyperbolic tangent.
    public func tanh() -> Variable {
        let out = value.map(Elementwise.Tanh())
        let i = id
        return unary(out) { g, sink in sink.accumulate(i, g.zip(out, Elementwise.TanhGradient())) }
    }

    /// The Gaussian error linear unit, exact form `x·Φ(x) = ½x(1 + erf(x/√2))` (PyTorch's default).
    public func gelu() -> Variable {
        let x = value
        let out = x.mapScalars { 0.5 * $0 * (1 + erff($0 * 0.70710678118654752)) }
        let i = id
        return unary(out) { g, sink in
            var gx = Tensor(uninitializedShape: g.shape)
            let pg = g.readPointer, px = x.readPointer, po = gx.writePointer()
            for k in 0..<g.count {
                let v = px[k]
                let cdf = 0.5 * (1 + erff(v * 0.70710678118654752))
                let pdf = Foundation.exp(-0.5 * v * v) * 0.39894228040143268
                po[k] = pg[k] * (cdf + v * pdf)
            }
            sink.accumulate(i, gx)
        }
    }

    /// `log(1 + e^x)`, computed stably as `max(x, 0) + log(1 + e^-|x|)`.
    public func softplus() -> Variable {
        let x = value
        let out = x.mapScalars { Swift.max($0, 0) + log1pf(Foundation.exp(-Swift.abs($0))) }
        let i = id
        return unary(out) { g, sink in
            let s = x.map(Elementwise.Sigmoid())
            sink.accumulate(i, g * s)
        }
    }

    /// Softmax along `axis`: `e^{x_i - max} / Σ_j e^{x_j - max}`.
    public func softmax(alongAxis axis: Int = -1) -> Variable {
        let a = Tensor.normalize(axis: axis, rank: rank, op: "softmax")
        let out = Softmax.forward(value, axis: a, log: false)
        let i = id
        return unary(out) { g, sink in sink.accumulate(i, Softmax.backward(g, output: out, axis: a, log: false)) }
    }

    /// Log-softmax along `axis`: `x_i - max - log Σ_j e^{x_j - max}`.
    public func logSoftmax(alongAxis axis: Int = -1) -> Variable {
        let a = Tensor.normalize(axis: axis, rank: rank, op: "logSoftmax")
        let out = Softmax.forward(value, axis: a, log: true)
        let i = id
        return unary(out) { g, sink in sink.accumulate(i, Softmax.backward(g, output: out, axis: a, log: true)) }
    }
}

/// Numerically stable softmax and log-softmax kernels along one axis.
public enum Softmax {
    /// `e^{x - shift}`.
    public struct ExpShifted: UnaryOperator {
        public let shift: Float
        @inlinable public init(shift: Float) { self.shift = shift }
        @inlinable public func apply(_ v: SIMD16<Float>) -> SIMD16<Float> { VectorKernels.exp(v - shift) }
        @inlinable public func apply(_ x: Float) -> Float { Foundation.exp(x - shift) }
    }

    /// Softmax (or log-softmax) of `x` along `axis`.
    public static func forward(_ x: Tensor, axis: Int, log: Bool) -> Tensor {
        let (outer, dim, inner) = Tensor.split(x.shape, at: axis)
        var out = Tensor(uninitializedShape: x.shape)
        let src = x.readPointer, dst = out.writePointer()
        if inner == 1 {
            for o in 0..<outer { row(src + o * dim, dst + o * dim, dim, log: log) }
        } else {
            var buffer = [Float](repeating: 0, count: dim), result = buffer
            for o in 0..<outer {
                for j in 0..<inner {
                    for k in 0..<dim { buffer[k] = src[(o * dim + k) * inner + j] }
                    buffer.withUnsafeBufferPointer { b in
                        result.withUnsafeMutableBufferPointer { r in row(b.baseAddress!, r.baseAddress!, dim, log: log) }
                    }
                    for k in 0..<dim { dst[(o * dim + k) * inner + j] = result[k] }
                }
            }
        }
        return out
    }

    /// Softmax of one contiguous row; `-inf` entries get probability 0, and a row that is entirely
    /// `-inf` (fully masked) gives all zeros rather than NaN.
    @inlinable
    public static func row(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, log: Bool) {
        guard n > 0 else { return }
        let m = VectorKernels.max(x, n)
        if m == -.infinity {
            y.update(repeating: log ? -.infinity : 0, count: n)
            return
        }
        VectorKernels.map(x, y, n, ExpShifted(shift: m))
        let s = VectorKernels.sum(y, n)
        if log {
            VectorKernels.map(x, y, n, Elementwise.WithRight(Elementwise.Subtract(), m + Foundation.log(s)))
        } else {
            VectorKernels.scale(y, 1 / s, n)
        }
    }

    /// The gradient with respect to the input, given the output and the upstream gradient.
    /// Softmax: `y ⊙ (g - Σ g⊙y)`. Log-softmax: `g - softmax(x)·Σ g`.
    public static func backward(_ g: Tensor, output y: Tensor, axis: Int, log: Bool) -> Tensor {
        let (outer, dim, inner) = Tensor.split(y.shape, at: axis)
        var gx = Tensor(uninitializedShape: y.shape)
        let pg = g.readPointer, py = y.readPointer, po = gx.writePointer()
        for o in 0..<outer {
            for j in 0..<inner {
                let base = o * dim * inner + j
                if log {
                    var s: Float = 0
                    for k in 0..<dim { s += pg[base + k * inner] }
                    for k in 0..<dim {
                        let p = base + k * inner
                        po[p] = pg[p] - Foundation.exp(py[p]) * s
                    }
                } else {
                    var s: Float = 0
                    for k in 0..<dim { s += pg[base + k * inner] * py[base + k * inner] }
                    for k in 0..<dim {
                        let p = base + k * inner
                        po[p] = py[p] * (pg[p] - s)
                    }
                }
            }
        }
        return gx
    }
}
