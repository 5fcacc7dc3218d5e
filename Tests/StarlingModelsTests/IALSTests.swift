import Foundation
import StarlingData
import StarlingModels
import StarlingTensor
import Testing

@Suite("iALS")
struct IALSTests {
    typealias Support = FactorModelTestSupport

    static let data = Support.lowRank()

    static func configuration(threads: Int = 2, iterations: Int = 10) -> IALS.Configuration {
        IALS.Configuration(factors: 8, regularization: 0.1, alpha: 10, iterations: iterations, seed: 3, threads: threads)
    }

    /// One fitted model shared by the read-only tests.
    static let fitted: IALS = try! IALS.fit(data.train, configuration: configuration())

    @Test func ranksHeldOutItemsFarAboveChanceAndPopularity() throws {
        let (train, test) = Self.data
        var events: [FitEvent] = []
        let model = try IALS.fit(train, configuration: Self.configuration()) { events.append($0) }
        #expect(events.count == 10)
        let metrics = Support.evaluate(model, train: train, test: test, k: 10)
        let popular = Support.popularity(train: train, test: test, k: 10)
        // Chance: 10 of the ~185 unseen items.
        let chance = 10.0 / Double(train.itemCount - 15)
        #expect(metrics.recall > 5 * chance, "recall@10 \(metrics.recall), chance \(chance)")
        #expect(metrics.recall > 1.5 * popular.recall, "recall@10 \(metrics.recall), popularity \(popular.recall)")
    }

