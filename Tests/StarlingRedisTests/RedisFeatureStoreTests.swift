import Foundation
import StarlingData
import StarlingRedis
import StarlingStream
import StarlingTensor
import Testing

@Suite("Streaming features in Redis")
struct RedisFeatureStoreTests {
    /// The standard counts (user, item, category × every event / clicks × 5m, 1h, 1d) and sums of
    /// purchase and rating values.
    static let definitions = FeatureDefinition.standard + [
        FeatureDefinition(name: "user_spend_1h", entity: .user, eventType: .purchase, aggregation: .sum, windowMs: 3_600_000),
        FeatureDefinition(name: "item_rating_sum_5m", entity: .item, eventType: .rating, aggregation: .sum, windowMs: 300_000),
        FeatureDefinition(name: "category_value_1d", entity: .category, aggregation: .sum, windowMs: 86_400_000),
    ]

    static func categories(_ item: String) -> [String] {
        let k = Int(item.dropFirst()) ?? 0
        return k % 4 == 0 ? [] : (0..<(k % 3 + 1)).map { "c\((k + $0 * 5) % 8)" }
    }

    @Test("the same values as the in-process store, to the bit, for the same seeded random events")
    func matchesInMemoryStore() throws {
        try RedisTestServer.with { server in
            let memory = try InMemoryFeatureStore(definitions: Self.definitions, buckets: 60)
            let redis = try RedisFeatureStore(definitions: Self.definitions, buckets: 60, host: "127.0.0.1", port: server.port)
            var rng = RandomGenerator(seed: 2024)
            let types: [EventType] = [.view, .click, .click, .purchase, .rating]
            var clock: Int64 = 1_700_000_000_000
            var checks = 0
            for round in 0..<40 {
                var batch: [LoggedEvent] = []
                for _ in 0..<(1 + rng.nextInt(below: 150)) {
                    clock += Int64(rng.nextInt(below: 20_000))
                    var t = clock - Int64(rng.nextInt(below: 200_000))  // out of order by up to 200 s
                    if rng.nextInt(below: 50) == 0 { t = clock - 3 * 86_400_000 }  // too late for every window
                    if rng.nextInt(below: 200) == 0 { clock += 2 * 86_400_000 }  // a quiet gap longer than every window
                    let type = types[rng.nextInt(below: types.count)]
                    let value: Float = type == .purchase ? rng.nextFloat() * 100 : type == .rating ? Float(1 + rng.nextInt(below: 5)) : 1
                    batch.append(LoggedEvent(user: "u\(rng.nextInt(below: 12))", item: "i\(rng.nextInt(below: 30))", type: type,
                                             value: value, timestamp: t))
                }
                memory.record(batch, categories: Self.categories)
                redis.record(batch, categories: Self.categories)
                guard round % 4 == 3 else { continue }
                for offset: Int64 in [0, 60_000, 1_800_000, 7_200_000, 90_000_000] {
                    let at = clock + offset
                    for (entity, keys) in [(FeatureDefinition.Entity.user, (0..<12).map { "u\($0)" }),
                                           (.item, (0..<30).map { "i\($0)" }), (.category, (0..<8).map { "c\($0)" })] {
                        for key in keys {
                            let expected = memory.values(entity: entity, key: key, atMs: at)
                            let got = redis.values(entity: entity, key: key, atMs: at)
                            #expect(got == expected, "\(entity) \(key) at \(at)")
                            checks += 1
                        }
                        // The batched read (one pipelined round trip) answers the same, in key order.
                        #expect(redis.values(entity: entity, keys: keys.reversed(), atMs: at) == keys.reversed().map { memory.values(entity: entity, key: $0, atMs: at) })
                    }
                }
            }
            #expect(checks == 10 * 5 * 50)
            // The last-N histories agree too (the stores keep 50 items per user).
            for u in 0..<12 {
                #expect(redis.recentItems(user: "u\(u)", limit: 20) == memory.recentItems(user: "u\(u)", limit: 20))
                #expect(redis.recentItems(user: "u\(u)", limit: 100) == memory.recentItems(user: "u\(u)", limit: 100))
            }
            #expect(memory.recentItems(user: "u0", limit: 100).count == 50)
            #expect(redis.failures == 0 && redis.readFailures == 0 && redis.lastError == nil)
            #expect(redis.lateEvents == memory.lateEvents && memory.lateEvents > 0)
            // The data is not trivial: some windows hold many events, sums are not whole numbers.
            let spend = (0..<12).map { redis.values(entity: .user, key: "u\($0)", atMs: clock)["user_spend_1h"] ?? 0 }
            #expect(spend.contains { $0 != $0.rounded() })
            #expect((0..<12).map { redis.values(entity: .user, key: "u\($0)", atMs: clock)["user_events_1d"] ?? 0 }.max()! > 20)
        }
    }

