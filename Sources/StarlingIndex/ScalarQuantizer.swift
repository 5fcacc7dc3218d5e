import StarlingTensor

/// Int8 scalar quantisation with one scale per vector: `code_i = round(v_i / s)` with
/// `s = max_i |v_i| / 127`, so `v ≈ s · code` and the largest component is exact.
///
/// A code is a quarter of the float row's size; scores against a float query are
/// `s · Σ q_i code_i`, and an index re-ranks its final candidates with the exact float vectors.
public struct ScalarQuantizer: Codable, Sendable, Equatable {
    public init() {}

    /// Writes the `dimension` codes of `v` to `codes` and returns the scale.
    @inline(__always)
    func encode(_ v: UnsafePointer<Float>, into codes: UnsafeMutablePointer<Int8>, dimension d: Int) -> Float {
        var m: Float = 0
        for i in 0..<d { m = max(m, abs(v[i])) }
        guard m > 0 else {
            codes.initialize(repeating: 0, count: d)
            return 0
        }
        let s = m / 127, inv = 127 / m
        for i in 0..<d { codes[i] = Int8(max(-127, min(127, (v[i] * inv).rounded()))) }
        return s
    }

    /// `Σ q_i code_i` (multiply by the vector's scale for the approximate inner product).
    @inline(__always)
    static func dot(_ q: UnsafePointer<Float>, _ codes: UnsafePointer<Int8>, _ d: Int) -> Float {
        typealias V = SIMD16<Float>
        var a0 = V(), a1 = V()
        var i = 0
        while i + 32 <= d {
            a0 += VectorKernels.load(q + i) * Kernels.widen(codes + i)
            a1 += VectorKernels.load(q + i + 16) * Kernels.widen(codes + i + 16)
            i += 32
        }
        if i + 16 <= d {
            a0 += VectorKernels.load(q + i) * Kernels.widen(codes + i)
            i += 16
        }
        var s = VectorKernels.horizontalSum(a0 + a1)
        while i < d {
            s += q[i] * Float(codes[i])
            i += 1
        }
        return s
    }
}

/// The int8 kernel of the indexes (the float kernels are `VectorKernels`).
enum Kernels {
    /// 16 int8 codes widened to floats.
    @inline(__always)
    static func widen(_ p: UnsafePointer<Int8>) -> SIMD16<Float> {
        SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Int8>.self)))
    }
}
