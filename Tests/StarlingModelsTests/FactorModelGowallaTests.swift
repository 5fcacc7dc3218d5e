import Foundation
import StarlingData
import StarlingModels
import StarlingTensor
import Testing

/// The factor models on real data: the LightGCN Gowalla split, full ranking over all 40,981 items
/// (training items excluded), Recall@20 = hits / |test items| as in LightGCN, on every 4th test
/// user to keep the test short.
@Suite("Factor models on Gowalla")
struct FactorModelGowallaTests {
    @Test func fewIterationsBeatPopularityByFar() throws {
        let split = try AdjacencySplit.gowalla(root: try DataRoot.resolve())
        let popular = FactorModelTestSupport.popularity(train: split.train, test: split.test, k: 20, userStride: 4)
        let ials = try IALS.fit(split.train, configuration: IALS.Configuration(factors: 32, alpha: 20, iterations: 3, threads: 2))
        let ialsMetrics = FactorModelTestSupport.evaluate(ials, train: split.train, test: split.test, k: 20, userStride: 4)
        #expect(ialsMetrics.recall > 2 * popular.recall, "iALS recall@20 \(ialsMetrics.recall), popularity \(popular.recall)")
        #expect(ialsMetrics.recall > 0.10, "iALS recall@20 \(ialsMetrics.recall)")
        #expect(ialsMetrics.ndcg > 2 * popular.ndcg)
    }
}
