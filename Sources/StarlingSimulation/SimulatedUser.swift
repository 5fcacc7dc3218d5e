/// A user of the hidden world: a taste (unit vector) that drifts each round towards a target
/// made of one or two category centres; the target changes at random shift times.
public struct SimulatedUser: Sendable, Equatable {
    /// The id the service knows them by.
    public let id: String
    /// Current taste, a unit vector.
    public internal(set) var taste: [Float]
    /// Where the taste is drifting to (unit vector).
    public internal(set) var target: [Float]
    /// The target's main category ...
    public internal(set) var primaryCategory: Int
    /// ... and the one mixed in at half weight, if any.
    public internal(set) var secondaryCategory: Int?
    /// How many times the target has shifted.
    public internal(set) var shifts = 0
}
