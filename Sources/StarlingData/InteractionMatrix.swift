/// Implicit feedback as a sparse user × item matrix in compressed-row form: for each user, the
/// sorted, de-duplicated list of items they interacted with.
public struct InteractionMatrix: Sendable {
    /// The number of users (rows).
    public let userCount: Int
    /// The number of items (columns).
    public let itemCount: Int
    /// `rowStart[u] ..< rowStart[u + 1]` indexes user `u`'s items in ``itemIndices``.
    public let rowStart: [Int]
    /// All users' item lists, concatenated.
    public let itemIndices: [Int32]

    /// Builds the matrix from (user, item) pairs; duplicates are merged.
    public init(userCount: Int, itemCount: Int, pairs: [(user: Int32, item: Int32)]) {
        precondition(pairs.allSatisfy { Int($0.user) < userCount && Int($0.item) < itemCount && $0.user >= 0 && $0.item >= 0 },
                     "InteractionMatrix: a pair lies outside \(userCount) users × \(itemCount) items")
        var counts = [Int](repeating: 0, count: userCount + 1)
        for p in pairs { counts[Int(p.user) + 1] += 1 }
        for u in 0..<userCount { counts[u + 1] += counts[u] }
        var fill = counts
        var items = [Int32](repeating: 0, count: pairs.count)
        for p in pairs { items[fill[Int(p.user)]] = p.item; fill[Int(p.user)] += 1 }
        // Sort and de-duplicate each row.
        var start = [0]
        start.reserveCapacity(userCount + 1)
        var out: [Int32] = []
        out.reserveCapacity(items.count)
        for u in 0..<userCount {
            var row = Array(items[counts[u]..<counts[u + 1]])
            row.sort()
            var previous: Int32 = -1
            for i in row where i != previous { out.append(i); previous = i }
            start.append(out.count)
        }
        self.userCount = userCount
        self.itemCount = itemCount
        self.rowStart = start
        self.itemIndices = out
    }

    /// The number of stored interactions.
    public var count: Int { itemIndices.count }

    /// User `u`'s items, sorted.
    @inlinable
    public func items(of user: Int) -> ArraySlice<Int32> { itemIndices[rowStart[user]..<rowStart[user + 1]] }

    /// Whether user `u` interacted with `item` (binary search).
    @inlinable
    public func contains(user: Int, item: Int32) -> Bool {
        var lo = rowStart[user], hi = rowStart[user + 1]
        while lo < hi {
            let mid = (lo + hi) >> 1
            let v = itemIndices[mid]
            if v == item { return true }
            if v < item { lo = mid + 1 } else { hi = mid }
        }
        return false
    }

    /// How many users interacted with each item.
    public var itemPopularity: [Int] {
        var counts = [Int](repeating: 0, count: itemCount)
        for i in itemIndices { counts[Int(i)] += 1 }
        return counts
    }

    /// All (user, item) pairs in row order.
    public var pairs: [(user: Int32, item: Int32)] {
        var out: [(user: Int32, item: Int32)] = []
        out.reserveCapacity(count)
        for u in 0..<userCount { for i in items(of: u) { out.append((Int32(u), i)) } }
        return out
    }
}
