/// Feedback as a sparse user × item matrix in compressed-row form: for each user, the sorted,
/// de-duplicated list of items they interacted with, and optionally a value per interaction
/// (a count, a rating, a confidence).
public struct InteractionMatrix: Sendable {
    /// The number of users (rows).
    public let userCount: Int
    /// The number of items (columns).
    public let itemCount: Int
    /// `rowStart[u] ..< rowStart[u + 1]` indexes user `u`'s items in ``itemIndices``.
    public let rowStart: [Int]
    /// All users' item lists, concatenated.
    public let itemIndices: [Int32]
    /// One value per interaction, aligned with ``itemIndices``; `nil` means every value is 1.
    public let values: [Float]?

    /// How values of repeated (user, item) entries combine.
    public enum DuplicatePolicy: String, Sendable {
        /// Add them (counts of repeated events).
        case sum
        /// Keep the largest (e.g. the strongest event type).
        case max
        /// Keep the one that came last in the input (e.g. a re-rating).
        case last
    }

    /// Builds the matrix from (user, item, value) entries; repeated pairs are merged by `duplicates`.
    public init(userCount: Int, itemCount: Int, entries: [(user: Int32, item: Int32, value: Float)],
                duplicates: DuplicatePolicy = .sum) {
        precondition(entries.allSatisfy { Int($0.user) < userCount && Int($0.item) < itemCount && $0.user >= 0 && $0.item >= 0 },
                     "InteractionMatrix: an entry lies outside \(userCount) users × \(itemCount) items")
        var counts = [Int](repeating: 0, count: userCount + 1)
        for e in entries { counts[Int(e.user) + 1] += 1 }
        for u in 0..<userCount { counts[u + 1] += counts[u] }
        var fill = counts
        // (item, input position) per row slot, so "last" can see input order.
        var slots = [(item: Int32, position: Int)](repeating: (0, 0), count: entries.count)
        for (k, e) in entries.enumerated() { slots[fill[Int(e.user)]] = (e.item, k); fill[Int(e.user)] += 1 }
        var start = [0]
        start.reserveCapacity(userCount + 1)
        var items: [Int32] = [], vals: [Float] = []
        items.reserveCapacity(entries.count)
        vals.reserveCapacity(entries.count)
        for u in 0..<userCount {
            var row = Array(slots[counts[u]..<counts[u + 1]])
            row.sort { $0.item != $1.item ? $0.item < $1.item : $0.position < $1.position }
            for r in row {
                let v = entries[r.position].value
                if items.count > start[u], items[items.count - 1] == r.item {
                    switch duplicates {
                    case .sum: vals[vals.count - 1] += v
                    case .max: vals[vals.count - 1] = Swift.max(vals[vals.count - 1], v)
                    case .last: vals[vals.count - 1] = v
                    }
                } else {
                    items.append(r.item)
                    vals.append(v)
                }
            }
            start.append(items.count)
        }
        self.userCount = userCount
        self.itemCount = itemCount
        self.rowStart = start
        self.itemIndices = items
        self.values = vals
    }

    /// A matrix from its compressed rows (checked).
    public init(userCount: Int, itemCount: Int, rowStart: [Int], itemIndices: [Int32], values: [Float]?) {
        precondition(rowStart.count == userCount + 1 && rowStart.first == 0 && rowStart.last == itemIndices.count,
                     "InteractionMatrix: row starts do not fit \(userCount) rows and \(itemIndices.count) entries")
        precondition(values == nil || values!.count == itemIndices.count, "InteractionMatrix: \(values!.count) values for \(itemIndices.count) entries")
        self.userCount = userCount
        self.itemCount = itemCount
        self.rowStart = rowStart
        self.itemIndices = itemIndices
        self.values = values
    }

    /// Builds the matrix from item sequences, user `u` being `sequences[u]`; repeats are merged;
    /// every value is 1.
    public init<S: Collection>(itemCount: Int, sequences: [S]) where S.Element == Int32 {
        var pairs: [(user: Int32, item: Int32)] = []
        pairs.reserveCapacity(sequences.reduce(0) { $0 + $1.count })
        for (u, s) in sequences.enumerated() { for i in s { pairs.append((Int32(u), i)) } }
        self.init(userCount: sequences.count, itemCount: itemCount, pairs: pairs)
    }

    /// Builds the matrix from (user, item) pairs; duplicates are merged; every value is 1.
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
        self.values = nil
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

    /// User `u`'s values, aligned with ``items(of:)`` (all 1 when the matrix has no values).
    public func values(of user: Int) -> ArraySlice<Float> {
        if let values { return values[rowStart[user]..<rowStart[user + 1]] }
        return ArraySlice(repeating: 1, count: rowStart[user + 1] - rowStart[user])
    }

    /// The value of one interaction (0 when there is none).
    public func value(user: Int, item: Int32) -> Float {
        var lo = rowStart[user], hi = rowStart[user + 1]
        while lo < hi {
            let mid = (lo + hi) >> 1
            if itemIndices[mid] == item { return values?[mid] ?? 1 }
            if itemIndices[mid] < item { lo = mid + 1 } else { hi = mid }
        }
        return 0
    }

    /// The item × user matrix (each item's users, sorted), values carried along.
    public func transposed() -> InteractionMatrix {
        var counts = [Int](repeating: 0, count: itemCount + 1)
        for i in itemIndices { counts[Int(i) + 1] += 1 }
        for i in 0..<itemCount { counts[i + 1] += counts[i] }
        var fill = counts
        var users = [Int32](repeating: 0, count: count)
        var vals: [Float]? = values == nil ? nil : [Float](repeating: 0, count: count)
        // Rows are visited in user order, so each item's users come out sorted.
        for u in 0..<userCount {
            for k in rowStart[u]..<rowStart[u + 1] {
                let i = Int(itemIndices[k])
                users[fill[i]] = Int32(u)
                if let values { vals![fill[i]] = values[k] }
                fill[i] += 1
            }
        }
        return InteractionMatrix(userCount: itemCount, itemCount: userCount, rowStart: counts, itemIndices: users, values: vals)
    }

    /// The same interactions with every value replaced by `transform(value)` (e.g. ALS confidence
    /// `1 + α·r`).
    public func mappingValues(_ transform: (Float) -> Float) -> InteractionMatrix {
        let vals = (0..<count).map { transform(values?[$0] ?? 1) }
        return InteractionMatrix(userCount: userCount, itemCount: itemCount, rowStart: rowStart, itemIndices: itemIndices, values: vals)
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
