import Foundation
import StarlingData
import StarlingStream
import StarlingTensor
import Testing

@Suite("Streaming features over sliding windows")
struct StreamingFeatureTests {
    static func event(_ user: String, _ item: String, _ type: EventType = .click, value: Float = 1, at t: Int64) -> LoggedEvent {
        LoggedEvent(user: user, item: item, type: type, value: value, timestamp: t)
    }

    @Test("a window's value lies between the exact counts over W − W/buckets and W, and equals the bucket-level count")
    func slidingWindowAgainstBruteForce() throws {
        let window: Int64 = 300_000, buckets = 60, bucketMs = window / Int64(buckets)
        let store = try InMemoryFeatureStore(definitions: [FeatureDefinition(name: "clicks_5m", entity: .user, eventType: .click, windowMs: window)],
                                             buckets: buckets)
        var rng = RandomGenerator(seed: 5)
        var times: [Int64] = []
        var clock: Int64 = 1_700_000_000_000
        for _ in 0..<20_000 {
            clock += Int64(rng.nextInt(below: 200))
            // Out of order by up to 2 minutes, always inside the newest event's window.
            let t = clock - Int64(rng.nextInt(below: 120_000))
            times.append(t)
            store.record([Self.event("u", "i\(rng.nextInt(below: 50))", at: t)], categories: { _ in [] })
            // Views are not clicks: they must not count.
            if rng.nextInt(below: 4) == 0 { store.record([Self.event("u", "i", .view, at: t)], categories: { _ in [] }) }
            if times.count % 997 == 0 {
                let now = clock + Int64(rng.nextInt(below: 400_000))
                let v = Int(store.values(entity: .user, key: "u", atMs: now)["clicks_5m"] ?? -1)
                let lower = times.filter { $0 > now - window + bucketMs && $0 <= now }.count
                let upper = times.filter { $0 > now - window && $0 <= now }.count
                let tb = now / bucketMs
                let exact = times.filter { $0 / bucketMs > tb - Int64(buckets) && $0 / bucketMs <= tb }.count
                #expect(lower <= v && v <= upper && v == exact, "at \(now): \(v) not in [\(lower), \(upper)] or ≠ \(exact)")
            }
        }
        #expect(store.lateEvents == 0)
    }

    @Test("sums, categories, unknown keys, late events and expiry")
    func entitiesAndLifecycle() throws {
        let store = try InMemoryFeatureStore(definitions: [
            FeatureDefinition(name: "spend_1h", entity: .user, eventType: .purchase, aggregation: .sum, windowMs: 3_600_000),
            FeatureDefinition(name: "category_events_1h", entity: .category, windowMs: 3_600_000),
            FeatureDefinition(name: "item_events_1m", entity: .item, windowMs: 60_000),
        ], buckets: 60)
        let categories = ["a": ["Drama", "Crime"], "b": ["Drama"]]
        let t0: Int64 = 10_000_000
        store.record([Self.event("u", "a", .purchase, value: 12.5, at: t0), Self.event("u", "b", .purchase, value: 3, at: t0 + 1000),
                      Self.event("v", "b", .view, at: t0 + 2000)], categories: { categories[$0] ?? [] })
        #expect(store.values(entity: .user, key: "u", atMs: t0 + 5000)["spend_1h"] == 15.5)
        #expect(store.values(entity: .user, key: "v", atMs: t0 + 5000)["spend_1h"] == 0)
        #expect(store.values(entity: .category, key: "Drama", atMs: t0 + 5000)["category_events_1h"] == 3)
        #expect(store.values(entity: .category, key: "Crime", atMs: t0 + 5000)["category_events_1h"] == 1)
        #expect(store.values(entity: .item, key: "nobody", atMs: t0) == ["item_events_1m": 0])
        // An hour later the purchases have left the window.
        #expect(store.values(entity: .user, key: "u", atMs: t0 + 3_700_000)["spend_1h"] == 0)
        // An event older than the newest one's window is not counted, and is reported.
        store.record([Self.event("w", "b", at: t0 + 10_000_000), Self.event("w", "b", at: t0)], categories: { _ in [] })
        #expect(store.values(entity: .item, key: "b", atMs: t0 + 10_000_000)["item_events_1m"] == 1)
        #expect(store.lateEvents == 1)
        // Keys whose windows are all past are forgotten.
        let before = store.keyCounts
        // (Users v and w have no key: no user feature counts views or clicks.)
        #expect(before[.user] == 1 && before[.item] == 2)
        #expect(store.expire(atMs: t0 + 10_000_000 + 3_600_000) > 0)
        #expect(store.keyCounts[.user] == 0 && store.keyCounts[.item] == 0)
    }

    @Test("impressions count only for features that name them, and create no keys for entities that do not")
    func impressionsAreNotBehaviour() throws {
        let store = try InMemoryFeatureStore()
        let t: Int64 = 50_000_000
        store.record([Self.event("u", "a", .impression, at: t), Self.event("u", "a", .impression, at: t), Self.event("u", "a", .click, at: t + 1)],
                     categories: { _ in ["c"] })
        let item = store.values(entity: .item, key: "a", atMs: t + 10)
        #expect(item["item_impressions_5m"] == 2 && item["item_impressions_1d"] == 2)
        #expect(item["item_events_5m"] == 1 && item["item_clicks_5m"] == 1)
        #expect(store.values(entity: .user, key: "u", atMs: t + 10)["user_events_1h"] == 1)
        store.record([Self.event("w", "b", .impression, at: t)], categories: { _ in ["d"] })
        #expect(store.keyCounts[.user] == 1 && store.keyCounts[.category] == 1 && store.keyCounts[.item] == 2)
    }

