/// A candidate as the engine holds it before the final order: what a re-ranker may read.
public struct RankingCandidate: Sendable, Equatable {
    public var item: String
    public var categories: [String]
    /// Where the candidate came from.
    public var source: CandidateSource
    /// The serving model's score (nil when the model cannot score the item or the user).
    public var modelScore: Float?
    /// Time-decayed event count.
    public var popularity: Float
    /// Place in the engine's own order (model score, then popularity), from 0.
    public var baselineRank: Int

    public init(item: String, categories: [String], source: CandidateSource, modelScore: Float?, popularity: Float, baselineRank: Int) {
        self.item = item
        self.categories = categories
        self.source = source
        self.modelScore = modelScore
        self.popularity = popularity
        self.baselineRank = baselineRank
    }
}

/// A second-stage ranker consulted by ``RecommendationEngine/recommend(_:serving:reranker:)`` for
/// one request.
public protocol CandidateReranker {
    /// New scores, one per candidate (given in the engine's order), higher first; nil keeps the
    /// engine's order.
    func rescore(_ candidates: [RankingCandidate]) -> [Float]?
}
