import CIntrinsics

/// Allocation-free SIMD loops over raw `Float` buffers: the building blocks of the element-wise
/// tensor kernels. Each processes 16 lanes at a time and finishes with a scalar tail.
public enum VectorKernels {
    public typealias V = SIMD16<Float>

    /// 16 floats from `p` (no alignment needed).
    @inlinable @inline(__always)
    public static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    /// Writes 16 floats to `p` (no alignment needed).
    @inlinable @inline(__always)
    public static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// The sum of the 16 lanes by halving (three vector adds and one scalar add). `V.sum()` adds
    /// lane by lane in order: fifteen dependent scalar additions.
    @inlinable @inline(__always)
    public static func horizontalSum(_ v: V) -> Float {
        let h = v.lowHalf + v.highHalf
        let q = h.lowHalf + h.highHalf
        let p = q.lowHalf + q.highHalf
        return p[0] + p[1]
    }

    /// `out[i] = op(a[i])` with a SIMD body and a scalar tail. `out` may equal `a`.
    @inlinable @inline(__always)
    public static func map<Op: UnaryOperator>(
        _ a: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int, _ op: Op
    ) {
        var i = 0
        while i + 16 <= n { store(op.apply(load(a + i)), out + i); i += 16 }
        while i < n { out[i] = op.apply(a[i]); i += 1 }
    }

    /// `out[i] = op(a[i], b[i])` with a SIMD body and a scalar tail. `out` may equal `a` or `b`.
    @inlinable @inline(__always)
    public static func zip<Op: BinaryOperator>(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int, _ op: Op
    ) {
        var i = 0
        while i + 16 <= n { store(op.apply(load(a + i), load(b + i)), out + i); i += 16 }
        while i < n { out[i] = op.apply(a[i], b[i]); i += 1 }
    }

    /// Asks the CPU to start loading the `count` floats at `p` into cache (a hint; no effect on results).
    @inlinable @inline(__always)
    public static func prefetch(_ p: UnsafePointer<Float>, count: Int) {
        var k = 0
        while k < count { starling_prefetch(p + k); k += 16 }
    }

    /// Asks the CPU to start loading the `count` floats at `p` into cache for writing.
    @inlinable @inline(__always)
    public static func prefetchForWrite(_ p: UnsafeMutablePointer<Float>, count: Int) {
        var k = 0
        while k < count { starling_prefetch_for_write(p + k); k += 16 }
    }

    /// How many rows ahead random row gathers prefetch (measured best on this class of machine).
    public static let prefetchDistance = 8

