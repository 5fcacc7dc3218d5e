import Foundation
import StarlingData
import StarlingModels
import StarlingTensor

/// Full-ranking evaluation: every user with held-out items ranks **all** items except their own
/// training items; HR, Recall, Precision, NDCG, MRR and MAP at each K (see ``RankingMetrics``),
/// item coverage and novelty (``BeyondAccuracyMetrics``), and optionally GAUC over all unseen items.
///
/// Scores come in blocks of users (one BLAS product per block for factor models); top-K selection
/// uses a bounded heap, never a sort of the whole row. Blocks run on all cores and are reduced in
/// block order, so results do not depend on the thread count. Ties rank the lower item id first.
public struct FullRankingEvaluator: Sendable {
    public let train: InteractionMatrix
    public let test: InteractionMatrix
    public let ks: [Int]
    public let datasetName: String
    public let splitDescription: String
    public var threads: Int = Parallel.coreCount
    /// Users scored per block.
    public var blockSize = 256
    /// Also compute each user's AUC over all unseen items and report their GAUC (costs a pass per user).
    public var computeAUC = false

    public init(train: InteractionMatrix, test: InteractionMatrix, ks: [Int] = [10, 20], datasetName: String, splitDescription: String) {
        precondition(train.userCount == test.userCount && train.itemCount == test.itemCount,
                     "FullRankingEvaluator: train \(train.userCount)×\(train.itemCount) and test \(test.userCount)×\(test.itemCount) differ")
        precondition(!ks.isEmpty && ks.allSatisfy { $0 > 0 }, "FullRankingEvaluator: cut-offs must be positive")
        self.train = train
        self.test = test
        self.ks = ks.sorted()
        self.datasetName = datasetName
        self.splitDescription = splitDescription
    }

    /// The protocol recorded in reports.
    public var evaluationProtocol: EvaluationProtocol {
        EvaluationProtocol(ranking: "full-ranking", candidates: "all items except the user's training items",
                           split: splitDescription, ks: ks,
                           ties: "equal scores: the lower item id ranks first; NaN scores never rank")
    }

    /// The users that have held-out items.
    public var users: [Int] { (0..<test.userCount).filter { test.rowStart[$0 + 1] > test.rowStart[$0] } }

    /// Evaluates a model.
    public func evaluate(_ model: some Recommender, details: [String: String] = [:]) -> EvaluationReport {
        precondition(model.itemCount == train.itemCount && model.userCount >= train.userCount,
                     "evaluate: model knows \(model.userCount) users × \(model.itemCount) items, data has \(train.userCount) × \(train.itemCount)")
        return evaluate(modelName: model.modelName, details: details) { model.scoreAllItems(users: $0) }
    }

    /// Evaluates any scorer that returns a `[users.count, itemCount]` score block.
    public func evaluate(modelName: String, details: [String: String] = [:],
                         scoreBlock: @Sendable ([Int32]) -> Tensor) -> EvaluationReport {
        let start = Date()
        let users = self.users
        let blocks = stride(from: 0, to: users.count, by: blockSize).map { $0..<min($0 + blockSize, users.count) }
        if threads > 1 { SingleThreadedBLAS.enter() }
        defer { if threads > 1 { SingleThreadedBLAS.leave() } }
        let popularity = train.itemPopularity
        let me = self
        let parts = Parallel.mapInOrder(blocks.count, threads: threads) { b -> BlockResult in
            me.evaluateBlock(users: Array(users[blocks[b]]), popularity: popularity, scoreBlock: scoreBlock)
        }
        var total = BlockResult(kCount: ks.count)
        for p in parts { total.merge(p) }
        let n = Double(max(users.count, 1))
        // Sum per-user values in user order: the same result for any block size or thread count.
        var sums = Array(repeating: Array(repeating: 0.0, count: BlockResult.metricNames.count), count: ks.count)
        for row in total.perUser { for j in ks.indices { for m in sums[j].indices { sums[j][m] += row[j][m] } } }
        var metrics: [String: Double] = [:]
        for (j, k) in ks.enumerated() {
            for (m, name) in BlockResult.metricNames.enumerated() {
                metrics["\(name)@\(k)"] = sums[j][m] / n
            }
            metrics["ItemCoverage@\(k)"] = BeyondAccuracyMetrics.itemCoverage(recommendedItems: total.recommended[j], itemCount: train.itemCount)
        }
        if computeAUC, let g = ClassificationMetrics.gauc(groups: total.aucGroups) { metrics["GAUC"] = g }
        return EvaluationReport(model: modelName, dataset: datasetName, evaluationProtocol: evaluationProtocol,
                                metrics: metrics, users: users.count, seconds: Date().timeIntervalSince(start), details: details)
    }

