import Foundation

/// Top-K ranking metrics for one user, following RecBole's definitions. `hits[j]` says whether
/// the item at 1-based position `j + 1` of the user's ranked list is relevant (one of the user's
/// `relevant` held-out items); the list is truncated at K. Averaged over users by the caller.
public enum RankingMetrics {
    /// Hit rate: `HR@K = δ(R̂_K(u) ∩ R(u) ≠ ∅)`.
    public static func hitRate(_ hits: ArraySlice<Bool>) -> Double { hits.contains(true) ? 1 : 0 }

    /// `Recall@K = |R̂_K(u) ∩ R(u)| / |R(u)|`.
    public static func recall(_ hits: ArraySlice<Bool>, relevant: Int) -> Double {
        relevant > 0 ? Double(hits.lazy.filter { $0 }.count) / Double(relevant) : 0
    }

    /// `Precision@K = |R̂_K(u) ∩ R(u)| / K`.
    public static func precision(_ hits: ArraySlice<Bool>, k: Int) -> Double {
        k > 0 ? Double(hits.lazy.filter { $0 }.count) / Double(k) : 0
    }

    /// `NDCG@K = DCG/IDCG` with `DCG = Σ_{j=1}^{K} δ(j-th item ∈ R(u)) / log₂(j + 1)` and
    /// `IDCG = Σ_{j=1}^{min(|R(u)|, K)} 1 / log₂(j + 1)`.
    public static func ndcg(_ hits: ArraySlice<Bool>, relevant: Int, k: Int) -> Double {
        guard relevant > 0 else { return 0 }
        var dcg = 0.0
        for (j, hit) in hits.enumerated() where hit { dcg += 1 / log2(Double(j) + 2) }
        var idcg = 0.0
        for j in 0..<min(relevant, k) { idcg += 1 / log2(Double(j) + 2) }
        return dcg / idcg
    }

    /// `MRR@K = 1 / rank*` where `rank*` is the 1-based position of the first relevant item in
    /// the top K (0 if there is none).
    public static func reciprocalRank(_ hits: ArraySlice<Bool>) -> Double {
        for (j, hit) in hits.enumerated() where hit { return 1 / Double(j + 1) }
        return 0
    }

    /// `MAP@K = (1 / min(|R(u)|, K)) · Σ_{j=1}^{K} δ(j-th item ∈ R(u)) · Precision@j` (RecBole's
    /// normalisation, so a user with fewer relevant items than K can still reach 1).
    public static func averagePrecision(_ hits: ArraySlice<Bool>, relevant: Int, k: Int) -> Double {
        guard relevant > 0 else { return 0 }
        var found = 0, sum = 0.0
        for (j, hit) in hits.enumerated() where hit {
            found += 1
            sum += Double(found) / Double(j + 1)
        }
        return sum / Double(min(relevant, k))
    }

    // MARK: one held-out item (leave-one-out protocols)

    /// `HR@K` for a single relevant item at 0-based `rank`: 1 if `rank < K`.
    public static func hitRate(rank: Int, k: Int) -> Double { rank < k ? 1 : 0 }

    /// `NDCG@K` for a single relevant item at 0-based `rank`: `1 / log₂(rank + 2)` if `rank < K`.
    public static func ndcg(rank: Int, k: Int) -> Double { rank < k ? 1 / log2(Double(rank) + 2) : 0 }

    /// `MRR@K` for a single relevant item at 0-based `rank`: `1 / (rank + 1)` if `rank < K`.
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
