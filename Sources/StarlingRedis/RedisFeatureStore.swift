import StarlingData
import StarlingStream
import Synchronization

/// Streaming features in Redis, so that several serving replicas read and update the same values.
///
/// The same definitions and the same numbers as ``InMemoryFeatureStore`` (for the same events in
/// the same order and the same bucket count): each window is a ring of `buckets` time buckets as
/// in its `SlidingWindowSum` — an event older than the newest one's window is refused
/// (``lateEvents``), reading at time t sums the buckets of (t's bucket − buckets, t's bucket] —
/// and sums are accumulated in 32-bit floats, so values agree to the bit.
///
/// Layout: one hash per entity key, `<prefix>features:<entity>:<key>` (e.g.
/// `starling:features:user:42`), with per-bucket fields `<feature>|<slot>` (the bucket's sum) and
/// `<feature>|n` (the index of the feature's newest bucket). A small Lua script applies one key's
/// updates atomically (replicas writing the same key at once do not lose counts) and sets the
/// key's time to live (`PEXPIRE`) to its longest window plus a bucket, so keys that stop
/// receiving events vanish on their own. A ``record(_:categories:)`` call is one pipelined round
/// trip (one script call per key it touches); a ``values(entity:keys:atMs:)`` call one pipelined `HGETALL` per key.
/// Feature names are part of the stored data: when definitions change meaning (window, event type,
/// aggregation), use a new `prefix`.
///
/// Failures never crash the caller: ``FeatureStore`` lets neither call throw, so a batch whose
/// write failed is counted in ``failures`` (its events may be partly applied), a failed read
/// returns 0 for every feature and is counted in ``readFailures``, and both are passed to
/// `onError` (for the log) and kept in ``lastError``. Calls block on the network (a round trip is
/// ~40 µs on one machine); a down server fails fast (see ``RedisConnectionPool``).
public final class RedisFeatureStore: FeatureStore {
    /// The features this store maintains.
    public let definitions: [FeatureDefinition]
    /// Buckets per window (the precision of its far edge), as in ``InMemoryFeatureStore``.
    public let buckets: Int
    /// Prepended to every key, so that several services can share one Redis.
    public let prefix: String
    private let pool: RedisConnectionPool
    /// Feature indices per entity, in `definitions` order.
    private let byEntity: [FeatureDefinition.Entity: [Int]]
    /// Per entity, the event types some feature counts (no key is touched for the others).
    private let countedTypes: [FeatureDefinition.Entity: FeatureDefinition.TypeFilter]
    /// Per feature: its bucket width, the field holding its newest bucket and one field per slot.
    private let bucketMs: [Int64]
    private let newestField: [String]
    private let slotFields: [[String]]
    /// Per entity: a key's time to live after a write, in milliseconds.
    private let timeToLive: [FeatureDefinition.Entity: Int64]
    private let scriptHash = Mutex<String?>(nil)
    private let late = Atomic<Int>(0)
    private let failedEvents = Atomic<Int>(0)
    private let failedReads = Atomic<Int>(0)
    private let lastFailure = Mutex<RedisError?>(nil)
    private let onError: (@Sendable (RedisError) -> Void)?
    /// Items kept per user, and how long a user's history lives after their latest write (ms).
    public let historyLength: Int
    private let historyTimeToLive: Int64

    /// At most this many updates (feature, bucket, value) go into one script call; a key with
    /// more in one batch gets several calls, in order.
    static let updatesPerCall = 2_000

