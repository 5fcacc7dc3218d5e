import Foundation
import StarlingData
import StarlingTensor
import Testing

@Suite("Alias table, popularity and in-batch negatives")
struct SamplerTests {
    @Test func aliasTableMatchesItsDistribution() {
        let weights: [Double] = [1, 2, 3, 4, 0, 10, 0.5]
        let table = AliasTable(weights: weights)
        let total = weights.reduce(0, +)
        #expect(table.count == 7 && abs(table.probability(of: 5) - 10 / total) < 1e-15)
        var rng = RandomGenerator(seed: 5)
        var counts = [Int](repeating: 0, count: weights.count)
        let n = 200_000
        for _ in 0..<n { counts[table.sample(using: &rng)] += 1 }
        #expect(counts[4] == 0)
        for i in weights.indices {
            let p = weights[i] / total
            let sigma = (p * (1 - p) / Double(n)).squareRoot()
            #expect(abs(Double(counts[i]) / Double(n) - p) <= 5 * sigma + 1e-9, "outcome \(i): \(counts[i]) of \(n), expected p = \(p)")
        }
        // One outcome, and many equal ones.
        var one = RandomGenerator(seed: 1)
        #expect(AliasTable(weights: [3]).sample(using: &one) == 0)
        let flat = AliasTable(weights: Array(repeating: 1, count: 1000))
        #expect(flat.probabilities.allSatisfy { abs($0 - 0.001) < 1e-15 })
    }

    /// 6 items whose popularity (users per item) is 1, 2, 3, 4, 5, 0.
    static func popularityMatrix() -> InteractionMatrix {
        var pairs: [(user: Int32, item: Int32)] = []
        for item in 0..<5 { for u in 0...item { pairs.append((Int32(u), Int32(item))) } }
        return InteractionMatrix(userCount: 6, itemCount: 6, pairs: pairs)
    }

    @Test func popularityToTheAlphaExcludingPositives() {
        let matrix = Self.popularityMatrix()
        #expect(matrix.itemPopularity == [1, 2, 3, 4, 5, 0])
        let sampler = PopularityNegativeSampler(interactions: matrix, alpha: 0.5)
        let weights = [1.0, 2, 3, 4, 5, 0].map { $0.squareRoot() }
        let total = weights.reduce(0, +)
        for i in 0..<6 { #expect(abs(sampler.probability(of: Int32(i)) - weights[i] / total) < 1e-12) }
        #expect(sampler.logProbability(of: 3) == Float(log(2.0 / total)) && sampler.logProbability(of: 5) == -.infinity)
        // User 3 has items 3 and 4; negatives come from 0, 1, 2 in proportion 1 : √2 : √3.
        let user = 3
        #expect(Array(matrix.items(of: user)) == [3, 4])
        var conditional = 0.0
        for i in 0..<6 { conditional += sampler.probability(of: Int32(i), forUser: user) }
        #expect(abs(conditional - 1) < 1e-12)
        var rng = RandomGenerator(seed: 9)
        var counts = [Int](repeating: 0, count: 6)
        let n = 100_000
        for _ in 0..<n { counts[Int(sampler.sample(for: user, using: &rng))] += 1 }
        #expect(counts[3] == 0 && counts[4] == 0 && counts[5] == 0)
        for i in 0..<3 {
            let p = sampler.probability(of: Int32(i), forUser: user)
            #expect(abs(Double(counts[i]) / Double(n) - p) < 0.01, "item \(i): \(counts[i]) of \(n), expected \(p)")
        }
        // alpha = 0 is uniform over items with a count; a pseudo-count reaches unseen items.
        let uniform = PopularityNegativeSampler(interactions: matrix, alpha: 0)
        #expect(abs(uniform.probability(of: 0) - 0.2) < 1e-12 && uniform.probability(of: 5) == 0)
        let smoothed = PopularityNegativeSampler(interactions: matrix, alpha: 1, pseudoCount: 1)
        #expect(abs(smoothed.probability(of: 5) - 1.0 / 21) < 1e-12)
        var again = RandomGenerator(seed: 9)
        #expect(sampler.sample(for: user, count: 50, using: &again) == {
            var r = RandomGenerator(seed: 9)
            return (0..<50).map { _ in sampler.sample(for: user, using: &r) }
        }())
    }

    @Test func inBatchNegativesAreTheOtherItemsWithLogQ() {
        let matrix = Self.popularityMatrix()
        let inBatch = InBatchNegatives(interactions: matrix)
        #expect(abs(inBatch.probabilities[4] - 5.0 / 15) < 1e-12 && inBatch.logQ[4] == Float(log(5.0 / 15)))
        #expect(inBatch.logQ[5] == -.infinity)
        // User u has items u…4. Rows: (user 0, item 0), (4, 4), (1, 1), (2, 4).
        let batch = inBatch.batch(users: [0, 4, 1, 2], items: [0, 4, 1, 4])
        #expect(batch.logQ == [0, 4, 1, 4].map { inBatch.logQ[$0] })
        #expect(batch.negatives(ofRow: 0) == [])      // user 0 has every item of the batch
        #expect(batch.negatives(ofRow: 1) == [0, 1])  // not row 3's item 4: the same item
        #expect(batch.negatives(ofRow: 2) == [0])     // item 4 is another positive of user 1
        #expect(batch.negatives(ofRow: 3) == [0, 1])
        #expect(batch.negativeMask.count == 16 && !batch.negativeMask[5])
        let loose = inBatch.batch(users: [0, 4, 1, 2], items: [0, 4, 1, 4], excludingUserPositives: false)
        #expect(loose.negatives(ofRow: 0) == [4, 1, 4] && loose.negatives(ofRow: 1) == [0, 1])

        // Items appear in uniformly drawn batches with probability q(i): what log-q corrects.
        var rng = RandomGenerator(seed: 3)
        var counts = [Int](repeating: 0, count: 6)
        var draws = 0
        var allPositives = true
        for _ in 0..<5_000 {
            let b = inBatch.sampleBatch(size: 16, using: &rng)
            for (u, i) in zip(b.users, b.items) {
                allPositives = allPositives && matrix.contains(user: Int(u), item: i)
                counts[Int(i)] += 1
            }
            draws += b.count
        }
        #expect(allPositives && draws == 80_000)
        for i in 0..<6 {
            #expect(abs(Double(counts[i]) / Double(draws) - inBatch.probabilities[i]) < 0.01,
                    "item \(i): \(counts[i]) of \(draws), expected q = \(inBatch.probabilities[i])")
        }
    }
}