    /// `y[i] += x[i]` (a plain loop; the compiler vectorises it).
    @inlinable
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] += x[i] }
    }

    /// `y[i] += alpha * x[i]`.
    @inlinable
    public static func addScaled(_ x: UnsafePointer<Float>, _ alpha: Float, into y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] += alpha * x[i] }
    }

    /// `y[i] = alpha * x[i]`.
    @inlinable
    public static func scaled(_ x: UnsafePointer<Float>, _ alpha: Float, into y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] = alpha * x[i] }
    }

    /// `x[i] *= alpha`.
    @inlinable
    public static func scale(_ x: UnsafeMutablePointer<Float>, _ alpha: Float, _ n: Int) {
        for i in 0..<n { x[i] *= alpha }
    }

    /// The sum of `n` elements (four SIMD accumulators, so the reduction vectorises).
    @inlinable
    public static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var a0 = V(), a1 = V(), a2 = V(), a3 = V()
        var i = 0
        while i + 64 <= n {
            a0 += load(x + i); a1 += load(x + i + 16); a2 += load(x + i + 32); a3 += load(x + i + 48)
            i += 64
        }
        while i + 16 <= n { a0 += load(x + i); i += 16 }
        var s = horizontalSum((a0 + a1) + (a2 + a3))
        while i < n { s += x[i]; i += 1 }
        return s
    }

    /// The dot product of `n` elements.
    @inlinable @inline(__always)
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
        var a0 = V(), a1 = V(), a2 = V(), a3 = V()
        var i = 0
        while i + 64 <= n {
            a0 += load(x + i) * load(y + i)
            a1 += load(x + i + 16) * load(y + i + 16)
            a2 += load(x + i + 32) * load(y + i + 32)
            a3 += load(x + i + 48) * load(y + i + 48)
            i += 64
        }
        while i + 16 <= n { a0 += load(x + i) * load(y + i); i += 16 }
        var s = horizontalSum((a0 + a1) + (a2 + a3))
        while i < n { s += x[i] * y[i]; i += 1 }
        return s
    }

    /// The largest of `n > 0` elements.
    @inlinable
    public static func max(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var m = x[0]
        var i = 0
        if n >= 16 {
            var vm = load(x)
            i = 16
            while i + 16 <= n { vm = maximum(vm, load(x + i)); i += 16 }
            m = vm.max()
        }
        while i < n { m = Swift.max(m, x[i]); i += 1 }
        return m
    }

    // MARK: vectorised functions
    //
    // On the default x86-64 target the standard library's SIMD `pointwiseMin/Max`, `squareRoot()`
    // and `rounded()` become one scalar (often libm) call per lane; `replacing(with:where:)`,
    // comparisons, arithmetic and wrapping integer operations do vectorise. These kernels use only
    // the latter.

    /// The lane-wise maximum.
    @inlinable @inline(__always)
    public static func maximum(_ a: V, _ b: V) -> V { a.replacing(with: b, where: a .< b) }

    /// The lane-wise minimum.
    @inlinable @inline(__always)
    public static func minimum(_ a: V, _ b: V) -> V { a.replacing(with: b, where: b .< a) }

    /// `x` clamped to `[lo, hi]`.
    @inlinable @inline(__always)
    public static func clamp(_ x: V, _ lo: V, _ hi: V) -> V {
        x.replacing(with: lo, where: x .< lo).replacing(with: hi, where: x .> hi)
    }

    /// `1/√x` for positive lanes: a bit-level first guess refined by three Newton steps
    /// (relative error below 3e-7).
    @inlinable @inline(__always)
    public static func reciprocalSquareRoot(_ x: V) -> V {
        typealias I = SIMD16<Int32>
        var y = unsafeBitCast(I(repeating: 0x5F37_5A86) &- (unsafeBitCast(x, to: I.self) &>> I(repeating: 1)), to: V.self)
        let h = x * V(repeating: 0.5), th = V(repeating: 1.5)
        y = y * (th - h * y * y)
        y = y * (th - h * y * y)
        y = y * (th - h * y * y)
        return y
    }

    /// `√x` for non-negative lanes (relative error below 3e-7; exactly 0 at 0).
    @inlinable @inline(__always)
    public static func squareRoot(_ x: V) -> V {
        (x * reciprocalSquareRoot(x)).replacing(with: 0, where: x .== 0)
    }

    /// `e^x` for 16 lanes: range reduction to `x = n·ln2 + r` (the rounding of `n` done by adding
    /// 1.5·2²³, which leaves the integer in the low mantissa bits), a degree-6 polynomial for `e^r`,
    /// and `2^n` assembled in the exponent bits. Relative error below 2e-7 on [-87, 88]; inputs below
    /// -87 give 0, above 88 give +inf.
    @inlinable @inline(__always)
    public static func exp(_ x: V) -> V {
        typealias I = SIMD16<Int32>
        let hi = V(repeating: 88.3762626647949)
        let lo = V(repeating: -87.3365478515625)
        var v = clamp(x, lo, hi)
        let magic = V(repeating: 12_582_912)
        let t = v * V(repeating: 1.44269504088896341) + magic
        let n = t - magic
        v = v - n * V(repeating: 0.693359375) - n * V(repeating: -2.12194440e-4)
        var p = V(repeating: 1.9875691500e-4)
        p = p * v + V(repeating: 1.3981999507e-3)
        p = p * v + V(repeating: 8.3334519073e-3)
        p = p * v + V(repeating: 4.1665795894e-2)
        p = p * v + V(repeating: 1.6666665459e-1)
        p = p * v + V(repeating: 5.0000001201e-1)
        let r = p * v * v + v + V(repeating: 1)
        let k = unsafeBitCast(t, to: I.self) &- I(repeating: 0x4B40_0000)
        var result = r * unsafeBitCast((k &+ I(repeating: 127)) &<< I(repeating: 23), to: V.self)
        result.replace(with: V(repeating: 0), where: x .< lo)
        result.replace(with: V(repeating: .infinity), where: x .> hi)
        return result
    }

    /// The logistic function `1 / (1 + e^-x)` for 16 lanes.
    @inlinable @inline(__always)
    public static func sigmoid(_ x: V) -> V {
        V(repeating: 1) / (V(repeating: 1) + exp(-x))
    }

    /// `tanh(x)` for 16 lanes, as `(e^{2x} - 1) / (e^{2x} + 1)` with the input clamped where tanh is ±1 in Float.
    @inlinable @inline(__always)
    public static func tanh(_ x: V) -> V {
        let c = clamp(x, V(repeating: -9), V(repeating: 9))
        let e = exp(c + c)
        return (e - V(repeating: 1)) / (e + V(repeating: 1))
    }
}

import Foundation

/// Scalar counterparts of the SIMD functions, used in loop tails so both paths agree closely.
@usableFromInline enum ScalarMath {
    @inlinable @inline(__always) static func sigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }
    @inlinable @inline(__always) static func tanh(_ x: Float) -> Float { Foundation.tanh(x) }
    @inlinable @inline(__always) static func exp(_ x: Float) -> Float { Foundation.exp(x) }
}
