import StarlingData
import StarlingTensor
import Testing

@Suite("Interactions, negative sampling and pointwise epochs")
struct InteractionTests {
    let matrix = InteractionMatrix(userCount: 3, itemCount: 6, pairs: [(0, 4), (0, 1), (0, 4), (2, 5), (2, 0), (1, 3)])

    @Test func rowsAreSortedAndDeduplicated() {
        #expect(matrix.count == 5)
        #expect(Array(matrix.items(of: 0)) == [1, 4])
        #expect(Array(matrix.items(of: 2)) == [0, 5])
        #expect(matrix.contains(user: 1, item: 3) && !matrix.contains(user: 1, item: 4))
        #expect(matrix.itemPopularity == [1, 1, 0, 1, 1, 1])
    }

    @Test func negativesAreNeverPositivesAndCoverTheRest() {
        let sampler = UniformNegativeSampler(interactions: matrix)
        var rng = RandomGenerator(seed: 1)
        var counts = [Int](repeating: 0, count: 6)
        for _ in 0..<8000 { counts[Int(sampler.sample(for: 0, using: &rng))] += 1 }
        #expect(counts[1] == 0 && counts[4] == 0)
        for i in [0, 2, 3, 5] { #expect(abs(counts[i] - 2000) < 200, "item \(i) drawn \(counts[i]) times") }
    }

    @Test func pointwiseEpochHasEveryPositiveAndFourNegativesEach() {
        var rng = RandomGenerator(seed: 2)
        let epoch = PointwiseSamples(interactions: matrix, negativesPerPositive: 4, using: &rng)
        #expect(epoch.count == 25)
        var positives: [String] = []
        for k in 0..<epoch.count {
            let contains = matrix.contains(user: Int(epoch.users[k]), item: epoch.items[k])
            #expect(contains == (epoch.labels[k] == 1))
            if epoch.labels[k] == 1 { positives.append("\(epoch.users[k]):\(epoch.items[k])") }
        }
        #expect(positives.sorted() == ["0:1", "0:4", "1:3", "2:0", "2:5"])
        var again = RandomGenerator(seed: 2)
        let same = PointwiseSamples(interactions: matrix, negativesPerPositive: 4, using: &again)
        #expect(same.items == epoch.items && same.users == epoch.users)
    }
}

@Suite("Interaction values and transpose")
struct InteractionValueTests {
    @Test func duplicatesMergeByPolicyAndTransposeKeepsValues() {
        let entries: [(user: Int32, item: Int32, value: Float)] = [(0, 2, 1), (0, 2, 3), (1, 0, 5), (0, 1, 2), (1, 0, 4)]
        let sum = InteractionMatrix(userCount: 2, itemCount: 3, entries: entries, duplicates: .sum)
        #expect(Array(sum.items(of: 0)) == [1, 2] && Array(sum.values(of: 0)) == [2, 4])
        #expect(sum.value(user: 1, item: 0) == 9 && sum.value(user: 1, item: 2) == 0)
        let last = InteractionMatrix(userCount: 2, itemCount: 3, entries: entries, duplicates: .last)
        #expect(Array(last.values(of: 0)) == [2, 3] && Array(last.values(of: 1)) == [4])
        let maximum = InteractionMatrix(userCount: 2, itemCount: 3, entries: entries, duplicates: .max)
        #expect(Array(maximum.values(of: 1)) == [5])
        let t = sum.transposed()
        #expect(t.userCount == 3 && t.itemCount == 2 && t.count == 3)
        #expect(Array(t.items(of: 0)) == [1] && Array(t.values(of: 0)) == [9])
        #expect(Array(t.items(of: 2)) == [0] && Array(t.values(of: 2)) == [4])
        #expect(t.transposed().itemIndices == sum.itemIndices && t.transposed().values == sum.values)
        #expect(Array(sum.mappingValues { 1 + 10 * $0 }.values(of: 0)) == [21, 41])
    }
}
