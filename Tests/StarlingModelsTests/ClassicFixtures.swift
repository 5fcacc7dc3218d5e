import Foundation
import StarlingData
import StarlingModels
import StarlingTensor
import Testing

/// Fixtures and checks shared by the Popularity, ItemKNN and EASE tests.
enum ClassicFixtures {
    /// A small deterministic users × items matrix: each user has 3 to 9 items, popular items more likely,
    /// with integer values 1...5 when `values`.
    static func interactions(users: Int, items: Int, values: Bool, seed: UInt64) -> InteractionMatrix {
        var rng = RandomGenerator(seed: seed)
        var entries: [(user: Int32, item: Int32, value: Float)] = []
        for u in 0..<users {
            for _ in 0..<(3 + rng.nextInt(below: 7)) {
                // The minimum of two draws favours low ids: a skewed popularity.
                let i = min(rng.nextInt(below: items), rng.nextInt(below: items))
                entries.append((Int32(u), Int32(i), values ? Float(1 + rng.nextInt(below: 5)) : 1))
            }
        }
        let m = InteractionMatrix(userCount: users, itemCount: items, entries: entries, duplicates: .max)
        return values ? m : InteractionMatrix(userCount: users, itemCount: items, rowStart: m.rowStart, itemIndices: m.itemIndices, values: nil)
    }

    /// A temporary checkpoint path.
    static func checkpointURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).safetensors")
    }

    /// What every item-based recommender promises, checked on a model fitted to `train`:
    /// recommendations skip the excluded (seen) items; a training user's own history folded in
    /// reproduces their scores exactly; a new user folds in; bad fold-ins throw and change nothing; a
    /// checkpoint round trip (fold-ins included) gives identical scores and similar items.
    static func checkContract<M: Recommender>(
        _ model: M, train: InteractionMatrix, history: (M, Int) -> ArraySlice<Int32>, load: (URL) throws -> M
    ) throws {
        let n = model.itemCount, users = train.userCount
        #expect(model.userCount == users && n == train.itemCount)

        // Recommendations exclude the user's items.
        for u in 0..<users {
            let seen = history(model, u)
            #expect(Array(seen) == Array(train.items(of: u)))
            let all = model.recommend(user: u, count: n, excluding: seen)
            #expect(all.count == n - seen.count)
            #expect(all.allSatisfy { !seen.contains($0.index) })
            #expect(zip(all, all.dropFirst()).allSatisfy { $0.score >= $1.score })
            let fromHistory = model.recommend(history: Array(seen), values: Array(train.values(of: u)), count: 5)
            #expect(fromHistory.allSatisfy { !seen.contains($0.index) })
        }

        // A training user's own history, folded in or scored directly, gives exactly their scores.
        let everyone = model.scoreAllItems(users: (0..<users).map { Int32($0) })
        for u in [0, users / 2, users - 1] {
            let before = model.scoreAllItems(users: [Int32(u)])
            #expect(before.shape == [1, n])
            // Batches may take another path (EASE's sgemm) that rounds differently.
            #expect(before.isClose(to: row(everyone, u), absolute: 1e-5, relative: 1e-5))
            let items = Array(train.items(of: u)), values = train.values == nil ? nil : Array(train.values(of: u))
            #expect(model.scoreAllItems(history: items, values: values) == before.scalars)
            try model.foldIn(user: u, history: items, values: values)
            #expect(model.scoreAllItems(users: [Int32(u)]).scalars == before.scalars)
        }

        // A new user: unsorted, with a repeated item (counted once).
        let newUser = users
        let newHistory: [Int32] = [Int32(n - 1), 0, Int32(n / 2), 0]
        let newValues: [Float] = [2, 1, 3, 1]
        try model.foldIn(user: newUser, history: newHistory, values: newValues)
        #expect(model.userCount == users + 1)
        #expect(Array(history(model, newUser)) == [0, Int32(n / 2), Int32(n - 1)])
        let newScores = model.scoreAllItems(users: [Int32(newUser)]).scalars
        #expect(newScores == model.scoreAllItems(history: newHistory, values: newValues))
        #expect(model.recommend(user: newUser, count: n, excluding: history(model, newUser)).count == n - 3)
        // Replacing a user's history changes what is excluded and scored.
        try model.foldIn(user: 0, history: [Int32(n - 1)], values: nil)
        #expect(Array(history(model, 0)) == [Int32(n - 1)])
        #expect(model.scoreAllItems(users: [0]).scalars == model.scoreAllItems(history: [Int32(n - 1)], values: nil))

        // Bad fold-ins throw and leave the model as it was.
        let bad: [(user: Int, history: [Int32], values: [Float]?)] = [
            (users + 2, [0], nil), (-1, [0], nil), (1, [Int32(n)], nil), (1, [-1], nil),
            (1, [0, 1], [1]), (1, [0], [.nan]), (1, [0], [.infinity]),
        ]
        for b in bad {
            #expect(throws: ModelError.self, "fold-in \(b) should fail") { try model.foldIn(user: b.user, history: b.history, values: b.values) }
        }
        #expect(model.userCount == users + 1)
        #expect(Array(history(model, 1)) == Array(train.items(of: 1)))

        // Checkpoint round trip, fold-ins included.
        let url = checkpointURL(model.modelName)
        defer { try? FileManager.default.removeItem(at: url) }
        try model.save(to: url)
        let loaded = try load(url)
        #expect(loaded.userCount == model.userCount && loaded.itemCount == n && loaded.modelName == model.modelName)
        let all = (0..<model.userCount).map { Int32($0) }
        #expect(loaded.scoreAllItems(users: all).isIdentical(to: model.scoreAllItems(users: all)))
        for i in 0..<Int32(n) { #expect(loaded.similarItems(to: i, count: 5) == model.similarItems(to: i, count: 5)) }
        for u in 0..<model.userCount { #expect(history(loaded, u) == history(model, u)) }
    }

    /// Row `r` of a matrix, as a `[1, columns]` tensor.
    static func row(_ matrix: Tensor, _ r: Int) -> Tensor {
        let c = matrix.shape[1]
        return Tensor(Array(matrix.scalars[(r * c)..<((r + 1) * c)]), shape: [1, c])
    }
}
