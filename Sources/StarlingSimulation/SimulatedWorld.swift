import Foundation
import StarlingTensor

/// The hidden world a recommender is tested against: users whose tastes drift, a catalogue that
/// grows with new and trending items, and (with ``ClickModel``) how users respond to what they
/// are shown. The recommender never sees any of it; it only sees the events users send.
///
/// - Latent space: `dimension` coordinates; each of the `categories` categories has a random unit
///   centre. An item is its category's centre plus Gaussian noise (`itemNoise`), normalised, with
///   a quality bias drawn from N(0, `qualitySpread`²).
/// - Tastes: a user's target is one category centre, plus a second at half weight for about half
///   of them; the taste starts at the target plus noise of the items' spread. Each round the taste moves `driftRate` of the way to the target and takes a random
///   step (`tasteNoise`), and is renormalised. With probability `shiftProbability` per round the
///   target shifts: the new main category is the *rising* category with probability `risingShare`
///   (else uniform), the old main category often stays as the secondary one.
/// - Fashion: the rising category changes every `fashionPeriod` rounds, so tastes drift in a
///   direction the initial catalogue and any model trained early under-serve.
/// - Arrivals: every `arrivalEvery` rounds `arrivalsPerBatch` new items appear, in the rising
///   category with probability `risingShare`, with `newItemQualityBonus` added to their quality:
///   they suit where tastes are going.
/// - Trends: every `trendEvery` rounds one item (a newest-shelf item half of the time) gets
///   `trendBoost` added to its attractiveness for `trendDuration` rounds.
/// - Attractiveness of item i to user u: `affinityScale·(taste_u·x_i) + quality_i + trend_i`.
///   It drives both organic browsing (softmax over the items a user looks over) and clicks.
///
/// Everything is a pure function of the seed and the round: `advance()` draws from a generator
/// seeded by (seed, round, purpose), and `plan()` can be called any number of times.
public struct SimulatedWorld: Sendable {
    public let configuration: SimulationConfiguration
    /// Category names, as sent to the service (`c0`, `c1`, …).
    public let categoryNames: [String]
    /// Unit centre of each category.
    public let categoryCentres: [[Float]]
    /// The current round (0 at the start).
    public private(set) var round = 0
    /// Every item so far, in arrival order (the initial catalogue first).
    public private(set) var items: [SimulatedItem]
    public private(set) var users: [SimulatedUser]
    /// The category tastes currently drift towards and new items mostly belong to.
    public private(set) var risingCategory: Int
    /// Index of the first item that appeared at the start of the current round (`items.count`
    /// when none did).
    public private(set) var arrivalsStart: Int

    /// The world at round 0 for `configuration` (checked first).
    public init(configuration: SimulationConfiguration) throws(SimulationError) {
        try configuration.validate()
        self.configuration = configuration
        let c = configuration, d = c.dimension
        var rng = RandomGenerator(seed: Draw.bits(.world, c.seed))
        categoryNames = (0..<c.categories).map { "c\($0)" }
        categoryCentres = (0..<c.categories).map { _ in Latent.normalized(Latent.gaussian(d, scale: 1, &rng)) }
        var items: [SimulatedItem] = []
        items.reserveCapacity(c.items)
        for k in 0..<c.items {
            let category = rng.nextInt(below: c.categories)
            items.append(Self.makeItem(id: "i\(k)", category: category, centres: categoryCentres, qualityBonus: 0, round: 0,
                                       configuration: c, &rng))
        }
        self.items = items
        var users: [SimulatedUser] = []
        users.reserveCapacity(c.users)
        for k in 0..<c.users {
            let primary = rng.nextInt(below: c.categories)
            var secondary: Int?
            if rng.nextDouble() < 0.5 {
                let s = rng.nextInt(below: c.categories - 1)
                secondary = s >= primary ? s + 1 : s
            }
            let target = Self.target(primary, secondary, categoryCentres)
            let taste = Latent.normalized(Latent.adding(target, Latent.gaussian(d, scale: 1, &rng), times: c.itemNoise))
            users.append(SimulatedUser(id: "u\(k)", taste: taste, target: target, primaryCategory: primary, secondaryCategory: secondary))
        }
        self.users = users
        risingCategory = rng.nextInt(below: c.categories)
        arrivalsStart = items.count
    }

    static func makeItem(id: String, category: Int, centres: [[Float]], qualityBonus: Float, round: Int,
                         configuration c: SimulationConfiguration, _ rng: inout RandomGenerator) -> SimulatedItem {
        let vector = Latent.normalized(Latent.adding(centres[category], Latent.gaussian(c.dimension, scale: 1, &rng), times: c.itemNoise))
        return SimulatedItem(id: id, category: category, vector: vector, quality: rng.nextNormal() * c.qualitySpread + qualityBonus,
                             arrivalRound: round)
    }

    /// The unit target of a user whose main category is `primary`, with `secondary` at half weight.
    static func target(_ primary: Int, _ secondary: Int?, _ centres: [[Float]]) -> [Float] {
        guard let secondary else { return centres[primary] }
        return Latent.normalized(Latent.adding(centres[primary], centres[secondary], times: 0.5))
    }

    // MARK: the hidden model

    /// `taste_u · x_i`, in [-1, 1].
    public func affinity(user: Int, item: Int) -> Float { Latent.dot(users[user].taste, items[item].vector) }

    /// The trend boost of `item` in the current round (0 when it is not trending).
    public func trendBoost(item: Int) -> Float { items[item].isTrending(in: round) ? configuration.trendBoost : 0 }

