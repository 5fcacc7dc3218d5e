import StarlingStream
import Synchronization

/// Online click-through per model version: which recommendations each user was last shown, by
/// which version, and the clicks on them.
///
/// A click on an item of the user's latest list, within `windowMs` of it being served, counts for
/// the version that served that list (once per shown item). Only the latest list per user is
/// kept: a click on an item of an older list is not attributed. Kept in shards with a lock each.
public final class ImpressionLedger: Sendable {
    /// Impressions and clicks of one model version.
    public struct Counts: Sendable, Equatable, Codable {
        public var impressions = 0
        public var clicks = 0
        public var purchases = 0

        public init(impressions: Int = 0, clicks: Int = 0, purchases: Int = 0) {
            self.impressions = impressions
            self.clicks = clicks
            self.purchases = purchases
        }

        /// clicks / impressions (0 without impressions).
        public var ctr: Double { impressions > 0 ? Double(clicks) / Double(impressions) : 0 }
    }

    private struct Shown {
        var items: [String]
        var clicked: [Bool]
        var version: Int
        var atMs: Int64
    }

    /// How long after serving a click is attributed.
    public let windowMs: Int64
    private let lists: ShardedDictionary<Shown>
    private let counts = Mutex<[Int: Counts]>([:])

    public init(windowMs: Int64 = 600_000, shardCount: Int = 32) {
        self.windowMs = windowMs
        lists = ShardedDictionary(shardCount: shardCount)
    }

    /// Records that `version` served `items` to `user` at `nowMs`.
    public func served(user: String, items: [String], version: Int, nowMs: Int64) {
        guard !items.isEmpty else { return }
        lists.withLock(user) { $0[user] = Shown(items: items, clicked: Array(repeating: false, count: items.count), version: version, atMs: nowMs) }
        counts.withLock { $0[version, default: Counts()].impressions += items.count }
    }

    /// Attributes a click (or purchase) of `user` on `item` at `nowMs`; returns the version it
    /// counted for, if any.
    @discardableResult
    public func clicked(user: String, item: String, isPurchase: Bool, nowMs: Int64) -> Int? {
        let version: Int? = lists.withLock(user) { lists in
            guard var shown = lists[user], nowMs - shown.atMs <= windowMs, let k = shown.items.firstIndex(of: item) else { return nil }
            if isPurchase { return shown.version }
            guard !shown.clicked[k] else { return nil }
            shown.clicked[k] = true
            lists[user] = shown
            return shown.version
        }
        guard let version else { return nil }
        counts.withLock { c in
            if isPurchase { c[version, default: Counts()].purchases += 1 } else { c[version, default: Counts()].clicks += 1 }
        }
        return version
    }

    /// Counts of `version` so far.
    public func counts(version: Int) -> Counts { counts.withLock { $0[version] ?? Counts() } }

    /// Counts of every version that served something.
    public var all: [Int: Counts] { counts.withLock { $0 } }

    /// Forgets lists served before `nowMs − windowMs`; returns how many.
    @discardableResult
    public func expire(nowMs: Int64) -> Int {
        lists.removeAll { nowMs - $1.atMs > windowMs }.count
    }
}
