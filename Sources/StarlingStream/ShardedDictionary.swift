import Synchronization

/// A dictionary keyed by strings (users, items), split into shards with a lock each, so that
/// threads working on different keys rarely wait on each other.
public final class ShardedDictionary<Value: Sendable>: Sendable {
    private final class Shard: Sendable {
        let entries = Mutex<[String: Value]>([:])
    }

    private let shards: [Shard]

    public init(shardCount: Int = 32) {
        precondition(shardCount >= 1, "ShardedDictionary: shardCount must be at least 1")
        shards = (0..<shardCount).map { _ in Shard() }
    }

    private func shard(_ key: String) -> Shard { shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))] }

    /// Runs `body` on the shard that holds `key`, under its lock.
    public func withLock<R: Sendable>(_ key: String, _ body: (inout [String: Value]) -> R) -> R {
        shard(key).entries.withLock { body(&$0) }
    }

    /// The value of `key`, if any.
    public subscript(key: String) -> Value? { withLock(key) { $0[key] } }

    /// Removes the entries `shouldRemove` picks, one shard at a time; returns their values.
    @discardableResult
    public func removeAll(where shouldRemove: (String, Value) -> Bool) -> [Value] {
        var removed: [Value] = []
        for s in shards {
            let out: [Value] = s.entries.withLock { entries in
                let keys = entries.filter { shouldRemove($0.key, $0.value) }.map(\.key)
                return keys.compactMap { entries.removeValue(forKey: $0) }
            }
            removed += out
        }
        return removed
    }

    /// Entries in all shards.
    public var count: Int { shards.reduce(0) { n, s in n + s.entries.withLock { $0.count } } }
}
