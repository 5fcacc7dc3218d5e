import Foundation

/// Metrics of scores against binary labels (click-through and conversion models, and the per-user
/// AUC of ranking protocols).
public enum ClassificationMetrics {
    /// Area under the ROC curve: the probability that a random positive scores above a random
    /// negative, ties counting one half,
    /// `AUC = (Σ_{i∈P} rank_i − |P|(|P|+1)/2) / (|P|·|N|)` with ascending ranks averaged over ties
    /// (the Mann–Whitney statistic; RecBole's `AUC`). `nil` when there are no positives or no negatives.
    public static func auc(scores: [Float], labels: [Bool]) -> Double? {
        precondition(scores.count == labels.count, "auc: \(scores.count) scores, \(labels.count) labels")
        let positives = labels.lazy.filter { $0 }.count, negatives = labels.count - positives
        guard positives > 0 && negatives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let averageRank = Double(i + j + 2) / 2  // 1-based ranks i+1 ... j+1
            for k in i...j where labels[order[k]] { rankSum += averageRank }
            i = j + 1
        }
        let p = Double(positives)
        return (rankSum - p * (p + 1) / 2) / (p * Double(negatives))
    }

    /// Group AUC: per-group AUC weighted by the group's number of positives,
    /// `GAUC = Σ_u |P_u|·AUC_u / Σ_u |P_u|`, over groups (users) that have both positives and
    /// negatives (RecBole's `GAUC`).
    public static func gauc(groups: [(auc: Double, positives: Int)]) -> Double? {
        let total = groups.reduce(0) { $0 + $1.positives }
        guard total > 0 else { return nil }
        return groups.reduce(0) { $0 + $1.auc * Double($1.positives) } / Double(total)
    }

    /// Binary cross-entropy of probabilities, clipped to [1e-15, 1 - 1e-15]:
    /// `LogLoss = −(1/|S|) Σ (y·log p + (1 − y)·log(1 − p))`.
    public static func logLoss(probabilities: [Float], labels: [Bool]) -> Double {
        precondition(probabilities.count == labels.count, "logLoss: \(probabilities.count) probabilities, \(labels.count) labels")
        guard !labels.isEmpty else { return 0 }
        var total = 0.0
        for (p, y) in zip(probabilities, labels) {
            let q = min(max(Double(p), 1e-15), 1 - 1e-15)
            total -= y ? log(q) : log(1 - q)
        }
        return total / Double(labels.count)
    }
}

/// Metrics of a whole set of recommendation lists beyond accuracy.
public enum BeyondAccuracyMetrics {
    /// `ItemCoverage@K = |⋃_u R̂_K(u)| / |I|`: the share of the catalogue that is recommended to anyone.
    public static func itemCoverage(recommendedItems: Set<Int32>, itemCount: Int) -> Double {
        itemCount > 0 ? Double(recommendedItems.count) / Double(itemCount) : 0
    }

    /// Novelty as mean self-information (Zhou et al., PNAS 2010):
    /// `Novelty@K = (1/|U|) Σ_u (1/K) Σ_{i∈R̂_K(u)} −log₂((pop(i) + 1) / (|U_train| + 1))`, where
    /// `pop(i)` is the number of training users of item `i` (+1 smoothing keeps unseen items finite).
    /// Higher means less popular, more surprising recommendations.
    public static func selfInformation(item: Int32, popularity: [Int], trainUsers: Int) -> Double {
        -log2(Double(popularity[Int(item)] + 1) / Double(trainUsers + 1))
    }
}
