import Foundation
import StarlingData
import StarlingModels
import StarlingTensor
import Testing

@Suite("BPR-MF")
struct BPRMFTests {
    typealias Support = FactorModelTestSupport

    static let data = Support.lowRank()

    static func configuration(threads: Int = 1, iterations: Int = 60, itemBias: Bool = true) -> BPRMF.Configuration {
        BPRMF.Configuration(factors: 16, learningRate: 0.05, regularization: 0.001, iterations: iterations, itemBias: itemBias, seed: 11, threads: threads)
    }

    @Test func ranksHeldOutItemsFarAboveChance() throws {
        let (train, test) = Self.data
        var c = Self.configuration(threads: 2)
        c.calculateTrainingLoss = true
        var losses: [Double] = []
        let model = try BPRMF.fit(train, configuration: c) { event in
            if case let .iteration(_, _, loss, _) = event, let loss { losses.append(loss) }
        }
        #expect(losses.count == 60)
        #expect(losses.last! < 0.5 * losses.first!, "\(losses.first!) → \(losses.last!)")
        let metrics = Support.evaluate(model, train: train, test: test, k: 10)
        let popular = Support.popularity(train: train, test: test, k: 10)
        let chance = 10.0 / Double(train.itemCount - 15)
        #expect(metrics.recall > 5 * chance, "recall@10 \(metrics.recall), chance \(chance)")
        #expect(metrics.recall > 1.3 * popular.recall, "recall@10 \(metrics.recall), popularity \(popular.recall)")
    }

    @Test func oneThreadIsDeterministic() throws {
        let a = try BPRMF.fit(Self.data.train, configuration: Self.configuration(iterations: 3))
        let b = try BPRMF.fit(Self.data.train, configuration: Self.configuration(iterations: 3))
        #expect(a.userFactors.isIdentical(to: b.userFactors) && a.itemFactors.isIdentical(to: b.itemFactors))
        #expect(a.itemBiases.isIdentical(to: b.itemBiases))
        let other = try BPRMF.fit(Self.data.train, configuration: { var c = Self.configuration(iterations: 3); c.seed = 12; return c }())
        #expect(!other.itemFactors.isIdentical(to: a.itemFactors))
    }

    /// Fold-in learns only the user's vector; for a training user it lands near the trained one.
    @Test func foldInOfATrainingUserApproximatesTheirRecommendations() throws {
        let (train, test) = Self.data
        let model = try BPRMF.fit(train, configuration: Self.configuration())
        let items = model.itemFactors, biases = model.itemBiases
        var overlap = 0, total = 0
        for user in stride(from: 0, to: 300, by: 10) {
            let before = model.recommend(user: user, count: 10, excluding: train.items(of: user))
            let history = Array(train.items(of: user))
            #expect(try model.userVector(history: history) == model.userVector(history: history))
            try model.foldIn(user: user, history: history, values: nil)
            let after = model.recommend(user: user, count: 10, excluding: train.items(of: user))
            #expect(after == model.recommend(history: history, count: 10))
            overlap += Support.overlap(before, after)
            total += 10
        }
        #expect(Double(overlap) >= 0.5 * Double(total), "\(overlap) of \(total)")
        #expect(model.itemFactors.isIdentical(to: items) && model.itemBiases.isIdentical(to: biases))
        // The folded-in users still rank their held-out items well.
        let chance = 10.0 / Double(train.itemCount - 15)
        #expect(Support.evaluate(model, train: train, test: test, k: 10).recall > 4 * chance)
    }

    @Test func aNewUserFoldsInAndGetsRecommendations() throws {
        let model = try BPRMF.fit(Self.data.train, configuration: Self.configuration(iterations: 20))
        let history = Array(Self.data.train.items(of: 42))
        try model.foldIn(user: model.userCount, history: history, values: nil)
        #expect(model.userCount == 301)
        let recommended = model.recommend(user: 300, count: 10, excluding: ArraySlice(history))
        #expect(recommended == model.recommend(history: history, count: 10))
        #expect(recommended.count == 10 && recommended.allSatisfy { !history.contains($0.index) })
        // Items with a non-positive value are not positives, but are still never negatives.
        let withDislike = try model.userVector(history: history + [7], values: [Float](repeating: 1, count: history.count) + [0])
        #expect(withDislike != (try model.userVector(history: history)))
        // A user with no positives scores by item bias alone.
        try model.foldIn(user: model.userCount, history: [], values: nil)
        #expect(model.scoreAllItems(users: [301]).scalars == model.itemBiases.scalars)
    }

