import Foundation
import StarlingIndex
import StarlingTensor
import Testing

extension IndexFixtures {
    /// `n` points of a `clusters`-component Gaussian mixture in `d` dimensions: centres ~ N(0, 1),
    /// points = centre + `spread`·N(0, 1), so norms and directions both vary.
    static func mixture(_ n: Int, _ d: Int, clusters: Int = 40, spread: Float = 0.5, seed: UInt64) -> [[Float]] {
        var rng = RandomGenerator(seed: seed)
        let centres = (0..<clusters).map { _ in (0..<d).map { _ in rng.nextNormal() } }
        return (0..<n).map { _ in
            let c = centres[rng.nextInt(below: clusters)]
            return c.map { $0 + spread * rng.nextNormal() }
        }
    }
}

/// One seeded 20k × 32 mixture with its exact top-10s, shared by the recall tests.
private struct RecallFixture {
    static let d = 32, k = 10
    let base: [[Float]]
    let queries: [[Float]]
    let truth: [[Int32]]

    init(metric: SimilarityMetric) throws {
        // Queries come from the same mixture (another seed for the draw).
        let all = IndexFixtures.mixture(20_200, Self.d, seed: 11)
        base = Array(all[..<20_000])
        queries = Array(all[20_000...])
        let exact = try ExactIndex(dimension: Self.d, metric: metric)
        try exact.add(ids: (0..<Int32(base.count)).map { $0 }, vectors: IndexFixtures.tensor(base))
        truth = try exact.search(batch: IndexFixtures.tensor(queries), k: Self.k, filter: nil, threads: 2).map { $0.map(\.index) }
    }

    func recall(_ index: LSHIndex, probes: Int) throws -> Double {
        var hits = 0
        for (q, t) in zip(queries, truth) {
            let found = try index.search(q, k: Self.k, filter: nil, probes: probes).map(\.index)
            hits += Set(found).intersection(t).count
        }
        return Double(hits) / Double(queries.count * Self.k)
    }

    func meanCandidates(_ index: LSHIndex, probes: Int) throws -> Double {
        var total = 0
        for q in queries { total += try index.candidateCount(for: q, probes: probes) }
        return Double(total) / Double(queries.count)
    }
}

@Suite("LSH index")
struct LSHIndexTests {
    /// Measured on this fixture (8 tables × 12 bits, seed 7): inner product recall@10 0.21 / 0.54 /
    /// 0.83 / 0.93 / 0.985 at 0 / 4 / 16 / 32 / 64 probes, scoring 160 / 580 / 1,500 / 2,360 / 3,700
    /// of the 20,000 vectors; cosine 0.69 / 0.97 / 0.9975 / 0.999 / 1.0 with about as many candidates.
    @Test(arguments: [(SimilarityMetric.innerProduct, 32, 0.85), (.cosine, 16, 0.95)])
    func recallAgainstExactGrowsWithProbes(metric: SimilarityMetric, probes: Int, minimumRecall: Double) throws {
        let fixture = try RecallFixture(metric: metric)
        let index = try LSHIndex(dimension: RecallFixture.d, metric: metric,
                                 configuration: .init(tables: 8, bitsPerTable: 12, probes: probes, seed: 7))
        try index.add(ids: (0..<Int32(fixture.base.count)).map { $0 }, vectors: IndexFixtures.tensor(fixture.base))
        #expect(index.count == 20_000)
        var recalls: [Double] = []
        for p in [0, 4, 16, 32, 64] {
            let r = try fixture.recall(index, probes: p)
            print("LSH \(metric.rawValue) tables 8 bits 12 probes \(p): recall@10 \(r), candidates \(try fixture.meanCandidates(index, probes: p))")
            recalls.append(r)
        }
        #expect(recalls == recalls.sorted())
        #expect(recalls[4] > recalls[0] + 0.25)
        // The configured probes reach the level while scoring a small part of the vectors.
        #expect(try fixture.recall(index, probes: index.configuration.probes) == fixture.recall(index, probes: probes))
        let r = try fixture.recall(index, probes: probes)
        #expect(r >= minimumRecall)
        #expect(try fixture.meanCandidates(index, probes: probes) < 0.2 * Double(fixture.base.count))
        // The default (configured) search agrees with the explicit one.
        #expect(try index.search(fixture.queries[0], k: 10) == index.search(fixture.queries[0], k: 10, filter: nil, probes: probes))
    }

