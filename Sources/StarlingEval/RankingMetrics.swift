import Foundation

/// Ranking metrics for one user with a single relevant item at 0-based position `rank` in the
/// ranked list (the leave-one-out protocols). Averaged over users by the caller.
public enum RankingMetrics {
    /// Hit rate: `HR@K = 1` if `rank < K`, else 0.
    public static func hitRate(rank: Int, k: Int) -> Double { rank < k ? 1 : 0 }

    /// Normalised discounted cumulative gain with one relevant item:
    /// `NDCG@K = 1 / log₂(rank + 2)` if `rank < K`, else 0 (the ideal DCG is 1).
    public static func ndcg(rank: Int, k: Int) -> Double { rank < k ? 1 / log2(Double(rank) + 2) : 0 }

    /// Reciprocal rank cut at K: `MRR@K = 1 / (rank + 1)` if `rank < K`, else 0.
    public static func reciprocalRank(rank: Int, k: Int) -> Double { rank < k ? 1 / Double(rank + 1) : 0 }

    /// The 0-based rank of the target among candidates: the number of *other, distinct* candidates
    /// whose score is greater than or equal to the target's (ties count against the target, so a
    /// constant scorer earns no credit). Duplicate candidate ids are counted once.
    public static func rank(targetScore: Float, target: Int32, candidates: [Int32], scores: [Float]) -> Int {
        var seen = Set<Int32>()
        var rank = 0
        for (item, s) in zip(candidates, scores) where item != target && seen.insert(item).inserted {
            if s >= targetScore || s.isNaN { rank += 1 }
        }
        return rank
    }
}
