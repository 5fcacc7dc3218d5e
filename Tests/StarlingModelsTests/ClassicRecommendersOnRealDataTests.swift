import Foundation
import StarlingData
import StarlingModels
import StarlingTensor
import Testing

/// Popularity, ItemKNN and EASE on the real splits.
@Suite("Classic recommenders on real data", .serialized)
struct ClassicRecommendersOnRealDataTests {
    /// HR@10 and NDCG@10 under the NCF sampled protocol: each test user's held-out item ranked
    /// among their given negatives (pessimistic ties: a negative scoring ≥ the item ranks above it).
    static func sampledMetrics(_ model: some Recommender, _ split: NCFSplit, k: Int = 10) -> (hr: Double, ndcg: Double) {
        let users = split.testUsers, n = model.itemCount
        var hits = 0.0, ndcg = 0.0
        for start in stride(from: 0, to: users.count, by: 512) {
            let batch = Array(users[start..<min(start + 512, users.count)])
            let scores = model.scoreAllItems(users: batch.map { Int32($0) })
            for (r, u) in batch.enumerated() {
                let row = scores.readPointer + r * n
                let target = split.testItems[u]
                let rank = Set(split.testNegatives[u]).filter { $0 != target && row[Int($0)] >= row[Int(target)] }.count
                if rank < k { hits += 1; ndcg += 1 / log2(Double(rank) + 2) }
            }
        }
        return (hits / Double(users.count), ndcg / Double(users.count))
    }

    static func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let start = Date()
        let result = try body()
        return (result, Date().timeIntervalSince(start))
    }

    @Test func itemKNNAndEASEBeatPopularityOnMovieLens() throws {
        let split = try NCFSplit.load(directory: try DataRoot.dataset("ncf-ml-1m", in: try DataRoot.resolve()))
        let (popularity, tp) = Self.timed { Popularity.fit(split.train) }
        let (knn, tk) = try Self.timed { try ItemKNN.fit(split.train) }
        let (ease, te) = try Self.timed { try EASE.fit(split.train) }
        let p = Self.sampledMetrics(popularity, split), k = Self.sampledMetrics(knn, split), e = Self.sampledMetrics(ease, split)
        print(String(format: "ncf-ml-1m sampled HR@10 / NDCG@10: Popularity %.4f / %.4f (fit %.2f s), ItemKNN(100, 10) %.4f / %.4f (fit %.2f s), EASE(λ 500) %.4f / %.4f (fit %.2f s)",
                     p.hr, p.ndcg, tp, k.hr, k.ndcg, tk, e.hr, e.ndcg, te))
        #expect(p.hr > 0.4 && p.hr < 0.5)
        #expect(k.hr > p.hr + 0.1, "ItemKNN \(k) vs Popularity \(p)")
        #expect(e.hr > p.hr + 0.15, "EASE \(e) vs Popularity \(p)")
    }

    @Test func itemKNNFitsGowalla() throws {
        let split = try AdjacencySplit.gowalla(root: try DataRoot.resolve())
        var messages: [String] = []
        let (model, seconds) = try Self.timed { try ItemKNN.fit(split.train) { if case let .message(m) = $0 { messages.append(m) } } }
        print(String(format: "lightgcn-gowalla ItemKNN(100, 10) fit: %.2f s; ", seconds) + messages.joined(separator: "; "))
        #expect(model.itemCount == 40_981 && model.userCount == 29_858)
        #expect(model.neighbourCount > 40_981 * 50 && model.neighbourCount <= 40_981 * 100)
        #expect(seconds < 60)
        // An item's neighbours co-occur with it in someone's history.
        let item = split.train.items(of: 0).first!
        let neighbour = try #require(model.similarItems(to: item, count: 1).first)
        #expect((0..<split.train.userCount).contains { split.train.contains(user: $0, item: item) && split.train.contains(user: $0, item: neighbour.index) })
    }
}
