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
            a0 += Kernels.load(q + i) * Kernels.widen(codes + i)
            a1 += Kernels.load(q + i + 16) * Kernels.widen(codes + i + 16)
            i += 32
        }
        if i + 16 <= d {
            a0 += Kernels.load(q + i) * Kernels.widen(codes + i)
            i += 16
        }
        var s = Kernels.horizontalSum(a0 + a1)
        while i < d {
            s += q[i] * Float(codes[i])
            i += 1
        }
        return s
    }
}

/// SIMD kernels of the indexes.
enum Kernels {
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }

    @inline(__always)
    static func widen(_ p: UnsafePointer<Int8>) -> SIMD16<Float> {
        SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Int8>.self)))
    }

    /// The sum of the lanes by halving (three vector adds), not lane by lane.
    @inline(__always)
    static func horizontalSum(_ v: SIMD16<Float>) -> Float {
        let h = v.lowHalf + v.highHalf
        let q = h.lowHalf + h.highHalf
        let p = q.lowHalf + q.highHalf
        return p[0] + p[1]
    }

    /// `aᵀb` over `d` floats.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        typealias V = SIMD16<Float>
        var a0 = V(), a1 = V(), a2 = V(), a3 = V()
        var i = 0
        while i + 64 <= d {
            a0 += load(a + i) * load(b + i)
            a1 += load(a + i + 16) * load(b + i + 16)
            a2 += load(a + i + 32) * load(b + i + 32)
            a3 += load(a + i + 48) * load(b + i + 48)
            i += 64
        }
        while i + 16 <= d {
            a0 += load(a + i) * load(b + i)
            i += 16
        }
        var s = horizontalSum((a0 + a1) + (a2 + a3))
        while i < d {
            s += a[i] * b[i]
            i += 1
        }
        return s
    }
}