    /// A store for `definitions` in the Redis server at `host:port`, using up to `connections`
    /// connections at once. Nothing is connected until the first call (see ``ping()``).
    /// `historyLength`: items kept per user for ``recentItems(user:limit:)``.
    public init(definitions: [FeatureDefinition] = FeatureDefinition.standard, buckets: Int = 60, host: String, port: Int,
                prefix: String = "starling:", connections: Int = 4, timeout: Duration = .seconds(2), historyLength: Int = 50,
                onError: (@Sendable (RedisError) -> Void)? = nil) throws(FeatureError) {
        try FeatureDefinition.validate(definitions)
        guard buckets >= 1 && buckets <= 3600 else { throw .invalidDefinition("buckets must be 1–3600, got \(buckets)") }
        guard historyLength >= 1 else { throw .invalidDefinition("historyLength must be at least 1, got \(historyLength)") }
        self.historyLength = historyLength
        historyTimeToLive = definitions.map(\.windowMs).max() ?? 86_400_000
        self.definitions = definitions
        self.buckets = buckets
        self.prefix = prefix
        self.onError = onError
        pool = RedisConnectionPool(host: host, port: port, size: connections, timeout: timeout)
        var byEntity: [FeatureDefinition.Entity: [Int]] = [:]
        for (k, d) in definitions.enumerated() { byEntity[d.entity, default: []].append(k) }
        self.byEntity = byEntity
        countedTypes = byEntity.mapValues { features in FeatureDefinition.TypeFilter(features.map { definitions[$0] }) }
        // The bucket width of SlidingWindowSum.
        bucketMs = definitions.map { max(1, ($0.windowMs + Int64(buckets) - 1) / Int64(buckets)) }
        newestField = definitions.map { $0.name + "|n" }
        slotFields = definitions.map { d in (0..<buckets).map { "\(d.name)|\($0)" } }
        var ttl: [FeatureDefinition.Entity: Int64] = [:]
        for (k, d) in definitions.enumerated() { ttl[d.entity] = max(ttl[d.entity] ?? 0, d.windowMs + bucketMs[k]) }
        timeToLive = ttl
    }

    /// The server's `host:port`.
    public var endpoint: String { pool.endpoint }

    /// Events that arrived later than their features' windows and were not counted.
    public var lateEvents: Int { late.load(ordering: .relaxed) }
    /// Events in ``record(_:categories:)`` calls that failed (not, or only partly, recorded).
    public var failures: Int { failedEvents.load(ordering: .relaxed) }
    /// ``values(entity:key:atMs:)`` calls that failed (and answered zeros).
    public var readFailures: Int { failedReads.load(ordering: .relaxed) }
    /// The most recent failure, if any.
    public var lastError: RedisError? { lastFailure.withLock { $0 } }

    /// Checks that the server answers (`PING`).
    public func ping() throws(RedisError) {
        _ = try pool.withConnection { (c: RedisConnection) throws(RedisError) -> RedisReply in try c.command(["PING"]) }
    }

    /// The hash holding `entity`'s features for `key`.
    public func redisKey(entity: FeatureDefinition.Entity, key: String) -> String {
        "\(prefix)features:\(entity.rawValue):\(key)"
    }

    public func record(_ events: [LoggedEvent], categories: (String) -> [String]) {
        guard !events.isEmpty else { return }
        do { try recordHistory(events) } catch {
            // The server is unreachable or failing: counted once, and the features not tried.
            failedEvents.add(events.count, ordering: .relaxed)
            report(error)
            return
        }
        // Each key's updates in event order (the order decides which late events are refused).
        var keys: [(hash: String, entity: FeatureDefinition.Entity)] = []
        var updates: [String: [String]] = [:]
        func add(_ e: LoggedEvent, _ entity: FeatureDefinition.Entity, _ key: String, _ features: [Int]) {
            guard countedTypes[entity]?.counts(e.type) == true else { return }
            let hash = redisKey(entity: entity, key: key)
            var list = updates.removeValue(forKey: hash) ?? { keys.append((hash, entity)); return [] }()
            for f in features {
                let d = definitions[f]
                if !d.counts(e.type) { continue }
                let t = e.timestamp, width = bucketMs[f]
                let bucket = t >= 0 ? t / width : (t - width + 1) / width
                list += [d.name, "\(bucket)", d.aggregation == .count ? "1" : "\(Double(e.value))"]
            }
            updates[hash] = list
        }
        let user = byEntity[.user], item = byEntity[.item], category = byEntity[.category]
        for e in events {
            if let user { add(e, .user, e.user, user) }
            if let item { add(e, .item, e.item, item) }
            if let category, countedTypes[.category]?.counts(e.type) == true { for key in categories(e.item) { add(e, .category, key, category) } }
        }
        // (hash key, time to live, updates) per script call.
        var calls: [(key: String, ttl: Int64, updates: ArraySlice<String>)] = []
        for (key, entity) in keys {
            guard let list = updates[key], !list.isEmpty else { continue }
            var start = 0
            while start < list.count {
                let end = min(list.count, start + 3 * Self.updatesPerCall)
                calls.append((key, timeToLive[entity] ?? 1000, list[start..<end]))
                start = end
            }
        }
        guard !calls.isEmpty else { return }
        let buckets = "\(self.buckets)"
        do {
            let refused = try pool.withConnection { (connection: RedisConnection) throws(RedisError) -> Int in
                var hash = try self.scriptHash(connection, reload: false)
                func command(_ k: Int) -> [String] {
                    ["EVALSHA", hash, "1", calls[k].key, buckets, "\(calls[k].ttl)"] + calls[k].updates
                }
                var replies = try connection.pipeline(calls.indices.map(command))
                // The server forgot the script (SCRIPT FLUSH): those calls did nothing; load it and resend them.
                let missing = replies.indices.filter { if case let .error(m) = replies[$0] { return m.hasPrefix("NOSCRIPT") } else { return false } }
                if !missing.isEmpty {
                    hash = try self.scriptHash(connection, reload: true)
                    for (k, reply) in zip(missing, try connection.pipeline(missing.map(command))) { replies[k] = reply }
                }
                var refused = 0
                for reply in replies {
                    guard let n = try reply.checked("EVALSHA").integer else {
                        throw .unexpectedReply(command: "EVALSHA", expected: "the number of late events", got: reply.description)
                    }
                    refused += Int(n)
                }
                return refused
            }
            if refused > 0 { late.add(refused, ordering: .relaxed) }
        } catch {
            failedEvents.add(events.count, ordering: .relaxed)
            report(error)
        }
    }

