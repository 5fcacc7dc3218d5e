import StarlingTensor

/// Draws items a user has not interacted with, uniformly (rejection sampling against the user's
/// sorted positives).
public struct UniformNegativeSampler: Sendable {
    public let interactions: InteractionMatrix

    public init(interactions: InteractionMatrix) {
        self.interactions = interactions
    }

    /// One item `user` has no interaction with. Stops with a message if the user has interacted
    /// with every item.
    @inlinable
    public func sample(for user: Int, using rng: inout RandomGenerator) -> Int32 {
        let itemCount = interactions.itemCount
        precondition(interactions.items(of: user).count < itemCount,
                     "UniformNegativeSampler: user \(user) interacted with every item; no negative exists")
        while true {
            let item = Int32(rng.nextInt(below: itemCount))
            if !interactions.contains(user: user, item: item) { return item }
        }
    }
}
