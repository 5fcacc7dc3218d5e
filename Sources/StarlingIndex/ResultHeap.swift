import StarlingTensor

/// A bounded heap keeping the `k` best (score, id) pairs seen, worst at the root, so a candidate
/// is rejected with one comparison. Ties: of equal scores the lower id ranks first.
struct ResultHeap {
    private(set) var entries: [TopK.Entry] = []
    let k: Int

    init(k: Int) {
        self.k = k
        entries.reserveCapacity(k)
    }

    /// The score a candidate must beat once the heap is full (−∞ before).
    @inline(__always) var threshold: Float { entries.count < k ? -.infinity : entries[0].score }
    @inline(__always) var isFull: Bool { entries.count >= k }

    @inline(__always)
    static func worse(_ a: TopK.Entry, _ b: TopK.Entry) -> Bool { a.score != b.score ? a.score < b.score : a.index > b.index }

    @inline(__always)
    mutating func insert(_ id: Int32, _ score: Float) {
        guard k > 0, !score.isNaN else { return }
        let e = TopK.Entry(index: id, score: score)
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

    /// Best first.
    func sorted() -> [TopK.Entry] { entries.sorted { Self.worse($1, $0) } }
}
