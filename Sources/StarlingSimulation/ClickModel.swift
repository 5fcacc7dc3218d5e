import Foundation

/// How a user responds to a recommendation list, with position bias (the examination
/// hypothesis): the item at position `p` (0-based) is examined with probability `(1/(1+p))^η`
/// and, if examined, clicked with probability `σ(attractiveness − c)`, where attractiveness is
/// ``SimulatedWorld/attractiveness(user:item:)``: `a·(taste·item) + quality + trend`. A click
/// converts to a purchase with probability `σ(b·(taste·item) − d)`.
///
/// Each decision compares a keyed uniform draw (``Draw``, keyed by seed, round, user and item)
/// with its probability, so a user shown the same item in the same round decides the same way
/// whichever recommender showed it; a higher position only raises the examination probability
/// the same draw is compared with.
public struct ClickModel: Sendable {
    /// A click on a recommended item.
    public struct Click: Sendable, Equatable {
        /// Position in the list (0-based).
        public var position: Int
        /// Item index in the world.
        public var item: Int
        /// Whether the click converted to a purchase.
        public var purchased: Bool
    }

    public let configuration: SimulationConfiguration

    public init(configuration: SimulationConfiguration) { self.configuration = configuration }

    /// Probability that position `position` (0-based) is examined: `(1/(1+p))^η`.
    public func examination(position: Int) -> Double { pow(1 / Double(1 + position), configuration.positionBias) }

    /// Probability that `user` clicks `item` once they have examined it.
    public func clickProbability(_ world: SimulatedWorld, user: Int, item: Int) -> Double {
        Latent.sigmoid(world.attractiveness(user: user, item: item) - configuration.clickOffset)
    }

    /// Probability that a click of `user` on `item` converts to a purchase.
    public func purchaseProbability(_ world: SimulatedWorld, user: Int, item: Int) -> Double {
        Latent.sigmoid(configuration.purchaseScale * world.affinity(user: user, item: item) - configuration.purchaseOffset)
    }

    /// The clicks (and purchases) of `user` on `list` (world item indices, best first) in the
    /// world's current round.
    public func respond(_ world: SimulatedWorld, user: Int, list: [Int]) -> [Click] {
        let seed = configuration.seed, r = UInt64(world.round), u = UInt64(user)
        var clicks: [Click] = []
        for (p, item) in list.enumerated() {
            let i = UInt64(item)
            guard Draw.uniform(.examine, seed, r, u, i) < examination(position: p),
                  Draw.uniform(.click, seed, r, u, i) < clickProbability(world, user: user, item: item) else { continue }
            clicks.append(Click(position: p, item: item,
                                purchased: Draw.uniform(.purchase, seed, r, u, i) < purchaseProbability(world, user: user, item: item)))
        }
        return clicks
    }
}
