import Foundation
import StarlingData
import StarlingModels
import StarlingServe
import StarlingStream
import StarlingTensor
import Testing

@Suite("SASRec and LightGCN in the service")
struct SequentialServingTests {
    /// 40 items where every sequence walks forward (i, i+1, i+2, … mod 40): only the order of a
    /// history tells which item comes next.
    static func walkingSASRec() throws -> SASRec {
        var rng = RandomGenerator(seed: 11)
        let sequences: [[Int32]] = (0..<300).map { _ in
            let start = rng.nextInt(below: 40), length = 6 + rng.nextInt(below: 5)
            return (0..<length).map { Int32((start + $0) % 40) }
        }
        let model = try SASRec(.init(itemCount: 40, maxLength: 10, hiddenUnits: 16, blocks: 1, heads: 1, dropout: 0.1), seed: 3)
        var training = SASRecTrainingConfiguration()
        training.epochs = 60
        training.batchSize = 64
        training.learningRate = 0.01
        training.evaluateEvery = 0
        training.threads = 2
        try SASRecTrainer(configuration: training).train(model, sequences: sequences.map { $0[...] })
        return model
    }

    /// Served through the engine, SASRec reads a user's events in the order they happened (and a
    /// session's items after them): the next item of the walk comes first, from the model.
    @Test func theEngineServesTheNextItemOfAUsersSequence() throws {
        let model = try Self.walkingSASRec()
        let serving = try ServingModel(version: 1, model: model, itemIds: try IdVocabulary(ids: (0..<40).map { "i\($0)" }))
        let engine = RecommendationEngine()
        engine.apply(items: (0..<40).map { CatalogueItem(id: "i\($0)", categories: []) })
        engine.record([10, 11, 12].enumerated().map { k, i in LoggedEvent(user: "u", item: "i\(i)", type: .view, timestamp: 1_000 + Int64(k)) })
        let forUser = try engine.recommend(RecommendationQuery(user: "u", count: 3), serving: serving)
        #expect(forUser.first?.item == "i13" && forUser.first?.source == .model, "\(forUser)")
        // A session alone (no known user) is a sequence too; what a user did a moment ago counts.
        let session = try engine.recommend(RecommendationQuery(user: nil, count: 3, sessionItems: ["i20", "i21"]), serving: serving)
        #expect(session.first?.item == "i22", "\(session)")
        engine.record([LoggedEvent(user: "u", item: "i13", type: .view, timestamp: 2_000)])
        #expect(try engine.recommend(RecommendationQuery(user: "u", count: 3), serving: serving).first?.item == "i14")
    }

    /// LightGCN serves as a factor model: the user's folded-in vector finds candidates in the
    /// HNSW index over its final item embeddings, and they are ranked by the model's own scores.
    @Test func lightGCNServesThroughTheVectorIndex() throws {
        var rng = RandomGenerator(seed: 12)
        var pairs: [(user: Int32, item: Int32)] = []
        for u in 0..<60 {
            // Two taste groups: even users like the low items, odd users the high ones.
            let base = u % 2 == 0 ? 0 : 15
            for _ in 0..<6 { pairs.append((Int32(u), Int32(base + rng.nextInt(below: 15)))) }
        }
        let data = InteractionMatrix(userCount: 60, itemCount: 30, pairs: pairs)
        let model = try LightGCN(data, configuration: .init(factors: 8, layers: 2), seed: 5)
        var training = LightGCNTrainingConfiguration()
        training.epochs = 30
        training.batchSize = 64
        training.learningRate = 0.01
        training.evaluateEvery = 0
        training.threads = 2
        try LightGCNTrainer(configuration: training).train(model)
        let serving = try ServingModel(version: 1, model: model, itemIds: try IdVocabulary(ids: (0..<30).map { "i\($0)" }))
        #expect(serving.hasVectors)
        let engine = RecommendationEngine()
        engine.apply(items: (0..<30).map { CatalogueItem(id: "i\($0)", categories: []) })
        let history: [Int32] = [16, 18, 20]
        engine.record(history.enumerated().map { k, i in LoggedEvent(user: "u", item: "i\(i)", type: .view, timestamp: 1_000 + Int64(k)) })
        let got = try engine.recommend(RecommendationQuery(user: "u", count: 5), serving: serving)
        #expect(got.count == 5 && got.allSatisfy { $0.source == .ann }, "\(got)")
        // The model's own ranking of the unseen items, from the same history.
        let scores = model.scoreAllItems(history: history, values: nil)
        let expected = (0..<30).filter { !history.contains(Int32($0)) }.sorted { scores[$0] > scores[$1] }.prefix(5).map { "i\($0)" }
        #expect(got.map(\.item) == Array(expected), "engine \(got.map(\.item)), model \(expected)")
        #expect(got.allSatisfy { Int($0.item.dropFirst())! >= 15 }, "a high-item user gets high items: \(got.map(\.item))")
    }
}