    /// A small index whose every bucket is probed (2 tables × 4 bits, 15 extra probes), so results are exact.
    private static func exhaustive(_ rows: [[Float]], metric: SimilarityMetric = .innerProduct) throws -> LSHIndex {
        let index = try LSHIndex(dimension: rows[0].count, metric: metric,
                                 configuration: .init(tables: 2, bitsPerTable: 4, probes: 15, seed: 3))
        try index.add(ids: (0..<Int32(rows.count)).map { $0 }, vectors: IndexFixtures.tensor(rows))
        return index
    }

    @Test(arguments: [SimilarityMetric.innerProduct, .cosine])
    func probingEveryBucketIsExact(metric: SimilarityMetric) throws {
        let rows = IndexFixtures.vectors(1_000, 12, seed: 5)
        let index = try Self.exhaustive(rows, metric: metric)
        var base: [Int32: [Float]] = [:]
        for (r, v) in rows.enumerated() { base[Int32(r)] = v }
        for q in IndexFixtures.vectors(20, 12, seed: 6) {
            #expect(try index.search(q, k: 10).map(\.index) == IndexFixtures.bruteForce(q, base, k: 10, cosine: metric == .cosine))
            #expect(try index.candidateCount(for: q) == 1_000)
        }
        // After removals and updates the buckets still hold exactly the live vectors.
        for id in stride(from: Int32(0), to: 1_000, by: 5) {
            index.remove(id: id)
            base[id] = nil
        }
        for (id, v) in zip(stride(from: Int32(1), to: 1_000, by: 10), IndexFixtures.vectors(100, 12, seed: 8)) {
            try index.add(id: id, vector: v)
            base[id] = v
        }
        for q in IndexFixtures.vectors(20, 12, seed: 7) {
            #expect(try index.search(q, k: 10).map(\.index) == IndexFixtures.bruteForce(q, base, k: 10, cosine: metric == .cosine))
            #expect(try index.candidateCount(for: q) == 800)
        }
    }

