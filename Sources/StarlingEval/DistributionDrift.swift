import Foundation

/// How far a distribution moved from a reference one, over bins cut at the reference's quantiles
/// (so each bin holds about `1/bins` of the reference):
/// - population stability index `PSI = Σ_b (c_b − r_b)·ln(c_b / r_b)` (the usual reading: below
///   0.1 stable, 0.1–0.25 a moderate shift, above 0.25 a major one);
/// - Kullback–Leibler divergence `KL(current ‖ reference) = Σ_b c_b·ln(c_b / r_b)`,
/// with `r_b`, `c_b` the shares of the reference and current values in bin `b`, each floored at
/// `1e-4` so that an empty bin gives a large but finite figure.
public struct DistributionDrift: Sendable, Equatable, Codable {
    public var psi: Double
    public var kl: Double

    /// Drift of `current` from `reference` over `bins` quantile bins; nil when either has fewer
    /// than `bins` values.
    public init?(reference: [Float], current: [Float], bins: Int = 10) {
        guard bins >= 2, reference.count >= bins, current.count >= bins else { return nil }
        let sorted = reference.sorted()
        // Inner edges at the reference's quantiles, duplicates merged (a spike of equal values is one bin).
        var edges: [Float] = []
        for b in 1..<bins {
            let e = sorted[min(sorted.count - 1, b * sorted.count / bins)]
            if edges.last != e { edges.append(e) }
        }
        func shares(_ values: [Float]) -> [Double] {
            var counts = [Double](repeating: 0, count: edges.count + 1)
            for v in values {
                // The first edge above v (values equal to an edge go to the bin above it).
                var lo = 0, hi = edges.count
                while lo < hi { let mid = (lo + hi) / 2; if edges[mid] <= v { lo = mid + 1 } else { hi = mid } }
                counts[lo] += 1
            }
            return counts.map { max($0 / Double(values.count), 1e-4) }
        }
        let r = shares(reference), c = shares(current)
        var psi = 0.0, kl = 0.0
        for (rb, cb) in zip(r, c) {
            psi += (cb - rb) * log(cb / rb)
            kl += cb * log(cb / rb)
        }
        self.psi = psi
        self.kl = kl
    }
}