    @Test func trainingLossDecreases() throws {
        var c = Self.configuration(iterations: 6)
        c.calculateTrainingLoss = true
        var losses: [Double] = []
        _ = try IALS.fit(Self.data.train, configuration: c) { event in
            if case let .iteration(_, _, loss, _) = event, let loss { losses.append(loss) }
        }
        #expect(losses.count == 6)
        for (a, b) in zip(losses, losses.dropFirst()) { #expect(b <= a * 1.0001, "\(losses)") }
        #expect(losses.last! < losses.first!)
    }

    @Test func resultsAreDeterministicForAThreadCount() throws {
        let a = try IALS.fit(Self.data.train, configuration: Self.configuration(threads: 2, iterations: 3))
        let b = try IALS.fit(Self.data.train, configuration: Self.configuration(threads: 2, iterations: 3))
        #expect(a.userFactors.isIdentical(to: b.userFactors) && a.itemFactors.isIdentical(to: b.itemFactors))
        // Each row's solve does not depend on the thread that runs it.
        let one = try IALS.fit(Self.data.train, configuration: Self.configuration(threads: 1, iterations: 3))
        #expect(one.userFactors.isClose(to: a.userFactors, absolute: 1e-5, relative: 1e-3))
    }

    /// Conjugate gradient converges to the exact (Cholesky) least-squares solution, and the
    /// three warm-started steps per sweep leave the trained vectors close to it.
    @Test func conjugateGradientMatchesTheCholeskySolve() throws {
        let model = Self.fitted
        let train = Self.data.train
        for user in [0, 17, 123] {
            let history = Array(train.items(of: user))
            let exact = try model.userVector(history: history)
            let cg = try model.userVector(history: history, solver: .conjugateGradient(steps: 3 * model.factors, start: nil))
            let scale = exact.map(abs).max()!
            for (a, b) in zip(cg, exact) { #expect(abs(a - b) <= 1e-3 * scale, "user \(user): \(cg) vs \(exact)") }
            // Three steps from the trained vector (what the next sweep would do) barely move it.
            let trained = Array(model.userFactors.scalars[(user * model.factors)..<((user + 1) * model.factors)])
            let warm = try model.userVector(history: history, solver: .conjugateGradient(steps: 3, start: trained))
            for (a, b) in zip(warm, exact) { #expect(abs(a - b) <= 0.02 * scale, "user \(user)") }
        }
        // Values scale the confidence: a heavier item pulls the vector towards itself.
        let history = Array(train.items(of: 5))
        let light = try model.userVector(history: history)
        var values = [Float](repeating: 1, count: history.count)
        values[0] = 20
        let heavy = try model.userVector(history: history, values: values)
        let item = Array(model.itemFactors.scalars[(Int(history[0]) * model.factors)..<((Int(history[0]) + 1) * model.factors)])
        func dot(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        #expect(dot(heavy, item) > dot(light, item))
    }

    /// Folding in a training user's own history reproduces their recommendations.
    @Test func foldInOfATrainingUserReproducesTheirRecommendations() throws {
        let model = try IALS.fit(Self.data.train, configuration: Self.configuration())
        let train = Self.data.train
        var overlap = 0, total = 0
        for user in stride(from: 0, to: 300, by: 15) {
            let before = model.recommend(user: user, count: 10, excluding: train.items(of: user))
            let fromHistory = model.recommend(history: Array(train.items(of: user)), count: 10)
            try model.foldIn(user: user, history: Array(train.items(of: user)), values: nil)
            let after = model.recommend(user: user, count: 10, excluding: train.items(of: user))
            #expect(after == fromHistory)
            overlap += Support.overlap(before, after)
            total += 10
        }
        #expect(Double(overlap) >= 0.9 * Double(total), "\(overlap) of \(total)")
        #expect(model.userCount == 300)
    }

    @Test func aNewUserFoldsInAndGetsRecommendations() throws {
        let model = try IALS.fit(Self.data.train, configuration: Self.configuration(iterations: 5))
        let history: [Int32] = Array(Self.data.train.items(of: 42))
        let expected = model.recommend(history: history, count: 10)
        for k in 0..<40 {
            // Many new users, so the user table grows more than once.
            try model.foldIn(user: model.userCount, history: k == 0 ? history : [Int32(k)], values: nil)
        }
        #expect(model.userCount == 340)
        let recommended = model.recommend(user: 300, count: 10, excluding: ArraySlice(history))
        #expect(recommended == expected)
        #expect(recommended.count == 10 && recommended.allSatisfy { !history.contains($0.index) })
        // Known users were not disturbed, and a batch mixing old and new users is one matrix.
        let batch = model.scoreAllItems(users: [0, 300, 339])
        #expect(batch.shape == [3, model.itemCount])
        let single = model.scoreAllItems(history: history, values: nil)
        #expect(zip(batch.scalars[model.itemCount..<(2 * model.itemCount)], single).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
        // An empty history is a valid (zero) user.
        try model.foldIn(user: model.userCount, history: [], values: nil)
        #expect(model.scoreAllItems(users: [Int32(model.userCount - 1)]).scalars.allSatisfy { $0 == 0 })
    }

    @Test func badFoldInInputIsRejected() throws {
        let model = try IALS(configuration: Self.configuration(), userCount: 5, itemCount: 10)
        #expect(throws: ModelError.self) { try model.foldIn(user: 6, history: [1], values: nil) }
        #expect(throws: ModelError.self) { try model.foldIn(user: -1, history: [1], values: nil) }
        #expect(throws: ModelError.self) { try model.foldIn(user: 0, history: [10], values: nil) }
        #expect(throws: ModelError.self) { try model.foldIn(user: 0, history: [-1], values: nil) }
        #expect(throws: ModelError.self) { try model.foldIn(user: 0, history: [1, 2], values: [1]) }
        #expect(throws: ModelError.self) { try model.foldIn(user: 0, history: [1], values: [.nan]) }
        #expect(throws: ModelError.self) { try model.userVector(history: [1], solver: .conjugateGradient(steps: 0, start: nil)) }
        #expect(model.userCount == 5)
        // Bad configurations and mismatched data.
        #expect(throws: ModelError.self) { try IALS(configuration: IALS.Configuration(factors: 0), userCount: 1, itemCount: 1) }
        #expect(throws: ModelError.self) { try IALS(configuration: IALS.Configuration(alpha: -1), userCount: 1, itemCount: 1) }
        #expect(throws: ModelError.self) { try model.fit(Self.data.train) }
        // Scoring a history skips items the model does not know.
        #expect(model.scoreAllItems(history: [1, 99], values: nil) == model.scoreAllItems(history: [1], values: nil))
    }

    @Test func checkpointRoundTripGivesIdenticalScores() throws {
        let model = try IALS.fit(Self.data.train, configuration: Self.configuration(iterations: 3))
        try model.foldIn(user: model.userCount, history: [3, 4, 5], values: [1, 2, 3])
        let url = Support.temporaryURL("ials")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.save(to: url)
        let (loaded, metadata) = try IALS.load(from: url)
        #expect(metadata["model"] == "ials")
        #expect(loaded.configuration == model.configuration)
        #expect(loaded.userCount == 301 && loaded.itemCount == model.itemCount)
        let users: [Int32] = [0, 7, 300]
        #expect(loaded.scoreAllItems(users: users).isIdentical(to: model.scoreAllItems(users: users)))
        #expect(loaded.scores(users: [1, 2], items: [3, 4]) == model.scores(users: [1, 2], items: [3, 4]))
        #expect(loaded.similarItems(to: 9, count: 5) == model.similarItems(to: 9, count: 5))
        #expect(loaded.scoreAllItems(history: [1, 2], values: nil) == model.scoreAllItems(history: [1, 2], values: nil))
        #expect(model.parameters.map(\.name) == ["user_factors", "item_factors"])
        // Other models' checkpoints and broken ones are refused with clear errors.
        try SafeTensorsFile(tensors: [:], metadata: ["model": "bpr-mf"]).write(to: url)
        #expect { try IALS.load(from: url) } throws: { "\($0)".contains("bpr-mf") }
        try SafeTensorsFile(tensors: [:], metadata: ["model": "ials", "configuration": "{"]).write(to: url)
        #expect { try IALS.load(from: url) } throws: { "\($0)".contains("configuration") }
        var file = try model.checkpoint()
        file.tensors["item_factors"] = Tensor(shape: [model.itemCount, 3])
        try file.write(to: url)
        #expect { try IALS.load(from: url) } throws: { "\($0)".contains("columns") }
    }

    @Test func similarItemsAreRankedByCosine() throws {
        let model = Self.fitted
        let similar = model.similarItems(to: 4, count: 8)
        #expect(similar.count == 8 && !similar.contains { $0.index == 4 })
        #expect(zip(similar, similar.dropFirst()).allSatisfy { $0.score >= $1.score })
        let y = model.itemFactors, f = model.factors
        func row(_ i: Int) -> [Float] { Array(y.scalars[(i * f)..<((i + 1) * f)]) }
        func cosine(_ a: [Float], _ b: [Float]) -> Float {
            let d = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
            return d / (a.reduce(0) { $0 + $1 * $1 }.squareRoot() * b.reduce(0) { $0 + $1 * $1 }.squareRoot())
        }
        for e in similar { #expect(abs(e.score - cosine(row(4), row(Int(e.index)))) < 1e-4) }
        let best = (0..<model.itemCount).filter { $0 != 4 }.max { cosine(row(4), row($0)) < cosine(row(4), row($1)) }!
        #expect(Int(similar[0].index) == best)
        #expect(model.similarItems(to: Int32(model.itemCount), count: 3).isEmpty)
    }
}
