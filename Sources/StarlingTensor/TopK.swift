/// Selects the largest scores without sorting everything: a bounded min-heap, O(n log k).
///
/// Ties are broken deterministically: of equal scores the lower index ranks first. NaN scores are
/// never selected.
public enum TopK {
    /// One selected entry.
    public struct Entry: Sendable, Equatable {
        public var index: Int32
        public var score: Float
        public init(index: Int32, score: Float) {
            self.index = index
            self.score = score
        }
    }

    /// Whether `a` ranks above `b`: higher score, then lower index.
    @inline(__always)
    static func above(_ a: Entry, _ b: Entry) -> Bool {
        a.score != b.score ? a.score > b.score : a.index < b.index
    }

    /// The `k` best of `scores[0..<count]`, best first, skipping the indices in `excluded`
    /// (sorted ascending, e.g. a user's training items).
    public static func select(
        _ scores: UnsafePointer<Float>, count: Int, k: Int, excluding excluded: ArraySlice<Int32> = []
    ) -> [Entry] {
        guard k > 0 && count > 0 else { return [] }
        var heap = Heap(k: Swift.min(k, count))
        var next = excluded.startIndex
        for i in 0..<count {
            if next < excluded.endIndex {
                while next < excluded.endIndex && Int(excluded[next]) < i { next += 1 }
                if next < excluded.endIndex && Int(excluded[next]) == i { continue }
            }
            heap.insert(Int32(i), scores[i])
        }
        return heap.sorted()
    }

    /// The `k` best among the given candidate items and their scores, best first.
    public static func select(candidates: [Int32], scores: [Float], k: Int) -> [Entry] {
        precondition(candidates.count == scores.count, "TopK.select: \(candidates.count) candidates, \(scores.count) scores")
        let entries = zip(candidates, scores).filter { !$0.1.isNaN }.map { Entry(index: $0.0, score: $0.1) }
        return Array(entries.sorted(by: above).prefix(k))
    }

    /// A bounded heap of the `k` best entries seen so far, worst at the root, so a candidate is
    /// rejected with one comparison against ``threshold``. Same order as ``select``: higher score,
    /// then lower index; NaN scores are never kept.
    public struct Heap: Sendable {
        @usableFromInline var entries: [Entry] = []
        public let k: Int

        public init(k: Int) {
            self.k = k
            entries.reserveCapacity(Swift.max(0, k))
        }

        /// The score a candidate must beat once the heap is full (−∞ before).
        @inlinable public var threshold: Float { entries.count < k ? -.infinity : entries[0].score }
        @inlinable public var isFull: Bool { entries.count >= k }

        @inlinable @inline(__always)
        static func worse(_ a: Entry, _ b: Entry) -> Bool { a.score != b.score ? a.score < b.score : a.index > b.index }

        /// Offers `(id, score)`.
        @inlinable
        public mutating func insert(_ id: Int32, _ score: Float) {
            guard k > 0, !score.isNaN else { return }
            let e = Entry(index: id, score: score)
            if entries.count < k {
                entries.append(e)
                var i = entries.count - 1
                while i > 0 {
                    let p = (i - 1) / 2
                    guard Self.worse(entries[i], entries[p]) else { break }
                    entries.swapAt(i, p)
                    i = p
                }
            } else if Self.worse(entries[0], e) {
                entries[0] = e
                var i = 0
                let n = entries.count
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var m = i
                    if l < n && Self.worse(entries[l], entries[m]) { m = l }
                    if r < n && Self.worse(entries[r], entries[m]) { m = r }
                    if m == i { break }
                    entries.swapAt(i, m)
                    i = m
                }
            }
        }

        /// The kept entries, best first.
        public func sorted() -> [Entry] { entries.sorted(by: TopK.above) }
    }
}
