import StarlingData

/// Where streaming features live: events go in as they are stored, values come out at request
/// time. Implementations: ``InMemoryFeatureStore`` (one process) and `RedisFeatureStore` (in
/// `StarlingRedis`), which several serving replicas share.
public protocol FeatureStore: Sendable {
    /// The features this store maintains.
    var definitions: [FeatureDefinition] { get }
    /// Applies events (each once); `categories` gives an item's categories for category features.
    func record(_ events: [LoggedEvent], categories: (String) -> [String])
    /// The value of every feature of `entity` for `key` over windows ending at `atMs`.
    func values(entity: FeatureDefinition.Entity, key: String, atMs: Int64) -> [String: Float]
    /// ``values(entity:key:atMs:)`` for several keys at once (one round trip for a remote store).
    func values(entity: FeatureDefinition.Entity, keys: [String], atMs: Int64) -> [[String: Float]]
    /// The items of `user`'s latest events, oldest first, at most `limit` (and at most the store's
    /// history length): a repeat of the newest item is not added again, impressions are not
    /// history (see ``RecentItemHistory``).
    func recentItems(user: String, limit: Int) -> [String]
    /// Whether the store lives in this process: rebuilt from the event log at start, expired by
    /// its owner, and cheap enough to read on a request thread. A shared store (Redis) keeps its
    /// own counts across restarts, expires its own keys, and blocks on the network.
    var isInProcess: Bool { get }
    /// Forgets what can no longer count at `atMs` or later; returns how many keys (0 for a store
    /// that expires its keys itself).
    @discardableResult
    func expire(atMs: Int64) -> Int
}

extension FeatureStore {
    public func values(entity: FeatureDefinition.Entity, keys: [String], atMs: Int64) -> [[String: Float]] {
        keys.map { values(entity: entity, key: $0, atMs: atMs) }
    }
}