    /// `affinityScale·affinity + quality + trend`: how much `user` wants `item` now (a logit).
    public func attractiveness(user: Int, item: Int) -> Float {
        configuration.affinityScale * affinity(user: user, item: item) + items[item].quality + trendBoost(item: item)
    }

    /// Item `item`'s index for its id, if it exists.
    public func itemIndex(of id: String) -> Int? {
        guard id.hasPrefix("i"), let k = Int(id.dropFirst()), k >= 0, k < items.count, items[k].id == id else { return nil }
        return k
    }

    // MARK: rounds

    /// Moves the world to the next round: the rising category may change, tastes drift (and some
    /// targets shift), new items may arrive and an item may start trending.
    public mutating func advance() {
        round += 1
        let c = configuration, r = UInt64(round)
        if round % c.fashionPeriod == 0 {
            var g = RandomGenerator(seed: Draw.bits(.fashion, c.seed, r))
            let s = g.nextInt(below: c.categories - 1)
            risingCategory = s >= risingCategory ? s + 1 : s
        }
        var g = RandomGenerator(seed: Draw.bits(.drift, c.seed, r))
        for u in users.indices {
            if g.nextDouble() < c.shiftProbability {
                let old = users[u].primaryCategory
                var primary = g.nextDouble() < c.risingShare ? risingCategory : g.nextInt(below: c.categories)
                if primary == old { primary = g.nextDouble() < c.risingShare ? risingCategory : g.nextInt(below: c.categories) }
                let secondary: Int? = primary != old && g.nextDouble() < 0.5 ? old : nil
                users[u].primaryCategory = primary
                users[u].secondaryCategory = secondary
                users[u].target = Self.target(primary, secondary, categoryCentres)
                users[u].shifts += 1
            }
            var t = users[u].taste
            for k in t.indices { t[k] += c.driftRate * (users[u].target[k] - t[k]) + c.tasteNoise * g.nextNormal() }
            users[u].taste = Latent.normalized(t)
        }
        arrivalsStart = items.count
        if round % c.arrivalEvery == 0 && c.arrivalsPerBatch > 0 {
            var a = RandomGenerator(seed: Draw.bits(.arrivals, c.seed, r))
            for _ in 0..<c.arrivalsPerBatch {
                let category = a.nextDouble() < c.risingShare ? risingCategory : a.nextInt(below: c.categories)
                items.append(Self.makeItem(id: "i\(items.count)", category: category, centres: categoryCentres,
                                           qualityBonus: c.newItemQualityBonus, round: round, configuration: c, &a))
            }
        }
        if round % c.trendEvery == 0 && c.trendDuration > 0 {
            var t = RandomGenerator(seed: Draw.bits(.trend, c.seed, r))
            let shelf = newestShelf
            let k = t.nextDouble() < 0.5 && !shelf.isEmpty ? shelf.lowerBound + t.nextInt(below: shelf.count) : t.nextInt(below: items.count)
            items[k].trendFrom = round
            items[k].trendUntil = round + c.trendDuration
        }
    }

    /// The newest items (the "new arrivals" shelf), at most `newArrivalsShelf` of them, among
    /// those that arrived after the initial catalogue.
    public var newestShelf: Range<Int> {
        let first = max(configuration.items, items.count - configuration.newArrivalsShelf)
        return first..<items.count
    }

    /// What happens in the current round: its visitors (`visitorsPerRound` users drawn without
    /// replacement), their organic views (each looks over `browseSample` uniformly drawn items
    /// plus `shelfSample` from the new arrivals shelf and views one, drawn by softmax of
    /// attractiveness, `organicViews` times), and the items that appeared at its start.
    public func plan() -> RoundPlan {
        let c = configuration, r = UInt64(round)
        var g = RandomGenerator(seed: Draw.bits(.visitors, c.seed, r))
        var order = Array(0..<users.count)
        let n = min(users.count, c.visitorsPerRound)
        for k in 0..<n {
            let j = k + g.nextInt(below: order.count - k)
            order.swapAt(k, j)
        }
        let visitors = Array(order.prefix(n))
        var b = RandomGenerator(seed: Draw.bits(.browse, c.seed, r))
        var views: [RoundPlan.View] = []
        views.reserveCapacity(n * c.organicViews)
        let shelf = newestShelf
        var looked: [Int] = [], weights: [Double] = []
        for u in visitors {
            for _ in 0..<c.organicViews {
                looked.removeAll(keepingCapacity: true)
                for _ in 0..<c.browseSample { looked.append(b.nextInt(below: items.count)) }
                if !shelf.isEmpty { for _ in 0..<c.shelfSample { looked.append(shelf.lowerBound + b.nextInt(below: shelf.count)) } }
                weights = looked.map { Double(attractiveness(user: u, item: $0)) }
                let top = weights.max()!
                var total = 0.0
                for k in weights.indices { weights[k] = Foundation.exp(weights[k] - top); total += weights[k] }
                var x = b.nextDouble() * total, pick = looked[looked.count - 1]
                for k in weights.indices {
                    x -= weights[k]
                    if x < 0 { pick = looked[k]; break }
                }
                views.append(RoundPlan.View(user: u, item: pick))
            }
        }
        return RoundPlan(round: round, timestampMs: c.startMs + Int64(round) * c.roundMs, visitors: visitors, views: views,
                         arrivals: Array(arrivalsStart..<items.count))
    }
}
