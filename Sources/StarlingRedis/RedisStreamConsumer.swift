import StarlingStream
import Synchronization

/// Reads one Redis stream as a member of a consumer group, with at-least-once delivery.
///
/// On its first read (and after any failure) the consumer re-reads its own pending entries —
/// delivered to this consumer name before but never acknowledged, e.g. by a process that
/// crashed — (`XREADGROUP … STREAMS key 0`), then new ones (`>`, `COUNT`, `BLOCK`). Each batch goes
/// to a handler; its entries are acknowledged (`XACK`) only after the handler returns. If the
/// handler throws, nothing is acknowledged and the next batch is the same entries again. Several
/// consumers (names) in one group share the stream's entries, each entry going to one of them.
///
/// A malformed entry (see ``RedisStreamEntry`` for the fields) never reaches the handler, and an
/// entry the handler refuses (by returning it as a ``RedisDeadLetter``) is not retried: both are
/// copied to the dead-letter stream (`<key>:dead` by default) with the reason, the entry id and
/// the field at fault, acknowledged, and reported in the ``Batch``, so they never block the group.
///
/// Thread-safe; batches run one at a time (a second caller waits). Every call blocks: run the
/// consumer on a thread of its own (``RedisStreamRunner``). The connection is opened on the first
/// batch, and opened again (group re-created if it vanished) after a failure.
public final class RedisStreamConsumer: Sendable {
    /// Where to read and as whom.
    public struct Configuration: Sendable {
        /// The Redis server.
        public var host: String
        public var port: Int
        /// The stream key.
        public var key: String
        /// The consumer group (created if missing).
        public var group: String
        /// This consumer's name in the group. A restarted process must use the same name to get
        /// back the entries it had been given but not acknowledged.
        public var consumer: String
        /// The most entries per batch.
        public var count: Int
        /// How long a read waits for new entries when there are none.
        public var block: Duration
        /// Where a group created by this consumer starts: at the stream's beginning (`0`), or
        /// (false, the default) with entries added after its creation (`$`).
        public var fromBeginning: Bool
        /// The dead-letter stream.
        public var deadLetterKey: String
        /// Connect timeout, and reply timeout on top of `block`.
        public var timeout: Duration

        public init(host: String = "127.0.0.1", port: Int = 6379, key: String, group: String, consumer: String, count: Int = 100,
                    block: Duration = .seconds(1), fromBeginning: Bool = false, deadLetterKey: String? = nil, timeout: Duration = .seconds(5)) {
            self.host = host
            self.port = port
            self.key = key
            self.group = group
            self.consumer = consumer
            self.count = count
            self.block = block
            self.fromBeginning = fromBeginning
            self.deadLetterKey = deadLetterKey ?? key + ":dead"
            self.timeout = timeout
        }
    }

    /// What one ``processBatch(_:)`` did.
    public struct Batch: Sendable {
        /// The ids of the entries the handler processed, now acknowledged.
        public var processed: [String] = []
        /// Entries copied to the dead-letter stream (malformed, or refused by the handler), acknowledged.
        public var deadLetters: [RedisDeadLetter] = []
        /// Whether the entries were this consumer's pending ones (delivered before, not acknowledged).
        public var redelivered = false
        /// Pending entries that had been deleted from the stream meanwhile, acknowledged unread.
        public var deleted = 0

        /// Nothing was read (the read waited `block` without a new entry).
        public var isEmpty: Bool { processed.isEmpty && deadLetters.isEmpty && deleted == 0 }
    }

    /// Where it reads and as whom.
    public let configuration: Configuration

    private struct State {
        var connection: RedisConnection?
        /// Read this consumer's pending entries (`0`) before new ones (`>`).
        var readPending = true
    }
    private let state = Mutex(State())

    /// One raw entry of an `XREADGROUP` reply; `fields` is nil for an entry deleted since delivery.
    private struct RawEntry {
        var id: String
        var fields: [(name: [UInt8], value: [UInt8])]?
    }

