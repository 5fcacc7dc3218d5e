/// A stream entry that cannot be processed: malformed (a missing or unreadable field) or refused
/// by the handler (e.g. an unknown item). The consumer copies it to the dead-letter stream with
/// this reason and acknowledges it, so it never blocks the entries after it.
public struct RedisDeadLetter: Error, Sendable, Equatable, CustomStringConvertible {
    /// The stream entry id (`1700000000000-0`).
    public var entryId: String
    /// The field at fault, when one is (`value`, `user`).
    public var field: String?
    /// Why, in words.
    public var reason: String

    public init(entryId: String, field: String? = nil, reason: String) {
        self.entryId = entryId
        self.field = field
        self.reason = reason
    }

    public var description: String {
        "stream entry \(entryId)" + (field.map { ": field '\($0)'" } ?? "") + ": \(reason)"
    }
}
