import Foundation
import StarlingTensor

/// Draws negatives with probability proportional to popularity^α (word2vec's unigram^0.75 for
/// α = 0.75; α = 0 is uniform over items with a count, α = 1 proportional to popularity), from an
/// ``AliasTable``, rejecting the user's own positives.
///
/// ``probability(of:)`` is the proposal probability q(i) of the table — the value to subtract as
/// `log q` from a sampled-softmax logit (log-q correction). Because positives are rejected, the
/// actual chance of drawing `i` for user `u` is ``probability(of:forUser:)``
/// q(i) / (1 − Σ q(positives of u)).
public struct PopularityNegativeSampler: Sendable {
    /// Whose positives are rejected.
    public let interactions: InteractionMatrix
    /// The exponent on popularity.
    public let alpha: Double
    /// The proposal distribution q over items.
    public let table: AliasTable
    /// `log q(i)` per item, as `Float` for logit corrections (`-inf` for items never proposed).
    public let logProbabilities: [Float]

    /// A sampler over `interactions`' items; popularity is `counts` (default: the number of users
    /// per item in `interactions`) plus `pseudoCount`, so that `pseudoCount > 0` gives unseen items
    /// a chance.
    public init(interactions: InteractionMatrix, alpha: Double = 0.75, counts: [Int]? = nil, pseudoCount: Double = 0) {
        let c = counts ?? interactions.itemPopularity
        precondition(c.count == interactions.itemCount, "PopularityNegativeSampler: \(c.count) counts for \(interactions.itemCount) items")
        precondition(alpha >= 0 && pseudoCount >= 0, "PopularityNegativeSampler: alpha and pseudoCount must be non-negative")
        let weights = c.map { count -> Double in
            let x = Double(count) + pseudoCount
            return x > 0 ? pow(x, alpha) : 0
        }
        self.interactions = interactions
        self.alpha = alpha
        table = AliasTable(weights: weights)
        logProbabilities = table.probabilities.map { $0 > 0 ? Float(log($0)) : -.infinity }
    }

    /// One item `user` has no interaction with. Stops with a message when no proposable item is
    /// left for the user.
    public func sample(for user: Int, using rng: inout RandomGenerator) -> Int32 {
        var tries = 0
        while true {
            let item = Int32(table.sample(using: &rng))
            if !interactions.contains(user: user, item: item) { return item }
            tries += 1
            if tries == 1000 {
                precondition(negativeMass(of: user) > 1e-12,
                             "PopularityNegativeSampler: user \(user) has interacted with every item the sampler can propose")
            }
        }
    }

    /// `count` negatives for `user` (drawn independently, so they may repeat).
    public func sample(for user: Int, count: Int, using rng: inout RandomGenerator) -> [Int32] {
        (0..<count).map { _ in sample(for: user, using: &rng) }
    }

    /// The proposal probability q(i) (before positives are rejected): what log-q correction uses.
    public func probability(of item: Int32) -> Double { table.probabilities[Int(item)] }

    /// log q(i).
    public func logProbability(of item: Int32) -> Float { logProbabilities[Int(item)] }

    /// The probability that ``sample(for:using:)`` returns `item` for `user`: 0 for a positive,
    /// else q(i) / (1 − Σ q(positives)).
    public func probability(of item: Int32, forUser user: Int) -> Double {
        if interactions.contains(user: user, item: item) { return 0 }
        return probability(of: item) / negativeMass(of: user)
    }

    /// 1 − Σ q over the user's positives.
    func negativeMass(of user: Int) -> Double {
        var positive = 0.0
        for i in interactions.items(of: user) { positive += table.probabilities[Int(i)] }
        return max(0, 1 - positive)
    }
}
