import Foundation
import StarlingData
import StarlingIndex
import StarlingModels
import StarlingTensor
import Testing

@Suite("HNSW index")
struct HNSWIndexTests {
    /// 20,000 clustered vectors (overlapping Gaussian mixture), 200 fresh queries.
    static let d = 32
    static let base: [[Float]] = mixture(20_000, seed: 1)
    static let queries: [[Float]] = mixture(200, seed: 2)

    static func mixture(_ n: Int, seed: UInt64) -> [[Float]] {
        var centresRNG = RandomGenerator(seed: 99)
        let centres = (0..<50).map { _ in (0..<d).map { _ in centresRNG.nextNormal() } }
        var rng = RandomGenerator(seed: seed)
        return (0..<n).map { _ in
            let c = centres[rng.nextInt(below: centres.count)]
            return c.map { $0 + 0.8 * rng.nextNormal() }
        }
    }

    static func exactIndex(_ rows: [[Float]], metric: SimilarityMetric = .innerProduct) throws -> ExactIndex {
        let index = try ExactIndex(dimension: d, metric: metric)
        try index.add(ids: (0..<Int32(rows.count)).map { $0 }, vectors: IndexFixtures.tensor(rows))
        return index
    }

    static func recall(_ found: [[TopK.Entry]], _ truth: [[TopK.Entry]]) -> Double {
        var hits = 0
        for (f, t) in zip(found, truth) { hits += Set(f.map(\.index)).intersection(t.map(\.index)).count }
        return Double(hits) / Double(truth.count * 10)
    }

