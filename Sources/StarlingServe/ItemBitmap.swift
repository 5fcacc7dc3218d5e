/// One bit per engine item, for the sets a request builds and probes many times (items the user
/// saw or excluded, candidates already taken): cheaper than hashing into a `Set`. Lives for one
/// request; the search filter reads it from the same thread.
final class ItemBitmap: @unchecked Sendable {
    private let words: UnsafeMutablePointer<UInt64>
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        let n = max(1, (capacity + 63) >> 6)
        words = .allocate(capacity: n)
        words.initialize(repeating: 0, count: n)
    }

    deinit { words.deallocate() }

    @inline(__always)
    func contains(_ i: Int32) -> Bool {
        let k = Int(i)
        return k < capacity && words[k >> 6] & (1 << UInt64(k & 63)) != 0
    }

    /// Sets bit `i`; returns whether it was clear.
    @inline(__always) @discardableResult
    func insert(_ i: Int32) -> Bool {
        let k = Int(i)
        guard k < capacity else { return false }
        let mask: UInt64 = 1 << UInt64(k & 63)
        defer { words[k >> 6] |= mask }
        return words[k >> 6] & mask == 0
    }

    func insert<S: Sequence>(contentsOf items: S) where S.Element == Int32 {
        for i in items { insert(i) }
    }
}
