import StarlingData

/// The last N items of each user's events, in this process: oldest first, a repeat of the
/// newest item not added again (a view, click and purchase of one item are one entry), events of
/// type ``EventType/impression`` not counted (shown lists are not behaviour). Users silent for
/// longer than `retentionMs` of event time are forgotten by ``expire(atMs:)``. Sharded, a lock each.
public final class RecentItemHistory: Sendable {
    private struct Entry {
        var items: [String]
        var latestMs: Int64
    }

    /// Items kept per user.
    public let length: Int
    /// How long after a user's latest event their history is kept.
    public let retentionMs: Int64
    private let users: ShardedDictionary<Entry>

    public init(length: Int = 50, retentionMs: Int64 = 86_400_000, shardCount: Int = 32) {
        precondition(length >= 1, "RecentItemHistory: length must be at least 1")
        self.length = length
        self.retentionMs = retentionMs
        users = ShardedDictionary(shardCount: shardCount)
    }

    /// Appends the items of `events` (in order) to their users' histories.
    public func record(_ events: [LoggedEvent]) {
        for e in events where e.type != .impression {
            users.withLock(e.user) { users in
                var entry = users[e.user] ?? Entry(items: [], latestMs: e.timestamp)
                if entry.items.last != e.item {
                    entry.items.append(e.item)
                    if entry.items.count > length { entry.items.removeFirst(entry.items.count - length) }
                }
                entry.latestMs = max(entry.latestMs, e.timestamp)
                users[e.user] = entry
            }
        }
    }

    /// The newest `limit` items of `user` (oldest first; empty for an unknown user).
    public func items(of user: String, limit: Int) -> [String] {
        users[user].map { Array($0.items.suffix(max(0, limit))) } ?? []
    }

    /// Forgets users whose latest event is more than `retentionMs` before `atMs`; returns how many.
    @discardableResult
    public func expire(atMs t: Int64) -> Int {
        users.removeAll { t - $1.latestMs > retentionMs }.count
    }

    /// Users with a history.
    public var userCount: Int { users.count }
}
