/// A place in a ``DurableEventLog``: the byte offset of the next record in one version of the
/// file (`generation`; a rewrite that removes a user's events starts a new one).
public struct LogPosition: Codable, Sendable, Equatable {
    public var generation: UInt64
    public var offset: Int

    public init(generation: UInt64, offset: Int) {
        self.generation = generation
        self.offset = offset
    }
}