    /// A consumer for `configuration` (nothing is connected until the first batch).
    public init(configuration: Configuration) throws(RedisError) {
        for (name, value) in [("stream key", configuration.key), ("group", configuration.group), ("consumer", configuration.consumer),
                              ("dead-letter key", configuration.deadLetterKey)] where value.isEmpty {
            throw .invalidArgument("Redis stream consumer: the \(name) must not be empty")
        }
        guard configuration.count >= 1 else { throw .invalidArgument("Redis stream consumer: count must be at least 1, got \(configuration.count)") }
        guard configuration.block >= .milliseconds(1) else { throw .invalidArgument("Redis stream consumer: block must be at least 1 ms") }
        guard configuration.deadLetterKey != configuration.key else {
            throw .invalidArgument("Redis stream consumer: the dead-letter key must differ from the stream key '\(configuration.key)'")
        }
        self.configuration = configuration
    }

    /// Reads the next batch (pending entries first, then new ones, waiting up to `block`), hands
    /// its well-formed entries to `handler` and acknowledges them once it returns. The handler
    /// returns the entries it refuses for good (they go to the dead-letter stream); throwing
    /// means "not processed, try again": nothing is acknowledged and the error is rethrown. Throw
    /// only for passing failures (a disk, a network): an entry that can never succeed should be
    /// refused, or it comes back forever and holds up the entries after it.
    @discardableResult
    public func processBatch(_ handler: ([RedisStreamEntry]) throws -> [RedisDeadLetter]) throws -> Batch {
        try state.withLock { (s: inout State) throws -> Batch in
            try self.process(&s, handler)
        }
    }

    private func process(_ s: inout State, _ handler: ([RedisStreamEntry]) throws -> [RedisDeadLetter]) throws -> Batch {
        do { return try readAndHandle(&s, handler) } catch {
            // Whatever failed, entries may be delivered and not acknowledged: read them again first.
            s.readPending = true
            throw error
        }
    }

    private func readAndHandle(_ s: inout State, _ handler: ([RedisStreamEntry]) throws -> [RedisDeadLetter]) throws -> Batch {
        let c = configuration
        let connection = try connect(&s)
        var batch = Batch()
        var raw: [RawEntry] = []
        do throws(RedisError) {
            if s.readPending {
                raw = try read(connection, from: "0", block: nil)
                if raw.isEmpty { s.readPending = false } else { batch.redelivered = true }
            }
            if !s.readPending { raw = try read(connection, from: ">", block: c.block) }
        } catch {
            // A group deleted meanwhile: the next batch reconnects and creates it again.
            if error.isServerError("NOGROUP") { s.connection = nil }
            throw error
        }
        if raw.isEmpty { return batch }

        var entries: [RedisStreamEntry] = []
        var fieldsById: [String: [(name: [UInt8], value: [UInt8])]] = [:]
        var deleted: [String] = []
        for r in raw {
            guard let fields = r.fields else { deleted.append(r.id); continue }
            fieldsById[r.id] = fields
            switch RedisStreamEntry.decode(id: r.id, fields: fields) {
            case let .success(entry): entries.append(entry)
            case let .failure(dead): batch.deadLetters.append(dead)
            }
        }
        // Malformed and deleted entries are settled before the handler runs: they can never succeed.
        try settle(connection, dead: batch.deadLetters, fields: fieldsById, alsoAcknowledge: deleted)
        batch.deleted = deleted.count
        guard !entries.isEmpty else { return batch }

        let refused = try handler(entries)
        let batchIds = Set(entries.map(\.id))
        let rejected = refused.filter { batchIds.contains($0.entryId) }
        let rejectedIds = Set(rejected.map(\.entryId))
        batch.processed = entries.map(\.id).filter { !rejectedIds.contains($0) }
        try settle(connection, dead: rejected, fields: fieldsById, alsoAcknowledge: batch.processed)
        batch.deadLetters += rejected
        return batch
    }