    public func values(entity: FeatureDefinition.Entity, key: String, atMs t: Int64) -> [String: Float] {
        values(entity: entity, keys: [key], atMs: t).first ?? [:]
    }

    public var isInProcess: Bool { false }

    /// Keys expire by themselves (`PEXPIRE` on every write): nothing to do.
    public func expire(atMs: Int64) -> Int { 0 }

    /// The list holding `user`'s latest items.
    public func historyKey(user: String) -> String { "\(prefix)history:\(user)" }

    /// Appends each user's items of `events` (in order) to their list: one script call per user,
    /// pipelined.
    private func recordHistory(_ events: [LoggedEvent]) throws(RedisError) {
        var users: [String] = [], items: [String: [String]] = [:]
        for e in events where e.type != .impression {
            if items[e.user] == nil { users.append(e.user) }
            items[e.user, default: []].append(e.item)
        }
        guard !users.isEmpty else { return }
        let commands = users.map { u in
            ["EVAL", Self.historyScript, "1", historyKey(user: u), "\(historyLength)", "\(historyTimeToLive)"] + items[u]!
        }
        try pool.withConnection { (connection: RedisConnection) throws(RedisError) in
            for reply in try connection.pipeline(commands) { _ = try reply.checked("EVAL") }
        }
    }

    public func recentItems(user: String, limit: Int) -> [String] {
        guard limit >= 1 else { return [] }
        do throws(RedisError) {
            let reply = try pool.withConnection { (connection: RedisConnection) throws(RedisError) -> RedisReply in
                try connection.command(["LRANGE", historyKey(user: user), "\(-min(limit, historyLength))", "-1"]).checked("LRANGE")
            }
            guard let list = reply.array else { throw .unexpectedReply(command: "LRANGE", expected: "a list", got: reply.description) }
            return list.compactMap(\.string)
        } catch {
            failedReads.add(1, ordering: .relaxed)
            report(error)
            return []
        }
    }

    /// Appends items to a user's history like ``RecentItemHistory/record(_:)``. KEYS[1]: the list;
    /// ARGV[1]: the length kept; ARGV[2]: time to live (ms); then the items in order. A repeat of the
    /// newest item is not added again.
    static let historyScript = """
        local key = KEYS[1]
        local last = redis.call('LINDEX', key, -1)
        for i = 3, #ARGV do
          if ARGV[i] ~= last then
            redis.call('RPUSH', key, ARGV[i])
            last = ARGV[i]
          end
        end
        redis.call('LTRIM', key, -tonumber(ARGV[1]), -1)
        redis.call('PEXPIRE', key, ARGV[2])
        return 0
        """