    @Test("last-N item history per user: newest last, repeats of the newest item and impressions left out, capped, expired")
    func recentItemHistory() throws {
        let store = try InMemoryFeatureStore(historyLength: 3)
        let t: Int64 = 70_000_000
        store.record([Self.event("u", "a", .view, at: t), Self.event("u", "a", .click, at: t + 1), Self.event("u", "b", .impression, at: t + 2),
                      Self.event("u", "c", .view, at: t + 3), Self.event("v", "z", .view, at: t + 3)], categories: { _ in [] })
        #expect(store.recentItems(user: "u", limit: 10) == ["a", "c"])
        store.record([Self.event("u", "d", at: t + 4), Self.event("u", "a", at: t + 5)], categories: { _ in [] })
        #expect(store.recentItems(user: "u", limit: 10) == ["c", "d", "a"])
        #expect(store.recentItems(user: "u", limit: 2) == ["d", "a"])
        #expect(store.recentItems(user: "nobody", limit: 5) == [])
        // A day (the longest window) after their latest event a user's history is forgotten.
        store.history.expire(atMs: t + 5 + 86_400_000 - 10)
        #expect(store.history.userCount == 2)
        store.history.expire(atMs: t + 5 + 86_400_000 + 1)
        #expect(store.history.userCount == 0 && store.recentItems(user: "u", limit: 5) == [])
    }

    @Test("definitions load from JSON; bad ones are errors naming the feature and field")
    func declarativeDefinitions() throws {
        let good = #"[{"name": "item_clicks_1h", "entity": "item", "event_type": "click", "window": "1h"}, {"name": "user_spend_1d", "entity": "user", "event_type": "purchase", "aggregation": "sum", "window": "1d"}]"#
        let defs = try FeatureDefinition.load(json: Data(good.utf8))
        #expect(defs.count == 2 && defs[0].windowMs == 3_600_000 && defs[0].aggregation == .count && defs[1].aggregation == .sum)
        // Round trip through JSON.
        let again = try FeatureDefinition.load(json: try JSONEncoder().encode(defs))
        #expect(again == defs)
        let bad: [(String, String)] = [
            (#"[{"name": "x", "entity": "item"}]"#, "feature 0, field 'window' is required"),
            (#"[{"name": "x", "entity": "item", "window": "5x"}]"#, "window '5x' is not a duration"),
            (#"[{"name": "x", "entity": "shop", "window": "5m"}]"#, "feature 0, field 'entity'"),
            (#"[{"name": "x", "entity": "item", "window": "5m"}, {"name": "x", "entity": "user", "window": "1h"}]"#, "'x' is defined twice"),
            (#"[{"name": "x", "entity": "item", "window": "5m", "aggregation": "max"}]"#, "field 'aggregation'"),
            ("{", "malformed JSON"),
        ]
        for (json, fragment) in bad {
            #expect(throws: FeatureError.self) { try FeatureDefinition.load(json: Data(json.utf8)) }
            do { _ = try FeatureDefinition.load(json: Data(json.utf8)) } catch {
                #expect(error.description.contains(fragment), "\(json): \(error)")
            }
        }
        #expect(FeatureDefinition.standard.count == 21)
    }

    @Test("MovieLens-100K: item counts over 1 day match the events, at bucket precision")
    func movieLensItemCounts() throws {
        let data = try MovieLens100K.load(directory: try DataRoot.dataset("ml-100k", in: try DataRoot.resolve()).appendingPathComponent("raw"))
        let log = data.events
        let times = try #require(log.timestamps)
        let day: Int64 = 86_400_000, buckets = 24
        let store = try InMemoryFeatureStore(definitions: [FeatureDefinition(name: "item_events_1d", entity: .item, windowMs: day)], buckets: buckets)
        let order = (0..<log.count).sorted { times[$0] < times[$1] }
        let events = order.map { k in
            LoggedEvent(user: data.users.ids[Int(log.users[k])], item: data.items.ids[Int(log.items[k])], type: .rating,
                        value: log.values[k], timestamp: times[k] * 1000)
        }
        store.record(events, categories: { _ in [] })
        let end = times[order.last!] * 1000
        // The ten busiest items of the last day, checked against a count over the log.
        let bucketMs = day / Int64(buckets), tb = end / bucketMs
        var expected: [String: Int] = [:]
        for e in events where e.timestamp / bucketMs > tb - Int64(buckets) { expected[e.item, default: 0] += 1 }
        let busiest = expected.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.prefix(10)
        #expect(busiest.count == 10)
        for (item, n) in busiest {
            #expect(store.values(entity: .item, key: item, atMs: end)["item_events_1d"] == Float(n), "item \(item)")
        }
        #expect(store.lateEvents == 0 && store.keyCounts[.item] == data.itemCount)
    }
}