    @Test func removedIdsAreNeverReturnedAndFiltersAreObeyed() throws {
        let rows = IndexFixtures.mixture(3_000, 16, seed: 9)
        let index = try LSHIndex(dimension: 16, configuration: .init(tables: 6, bitsPerTable: 10, probes: 16, seed: 1))
        try index.add(ids: (0..<3_000).map(Int32.init), vectors: IndexFixtures.tensor(rows))
        let queries = IndexFixtures.mixture(30, 16, seed: 10)
        var removed: Set<Int32> = []
        for q in queries {
            for e in try index.search(q, k: 5) where removed.insert(e.index).inserted { #expect(index.remove(id: e.index)) }
        }
        #expect(!index.remove(id: removed.first!))
        #expect(index.count == 3_000 - removed.count)
        for q in queries {
            let after = try index.search(q, k: 20)
            #expect(!after.isEmpty && removed.isDisjoint(with: after.map(\.index)))
        }
        let allowed: Set<Int32> = Set((0..<3_000).filter { $0 % 7 == 0 }.map(Int32.init)).subtracting(removed)
        for q in queries {
            let filtered = try index.search(q, k: 10, filter: .allowed(allowed))
            #expect(!filtered.isEmpty && filtered.allSatisfy { allowed.contains($0.index) })
            let even = try index.search(q, k: 10, filter: .predicate { $0 % 2 == 0 })
            #expect(!even.isEmpty && even.allSatisfy { $0.index % 2 == 0 && !removed.contains($0.index) })
        }
        // A search that finds nothing admissible returns nothing.
        #expect(try index.search(queries[0], k: 10, filter: .allowed([removed.first!])).isEmpty)
    }

    @Test func updateMovesTheVectorAndSaveLoadRoundTrips() throws {
        let d = 8, rows = IndexFixtures.vectors(2_000, d, seed: 1)
        let index = try LSHIndex(dimension: d, configuration: .init(tables: 4, bitsPerTable: 8, probes: 8, seed: 9))
        try index.add(ids: (0..<2_000).map(Int32.init), vectors: IndexFixtures.tensor(rows))
        let q: [Float] = [1, 0.5, -0.25, 0, 0, 0, 0, 0]
        // Moving id 42 onto the query's direction makes it the best match; its old position is gone.
        let moved = q.map { $0 * 3 }
        try index.add(id: 42, vector: moved)
        #expect(index.count == 2_000)
        let best = try index.search(q, k: 1)
        #expect(best.first?.index == 42)
        #expect(best.first?.score == zip(q, moved).reduce(0) { $0 + $1.0 * $1.1 })
        // Near its old vector, id 42 only shows up with its new vector's score.
        for e in try index.search(rows[42], k: 10) where e.index == 42 {
            #expect(e.score == zip(rows[42], moved).reduce(0) { $0 + $1.0 * $1.1 })
        }
        index.remove(id: 7)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lsh-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try index.save(to: url)
        let loaded = try LSHIndex.load(from: url)
        #expect(loaded.count == 1_999 && loaded.configuration == index.configuration && loaded.hashNorm == index.hashNorm)
        for v in IndexFixtures.vectors(50, d, seed: 2) + [q] {
            #expect(try loaded.search(v, k: 10) == index.search(v, k: 10))
            #expect(try loaded.candidateCount(for: v) == index.candidateCount(for: v))
        }
        #expect(throws: IndexError.self) { try ExactIndex.load(from: url) }
    }

    @Test func longerVectorsRaiseTheHashNormAndBadInputThrows() throws {
        let rows = IndexFixtures.vectors(500, 6, seed: 4)
        let index = try Self.exhaustive(rows)
        let first = index.hashNorm
        #expect(first > 0 && first <= Float(6).squareRoot())
        // Within 10% of the hash norm: clamped, the norm stays; beyond it: everything is re-hashed.
        try index.add(id: 900, vector: [first * 1.05, 0, 0, 0, 0, 0])
        #expect(index.hashNorm == first)
        try index.add(id: 901, vector: [0, 0, first * 2, 0, 0, 0])
        #expect(index.hashNorm == first * 2)
        #expect(try index.search([0, 0, 1, 0, 0, 0], k: 1).first?.index == 901)
        #expect(try index.search([1, 0, 0, 0, 0, 0], k: 1).first?.index == 900)
        index.remove(id: 901)
        index.rehash()
        #expect(abs(index.hashNorm - first * 1.05) < 1e-4)
        #expect(try index.search([1, 0, 0, 0, 0, 0], k: 1).first?.index == 900)

        #expect(throws: IndexError.self) { try index.add(id: 1, vector: [1, 2]) }
        #expect(throws: IndexError.self) { try index.add(id: 1, vector: [.nan, 0, 0, 0, 0, 0]) }
        #expect(throws: IndexError.self) { try index.search([1, 2, 3], k: 3) }
        #expect(throws: IndexError.self) { try index.add(ids: [1, 2], vectors: IndexFixtures.tensor([[1, 2], [3, 4]])) }
        #expect(throws: IndexError.self) { try index.search([1, 0, 0, 0, 0, 0], k: 3, filter: nil, probes: -1) }
        #expect(throws: IndexError.self) { try LSHIndex(dimension: 4, configuration: .init(bitsPerTable: 33)) }
        #expect(throws: IndexError.self) { try LSHIndex(dimension: 4, configuration: .init(tables: 0)) }
        #expect(throws: IndexError.self) { try LSHIndex(dimension: 0) }
    }

    @Test func buildsAreDeterministicForASeed() throws {
        let rows = IndexFixtures.mixture(2_000, 16, seed: 12)
        func build() throws -> LSHIndex {
            let index = try LSHIndex(dimension: 16, configuration: .init(tables: 4, bitsPerTable: 10, probes: 4, seed: 5))
            try index.add(ids: (0..<2_000).map(Int32.init), vectors: IndexFixtures.tensor(rows))
            return index
        }
        let a = try build(), b = try build()
        #expect(a.memoryBytes > 2_000 * (16 + 4) * 4)
        for q in IndexFixtures.mixture(20, 16, seed: 13) { #expect(try a.search(q, k: 10) == b.search(q, k: 10)) }
    }
}
