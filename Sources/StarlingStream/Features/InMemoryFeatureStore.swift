import StarlingData
import Synchronization

/// Streaming features in this process: per entity key, one ``SlidingWindowSum`` per feature of
/// that entity, in a ``ShardedDictionary`` per entity so that ingestion and requests for
/// different keys rarely wait on each other.
public final class InMemoryFeatureStore: FeatureStore {
    public let definitions: [FeatureDefinition]
    /// Feature indices per entity, in `definitions` order.
    private let byEntity: [FeatureDefinition.Entity: [Int]]
    private let buckets: Int
    private let windows: [FeatureDefinition.Entity: ShardedDictionary<[SlidingWindowSum]>]
    /// Per entity, the event types some feature counts.
    private let countedTypes: [FeatureDefinition.Entity: FeatureDefinition.TypeFilter]
    private let late = Atomic<Int>(0)
    /// Each user's latest items.
    public let history: RecentItemHistory

    /// A store for `definitions`; each window is kept in `buckets` buckets (the precision of its far edge).
    /// `historyLength`: items kept per user for ``recentItems(user:limit:)`` (for as long as the
    /// longest window after the user's latest event).
    public init(definitions: [FeatureDefinition] = FeatureDefinition.standard, buckets: Int = 60, shardCount: Int = 32,
                historyLength: Int = 50) throws(FeatureError) {
        try FeatureDefinition.validate(definitions)
        guard buckets >= 1 && buckets <= 3600 else { throw .invalidDefinition("buckets must be 1–3600, got \(buckets)") }
        self.definitions = definitions
        self.buckets = buckets
        var byEntity: [FeatureDefinition.Entity: [Int]] = [:]
        for (k, d) in definitions.enumerated() { byEntity[d.entity, default: []].append(k) }
        self.byEntity = byEntity
        windows = Dictionary(uniqueKeysWithValues: FeatureDefinition.Entity.allCases.map { ($0, ShardedDictionary(shardCount: shardCount)) })
        countedTypes = byEntity.mapValues { features in FeatureDefinition.TypeFilter(features.map { definitions[$0] }) }
        guard historyLength >= 1 else { throw .invalidDefinition("historyLength must be at least 1, got \(historyLength)") }
        history = RecentItemHistory(length: historyLength, retentionMs: definitions.map(\.windowMs).max() ?? 86_400_000, shardCount: shardCount)
    }

    public func recentItems(user: String, limit: Int) -> [String] { history.items(of: user, limit: limit) }

    public var isInProcess: Bool { true }

    /// Events that arrived later than their features' windows and were not counted.
    public var lateEvents: Int { late.load(ordering: .relaxed) }

    public func record(_ events: [LoggedEvent], categories: (String) -> [String]) {
        history.record(events)
        let user = byEntity[.user], item = byEntity[.item], category = byEntity[.category]
        for e in events {
            if let user { add(e, entity: .user, key: e.user, features: user) }
            if let item { add(e, entity: .item, key: e.item, features: item) }
            if let category, countedTypes[.category]?.counts(e.type) == true {
                for key in categories(e.item) { add(e, entity: .category, key: key, features: category) }
            }
        }
    }

    private func add(_ e: LoggedEvent, entity: FeatureDefinition.Entity, key: String, features: [Int]) {
        // No key for an entity none of whose features counts this type (e.g. users on impressions).
        guard countedTypes[entity]?.counts(e.type) == true else { return }
        let dropped = windows[entity]!.withLock(key) { map -> Int in
            // One lookup, and the windows are mutated in place in the dictionary's storage.
            Self.add(e, to: &map[key, default: features.map { SlidingWindowSum(windowMs: definitions[$0].windowMs, buckets: buckets) }],
                     features: features, definitions: definitions)
        }
        if dropped > 0 { late.add(dropped, ordering: .relaxed) }
    }

    /// Adds `e` to the windows of `features` it matches; returns how many refused it as too late.
    private static func add(_ e: LoggedEvent, to windows: inout [SlidingWindowSum], features: [Int], definitions: [FeatureDefinition]) -> Int {
        var dropped = 0
        for (slot, f) in features.enumerated() {
            let d = definitions[f]
            if !d.counts(e.type) { continue }
            if !windows[slot].add(d.aggregation == .count ? 1 : e.value, atMs: e.timestamp) { dropped += 1 }
        }
        return dropped
    }

    public func values(entity: FeatureDefinition.Entity, key: String, atMs t: Int64) -> [String: Float] {
        guard let features = byEntity[entity] else { return [:] }
        let sums = windows[entity]![key]
        var out: [String: Float] = [:]
        for (slot, f) in features.enumerated() { out[definitions[f].name] = sums?[slot].value(atMs: t) ?? 0 }
        return out
    }

    /// Forgets keys none of whose windows can count anything at `atMs` or later, and the histories
    /// of users silent for longer than the longest window; returns how many keys.
    @discardableResult
    public func expire(atMs t: Int64) -> Int {
        history.expire(atMs: t)
        return windows.values.reduce(0) { n, keys in n + keys.removeAll { $1.allSatisfy { $0.isExpired(atMs: t) } }.count }
    }

    /// How many keys each entity holds.
    public var keyCounts: [FeatureDefinition.Entity: Int] {
        windows.mapValues(\.count)
    }
}