    @Test("two stores (two replicas) on one Redis see each other's counts, also when writing at once")
    func replicasShareCounts() throws {
        try RedisTestServer.with { server in
            let a = try RedisFeatureStore(host: "127.0.0.1", port: server.port, prefix: "shop:")
            let b = try RedisFeatureStore(host: "127.0.0.1", port: server.port, prefix: "shop:")
            let other = try RedisFeatureStore(host: "127.0.0.1", port: server.port, prefix: "blog:")
            let t: Int64 = 1_700_000_000_000
            a.record([LoggedEvent(user: "alice", item: "book", type: .click, timestamp: t)], categories: { _ in ["novels"] })
            b.record([LoggedEvent(user: "alice", item: "pen", type: .view, timestamp: t + 1000)], categories: { _ in [] })
            for store in [a, b] {
                let v = store.values(entity: .user, key: "alice", atMs: t + 2000)
                #expect(v["user_events_5m"] == 2 && v["user_clicks_5m"] == 1 && v["user_events_1d"] == 2)
                #expect(store.values(entity: .category, key: "novels", atMs: t + 2000)["category_events_1h"] == 1)
            }
            // Another prefix is another service's data.
            #expect(other.values(entity: .user, key: "alice", atMs: t + 2000)["user_events_5m"] == 0)

            // Both write the same keys concurrently: no count is lost.
            DispatchQueue.concurrentPerform(iterations: 2) { k in
                let store = k == 0 ? a : b
                for round in 0..<50 {
                    store.record((0..<10).map { LoggedEvent(user: "bob", item: "i\($0)", type: .click, timestamp: t + Int64(round * 10 + $0)) },
                                 categories: { _ in ["all"] })
                }
            }
            #expect(a.values(entity: .user, key: "bob", atMs: t + 1000)["user_clicks_1h"] == 1000)
            #expect(b.values(entity: .category, key: "all", atMs: t + 1000)["category_events_1d"] == 1000)
            #expect(a.failures == 0 && b.failures == 0)
        }
    }

    @Test("keys carry a time to live; the script is loaded again after SCRIPT FLUSH")
    func expiryAndScriptReload() throws {
        try RedisTestServer.with { server in
            let store = try RedisFeatureStore(host: "127.0.0.1", port: server.port)
            let t: Int64 = 1_700_000_000_000
            store.record([LoggedEvent(user: "u", item: "i", type: .click, timestamp: t)], categories: { _ in ["c"] })
            let c = try server.connect()
            let key = store.redisKey(entity: .user, key: "u")
            #expect(key == "starling:features:user:u")
            // The longest user window (1 day) plus one of its buckets (1/60 of a day).
            let ttl = try c.command(["PTTL", key]).integer ?? -1
            #expect(ttl > 86_400_000 && ttl <= 86_400_000 + 1_440_000)
            try c.command(["SCRIPT", "FLUSH"])
            store.record([LoggedEvent(user: "u", item: "i", type: .click, timestamp: t + 1)], categories: { _ in ["c"] })
            #expect(store.values(entity: .user, key: "u", atMs: t + 10)["user_clicks_5m"] == 2)
            #expect(store.failures == 0)
            // A key that expires takes its counts with it.
            try c.command(["PEXPIRE", key, "1"])
            Thread.sleep(forTimeInterval: 0.05)
            #expect(store.values(entity: .user, key: "u", atMs: t + 10)["user_clicks_5m"] == 0)
        }
    }

    @Test("an unreachable Redis is counted as failures, never thrown")
    func failuresAreCounted() throws {
        let port = try RedisTestServer.freePort()
        let reported = Locked<[String]>([])
        let store = try RedisFeatureStore(host: "127.0.0.1", port: port, timeout: .milliseconds(500),
                                          onError: { error in reported.withLock { $0.append("\(error)") } })
        store.record((0..<5).map { LoggedEvent(user: "u", item: "i\($0)", type: .click, timestamp: 1000) }, categories: { _ in [] })
        #expect(store.failures == 5)
        let values = store.values(entity: .user, key: "u", atMs: 1000)
        #expect(values.count == 6 && values.values.allSatisfy { $0 == 0 })
        #expect(store.readFailures == 1)
        guard case let .connectionFailed(endpoint, _)? = store.lastError else { Issue.record("\(String(describing: store.lastError))"); return }
        #expect(endpoint == "127.0.0.1:\(port)")
        #expect(reported.value.count == 2 && reported.value.allSatisfy { $0.contains("127.0.0.1:\(port)") })
        #expect(throws: RedisError.self) { try store.ping() }
        #expect(throws: FeatureError.self) { _ = try RedisFeatureStore(buckets: 0, host: "127.0.0.1", port: port) }
    }
}
