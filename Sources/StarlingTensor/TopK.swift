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
        var heap: [Entry] = []   // min-heap by `above` reversed: heap[0] is the worst kept
        heap.reserveCapacity(Swift.min(k, count))
        var next = excluded.startIndex
        for i in 0..<count {
            if next < excluded.endIndex {
                while next < excluded.endIndex && Int(excluded[next]) < i { next += 1 }
                if next < excluded.endIndex && Int(excluded[next]) == i { continue }
            }
            let s = scores[i]
            if s.isNaN { continue }
            let e = Entry(index: Int32(i), score: s)
            if heap.count < k {
                heap.append(e)
                siftUp(&heap, heap.count - 1)
            } else if above(e, heap[0]) {
                heap[0] = e
                siftDown(&heap, 0)
            }
        }
        heap.sort(by: above)
        return heap
    }

    /// The `k` best among the given candidate items and their scores, best first.
    public static func select(candidates: [Int32], scores: [Float], k: Int) -> [Entry] {
        precondition(candidates.count == scores.count, "TopK.select: \(candidates.count) candidates, \(scores.count) scores")
        let entries = zip(candidates, scores).filter { !$0.1.isNaN }.map { Entry(index: $0.0, score: $0.1) }
        return Array(entries.sorted(by: above).prefix(k))
    }

    // The heap keeps the *worst* kept entry at the root.
    @inline(__always)
    static func worse(_ a: Entry, _ b: Entry) -> Bool { above(b, a) }

    static func siftUp(_ h: inout [Entry], _ start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            guard worse(h[i], h[parent]) else { return }
            h.swapAt(i, parent)
            i = parent
        }
    }

    static func siftDown(_ h: inout [Entry], _ start: Int) {
        var i = start
        let n = h.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < n && worse(h[l], h[m]) { m = l }
            if r < n && worse(h[r], h[m]) { m = r }
            if m == i { return }
            h.swapAt(i, m)
            i = m
        }
    }
}
