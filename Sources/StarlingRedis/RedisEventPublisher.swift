import StarlingStream
import Synchronization

/// Appends events to a Redis stream (`XADD`, one pipelined round trip per call), in the field
/// layout ``RedisStreamConsumer`` reads (see ``RedisStreamEntry``). For producers and tests.
/// Thread-safe (calls are serialised on one connection); calls block.
public final class RedisEventPublisher: Sendable {
    /// The stream key.
    public let key: String
    /// With a value, each `XADD` trims the stream to about this many entries (`MAXLEN ~ n`).
    public let maxLength: Int?
    private let pool: RedisConnectionPool

    /// A publisher to stream `key` on `host:port`.
    public init(host: String = "127.0.0.1", port: Int = 6379, key: String, maxLength: Int? = nil, timeout: Duration = .seconds(5)) throws(RedisError) {
        guard !key.isEmpty else { throw .invalidArgument("Redis event publisher: the stream key must not be empty") }
        if let maxLength, maxLength < 1 { throw .invalidArgument("Redis event publisher: maxLength must be at least 1, got \(maxLength)") }
        self.key = key
        self.maxLength = maxLength
        pool = RedisConnectionPool(host: host, port: port, size: 1, timeout: timeout, retryInterval: .zero)
    }

    /// Appends `events` in order; returns their stream entry ids. An event's `eventId`, when set,
    /// is stored as the entry's `event_id` field.
    @discardableResult
    public func publish(_ events: [LoggedEvent]) throws(RedisError) -> [String] {
        let trim = maxLength.map { ["MAXLEN", "~", "\($0)"] } ?? []
        let commands = events.map { ["XADD", key] + trim + ["*"] + RedisStreamEntry.fields(of: $0) }
        return try pool.withConnection { (connection: RedisConnection) throws(RedisError) -> [String] in
            var ids: [String] = []
            ids.reserveCapacity(commands.count)
            for reply in try connection.pipeline(commands) {
                guard let id = try reply.checked("XADD").string else {
                    throw .unexpectedReply(command: "XADD", expected: "an entry id", got: reply.description)
                }
                ids.append(id)
            }
            return ids
        }
    }
}
