import Foundation
import StarlingData
import StarlingEval
import StarlingModels
import StarlingTensor
import Testing

/// A recommender whose scores are a fixed matrix, for protocol tests.
final class FixedScores: Recommender, @unchecked Sendable {
    let table: [[Float]]
    let modelName = "fixed"
    init(_ table: [[Float]]) { self.table = table }
    var userCount: Int { table.count }
    var itemCount: Int { table[0].count }
    var parameters: [Parameter] { [] }
    func scoreAllItems(users: [Int32]) -> Tensor { Tensor(users.flatMap { table[Int($0)] }, shape: [users.count, itemCount]) }
    func scoreAllItems(history: [Int32], values: [Float]?) -> [Float] { table[0] }
    func foldIn(user: Int, history: [Int32], values: [Float]?) throws {}
    func similarItems(to item: Int32, count: Int) -> [TopK.Entry] { [] }
    func checkpoint() throws -> SafeTensorsFile { SafeTensorsFile() }
}

@Suite("Metric definitions on hand-computed cases")
struct MetricDefinitionTests {
    // Ranked list: relevant at positions 1 and 3 (1-based); 3 relevant items in all.
    let hits: [Bool] = [true, false, true, false, false]

    @Test func topKMetrics() {
        let h = hits[...]
        #expect(RankingMetrics.hitRate(h) == 1 && RankingMetrics.hitRate([false, false][...]) == 0)
        #expect(RankingMetrics.recall(h, relevant: 3) == 2.0 / 3)
        #expect(RankingMetrics.precision(h, k: 5) == 0.4)
        // DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3) + 1/log2(4)
        let idcg = 1 + 1 / log2(3.0) + 0.5
        #expect(abs(RankingMetrics.ndcg(h, relevant: 3, k: 5) - 1.5 / idcg) < 1e-12)
        #expect(RankingMetrics.reciprocalRank(h) == 1)
        #expect(RankingMetrics.reciprocalRank([false, false, true][...]) == 1.0 / 3)
        // AP = (1/1 + 2/3) / min(3, 5)
        #expect(abs(RankingMetrics.averagePrecision(h, relevant: 3, k: 5) - (1 + 2.0 / 3) / 3) < 1e-12)
        // With K = 2 the normaliser is min(3, 2) = 2 and only the first hit counts.
        #expect(abs(RankingMetrics.averagePrecision(hits.prefix(2), relevant: 3, k: 2) - 0.5) < 1e-12)
    }

    @Test func aucGaucAndLogLoss() {
        // Positives 0.8, 0.4; negatives 0.6, 0.4 (tie), 0.1: correct pairs 3 + 0.5 tie + 1 (0.4 > 0.1) = 4.5 of 6.
        let auc = ClassificationMetrics.auc(scores: [0.8, 0.6, 0.4, 0.4, 0.1], labels: [true, false, true, false, false])
        #expect(abs(auc! - 4.5 / 6) < 1e-12)
        #expect(ClassificationMetrics.auc(scores: [1, 2], labels: [true, true]) == nil)
        #expect(abs(ClassificationMetrics.gauc(groups: [(1.0, 1), (0.5, 3)])! - (1 + 1.5) / 4) < 1e-12)
        let ll = ClassificationMetrics.logLoss(probabilities: [0.9, 0.2, 0], labels: [true, false, false])
        #expect(abs(ll - (-log(0.9) - log(0.8) - log(1 - 1e-15)) / 3) < 1e-6)
    }

    @Test func coverageAndNovelty() {
        #expect(BeyondAccuracyMetrics.itemCoverage(recommendedItems: [1, 4, 7], itemCount: 10) == 0.3)
        // Item seen by 3 of 7 training users: −log2(4/8) = 1 bit.
        #expect(BeyondAccuracyMetrics.selfInformation(item: 0, popularity: [3], trainUsers: 7) == 1)
    }
}

@Suite("Full-ranking protocol")
struct FullRankingTests {
    // 2 users × 6 items.
    // user 0: trained on item 0; test items {2, 4}; scores rank items 0,1,2,3,4,5 as listed.
    // user 1: trained on {1, 3}; test item {5}.
    let train = InteractionMatrix(userCount: 2, itemCount: 6, pairs: [(0, 0), (1, 1), (1, 3)])
    let test = InteractionMatrix(userCount: 2, itemCount: 6, pairs: [(0, 2), (0, 4), (1, 5)])
    let model = FixedScores([
        [9, 8, 7, 6, 5, 4],     // ranking without item 0: 1, 2, 3, 4, 5 → hits at positions 2 and 4
        [1, 9, 3, 9, 2, 3],     // without 1, 3: items 2 (3), 5 (3), 4 (2), 0 (1): tie 2/5 → lower id first → 5 at position 2
    ])

