/// What the hidden world does in one round, independently of any recommender: who visits and
/// asks for recommendations, who browses which item, which items appeared. Both arms of a
/// simulation play the same plan.
public struct RoundPlan: Sendable, Equatable {
    /// An organic view: a user browsing to an item outside the recommendations.
    public struct View: Sendable, Equatable {
        public var user: Int
        public var item: Int
    }

    public var round: Int
    /// Event time of the round, Unix milliseconds.
    public var timestampMs: Int64
    /// Users (indices) who ask for recommendations this round, in visiting order.
    public var visitors: [Int]
    /// Organic views of the round.
    public var views: [View]
    /// Items (indices) that appeared at the start of this round; they must be created in the
    /// service before its events are sent.
    public var arrivals: [Int]
}
