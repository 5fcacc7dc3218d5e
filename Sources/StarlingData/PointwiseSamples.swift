import StarlingTensor

/// One epoch of pointwise training examples for implicit feedback, as in the NCF paper: every
/// positive (label 1) followed by `negativesPerPositive` uniformly sampled negatives (label 0),
/// then shuffled.
public struct PointwiseSamples: Sendable {
    public var users: [Int32]
    public var items: [Int32]
    public var labels: [Float]

    public var count: Int { users.count }

    /// Samples an epoch; the same generator state gives the same epoch.
    public init(interactions: InteractionMatrix, negativesPerPositive: Int, using rng: inout RandomGenerator) {
        precondition(negativesPerPositive >= 0, "PointwiseSamples: negativesPerPositive must be non-negative")
        let sampler = UniformNegativeSampler(interactions: interactions)
        let total = interactions.count * (1 + negativesPerPositive)
        var users = [Int32](repeating: 0, count: total)
        var items = [Int32](repeating: 0, count: total)
        var labels = [Float](repeating: 0, count: total)
        var k = 0
        for u in 0..<interactions.userCount {
            for item in interactions.items(of: u) {
                users[k] = Int32(u); items[k] = item; labels[k] = 1; k += 1
                for _ in 0..<negativesPerPositive {
                    users[k] = Int32(u); items[k] = sampler.sample(for: u, using: &rng); k += 1
                }
            }
        }
        // Shuffle the three arrays together.
        for i in stride(from: total - 1, to: 0, by: -1) {
            let j = rng.nextInt(below: i + 1)
            users.swapAt(i, j); items.swapAt(i, j); labels.swapAt(i, j)
        }
        self.users = users
        self.items = items
        self.labels = labels
    }
}