    @Test func metricsMatchHandComputation() {
        let evaluator = FullRankingEvaluator(train: train, test: test, ks: [1, 2, 4], datasetName: "toy", splitDescription: "hand-made")
        let r = evaluator.evaluate(model).metrics
        // K=1: user0 top {1} miss; user1 top {2} miss.
        #expect(r["HR@1"] == 0 && r["Recall@1"] == 0)
        // K=2: user0 {1,2}: 1 hit of 2 relevant; user1 {2,5}: hit.
        #expect(r["HR@2"] == 1)
        #expect(abs(r["Recall@2"]! - (0.5 + 1) / 2) < 1e-12)
        #expect(abs(r["Precision@2"]! - (0.5 + 0.5) / 2) < 1e-12)
        let ndcg0 = (1 / log2(3.0)) / (1 + 1 / log2(3.0)), ndcg1 = 1 / log2(3.0)
        #expect(abs(r["NDCG@2"]! - (ndcg0 + ndcg1) / 2) < 1e-12)
        #expect(abs(r["MRR@2"]! - (0.5 + 0.5) / 2) < 1e-12)
        // K=4: user0 hits at 2 and 4 → recall 1, AP = (1/2 + 2/4)/2 = 0.5; user1 AP = (1/2)/1.
        #expect(abs(r["Recall@4"]! - 1) < 1e-12)
        #expect(abs(r["MAP@4"]! - (0.5 + 0.5) / 2) < 1e-12)
        // Recommended at K=1: items 1 and 2 → coverage 2/6.
        #expect(abs(r["ItemCoverage@1"]! - 2.0 / 6) < 1e-12)
        #expect(r["Novelty@4"]! > 0)
        #expect(evaluator.users == [0, 1])
    }

    @Test func gaucCountsOnlyUnseenItemsAndTies() {
        var evaluator = FullRankingEvaluator(train: train, test: test, ks: [2], datasetName: "toy", splitDescription: "hand-made")
        evaluator.computeAUC = true
        let g = evaluator.evaluate(model).metrics["GAUC"]!
        // user0: positives 2 (7), 4 (5) vs negatives 1 (8), 3 (6), 5 (4): pairs won 1+2 = 3 of 6 → 0.5
        // user1: positive 5 (3) vs negatives 0 (1), 2 (3, tie), 4 (2): 2.5 of 3
        let expected = (0.5 * 2 + (2.5 / 3) * 1) / 3
        #expect(abs(g - expected) < 1e-12)
    }

    @Test func resultsDoNotDependOnThreadsOrBlockSize() {
        var rng = RandomGenerator(seed: 3)
        let users = 50, items = 40
        let table = (0..<users).map { _ in (0..<items).map { _ in Float(rng.nextInt(below: 10)) } }  // many ties
        var trainPairs: [(user: Int32, item: Int32)] = [], testPairs: [(user: Int32, item: Int32)] = []
        for u in 0..<users {
            for i in 0..<items where rng.nextInt(below: 5) == 0 { trainPairs.append((Int32(u), Int32(i))) }
            let t = Int32(rng.nextInt(below: items))
            if !trainPairs.contains(where: { $0.user == Int32(u) && $0.item == t }) { testPairs.append((Int32(u), t)) }
        }
        let tr = InteractionMatrix(userCount: users, itemCount: items, pairs: trainPairs)
        let te = InteractionMatrix(userCount: users, itemCount: items, pairs: testPairs)
        var a = FullRankingEvaluator(train: tr, test: te, ks: [5, 10], datasetName: "r", splitDescription: "r")
        a.threads = 1; a.blockSize = 64; a.computeAUC = true
        var b = a
        b.threads = 2; b.blockSize = 7
        #expect(a.evaluate(FixedScores(table)).metrics == b.evaluate(FixedScores(table)).metrics)
    }
}

@Suite("Sampled protocol with sampled negatives")
struct SampledNegativeTests {
    @Test func negativesAreUnseenDistinctAndSeeded() {
        let train = InteractionMatrix(userCount: 3, itemCount: 30, pairs: [(0, 1), (0, 2), (1, 3), (2, 4)])
        let e = SampledRankingEvaluator.sampling(train: train, targets: [5, 6, -1], negatives: 10, seed: 9,
                                                 name: "t", splitDescription: "toy", alsoExcluded: [7, 8, -1])
        for u in 0..<2 {
            let n = e.split.testNegatives[u]
            #expect(n.count == 10 && Set(n).count == 10)
            #expect(!n.contains { train.contains(user: u, item: $0) || $0 == [5, 6][u] || $0 == [7, 8][u] })
        }
        #expect(e.split.testNegatives[2].isEmpty)
        #expect(SampledRankingEvaluator.sampling(train: train, targets: [5, 6, -1], negatives: 10, seed: 9, name: "t", splitDescription: "toy",
                                                 alsoExcluded: [7, 8, -1]).split.testNegatives == e.split.testNegatives)
        #expect(e.evaluationProtocol.candidates.contains("10 sampled uniformly"))
    }
}
