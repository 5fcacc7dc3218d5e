/// Impressions, clicks and purchases of one arm, round by round, and the rates over windows of
/// rounds. CTR = clicks on recommended items / recommended items shown; conversion = purchases /
/// recommended items shown.
public struct EngagementTally: Sendable, Equatable {
    /// Totals over a run of consecutive rounds.
    public struct Window: Sendable, Equatable {
        public var firstRound: Int
        public var lastRound: Int
        public var impressions: Int
        public var clicks: Int
        public var purchases: Int

        /// Clicks per impression (nil without impressions).
        public var ctr: Double? { impressions > 0 ? Double(clicks) / Double(impressions) : nil }
        /// Purchases per impression (nil without impressions).
        public var conversion: Double? { impressions > 0 ? Double(purchases) / Double(impressions) : nil }
    }

    /// One entry per recorded round, in order.
    public private(set) var rounds: [Window] = []

    public init() {}

    /// Adds counts to `round` (a new entry unless it is the last one recorded).
    public mutating func record(round: Int, impressions: Int, clicks: Int, purchases: Int) {
        if rounds.last?.firstRound == round {
            rounds[rounds.count - 1].impressions += impressions
            rounds[rounds.count - 1].clicks += clicks
            rounds[rounds.count - 1].purchases += purchases
        } else {
            precondition(rounds.last.map { $0.firstRound < round } ?? true, "rounds must be recorded in order")
            rounds.append(Window(firstRound: round, lastRound: round, impressions: impressions, clicks: clicks, purchases: purchases))
        }
    }

    /// All recorded rounds together.
    public var total: Window { Self.merge(rounds[...]) }

    /// Consecutive windows of `size` recorded rounds (the last may be shorter).
    public func windows(of size: Int) -> [Window] {
        precondition(size >= 1)
        return stride(from: 0, to: rounds.count, by: size).map { Self.merge(rounds[$0..<min(rounds.count, $0 + size)]) }
    }

    static func merge(_ slice: ArraySlice<Window>) -> Window {
        var w = Window(firstRound: slice.first?.firstRound ?? 0, lastRound: slice.last?.lastRound ?? 0, impressions: 0, clicks: 0, purchases: 0)
        for r in slice {
            w.impressions += r.impressions
            w.clicks += r.clicks
            w.purchases += r.purchases
        }
        return w
    }
}
