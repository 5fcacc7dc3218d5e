import Synchronization

/// A few connections to one Redis server, shared by threads: each call gets a connection no other
/// thread is using (a free one if any, else it waits for one), opened on first use and opened
/// again after a failure broke it. After a failed connect, calls fail at once with the same error
/// for `retryInterval`, so a server that is down does not make every caller wait for a timeout.
public final class RedisConnectionPool: Sendable {
    /// The server.
    public let host: String
    public let port: Int
    /// The connect and reply timeout of each connection.
    public let timeout: Duration
    /// How long a failed connect is remembered before the next attempt.
    public let retryInterval: Duration

    private final class Slot: Sendable {
        let connection = Mutex<RedisConnection?>(nil)
    }
    private let slots: [Slot]
    private let next = Atomic<Int>(0)
    private let lastFailure = Mutex<(at: ContinuousClock.Instant, error: RedisError)?>(nil)

    /// `host:port`, as error messages name the server.
    public var endpoint: String { "\(host):\(port)" }

    /// A pool of at most `size` connections to `host:port` (none is opened yet).
    public init(host: String, port: Int, size: Int = 4, timeout: Duration = .seconds(2), retryInterval: Duration = .seconds(1)) {
        self.host = host
        self.port = port
        self.timeout = timeout
        self.retryInterval = retryInterval
        slots = (0..<max(1, size)).map { _ in Slot() }
    }

    /// Runs `body` with a connection that no other thread uses meanwhile. A connection that
    /// `body` leaves broken is dropped (the next call opens a new one).
    public func withConnection<R: Sendable>(_ body: (RedisConnection) throws(RedisError) -> R) throws(RedisError) -> R {
        let start = next.add(1, ordering: .relaxed).oldValue & Int.max
        for k in 0..<slots.count {
            let slot = slots[(start + k) % slots.count]
            if let result = try slot.connection.withLockIfAvailable({ (c: inout RedisConnection?) throws(RedisError) -> R in
                try self.use(&c, body)
            }) {
                return result
            }
        }
        return try slots[start % slots.count].connection.withLock { (c: inout RedisConnection?) throws(RedisError) -> R in
            try self.use(&c, body)
        }
    }

    private func use<R: Sendable>(_ slot: inout RedisConnection?, _ body: (RedisConnection) throws(RedisError) -> R) throws(RedisError) -> R {
        if slot?.isBroken == true { slot = nil }
        if slot == nil {
            if let failure = lastFailure.withLock({ $0 }), ContinuousClock.now - failure.at < retryInterval { throw failure.error }
            do {
                slot = try RedisConnection(host: host, port: port, timeout: timeout)
                lastFailure.withLock { $0 = nil }
            } catch {
                lastFailure.withLock { $0 = (ContinuousClock.now, error) }
                throw error
            }
        }
        let connection = slot!
        defer { if connection.isBroken { slot = nil } }
        return try body(connection)
    }
}