    /// Per-block sums.
    struct BlockResult: Sendable {
        static let metricNames = ["HR", "Recall", "Precision", "NDCG", "MRR", "MAP", "Novelty"]
        /// Per user (in user order): per cut-off, the metric values.
        var perUser: [[[Double]]] = []
        var recommended: [Set<Int32>]
        var aucGroups: [(auc: Double, positives: Int)] = []
        let kCount: Int

        init(kCount: Int) {
            self.kCount = kCount
            recommended = Array(repeating: [], count: kCount)
        }

        mutating func merge(_ other: BlockResult) {
            perUser += other.perUser
            for j in recommended.indices { recommended[j].formUnion(other.recommended[j]) }
            aucGroups += other.aucGroups
        }
    }

    func evaluateBlock(users: [Int], popularity: [Int], scoreBlock: ([Int32]) -> Tensor) -> BlockResult {
        var result = BlockResult(kCount: ks.count)
        let n = train.itemCount
        let scores = scoreBlock(users.map(Int32.init))
        precondition(scores.shape == [users.count, n],
                     "evaluate: scorer returned \(scores.shape) for \(users.count) users × \(n) items")
        let maxK = ks.last!
        let base = scores.readPointer
        for (r, u) in users.enumerated() {
            let row = base + r * n
            let seen = train.items(of: u)
            let relevant = test.items(of: u)
            let top = TopK.select(row, count: n, k: maxK, excluding: seen)
            let hits = top.map { entry in InteractionMatrix.sortedContains(relevant, entry.index) }
            var values = Array(repeating: Array(repeating: 0.0, count: BlockResult.metricNames.count), count: ks.count)
            for (j, k) in ks.enumerated() {
                let h = hits.prefix(k)
                values[j][0] = RankingMetrics.hitRate(h)
                values[j][1] = RankingMetrics.recall(h, relevant: relevant.count)
                values[j][2] = RankingMetrics.precision(h, k: k)
                values[j][3] = RankingMetrics.ndcg(h, relevant: relevant.count, k: k)
                values[j][4] = RankingMetrics.reciprocalRank(h)
                values[j][5] = RankingMetrics.averagePrecision(h, relevant: relevant.count, k: k)
                let listed = top.prefix(k)
                if !listed.isEmpty {
                    values[j][6] = listed.reduce(0) {
                        $0 + BeyondAccuracyMetrics.selfInformation(item: $1.index, popularity: popularity, trainUsers: train.userCount)
                    } / Double(listed.count)
                }
                for e in listed { result.recommended[j].insert(e.index) }
            }
            result.perUser.append(values)
            if computeAUC, let auc = FullRankingEvaluator.userAUC(row: row, itemCount: n, seen: seen, relevant: relevant) {
                result.aucGroups.append((auc, relevant.count))
            }
        }
        return result
    }

    /// The AUC of one user's scores: held-out items against every item neither seen nor held out,
    /// ties counting one half; `nil` without negatives. O(n log |relevant|).
    static func userAUC(row: UnsafePointer<Float>, itemCount n: Int, seen: ArraySlice<Int32>, relevant: ArraySlice<Int32>) -> Double? {
        let positive = relevant.map { row[Int($0)] }.sorted()
        let p = positive.count
        guard p > 0 else { return nil }
        var wrong = 0.0   // (negative, positive) pairs ordered the wrong way, ties as 1/2
        var negatives = 0
        var s = seen.startIndex, t = relevant.startIndex
        for i in 0..<n {
            let item = Int32(i)
            while s < seen.endIndex && seen[s] < item { s += 1 }
            if s < seen.endIndex && seen[s] == item { continue }
            while t < relevant.endIndex && relevant[t] < item { t += 1 }
            if t < relevant.endIndex && relevant[t] == item { continue }
            let score = row[i]
            negatives += 1
            // positives strictly below this negative, and those tied with it
            let below = lowerBound(positive, score), belowOrEqual = upperBound(positive, score)
            wrong += Double(below) + 0.5 * Double(belowOrEqual - below)
        }
        guard negatives > 0 else { return nil }
        return 1 - wrong / (Double(p) * Double(negatives))
    }

    static func lowerBound(_ a: [Float], _ x: Float) -> Int {
        var lo = 0, hi = a.count
        while lo < hi { let m = (lo + hi) >> 1; if a[m] < x { lo = m + 1 } else { hi = m } }
        return lo
    }

    static func upperBound(_ a: [Float], _ x: Float) -> Int {
        var lo = 0, hi = a.count
        while lo < hi { let m = (lo + hi) >> 1; if a[m] <= x { lo = m + 1 } else { hi = m } }
        return lo
    }
}

extension InteractionMatrix {
    /// Whether the sorted slice contains `item` (binary search).
    @inlinable
    public static func sortedContains(_ items: ArraySlice<Int32>, _ item: Int32) -> Bool {
        var lo = items.startIndex, hi = items.endIndex
        while lo < hi {
            let mid = (lo + hi) >> 1
            if items[mid] == item { return true }
            if items[mid] < item { lo = mid + 1 } else { hi = mid }
        }
        return false
    }
}
