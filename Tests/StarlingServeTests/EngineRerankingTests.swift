import Foundation
import StarlingServe
import StarlingStream
import Testing

@Suite("The engine's re-ranking hook")
struct EngineRerankingTests {
    /// Reverses the engine's order, and remembers what it was shown.
    final class Reverser: CandidateReranker {
        var seen: [RankingCandidate] = []
        let active: Bool
        init(active: Bool) { self.active = active }
        func rescore(_ candidates: [RankingCandidate]) -> [Float]? {
            seen = candidates
            return active ? candidates.map { Float($0.baselineRank) } : nil
        }
    }

    @Test func rerankerScoresDecideTheOrderAndNilKeepsTheEnginesOrder() throws {
        let engine = RecommendationEngine()
        engine.apply(items: (0..<6).map { CatalogueItem(id: "i\($0)", categories: ["c\($0 % 2)"]) })
        // Popularity: i0 most popular, i5 least.
        engine.record((0..<6).flatMap { i in (0..<(6 - i) * 3).map { k in
            LoggedEvent(user: "u\(k)", item: "i\(i)", type: .view, timestamp: 1_000 + Int64(k)) } })
        let query = RecommendationQuery(user: "new-user", count: 6)
        let plain = try engine.recommend(query, serving: nil).map(\.item)
        let keep = Reverser(active: false)
        #expect(try engine.recommend(query, serving: nil, reranker: keep).map(\.item) == plain)
        #expect(keep.seen.map(\.item) == plain && keep.seen.map(\.baselineRank) == Array(0..<6))
        #expect(keep.seen.allSatisfy { $0.modelScore == nil && $0.popularity > 0 })
        #expect(keep.seen.first { $0.item == "i3" }?.categories == ["c1"])
        let reversed = try engine.recommend(query, serving: nil, reranker: Reverser(active: true))
        #expect(reversed.map(\.item) == plain.reversed())
        #expect(reversed.map(\.score) == [5, 4, 3, 2, 1, 0])
    }
}
