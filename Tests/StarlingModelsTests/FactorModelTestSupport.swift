import Foundation
import StarlingData
import StarlingModels
import StarlingTensor

/// Small deterministic implicit-feedback data with a low-rank structure, and full-ranking metrics
/// for the matrix-factorisation tests.
enum FactorModelTestSupport {
    /// `users × items` interactions: each user picks `perUser` items by Gumbel-top-k over
    /// `u·v / temperature` with rank-`rank` Gaussian factors; `heldOut` of them (at random) go to test.
    static func lowRank(users: Int = 300, items: Int = 200, rank: Int = 4, perUser: Int = 20, heldOut: Int = 5,
                        temperature: Float = 0.5, seed: UInt64 = 7) -> (train: InteractionMatrix, test: InteractionMatrix) {
        var rng = RandomGenerator(seed: seed)
        let u = (0..<(users * rank)).map { _ in rng.nextNormal() }
        let v = (0..<(items * rank)).map { _ in rng.nextNormal() }
        var train: [(user: Int32, item: Int32)] = [], test: [(user: Int32, item: Int32)] = []
        for a in 0..<users {
            var keyed: [(Float, Int32)] = []
            for i in 0..<items {
                var s: Float = 0
                for r in 0..<rank { s += u[a * rank + r] * v[i * rank + r] }
                let gumbel = -Float(log(-log(Double(max(rng.nextFloat(), 1e-7)))))
                keyed.append((s / temperature + gumbel, Int32(i)))
            }
            var chosen = keyed.sorted { $0.0 > $1.0 }.prefix(perUser).map(\.1)
            rng.shuffle(&chosen)
            for (k, i) in chosen.enumerated() {
                if k < heldOut { test.append((Int32(a), i)) } else { train.append((Int32(a), i)) }
            }
        }
        return (InteractionMatrix(userCount: users, itemCount: items, pairs: train),
                InteractionMatrix(userCount: users, itemCount: items, pairs: test))
    }

    /// Full-ranking Recall@K and NDCG@K (LightGCN's definitions: recall = hits / |test items|,
    /// NDCG against the ideal ranking of min(K, |test items|) hits), training items excluded,
    /// averaged over users with test items (every `userStride`-th of them).
    static func evaluate(_ scoreBatch: @Sendable ([Int32]) -> Tensor, itemCount: Int, train: InteractionMatrix,
                         test: InteractionMatrix, k: Int, userStride: Int = 1) -> (recall: Double, ndcg: Double) {
        let users = (0..<test.userCount).filter { !test.items(of: $0).isEmpty && $0 % userStride == 0 }
        let batches = Parallel.ranges(users.count, parts: max(1, users.count / 256))
        let sums = Parallel.map(batches.count) { b -> (Double, Double) in
            let batch = users[batches[b]].map { Int32($0) }
            let scores = scoreBatch(batch)
            var recall = 0.0, ndcg = 0.0
            for (row, u) in batch.enumerated() {
                let top = TopK.select(scores.readPointer + row * itemCount, count: itemCount, k: k, excluding: train.items(of: Int(u)))
                let relevant = Set(test.items(of: Int(u)))
                var dcg = 0.0, hits = 0
                for (rank, e) in top.enumerated() where relevant.contains(e.index) {
                    hits += 1
                    dcg += 1 / log2(Double(rank) + 2)
                }
                let ideal = (0..<min(k, relevant.count)).reduce(0.0) { $0 + 1 / log2(Double($1) + 2) }
                recall += Double(hits) / Double(relevant.count)
                ndcg += dcg / ideal
            }
            return (recall, ndcg)
        }
        let n = Double(max(users.count, 1))
        return (sums.reduce(0) { $0 + $1.0 } / n, sums.reduce(0) { $0 + $1.1 } / n)
    }

    static func evaluate(_ model: some Recommender, train: InteractionMatrix, test: InteractionMatrix, k: Int,
                         userStride: Int = 1) -> (recall: Double, ndcg: Double) {
        evaluate({ model.scoreAllItems(users: $0) }, itemCount: model.itemCount, train: train, test: test, k: k, userStride: userStride)
    }

    /// The same metrics for the most-popular-items ranking (training popularity).
    static func popularity(train: InteractionMatrix, test: InteractionMatrix, k: Int, userStride: Int = 1) -> (recall: Double, ndcg: Double) {
        let popularity = train.itemPopularity.map(Float.init)
        let n = train.itemCount
        return evaluate({ batch in
            var t = Tensor(shape: [batch.count, n])
            let p = t.writePointer()
            for r in 0..<batch.count { for i in 0..<n { p[r * n + i] = popularity[i] } }
            return t
        }, itemCount: n, train: train, test: test, k: k, userStride: userStride)
    }

    /// How many of `a`'s items are among `b`'s.
    static func overlap(_ a: [TopK.Entry], _ b: [TopK.Entry]) -> Int {
        Set(a.map(\.index)).intersection(b.map(\.index)).count
    }

    static func temporaryURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).safetensors")
    }
}
