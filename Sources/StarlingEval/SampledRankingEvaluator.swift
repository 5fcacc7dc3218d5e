import Foundation
import StarlingData
import StarlingModels
import StarlingTensor

/// The sampled leave-one-out protocol of the NCF paper: each user's held-out item is ranked among
/// that user's given negatives; HR@K, NDCG@K and MRR@K are averaged over users.
public struct SampledRankingEvaluator: Sendable {
    public let split: NCFSplit
    public let ks: [Int]
    public let threads: Int
    /// How the negatives were obtained, for reports ("given" or "sampled uniformly, seed 7").
    public let negativeSource: String
    /// The split's description for reports.
    public let splitDescription: String

    public init(split: NCFSplit, ks: [Int] = [10], threads: Int = Parallel.coreCount,
                negativeSource: String = "given", splitDescription: String? = nil) {
        self.split = split
        self.ks = ks
        self.threads = max(1, threads)
        self.negativeSource = negativeSource
        self.splitDescription = splitDescription ?? "\(split.name) leave-one-out (test.rating / test.negative)"
    }

    /// The protocol of SASRec and many sequential papers: each user's target is ranked against
    /// `negatives` items drawn uniformly (seeded) among items the user has neither interacted with
    /// in `train` nor as the target (nor, if given, in `alsoExcluded`, e.g. a validation item).
    public static func sampling(train: InteractionMatrix, targets: [Int32], negatives: Int, seed: UInt64,
                                name: String, splitDescription: String, alsoExcluded: [Int32]? = nil,
                                ks: [Int] = [10], threads: Int = Parallel.coreCount) -> SampledRankingEvaluator {
        var rng = RandomGenerator(seed: seed)
        var lists = [[Int32]](repeating: [], count: train.userCount)
        for u in 0..<train.userCount where targets[u] >= 0 {
            var chosen = Set<Int32>()
            let available = train.itemCount - train.items(of: u).count - 1 - (alsoExcluded.map { $0[u] >= 0 ? 1 : 0 } ?? 0)
            let wanted = min(negatives, max(0, available))
            while chosen.count < wanted {
                let item = Int32(rng.nextInt(below: train.itemCount))
                if item == targets[u] || train.contains(user: u, item: item) || alsoExcluded?[u] == item { continue }
                if chosen.insert(item).inserted { lists[u].append(item) }
            }
        }
        let split = NCFSplit(train: train, testItems: targets, testNegatives: lists, name: name)
        return SampledRankingEvaluator(split: split, ks: ks, threads: threads,
                                       negativeSource: "sampled uniformly among unseen items (seed \(seed))",
                                       splitDescription: splitDescription)
    }

    /// The protocol description recorded in reports.
    public var evaluationProtocol: EvaluationProtocol {
        let negatives = split.testNegatives.first { !$0.isEmpty }?.count ?? 0
        return EvaluationProtocol(
            ranking: "sampled", candidates: "held-out item + \(negatives) \(negativeSource) negatives per user",
            split: splitDescription, ks: ks,
            ties: "pessimistic: candidates scoring >= the held-out item rank above it; duplicate ids counted once")
    }

    /// Evaluates `model`; users are scored in parallel blocks (the result does not depend on the
    /// thread count).
    public func evaluate(_ model: some PairScoring, details: [String: String] = [:]) -> EvaluationReport {
        let start = Date()
        let users = split.testUsers
        let blocks = Parallel.ranges(users.count, parts: max(1, users.count / 64))
        let split = self.split, ks = self.ks
        let perBlock = Parallel.map(blocks.count) { b -> [[Double]] in
            var u: [Int32] = [], i: [Int32] = []
            for user in users[blocks[b]] {
                let candidates = [split.testItems[user]] + split.testNegatives[user]
                u += [Int32](repeating: Int32(user), count: candidates.count)
                i += candidates
            }
            let scores = model.scores(users: u, items: i)
            var rows: [[Double]] = []
            var offset = 0
            for user in users[blocks[b]] {
                let n = 1 + split.testNegatives[user].count
                let s = Array(scores[offset..<(offset + n)])
                let rank = RankingMetrics.rank(targetScore: s[0], target: split.testItems[user],
                                               candidates: Array(i[(offset + 1)..<(offset + n)]), scores: Array(s[1...]))
                rows.append(ks.flatMap { [RankingMetrics.hitRate(rank: rank, k: $0), RankingMetrics.ndcg(rank: rank, k: $0),
                                          RankingMetrics.reciprocalRank(rank: rank, k: $0)] })
                offset += n
            }
            return rows
        }
        var sums = [Double](repeating: 0, count: ks.count * 3)
        for rows in perBlock { for r in rows { for j in r.indices { sums[j] += r[j] } } }
        var metrics: [String: Double] = [:]
        let n = Double(max(users.count, 1))
        for (k, cut) in ks.enumerated() {
            metrics["HR@\(cut)"] = sums[3 * k] / n
            metrics["NDCG@\(cut)"] = sums[3 * k + 1] / n
            metrics["MRR@\(cut)"] = sums[3 * k + 2] / n
        }
        return EvaluationReport(model: model.modelName, dataset: split.name, evaluationProtocol: evaluationProtocol,
                                metrics: metrics, users: users.count, seconds: Date().timeIntervalSince(start), details: details)
    }
}
