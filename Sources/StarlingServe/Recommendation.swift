/// Where a recommended item came from.
public enum CandidateSource: String, Codable, Sendable {
    /// Nearest neighbours of the user's vector in the item-vector index.
    case ann
    /// The model's full ranking (models without item vectors).
    case model
    /// Neighbours of an item the user interacted with recently.
    case itemToItem = "item_to_item"
    /// Popular lately (time-decayed event counts).
    case popular
    /// Interacted with most recently by anyone.
    case recent
}

/// One recommended (or ranked) item.
public struct Recommendation: Codable, Sendable, Equatable {
    public var item: String
    public var score: Float
    public var source: CandidateSource
    public var title: String?

    public init(item: String, score: Float, source: CandidateSource, title: String? = nil) {
        self.item = item
        self.score = score
        self.source = source
        self.title = title
    }
}

/// What a recommendation request asks for.
public struct RecommendationQuery: Sendable {
    /// The user (`nil` for an anonymous session).
    public var user: String?
    public var count: Int
    /// Only items of this category.
    public var category: String?
    /// Item ids never to return.
    public var exclude: Set<String>
    /// Items of the current session, most recent last (anonymous users, or extra context).
    public var sessionItems: [String]
    /// MMR trade-off in [0, 1): 0 ranks by relevance only; higher values favour items unlike
    /// those already picked.
    public var diversity: Float

    public init(user: String?, count: Int = 10, category: String? = nil, exclude: Set<String> = [], sessionItems: [String] = [],
                diversity: Float = 0) {
        self.user = user
        self.count = count
        self.category = category
        self.exclude = exclude
        self.sessionItems = sessionItems
        self.diversity = diversity
    }
}
