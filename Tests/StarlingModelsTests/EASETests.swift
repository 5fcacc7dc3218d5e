import Foundation
import StarlingData
import StarlingModels
import StarlingTensor
import Testing

@Suite("EASE")
struct EASETests {
    /// `B = I − P·diagMat(1 ⊘ diag(P))` with `P = (XᵀX + λI)⁻¹`, in Double, by Gauss–Jordan elimination.
    func closedForm(_ x: [[Double]], lambda: Double) -> [[Double]] {
        let n = x[0].count
        var a = [[Double]](repeating: [Double](repeating: 0, count: 2 * n), count: n)
        for i in 0..<n {
            for j in 0..<n { a[i][j] = x.reduce(0) { $0 + $1[i] * $1[j] } }
            a[i][i] += lambda
            a[i][n + i] = 1
        }
        for c in 0..<n {
            let p = (c..<n).max { abs(a[$0][c]) < abs(a[$1][c]) }!
            a.swapAt(c, p)
            let d = a[c][c]
            for j in 0..<(2 * n) { a[c][j] /= d }
            for r in 0..<n where r != c {
                let f = a[r][c]
                for j in 0..<(2 * n) { a[r][j] -= f * a[c][j] }
            }
        }
        let inverse = a.map { Array($0[n...]) }
        return (0..<n).map { i in (0..<n).map { j in i == j ? 0 : -inverse[i][j] / inverse[j][j] } }
    }

    func dense(_ m: InteractionMatrix, values: Bool) -> [[Double]] {
        var x = [[Double]](repeating: [Double](repeating: 0, count: m.itemCount), count: m.userCount)
        for u in 0..<m.userCount { for (i, v) in zip(m.items(of: u), m.values(of: u)) { x[u][Int(i)] = values ? Double(v) : 1 } }
        return x
    }

    @Test func weightsMatchTheClosedFormOnATinyMatrix() throws {
        // 5 users × 4 items.
        let train = InteractionMatrix(userCount: 5, itemCount: 4, entries: [
            (0, 0, 1), (0, 1, 2), (1, 1, 1), (1, 2, 3), (2, 0, 1), (2, 2, 1), (2, 3, 2), (3, 3, 1), (4, 0, 4), (4, 1, 1),
        ])
        for useValues in [false, true] {
            let model = try EASE.fit(train, configuration: .init(lambda: 2, useValues: useValues))
            let x = dense(train, values: useValues)
            let b = closedForm(x, lambda: 2)
            #expect(model.weights.shape == [4, 4])
            for i in 0..<4 {
                #expect(model.weights[i, i] == 0)
                for j in 0..<4 { #expect(abs(Double(model.weights[i, j]) - b[i][j]) < 1e-5, "B[\(i), \(j)] = \(model.weights[i, j]), expected \(b[i][j])") }
            }
            // Scores are x_u · B.
            let scores = model.scoreAllItems(users: [0, 1, 2, 3, 4])
            for u in 0..<5 {
                for j in 0..<4 {
                    let expected = (0..<4).reduce(0.0) { $0 + x[u][$1] * b[$1][j] }
                    #expect(abs(Double(scores[u, j]) - expected) < 1e-5)
                }
            }
            #expect(model.scores(users: [2, 2, 4], items: [1, 3, 2]) == [scores[2, 1], scores[2, 3], scores[4, 2]])
            // Similar items: the largest entries of the item's row of B.
            let row = (0..<4).filter { $0 != 1 }.sorted { b[1][$0] > b[1][$1] }
            #expect(model.similarItems(to: 1, count: 3).map { Int($0.index) } == row)
            #expect(model.similarItems(to: 1, count: 3).map(\.score) == row.map { model.weights[1, $0] })
        }
    }

    /// Blocks of dense histories go through sgemm; the result agrees with the per-user sums.
    @Test func batchedScoresAgreeWithSingleUsers() throws {
        let data = ClassicFixtures.interactions(users: 48, items: 12, values: false, seed: 21)
        let model = try EASE.fit(data, configuration: .init(lambda: 5))
        let users = (0..<48).map { Int32($0) }
        let batch = model.scoreAllItems(users: users)
        for u in users {
            let single = model.scoreAllItems(users: [u])
            #expect(single.isClose(to: ClassicFixtures.row(batch, Int(u)), absolute: 1e-6, relative: 1e-5))
        }
        let x = dense(data, values: false), b = closedForm(x, lambda: 5)
        for u in 0..<48 { for j in 0..<12 {
            #expect(abs(Double(batch[u, j]) - (0..<12).reduce(0.0) { $0 + x[u][$1] * b[$1][j] }) < 1e-5)
        } }
    }

    @Test func meetsTheRecommenderContract() throws {
        for useValues in [false, true] {
            let data = ClassicFixtures.interactions(users: 40, items: 30, values: useValues, seed: 8)
            let model = try EASE.fit(data, configuration: .init(lambda: 10, useValues: useValues))
            try ClassicFixtures.checkContract(model, train: data, history: { $0.history(of: $1) }, load: { try EASE.load(from: $0).model })
        }
    }

    @Test func refusesCataloguesAboveTheMaximum() throws {
        let data = ClassicFixtures.interactions(users: 10, items: 30, values: false, seed: 1)
        #expect { try EASE.fit(data, configuration: .init(maximumItems: 29)) } throws: { error in
            let message = "\(error)"
            return message.contains("30 items") && message.contains("maximumItems (29)") && message.contains("GB")
        }
        #expect(try EASE.fit(data, configuration: .init(maximumItems: 30)).itemCount == 30)
        // The default limit: refused before anything is allocated, naming the memory needed.
        let huge = InteractionMatrix(userCount: 2, itemCount: 20_001, pairs: [(0, 0), (1, 20_000)])
        #expect { try EASE.fit(huge) } throws: { "\($0)".contains("20001 items") && "\($0)".contains("1.6 GB") }
        #expect(throws: ModelError.self) { try EASE.fit(data, configuration: .init(lambda: 0)) }
        #expect(throws: ModelError.self) { try EASE.fit(data, configuration: .init(lambda: -.infinity)) }
    }

    @Test func checkpointsAreChecked() throws {
        let url = ClassicFixtures.checkpointURL("ease")
        defer { try? FileManager.default.removeItem(at: url) }
        let data = ClassicFixtures.interactions(users: 10, items: 6, values: false, seed: 2)
        var file = try EASE.fit(data).checkpoint()
        file.tensors["weights"] = Tensor(shape: [6, 5])
        try file.write(to: url)
        #expect { try EASE.load(from: url) } throws: { "\($0)".contains("weights") && "\($0)".contains("square") }
        try ItemKNN.fit(data).save(to: url)
        #expect { try EASE.load(from: url) } throws: { "\($0)".contains("itemknn") && "\($0)".contains("expected ease") }
    }
}
