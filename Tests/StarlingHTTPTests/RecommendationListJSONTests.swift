import Foundation
import NIOCore
import StarlingHTTP
import StarlingServe
import StarlingTensor
import Testing

@Suite("The hot routes' JSON writer")
struct RecommendationListJSONTests {
    static let awkward = ["plain", "quote \" inside", "back\\slash", "new\nline\ttab\r", "bell \u{07} nul \u{00} esc \u{1B}",
                          "Face/Off (1997)", "Amélie (2001)", "千と千尋の神隠し", "emoji 🎬🍿", "", "\u{7F} del", "\u{2028} separator"]

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        return e
    }()

    @Test("writes the document JSONEncoder writes, for awkward strings, numbers and missing fields")
    func matchesJSONEncoder() throws {
        var rng = RandomGenerator(seed: 11)
        let sources: [CandidateSource] = [.ann, .model, .itemToItem, .popular, .recent]
        for trial in 0..<300 {
            func text() -> String { Self.awkward[rng.nextInt(below: Self.awkward.count)] + "\(rng.nextInt(below: 1000))" }
            func maybe() -> String? { rng.nextInt(below: 2) == 0 ? nil : text() }
            let scores: [Float] = [0, 1, -3, 0.1, 1e-7, 3.4e38, -2.5e-12, 123_456_792, 0.3333333]
            let items = (0..<rng.nextInt(below: 12)).map { _ in
                Recommendation(item: text(), score: rng.nextInt(below: 3) == 0 ? scores[rng.nextInt(below: scores.count)] : rng.nextNormal() * 10,
                               source: sources[rng.nextInt(below: sources.count)], title: maybe())
            }
            let list = RecommendationList(user: maybe(), item: maybe(), items: items,
                                          modelVersion: rng.nextInt(below: 2) == 0 ? nil : rng.nextInt(below: 100),
                                          experiment: maybe(), arm: maybe())
            let written = Data(list.json().readableBytesView)
            let reference = try Self.encoder.encode(list)
            let a = try JSONSerialization.jsonObject(with: written) as? NSDictionary
            let b = try JSONSerialization.jsonObject(with: reference) as? NSDictionary
            #expect(a != nil && a == b, "trial \(trial): \(String(decoding: written, as: UTF8.self)) vs \(String(decoding: reference, as: UTF8.self))")
        }
    }

    @Test("a score that is not finite becomes null rather than invalid JSON")
    func nonFiniteScore() throws {
        let list = RecommendationList(user: "u", items: [Recommendation(item: "a", score: .nan, source: .ann),
                                                         Recommendation(item: "b", score: -.infinity, source: .popular)])
        let data = Data(list.json().readableBytesView)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let items = try #require(object["items"] as? [[String: Any]])
        #expect(items.count == 2 && items.allSatisfy { $0["score"] is NSNull })
    }
}
