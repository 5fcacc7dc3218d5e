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
}

extension FeatureStore {
    public func values(entity: FeatureDefinition.Entity, keys: [String], atMs: Int64) -> [[String: Float]] {
        keys.map { values(entity: entity, key: $0, atMs: atMs) }
    }
}