    /// One pipelined round trip of `HGETALL`s, however many keys.
    public func values(entity: FeatureDefinition.Entity, keys: [String], atMs t: Int64) -> [[String: Float]] {
        guard let features = byEntity[entity] else { return keys.map { _ in [:] } }
        guard !keys.isEmpty else { return [] }
        let hashes: [[String: String]]
        do {
            hashes = try pool.withConnection { (connection: RedisConnection) throws(RedisError) -> [[String: String]] in
                try connection.pipeline(keys.map { ["HGETALL", redisKey(entity: entity, key: $0)] }).map { reply throws(RedisError) in
                    guard let flat = reply.array, flat.count % 2 == 0 else {
                        throw .unexpectedReply(command: "HGETALL", expected: "field–value pairs", got: reply.description)
                    }
                    var fields: [String: String] = [:]
                    for k in stride(from: 0, to: flat.count, by: 2) {
                        if let name = flat[k].string, let value = flat[k + 1].string { fields[name] = value }
                    }
                    return fields
                }
            }
        } catch {
            failedReads.add(1, ordering: .relaxed)
            report(error)
            let zeros = Dictionary(uniqueKeysWithValues: features.map { (definitions[$0].name, Float(0)) })
            return keys.map { _ in zeros }
        }
        return hashes.map { windowSums(features, fields: $0, atMs: t) }
    }

    /// SlidingWindowSum.value for each of `features` from one hash's fields: the buckets of
    /// (t's bucket − n, t's bucket] still in the ring, newest first.
    private func windowSums(_ features: [Int], fields: [String: String], atMs t: Int64) -> [String: Float] {
        var out: [String: Float] = [:]
        let n = Int64(buckets)
        for f in features {
            let name = definitions[f].name
            guard let newest = fields[newestField[f]].flatMap({ Int64($0) }) else { out[name] = 0; continue }
            let width = bucketMs[f]
            let tb = t >= 0 ? t / width : (t - width + 1) / width
            var sum: Float = 0
            var j = newest
            while j > newest - n {
                if j <= tb && j > tb - n {
                    let slot = Int(((j % n) + n) % n)
                    sum += Float(fields[slotFields[f][slot]].flatMap { Double($0) } ?? 0)
                }
                j -= 1
            }
            out[name] = sum
        }
        return out
    }

    /// The script's SHA-1, loaded into the server on first use (again with `reload`).
    private func scriptHash(_ connection: RedisConnection, reload: Bool) throws(RedisError) -> String {
        if !reload, let hash = scriptHash.withLock({ $0 }) { return hash }
        let reply = try connection.command(["SCRIPT", "LOAD", Self.updateScript])
        guard let hash = reply.string else { throw .unexpectedReply(command: "SCRIPT LOAD", expected: "the script's SHA-1", got: reply.description) }
        scriptHash.withLock { $0 = hash }
        return hash
    }

    private func report(_ error: RedisError) {
        lastFailure.withLock { $0 = error }
        onError?(error)
    }

    /// Applies one key's updates like `SlidingWindowSum.add`, per feature, in order. KEYS[1]: the
    /// hash; ARGV[1]: buckets per window; ARGV[2]: the key's time to live (ms); then triples of
    /// feature name, absolute bucket index and value. Returns how many updates were refused as
    /// late. Sums are rounded to 32-bit floats after each addition (`struct` packs them), as the
    /// in-process store's `Float` slots are, and stored with 17 digits (exact).
    static let updateScript = """
        local key = KEYS[1]
        local n = tonumber(ARGV[1])
        local late = 0
        for i = 3, #ARGV, 3 do
          local f = ARGV[i]
          local b = tonumber(ARGV[i + 1])
          local newestField = f .. '|n'
          local newest = tonumber(redis.call('HGET', key, newestField))
          local accept = true
          if newest == nil then
            redis.call('HSET', key, newestField, ARGV[i + 1])
          elseif b >= newest + n then
            local stale = {}
            for s = 0, n - 1 do stale[#stale + 1] = f .. '|' .. s end
            redis.call('HDEL', key, unpack(stale))
            redis.call('HSET', key, newestField, ARGV[i + 1])
          elseif b > newest then
            local stale = {}
            for j = newest + 1, b do stale[#stale + 1] = f .. '|' .. (j % n) end
            redis.call('HDEL', key, unpack(stale))
            redis.call('HSET', key, newestField, ARGV[i + 1])
          elseif b <= newest - n then
            late = late + 1
            accept = false
          end
          if accept then
            local slotField = f .. '|' .. (b % n)
            local old = tonumber(redis.call('HGET', key, slotField)) or 0
            local sum = struct.unpack('f', struct.pack('f', old + tonumber(ARGV[i + 2])))
            redis.call('HSET', key, slotField, string.format('%.17g', sum))
          end
        end
        redis.call('PEXPIRE', key, ARGV[2])
        return late
        """
}
