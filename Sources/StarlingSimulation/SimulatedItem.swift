/// An item of the hidden world: a point near its category's centre in the latent space, a
/// quality bias, when it arrived and when (if ever) it trends.
public struct SimulatedItem: Sendable, Equatable {
    /// The id the service knows it by.
    public let id: String
    /// Index of its category in ``SimulatedWorld/categoryNames``.
    public let category: Int
    /// Unit vector in the latent space.
    public let vector: [Float]
    /// Logit bias of its attractiveness (how good it is, whoever looks at it).
    public let quality: Float
    /// The round it appeared at (0: the initial catalogue).
    public let arrivalRound: Int
    /// Rounds `trendFrom..<trendUntil` it trends in (empty if it never has).
    public internal(set) var trendFrom = 0
    public internal(set) var trendUntil = 0

    /// Whether it trends in `round`.
    public func isTrending(in round: Int) -> Bool { round >= trendFrom && round < trendUntil }
}
