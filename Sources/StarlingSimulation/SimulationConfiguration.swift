/// The settings of the hidden world a simulation plays in: its size, how tastes drift, how
/// items arrive and trend, and the click model. Every default is documented where it matters for
/// reading the results; all randomness is derived from `seed`.
public struct SimulationConfiguration: Sendable, Equatable {
    /// Determines the whole world: catalogue, users, drift, arrivals, trends and every draw of
    /// the click model.
    public var seed: UInt64
    /// Number of users.
    public var users: Int
    /// Number of items in the catalogue at round 0 (more arrive later).
    public var items: Int
    /// Dimension of the latent space of tastes and items.
    public var dimension = 8
    /// Number of item categories (each has a centre vector in the latent space).
    public var categories = 8
    /// Share of the users who visit in a round (each visitor asks for one recommendation list).
    public var activeShare = 0.1
    /// Organic views per visitor and round (browsing outside the recommendations).
    public var organicViews = 2
    /// Catalogue items a browsing user looks over, uniformly drawn; besides these they always
    /// see the `newArrivalsShelf` newest items' shelf sample.
    public var browseSample = 24
    /// Size of the "new arrivals" shelf (the newest items); `shelfSample` of them are shown to
    /// each browsing user.
    public var newArrivalsShelf = 40
    /// Items from the new arrivals shelf among the items a browsing user looks over.
    public var shelfSample = 6
    /// New items arrive every `arrivalEvery` rounds ...
    public var arrivalEvery = 2
    /// ... this many at a time.
    public var arrivalsPerBatch = 6
    /// Added to a new item's quality (new items are made for where tastes are going).
    public var newItemQualityBonus: Float = 0.5
    /// Rounds between changes of the rising category (the one tastes drift towards).
    public var fashionPeriod = 40
    /// Probability that a taste shift, or a new item, goes to the rising category (otherwise a
    /// uniformly drawn one).
    public var risingShare = 0.6
    /// Per user and round, probability that the user's target taste shifts.
    public var shiftProbability = 0.015
    /// Per round, the share of the way from the current taste to the target that a taste moves.
    public var driftRate: Float = 0.05
    /// Standard deviation per coordinate of the random walk added to tastes each round.
    public var tasteNoise: Float = 0.02
    /// Standard deviation per coordinate of an item's offset from its category centre.
    public var itemNoise: Float = 0.35
    /// Standard deviation of item quality (a logit bias).
    public var qualitySpread: Float = 0.5
    /// A new trending item every `trendEvery` rounds ...
    public var trendEvery = 5
    /// ... for this many rounds ...
    public var trendDuration = 30
    /// ... with this much added to its attractiveness (logits).
    public var trendBoost: Float = 1.5
    /// `a` in the click logit `a·(taste·item) + quality + trend − c`.
    public var affinityScale: Float = 5
    /// `c` in the click logit.
    public var clickOffset: Float = 4
    /// `η` in the examination probability `(1/(1+p))^η` of position `p` (0-based).
    public var positionBias = 0.8
    /// A click converts with probability `σ(purchaseScale·(taste·item) − purchaseOffset)`.
    public var purchaseScale: Float = 3
    public var purchaseOffset: Float = 3.5
    /// Event time of round 0, Unix milliseconds (2026-01-01T00:00:00Z).
    public var startMs: Int64 = 1_767_225_600_000
    /// Event time between rounds, milliseconds.
    public var roundMs: Int64 = 10_000

    public init(seed: UInt64, users: Int = 2000, items: Int = 1000) {
        self.seed = seed
        self.users = users
        self.items = items
    }

    /// Visitors per round: `activeShare` of the users, at least one.
    public var visitorsPerRound: Int { max(1, Int((Double(users) * activeShare).rounded())) }

    /// Checks that every setting is in its range.
    public func validate() throws(SimulationError) {
        func check(_ ok: Bool, _ name: String, _ reason: String) throws(SimulationError) {
            if !ok { throw .invalidSetting(name: name, reason: reason) }
        }
        try check(users >= 1, "users", "must be at least 1, got \(users)")
        try check(items >= 2, "items", "must be at least 2, got \(items)")
        try check(dimension >= 2 && dimension <= 256, "dimension", "must be 2–256, got \(dimension)")
        try check(categories >= 2, "categories", "must be at least 2, got \(categories)")
        try check(activeShare > 0 && activeShare <= 1, "activeShare", "must be in (0, 1], got \(activeShare)")
        try check(organicViews >= 0, "organicViews", "must be ≥ 0, got \(organicViews)")
        try check(browseSample >= 1, "browseSample", "must be ≥ 1, got \(browseSample)")
        try check(newArrivalsShelf >= 1 && shelfSample >= 0, "newArrivalsShelf", "the shelf must hold ≥ 1 item and its sample be ≥ 0")
        try check(arrivalEvery >= 1 && arrivalsPerBatch >= 0, "arrivalEvery", "arrivals need a period ≥ 1 and a count ≥ 0")
        try check(fashionPeriod >= 1, "fashionPeriod", "must be ≥ 1, got \(fashionPeriod)")
        try check((0...1).contains(risingShare), "risingShare", "must be in [0, 1], got \(risingShare)")
        try check((0...1).contains(shiftProbability), "shiftProbability", "must be in [0, 1], got \(shiftProbability)")
        try check(driftRate >= 0 && driftRate <= 1, "driftRate", "must be in [0, 1], got \(driftRate)")
        try check(tasteNoise >= 0 && itemNoise >= 0 && qualitySpread >= 0, "noise", "standard deviations must be ≥ 0")
        try check(trendEvery >= 1 && trendDuration >= 0, "trendEvery", "trends need a period ≥ 1 and a duration ≥ 0")
        try check(positionBias >= 0, "positionBias", "must be ≥ 0, got \(positionBias)")
        try check(roundMs >= 1 && startMs >= 0, "roundMs", "event time must start at ≥ 0 and advance ≥ 1 ms a round")
    }
}
