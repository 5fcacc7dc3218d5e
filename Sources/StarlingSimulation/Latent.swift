import Foundation
import StarlingTensor

/// Small vector helpers for the latent space (dimension ~8: plain loops are enough).
public enum Latent {
    @inline(__always)
    static func dot(_ a: [Float], _ b: [Float]) -> Float {
        var s: Float = 0
        for k in a.indices { s += a[k] * b[k] }
        return s
    }

    /// `v` scaled to unit length (unchanged if it is zero).
    static func normalized(_ v: [Float]) -> [Float] {
        let n = dot(v, v).squareRoot()
        return n > 0 ? v.map { $0 / n } : v
    }

    /// Cosine similarity of `a` and `b` (0 if either is zero).
    public static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        let d = (dot(a, a) * dot(b, b)).squareRoot()
        return d > 0 ? dot(a, b) / d : 0
    }

    /// A vector of standard normal samples times `scale`.
    static func gaussian(_ dimension: Int, scale: Float, _ rng: inout RandomGenerator) -> [Float] {
        (0..<dimension).map { _ in rng.nextNormal() * scale }
    }

    /// `a + b·s`, element-wise.
    static func adding(_ a: [Float], _ b: [Float], times s: Float) -> [Float] {
        var out = a
        for k in out.indices { out[k] += b[k] * s }
        return out
    }

    /// The logistic function.
    @inline(__always)
    static func sigmoid(_ x: Float) -> Double { 1 / (1 + Foundation.exp(-Double(x))) }
}