    @Test func badFoldInInputIsRejected() throws {
        let model = try BPRMF(configuration: Self.configuration(), userCount: 5, itemCount: 10)
        #expect(throws: ModelError.self) { try model.foldIn(user: 6, history: [1], values: nil) }
        #expect(throws: ModelError.self) { try model.foldIn(user: 0, history: [10], values: nil) }
        #expect(throws: ModelError.self) { try model.foldIn(user: 0, history: [1, 2], values: [1]) }
        #expect(throws: ModelError.self) { try model.foldIn(user: 0, history: [1], values: [.infinity]) }
        #expect(model.userCount == 5)
        #expect(throws: ModelError.self) { try BPRMF(configuration: BPRMF.Configuration(learningRate: 0), userCount: 1, itemCount: 1) }
        #expect(throws: ModelError.self) { try BPRMF(configuration: BPRMF.Configuration(foldInEpochs: -1), userCount: 1, itemCount: 1) }
        #expect(throws: ModelError.self) { try model.fit(Self.data.train) }
    }

    @Test(arguments: [true, false])
    func checkpointRoundTripGivesIdenticalScores(itemBias: Bool) throws {
        let model = try BPRMF.fit(Self.data.train, configuration: Self.configuration(iterations: 5, itemBias: itemBias))
        try model.foldIn(user: model.userCount, history: [1, 2, 3], values: nil)
        let url = Support.temporaryURL("bpr")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.save(to: url)
        let (loaded, metadata) = try BPRMF.load(from: url)
        #expect(metadata["model"] == "bpr-mf")
        #expect(loaded.configuration == model.configuration && loaded.userCount == 301)
        let users: [Int32] = [0, 9, 300]
        #expect(loaded.scoreAllItems(users: users).isIdentical(to: model.scoreAllItems(users: users)))
        #expect(loaded.scores(users: [4, 300], items: [5, 6]) == model.scores(users: [4, 300], items: [5, 6]))
        #expect(loaded.similarItems(to: 3, count: 5) == model.similarItems(to: 3, count: 5))
        #expect(loaded.scoreAllItems(history: [8, 9], values: nil) == model.scoreAllItems(history: [8, 9], values: nil))
        #expect(model.parameters.count == (itemBias ? 3 : 2))
        // Pair scores agree with full rows (factors plus bias).
        let row = model.scoreAllItems(users: [9]).scalars
        let pairs = model.scores(users: [9, 9], items: [0, 150])
        #expect(abs(pairs[0] - row[0]) <= 1e-6 && abs(pairs[1] - row[150]) <= 1e-6)
        try SafeTensorsFile(tensors: [:], metadata: ["model": "ials"]).write(to: url)
        #expect { try BPRMF.load(from: url) } throws: { "\($0)".contains("ials") }
        if itemBias {
            var file = try model.checkpoint()
            file.tensors["item_bias"] = nil
            try file.write(to: url)
            #expect { try BPRMF.load(from: url) } throws: { "\($0)".contains("item_bias") }
        }
    }

    @Test func similarItemsExcludeTheItemAndAreSorted() throws {
        let model = try BPRMF.fit(Self.data.train, configuration: Self.configuration(iterations: 10))
        let similar = model.similarItems(to: 0, count: 199)
        #expect(similar.count == 199 && !similar.contains { $0.index == 0 })
        #expect(zip(similar, similar.dropFirst()).allSatisfy { $0.score >= $1.score })
        #expect(similar.allSatisfy { $0.score <= 1.0001 && $0.score >= -1.0001 })
    }
}
