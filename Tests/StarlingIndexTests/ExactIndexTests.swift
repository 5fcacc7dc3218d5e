import Foundation
import StarlingIndex
import StarlingTensor
import Testing

/// Seeded random vectors shared by the index tests.
enum IndexFixtures {
    static func vectors(_ n: Int, _ d: Int, seed: UInt64) -> [[Float]] {
        var rng = RandomGenerator(seed: seed)
        return (0..<n).map { _ in (0..<d).map { _ in rng.nextFloat() * 2 - 1 } }
    }

    /// The true top-`k` ids by sorting every score (ties: lower id first).
    static func bruteForce(_ q: [Float], _ base: [Int32: [Float]], k: Int, cosine: Bool = false) -> [Int32] {
        func norm(_ v: [Float]) -> Float { max(1e-12, v.reduce(0) { $0 + $1 * $1 }.squareRoot()) }
        let scored = base.map { id, v -> (Int32, Float) in
            let dot = zip(q, v).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            return (id, cosine ? dot / norm(v) / norm(q) : dot)
        }
        return scored.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(k).map(\.0)
    }

    static func tensor(_ rows: [[Float]]) -> Tensor { try! Tensor(shape: [rows.count, rows[0].count], scalars: rows.flatMap { $0 }) }
}

@Suite("Exact index")
struct ExactIndexTests {
    @Test(arguments: [SimilarityMetric.innerProduct, .cosine])
    func matchesSortingEveryScore(metric: SimilarityMetric) throws {
        let d = 24, rows = IndexFixtures.vectors(9_000, d, seed: 3)  // more than two sgemm blocks
        let index = try ExactIndex(dimension: d, metric: metric)
        try index.add(ids: (0..<Int32(rows.count)).map { $0 * 2 + 5 }, vectors: IndexFixtures.tensor(rows))
        var base: [Int32: [Float]] = [:]
        for (r, v) in rows.enumerated() { base[Int32(r) * 2 + 5] = v }
        let queries = IndexFixtures.vectors(70, d, seed: 4)
        let batch = try index.search(batch: IndexFixtures.tensor(queries), k: 10, filter: nil, threads: 2)
        for (j, q) in queries.enumerated() {
            let truth = IndexFixtures.bruteForce(q, base, k: 10, cosine: metric == .cosine)
            #expect(batch[j].map(\.index) == truth)
            #expect(try index.search(q, k: 10).map(\.index) == truth)
        }
    }

    @Test func removedIdsAreNeverReturnedAndFiltersAreObeyed() throws {
        let d = 8, rows = IndexFixtures.vectors(500, d, seed: 9)
        let index = try ExactIndex(dimension: d)
        try index.add(ids: (0..<500).map(Int32.init), vectors: IndexFixtures.tensor(rows))
        let q = rows[17]
        let before = try index.search(q, k: 5)
        for e in before { #expect(index.remove(id: e.index)) }
        #expect(!index.remove(id: before[0].index))
        #expect(index.count == 495)
        let after = try index.search(q, k: 5)
        #expect(Set(after.map(\.index)).isDisjoint(with: before.map(\.index)))
        let allowed: Set<Int32> = [3, 77, 300, before[0].index]
        let filtered = try index.search(q, k: 10, filter: .allowed(allowed))
        #expect(Set(filtered.map(\.index)) == [3, 77, 300])
        let even = try index.search(q, k: 10, filter: .predicate { $0 % 2 == 0 })
        #expect(even.count == 10 && even.allSatisfy { $0.index % 2 == 0 })
    }

    @Test func updateReplacesTheVectorAndSaveLoadRoundTrips() throws {
        let d = 6, rows = IndexFixtures.vectors(200, d, seed: 1)
        let index = try ExactIndex(dimension: d)
        try index.add(ids: (0..<200).map(Int32.init), vectors: IndexFixtures.tensor(rows))
        let q: [Float] = [1, 0, 0, 0, 0, 0]
        try index.add(id: 42, vector: [100, 0, 0, 0, 0, 0])
        #expect(try index.search(q, k: 1).first == TopK.Entry(index: 42, score: 100))
        #expect(index.count == 200)
        index.remove(id: 7)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("exact-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try index.save(to: url)
        let loaded = try ExactIndex.load(from: url)
        #expect(loaded.count == 199)
        for v in IndexFixtures.vectors(20, d, seed: 2) { #expect(try loaded.search(v, k: 10) == index.search(v, k: 10)) }
        #expect(throws: IndexError.self) { try index.add(id: 1, vector: [1, 2]) }
        #expect(throws: IndexError.self) { try index.add(id: 1, vector: [.nan, 0, 0, 0, 0, 0]) }
    }
}