    @Test(arguments: [false, true])
    func recallAgainstExactSearchGrowsWithEf(quantized: Bool) throws {
        let index = try HNSWIndex(dimension: Self.d, configuration: .init(m: 12, efConstruction: 100, quantized: quantized))
        try index.add(ids: (0..<Int32(Self.base.count)).map { $0 }, vectors: IndexFixtures.tensor(Self.base), threads: 2)
        #expect(index.count == Self.base.count)
        let q = IndexFixtures.tensor(Self.queries)
        let truth = try Self.exactIndex(Self.base).search(batch: q, k: 10, filter: nil, threads: 2)
        let low = Self.recall(try index.search(batch: q, k: 10, ef: 10, threads: 2), truth)
        let high = Self.recall(try index.search(batch: q, k: 10, ef: 128, threads: 2), truth)
        #expect(high >= 0.97, "recall@10 at ef 128: \(high)")
        #expect(high > low, "ef 10: \(low), ef 128: \(high)")
        if !quantized {
            // Scores are exact inner products, best first.
            let r = try index.search(Self.queries[0], k: 5, ef: 64)
            let dot = zip(Self.queries[0], Self.base[Int(r[0].index)]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            #expect(abs(r[0].score - dot) < 1e-3)
            #expect(zip(r, r.dropFirst()).allSatisfy { $0.score >= $1.score })
        }
    }

    @Test func quantisedStorageIsUnderAThirdOfFloatAndRerankingUsesTheSource() throws {
        let rows = Array(Self.base.prefix(3_000)), d = Self.d
        let floats = rows.flatMap { $0 }
        let index = try HNSWIndex(dimension: d, configuration: .init(m: 12, efConstruction: 80, quantized: true), keepFloats: false)
        #expect(throws: IndexError.self) { try index.search(rows[0], k: 3) }  // no source yet
        index.rerankSource = { id, out in
            floats.withUnsafeBufferPointer { out.update(from: $0.baseAddress! + Int(id) * d, count: d) }
            return true
        }
        try index.add(ids: (0..<Int32(rows.count)).map { $0 }, vectors: IndexFixtures.tensor(rows), threads: 1)
        #expect(index.vectorBytes * 3 <= rows.count * d * 4 + 3 * 4096 * 36)  // capacity rounding aside
        let exact = try Self.exactIndex(rows)
        for q in Self.queries.prefix(20) {
            let found = try index.search(q, k: 5, ef: 200), truth = try exact.search(q, k: 5)
            #expect(found.first?.index == truth.first?.index)
            #expect(abs((found.first?.score ?? 0) - (truth.first?.score ?? 1)) < 1e-4)  // exact re-ranked score
        }
    }

    @Test func incrementalInsertsAreFoundAndDeletesNeverReturned() throws {
        let index = try HNSWIndex(dimension: Self.d, configuration: .init(m: 8, efConstruction: 64))
        for (i, v) in Self.base.prefix(2_000).enumerated() { try index.add(id: Int32(i), vector: v) }
        // A new far-away vector is the best match for its own direction right away.
        var spike = [Float](repeating: 0, count: Self.d)
        spike[3] = 1_000
        try index.add(id: 50_000, vector: spike)
        #expect(try index.search(spike, k: 1, ef: 32).first?.index == 50_000)
        // Deleting the top results: none of them comes back, and the rest still do.
        let q = Self.queries[5]
        let top = try index.search(q, k: 20, ef: 100)
        for e in top.prefix(10) { #expect(index.remove(id: e.index)) }
        let after = try index.search(q, k: 10, ef: 100)
        #expect(Set(after.map(\.index)).isDisjoint(with: top.prefix(10).map(\.index)))
        #expect(after.count == 10)
        // Updating moves the vector: id 7 becomes the spike's twin.
        try index.add(id: 7, vector: spike)
        let twins = try index.search(spike, k: 2, ef: 32).map(\.index)
        #expect(Set(twins) == [7, 50_000])
        #expect(index.count == 2_001 - 10)
    }

    @Test func filteredSearchOnlyReturnsAllowedIds() throws {
        let rows = Array(Self.base.prefix(5_000))
        let index = try HNSWIndex(dimension: Self.d, configuration: .init(m: 8, efConstruction: 64))
        try index.add(ids: (0..<5_000).map { $0 }, vectors: IndexFixtures.tensor(rows), threads: 2)
        let exact = try Self.exactIndex(rows)
        let small = Set((0..<5_000).filter { $0 % 7 == 0 }.map(Int32.init))   // scored directly
        let large = Set((0..<5_000).filter { $0 % 2 == 0 }.map(Int32.init))   // walked in the graph
        var hits = 0
        for q in Self.queries.prefix(10) {
            let r = try index.search(q, k: 10, ef: 200, filter: .allowed(small))
            let truth = try exact.search(q, k: 10, filter: .allowed(small))
            #expect(r.map(\.index) == truth.map(\.index))  // exact for small sets
            #expect(zip(r, truth).allSatisfy { abs($0.score - $1.score) < 1e-3 })
            let g = try index.search(q, k: 10, ef: 200, filter: .allowed(large))
            #expect(g.count == 10 && g.allSatisfy { large.contains($0.index) })
            hits += Set(g.map(\.index)).intersection(try exact.search(q, k: 10, filter: .allowed(large)).map(\.index)).count
            let p = try index.search(q, k: 10, ef: 200, filter: .predicate { $0 >= 4_990 })
            #expect(p.allSatisfy { $0.index >= 4_990 })
        }
        #expect(hits >= 95, "filtered graph recall \(hits)/100")
    }

    @Test(arguments: [false, true])
    func saveLoadRoundTripsAndCosineWorks(quantized: Bool) throws {
        let index = try HNSWIndex(dimension: Self.d, metric: .cosine, configuration: .init(m: 8, efConstruction: 64, quantized: quantized))
        try index.add(ids: (0..<3_000).map { $0 * 3 }, vectors: IndexFixtures.tensor(Array(Self.base.prefix(3_000))), threads: 2)
        index.remove(id: 30)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hnsw-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try index.save(to: url)
        let loaded = try HNSWIndex.load(from: url)
        #expect(loaded.count == index.count && loaded.metric == .cosine)
        for q in Self.queries.prefix(20) {
            let a = try index.search(q, k: 10, ef: 50), b = try loaded.search(q, k: 10, ef: 50)
            #expect(a == b)
            #expect(!a.contains { $0.index == 30 })
            #expect(a.allSatisfy { $0.score <= 1.0001 })  // cosine
        }
        #expect(throws: (any Error).self) { try ExactIndex.load(from: url) }
    }

    @Test func concurrentSearchesWhileWritingAreSafe() throws {
        let index = try HNSWIndex(dimension: Self.d, configuration: .init(m: 8, efConstruction: 32))
        try index.add(ids: (0..<2_000).map { $0 }, vectors: IndexFixtures.tensor(Array(Self.base.prefix(2_000))), threads: 1)
        let rows = Self.base, queries = Self.queries
        let removed = Set((0..<2_000).filter { $0 % 5 == 0 }.map(Int32.init))
        // One thread inserts 2,000 more and removes every fifth old id while another searches.
        let failures = Parallel.map(2) { worker -> Int in
            var bad = 0
            if worker == 0 {
                for i in 2_000..<4_000 { try? index.add(id: Int32(i), vector: rows[i]) }
                for id in removed { index.remove(id: id) }
            } else {
                for round in 0..<300 {
                    let r = (try? index.search(queries[round % queries.count], k: 10, ef: 40)) ?? []
                    if r.count != 10 || Set(r.map(\.index)).count != 10 { bad += 1 }
                }
            }
            return bad
        }
        #expect(failures == [0, 0])
        #expect(index.count == 4_000 - removed.count)
        for q in queries.prefix(20) { #expect(try index.search(q, k: 10, ef: 64).allSatisfy { !removed.contains($0.index) }) }
    }

    /// Real iALS item factors (Gowalla): a few long item vectors attract every inner-product link;
    /// building on norm-equalised augmented vectors (the default) finds far more true neighbours.
    @Test func normAugmentationLiftsRecallOnRealIALSFactors() throws {
        let split = try AdjacencySplit.gowalla(root: try DataRoot.resolve())
        let model = try IALS.fit(split.train, configuration: .init(factors: 32, alpha: 39, iterations: 6))
        let items = model.itemFactors, users = model.userFactors
        let q = try Tensor(shape: [300, 32], scalars: Array(users.scalars.prefix(300 * 32)))
        let exact = try ExactIndex(dimension: 32)
        try exact.add(ids: (0..<Int32(items.shape[0])).map { $0 }, vectors: items)
        let truth = try exact.search(batch: q, k: 10, filter: nil, threads: 2)
        var recalls: [Double] = []
        for augmented in [false, true] {
            let index = try HNSWIndex(dimension: 32, configuration: .init(m: 12, efConstruction: 100, normAugmentation: augmented))
            try index.add(ids: (0..<Int32(items.shape[0])).map { $0 }, vectors: items, threads: 2)
            recalls.append(Self.recall(try index.search(batch: q, k: 10, ef: 200, threads: 2), truth))
        }
        #expect(recalls[1] > recalls[0] + 0.1, "without, with augmentation: \(recalls)")
    }

    @Test func badInputIsRejected() throws {
        #expect(throws: IndexError.self) { try HNSWIndex(dimension: 0) }
        #expect(throws: IndexError.self) { try HNSWIndex(dimension: 4, configuration: .init(m: 1)) }
        let index = try HNSWIndex(dimension: 4)
        #expect(throws: IndexError.self) { try index.add(id: 1, vector: [1, 2, 3]) }
        #expect(throws: IndexError.self) { try index.search([1, 2], k: 3) }
        #expect(try index.search([1, 2, 3, 4], k: 3).isEmpty)
    }
}
