import Foundation
import StarlingData
import StarlingModels
import StarlingTensor
import Testing

@Suite("Popularity")
struct PopularityTests {
    /// 4 users × 4 items; item 3 has no users.
    let train = InteractionMatrix(userCount: 4, itemCount: 4, entries: [
        (0, 0, 1), (0, 1, 4), (1, 1, 2), (2, 1, 1), (2, 2, 5), (3, 0, 3),
    ])

    @Test func scoresCountUsersOrSumValues() throws {
        let byUsers = Popularity.fit(train)
        #expect(byUsers.itemScores == [2, 3, 1, 0])
        let byValues = Popularity.fit(train, configuration: .init(weighting: .values))
        #expect(byValues.itemScores == [4, 7, 5, 0])
        // Binary data weighted by values counts 1 per interaction.
        let binary = InteractionMatrix(userCount: 4, itemCount: 4, pairs: train.pairs)
        #expect(Popularity.fit(binary, configuration: .init(weighting: .values)).itemScores == [2, 3, 1, 0])
        // Every user gets the same row.
        let rows = byUsers.scoreAllItems(users: [0, 3, 1])
        #expect(rows.shape == [3, 4] && rows.scalars == [Float]([2, 3, 1, 0, 2, 3, 1, 0, 2, 3, 1, 0]))
        #expect(byUsers.scores(users: [0, 1, 2], items: [3, 1, 0]) == [0, 3, 2])
        #expect(byUsers.scoreAllItems(history: [2], values: nil) == [2, 3, 1, 0])
    }

    @Test func recommendsThePopularUnseenItemsAndSimilarMeansPopular() throws {
        let model = Popularity.fit(train)
        #expect(model.history(of: 2) == [1, 2])
        #expect(model.recommend(user: 2, count: 3, excluding: model.history(of: 2)).map(\.index) == [0, 3])
        #expect(model.recommend(user: 3, count: 2, excluding: model.history(of: 3)) == [.init(index: 1, score: 3), .init(index: 2, score: 1)])
        #expect(model.similarItems(to: 1, count: 2).map(\.index) == [0, 2])
        #expect(model.similarItems(to: 0, count: 10).map(\.index) == [1, 2, 3])
        // Folding in changes what is excluded, not the scores.
        try model.foldIn(user: 4, history: [1, 0], values: nil)
        #expect(model.userCount == 5 && model.history(of: 4) == [0, 1])
        #expect(model.recommend(user: 4, count: 5, excluding: model.history(of: 4)).map(\.index) == [2, 3])
        #expect(model.itemScores == [2, 3, 1, 0])
    }

    @Test func meetsTheRecommenderContract() throws {
        for weighting in Popularity.Configuration.Weighting.allCases {
            let data = ClassicFixtures.interactions(users: 30, items: 20, values: true, seed: 11)
            let model = Popularity.fit(data, configuration: .init(weighting: weighting))
            try ClassicFixtures.checkContract(model, train: data, history: { $0.history(of: $1) }, load: { try Popularity.load(from: $0).model })
        }
    }

    @Test func checkpointsNameTheirModel() throws {
        let url = ClassicFixtures.checkpointURL("popularity")
        defer { try? FileManager.default.removeItem(at: url) }
        let model = Popularity.fit(train, configuration: .init(weighting: .values))
        try model.save(to: url)
        let (loaded, metadata) = try Popularity.load(from: url)
        #expect(metadata["model"] == "popularity" && loaded.configuration == model.configuration)
        try SafeTensorsFile(metadata: ["model": "ials"]).write(to: url)
        #expect { try Popularity.load(from: url) } throws: { "\($0)".contains("ials") && "\($0)".contains("expected popularity") }
        try SafeTensorsFile(metadata: ["model": "popularity", "configuration": "{\"weighting\": \"loudness\"}"]).write(to: url)
        #expect { try Popularity.load(from: url) } throws: { "\($0)".contains("configuration") }
    }
}
