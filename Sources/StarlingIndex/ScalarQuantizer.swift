import CIntrinsics
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

    /// `Σ q_i code_i` (multiply by the vector's scale for the approximate inner product), in C:
    /// Swift's generic `SIMD16<Int8>` → `SIMD16<Float>` conversion compiles to two out-of-line
    /// calls per 16 codes, which made the int8 graph walk slower than the float one.
    @inline(__always)
    static func dot(_ q: UnsafePointer<Float>, _ codes: UnsafePointer<Int8>, _ d: Int) -> Float {
        starling_dot_f32_i8(q, codes, d)
    }
}