    /// The open connection, or a new one with the group created (an existing group is fine).
    private func connect(_ s: inout State) throws(RedisError) -> RedisConnection {
        if let connection = s.connection, !connection.isBroken { return connection }
        s.connection = nil
        let c = configuration
        let connection = try RedisConnection(host: c.host, port: c.port, timeout: c.timeout)
        try connection.setTimeout(c.block + c.timeout)
        do throws(RedisError) {
            try connection.command(["XGROUP", "CREATE", c.key, c.group, c.fromBeginning ? "0" : "$", "MKSTREAM"])
        } catch where error.isServerError("BUSYGROUP") {}
        s.connection = connection
        s.readPending = true
        return connection
    }

    /// `XREADGROUP` from `id` (`0`: this consumer's pending entries; `>`: new ones).
    private func read(_ connection: RedisConnection, from id: String, block: Duration?) throws(RedisError) -> [RawEntry] {
        let c = configuration
        var arguments = ["XREADGROUP", "GROUP", c.group, c.consumer, "COUNT", "\(c.count)"]
        if let block {
            let ms = block.components.seconds * 1000 + block.components.attoseconds / 1_000_000_000_000_000
            arguments += ["BLOCK", "\(max(1, ms))"]
        }
        arguments += ["STREAMS", c.key, id]
        return try Self.entries(connection.command(arguments))
    }

    /// The entries of an `XREADGROUP` reply: `[[key, [[id, [field, value, …] or nil], …]]]` or nil.
    private static func entries(_ reply: RedisReply) throws(RedisError) -> [RawEntry] {
        func bad(_ expected: String, _ got: RedisReply) -> RedisError {
            .unexpectedReply(command: "XREADGROUP", expected: expected, got: got.description)
        }
        if reply == .null { return [] }
        guard let streams = reply.array else { throw bad("an array of streams", reply) }
        var out: [RawEntry] = []
        for stream in streams {
            guard let pair = stream.array, pair.count == 2, let list = pair[1].array else { throw bad("[key, entries]", stream) }
            for item in list {
                guard let parts = item.array, parts.count == 2, let id = parts[0].string else { throw bad("[id, fields]", item) }
                if parts[1] == .null { out.append(RawEntry(id: id, fields: nil)); continue }
                guard let flat = parts[1].array, flat.count % 2 == 0 else { throw bad("field–value pairs", parts[1]) }
                var fields: [(name: [UInt8], value: [UInt8])] = []
                fields.reserveCapacity(flat.count / 2)
                for k in stride(from: 0, to: flat.count, by: 2) {
                    guard case let .bulk(name) = flat[k], case let .bulk(value) = flat[k + 1] else { throw bad("bulk strings", flat[k]) }
                    fields.append((name, value))
                }
                out.append(RawEntry(id: id, fields: fields))
            }
        }
        return out
    }

    /// Copies `dead` to the dead-letter stream, and only once every copy is stored acknowledges
    /// them and `alsoAcknowledge` (a failed copy throws and acknowledges nothing: the entries are
    /// read again). One round trip without dead letters, two with.
    private func settle(_ connection: RedisConnection, dead: [RedisDeadLetter], fields: [String: [(name: [UInt8], value: [UInt8])]],
                        alsoAcknowledge ids: [String]) throws(RedisError) {
        let c = configuration
        var commands: [[[UInt8]]] = []
        for d in dead {
            var command = ["XADD", c.deadLetterKey, "*", "reason", d.reason, "entry_id", d.entryId, "field", d.field ?? "",
                           "stream", c.key, "group", c.group, "consumer", c.consumer].map { Array($0.utf8) }
            for (name, value) in fields[d.entryId] ?? [] { command += [Array("entry.".utf8) + name, value] }
            commands.append(command)
        }
        // The copies first, checked: Redis would run an XACK pipelined after a failed XADD.
        for (command, reply) in zip(commands, try connection.pipeline(commands)) {
            _ = try reply.checked(RedisConnection.commandName(command))
        }
        let acknowledge = dead.map(\.entryId) + ids
        guard !acknowledge.isEmpty else { return }
        _ = try connection.command((["XACK", c.key, c.group] + acknowledge).map { Array($0.utf8) }).checked("XACK")
    }
}
