import Foundation
import StarlingData
import StarlingModels
import StarlingTensor
import Testing

@Suite("ItemKNN")
struct ItemKNNTests {
    /// Users × items:
    /// ```
    ///      i0 i1 i2 i3
    /// u0    1  1  1  .
    /// u1    1  1  .  .
    /// u2    .  1  .  1
    /// u3    .  .  1  1
    /// ```
    /// Column norms √2, √3, √2, √2; co-occurrences c01 = 2, c02 = c12 = c13 = c23 = 1, c03 = 0.
    let small = InteractionMatrix(userCount: 4, itemCount: 4, pairs: [
        (0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (2, 1), (2, 3), (3, 2), (3, 3),
    ])

    @Test func cosineWithShrinkOnAHandComputedCase() throws {
        let model = try ItemKNN.fit(small, configuration: .init(neighbours: 2, shrink: 1))
        let s01: Float = 2 / (2.449490 + 1)  // 2 / (√2·√3 + 1) = 0.579796
        let s02: Float = 1 / (2 + 1)         // 1 / (√2·√2 + 1) = 0.333333
        let s12: Float = 1 / (2.449490 + 1)  // 0.289898, as s13
        let s23: Float = 1 / (2 + 1)
        func expectNeighbours(_ item: Int32, _ expected: [(Int32, Float)]) {
            let found = model.similarItems(to: item, count: 10)
            #expect(found.map(\.index) == expected.map(\.0), "neighbours of \(item)")
            for (f, e) in zip(found, expected) { #expect(abs(f.score - e.1) < 1e-6, "sim(\(item), \(e.0)) = \(f.score), expected \(e.1)") }
        }
        expectNeighbours(0, [(1, s01), (2, s02)])   // i3 never co-occurs with i0
        expectNeighbours(1, [(0, s01), (2, s12)])   // i2 and i3 tie at s12: the lower id wins the last slot
        expectNeighbours(2, [(0, s02), (3, s23)])   // tie again; i1 (s12) is dropped
        expectNeighbours(3, [(2, s23), (1, s12)])
        #expect(model.similarItems(to: 1, count: 1).map(\.index) == [0])
        #expect(model.neighbourCount == 8)

        // u2 has i1 and i3: i1 gives i0 += s01, i2 += s12; i3 gives i2 += s23, i1 += s12.
        let scores = model.scoreAllItems(users: [2]).scalars
        for (s, e) in zip(scores, [s01, s12, s12 + s23, 0]) { #expect(abs(s - e) < 1e-6, "\(scores)") }
        #expect(model.recommend(user: 2, count: 4, excluding: model.history(of: 2)).map(\.index) == [2, 0])
        // Without shrink, more neighbours: plain cosine.
        let plain = try ItemKNN.fit(small, configuration: .init(neighbours: 10, shrink: 0))
        #expect(plain.similarItems(to: 1, count: 10).map(\.index) == [0, 2, 3])
        #expect(abs(plain.similarItems(to: 1, count: 1)[0].score - 2 / 2.449490) < 1e-6)
    }

    /// The neighbour lists equal a brute-force computation over dense columns, with and without values.
    @Test func matchesBruteForceSimilarities() throws {
        for useValues in [false, true] {
            let data = ClassicFixtures.interactions(users: 60, items: 25, values: true, seed: 5)
            let c = ItemKNN.Configuration(neighbours: 6, shrink: 3, useValues: useValues)
            let model = try ItemKNN.fit(data, configuration: c)
            var dense = [[Double]](repeating: [Double](repeating: 0, count: 25), count: 60)
            for u in 0..<60 { for (i, v) in zip(data.items(of: u), data.values(of: u)) { dense[u][Int(i)] = useValues ? Double(v) : 1 } }
            let norm = (0..<25).map { i in (0..<60).reduce(0.0) { $0 + dense[$1][i] * dense[$1][i] }.squareRoot() }
            for i in 0..<25 {
                var expected: [(item: Int, sim: Double)] = []
                for j in 0..<25 where j != i {
                    let co = (0..<60).reduce(0.0) { $0 + dense[$1][i] * dense[$1][j] }
                    if co != 0 { expected.append((j, co / (norm[i] * norm[j] + 3))) }
                }
                expected.sort { $0.sim != $1.sim ? $0.sim > $1.sim : $0.item < $1.item }
                let found = model.similarItems(to: Int32(i), count: 100)
                #expect(found.count == min(6, expected.count))
                for (f, e) in zip(found, expected) {
                    // Near-ties may swap in Float; the similarity at each rank must agree.
                    #expect(abs(Double(f.score) - e.sim) < 1e-5 * max(1, e.sim), "item \(i): \(found) vs \(expected.prefix(6))")
                }
            }
            // Scores are Σ_h r_uh · sim(h, ·) over the neighbour lists.
            for u in [0, 17, 59] {
                var expected = [Float](repeating: 0, count: 25)
                for (h, v) in zip(data.items(of: u), data.values(of: u)) {
                    for e in model.similarItems(to: h, count: 100) { expected[Int(e.index)] += (useValues ? v : 1) * e.score }
                }
                let scores = model.scoreAllItems(users: [Int32(u)]).scalars
                for (s, e) in zip(scores, expected) { #expect(abs(s - e) < 1e-5) }
            }
            // Refitting gives the same lists.
            let again = try ItemKNN.fit(data, configuration: c)
            for i in 0..<Int32(25) { #expect(again.similarItems(to: i, count: 100) == model.similarItems(to: i, count: 100)) }
        }
    }

    @Test func meetsTheRecommenderContract() throws {
        for useValues in [false, true] {
            let data = ClassicFixtures.interactions(users: 40, items: 30, values: useValues, seed: 3)
            let model = try ItemKNN.fit(data, configuration: .init(neighbours: 8, shrink: 2, useValues: useValues))
            try ClassicFixtures.checkContract(model, train: data, history: { $0.history(of: $1) }, load: { try ItemKNN.load(from: $0).model })
        }
    }

    @Test func rejectsBadConfigurationsAndCheckpoints() throws {
        #expect(throws: ModelError.self) { try ItemKNN.fit(small, configuration: .init(neighbours: 0)) }
        #expect(throws: ModelError.self) { try ItemKNN.fit(small, configuration: .init(shrink: -1)) }
        #expect(throws: ModelError.self) { try ItemKNN.fit(small, configuration: .init(shrink: .nan)) }
        // A checkpoint whose neighbour ids point outside the catalogue is refused, naming the tensor.
        let url = ClassicFixtures.checkpointURL("itemknn")
        defer { try? FileManager.default.removeItem(at: url) }
        var file = try ItemKNN.fit(small).checkpoint()
        file.integerTensors["neighbour_items"]!.values[0] = 9
        try file.write(to: url)
        #expect { try ItemKNN.load(from: url) } throws: { "\($0)".contains("neighbour_items") }
        file = try ItemKNN.fit(small).checkpoint()
        file.integerTensors["history_offsets"]!.values[2] = 0
        try file.write(to: url)
        #expect { try ItemKNN.load(from: url) } throws: { "\($0)".contains("history_offsets") }
        // Another model's checkpoint is refused, naming both.
        try Popularity.fit(small).save(to: url)
        #expect { try ItemKNN.load(from: url) } throws: { "\($0)".contains("popularity") && "\($0)".contains("itemknn") }
    }
}
