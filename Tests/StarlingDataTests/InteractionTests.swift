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
