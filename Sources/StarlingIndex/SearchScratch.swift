import Foundation

/// A binary min-heap of (score, slot) pairs in preallocated storage. With negated scores it is
/// the best-first candidate queue of a graph search; with plain scores, the bounded result set
/// whose root is the worst kept.
struct PairHeap {
    private(set) var scores: UnsafeMutablePointer<Float>
    private(set) var slots: UnsafeMutablePointer<Int32>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(16, capacity)
        scores = .allocate(capacity: self.capacity)
        slots = .allocate(capacity: self.capacity)
    }

    func free() {
        scores.deallocate()
        slots.deallocate()
    }

    @inline(__always) mutating func removeAll() { count = 0 }
    @inline(__always) var isEmpty: Bool { count == 0 }
    @inline(__always) var topScore: Float { scores[0] }
    @inline(__always) var topSlot: Int32 { slots[0] }

    @inline(__always)
    mutating func push(_ score: Float, _ slot: Int32) {
        if count == capacity { grow() }
        var i = count
        count += 1
        while i > 0 {
            let p = (i - 1) >> 1
            let ps = scores[p]
            if ps < score || (ps == score && slots[p] > slot) { break }
            scores[i] = ps
            slots[i] = slots[p]
            i = p
        }
        scores[i] = score
        slots[i] = slot
    }

    @inline(__always)
    mutating func pop() {
        count -= 1
        guard count > 0 else { return }
        let score = scores[count], slot = slots[count]
        var i = 0
        while true {
            let l = 2 * i + 1
            if l >= count { break }
            var m = l
            let r = l + 1
            if r < count && (scores[r] < scores[l] || (scores[r] == scores[l] && slots[r] > slots[l])) { m = r }
            let ms = scores[m]
            if score < ms || (score == ms && slot > slots[m]) { break }
            scores[i] = ms
            slots[i] = slots[m]
            i = m
        }
        scores[i] = score
        slots[i] = slot
    }

    private mutating func grow() {
        let n = capacity * 2
        let s = UnsafeMutablePointer<Float>.allocate(capacity: n), t = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        s.moveInitialize(from: scores, count: count)
        t.moveInitialize(from: slots, count: count)
        scores.deallocate()
        slots.deallocate()
        scores = s
        slots = t
        capacity = n
    }
}

/// One search's working memory: visited marks by generation (no clearing between searches),
/// the candidate queue, the result set, a buffer for copying a neighbour list and one for its
/// unvisited part.
final class SearchScratch {
    /// Generation marks, one byte per slot (a million slots' marks stay in a 2 MiB L2 cache;
    /// hnswlib's 16-bit marks do not), cleared once every 255 searches.
    private(set) var visited: UnsafeMutablePointer<UInt8>
    private(set) var visitedCapacity: Int
    private(set) var generation: UInt8 = 0
    var candidates: PairHeap
    var results: PairHeap
    let neighbourBuffer: UnsafeMutablePointer<Int32>
    /// The not-yet-visited neighbours of the node being expanded.
    let unvisitedBuffer: UnsafeMutablePointer<Int32>

    init(slots: Int, maxDegree: Int) {
        visitedCapacity = max(slots, 1024)
        visited = LargeBuffer.allocate(count: visitedCapacity)
        visited.initialize(repeating: 0, count: visitedCapacity)
        candidates = PairHeap(capacity: 256)
        results = PairHeap(capacity: 256)
        neighbourBuffer = .allocate(capacity: maxDegree + 1)
        unvisitedBuffer = .allocate(capacity: maxDegree + 1)
    }

    deinit {
        LargeBuffer.free(visited)
        candidates.free()
        results.free()
        neighbourBuffer.deallocate()
        unvisitedBuffer.deallocate()
    }

    /// Starts a search over `slots` slots: a fresh generation, empty heaps.
    func begin(slots: Int) {
        if slots > visitedCapacity {
            LargeBuffer.free(visited)
            visitedCapacity = max(slots, visitedCapacity * 2)
            visited = LargeBuffer.allocate(count: visitedCapacity)
            visited.initialize(repeating: 0, count: visitedCapacity)
            generation = 0
        }
        if generation == .max {
            visited.update(repeating: 0, count: visitedCapacity)
            generation = 0
        }
        generation += 1
        candidates.removeAll()
        results.removeAll()
    }

    /// Marks `slot` visited; returns whether it already was.
    @inline(__always)
    func visit(_ slot: Int32) -> Bool {
        let p = visited + Int(slot)
        if p.pointee == generation { return true }
        p.pointee = generation
        return false
    }
}

/// Scratch objects reused across searches (one per concurrent search).
final class ScratchPool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [SearchScratch] = []
    let maxDegree: Int

    init(maxDegree: Int) { self.maxDegree = maxDegree }

    func acquire(slots: Int) -> SearchScratch {
        lock.lock()
        let s = free.popLast()
        lock.unlock()
        let scratch = s ?? SearchScratch(slots: slots, maxDegree: maxDegree)
        scratch.begin(slots: slots)
        return scratch
    }

    func release(_ s: SearchScratch) {
        lock.lock()
        free.append(s)
        lock.unlock()
    }
}
