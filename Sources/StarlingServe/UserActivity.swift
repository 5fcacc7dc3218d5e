import StarlingStream

/// What the engine knows of one user from their events: every item they interacted with, the
/// latest ones in order, and their folded-in vector for the model version that computed it.
struct UserActivity: Sendable {
    /// Items interacted with, in first-interaction order (the fold-in history).
    var history: [Int32] = []
    var seen: Set<Int32> = []
    /// The latest distinct items, most recent last, at most ``UserActivity/recentLimit``.
    var recent: [Int32] = []
    /// Bumped by every event; the cached vector is valid only for the generation it was made for.
    var generation = 0
    var vector: (modelVersion: Int, generation: Int, value: [Float])?

    static let recentLimit = 20

    mutating func record(_ item: Int32) {
        generation += 1
        if seen.insert(item).inserted { history.append(item) }
        if let i = recent.lastIndex(of: item) { recent.remove(at: i) }
        recent.append(item)
        if recent.count > Self.recentLimit { recent.removeFirst(recent.count - Self.recentLimit) }
    }
}

/// Every user's activity, in shards with a lock each, so requests for different users rarely wait.
final class UserActivityStore: Sendable {
    private let users: ShardedDictionary<UserActivity>

    init(shardCount: Int = 64) {
        users = ShardedDictionary(shardCount: shardCount)
    }

    func record(user: String, item: Int32) {
        users.withLock(user) { $0[user, default: UserActivity()].record(item) }
    }

    func activity(of user: String) -> UserActivity? { users[user] }

    /// Caches `vector` for `user` if their activity is still at `generation`.
    func cache(user: String, modelVersion: Int, generation: Int, vector: [Float]) {
        users.withLock(user) { users in
            guard users[user]?.generation == generation else { return }
            users[user]?.vector = (modelVersion, generation, vector)
        }
    }

    func remove(user: String) { users.withLock(user) { _ = $0.removeValue(forKey: user) } }

    var userCount: Int { users.count }
}
