import Foundation
import StarlingTensor

/// Approximate search by multi-table random-hyperplane LSH (SimHash, Charikar 2002) with
/// query-directed multi-probe (Lv et al. 2007), every candidate re-ranked exactly.
///
/// **Hashing.** Each of `tables` tables has `bitsPerTable` Gaussian hyperplanes; a vector's key in a
/// table is the sign pattern of its projections (bit `b` set when projection `b` is positive). Two
/// vectors at angle θ agree on a bit with probability 1 − θ/π, so close vectors by cosine share
/// buckets.
///
/// **Inner product** is reduced to cosine with simple-LSH (Neyshabur & Srebro 2015): a stored vector
/// `x` is hashed as `[x, √(M² − ‖x‖²)]` and a query `q` as `[q, 0]`, where `M` is the *hash norm*
/// (``hashNorm``, the largest stored norm when the vectors were hashed). Every augmented stored vector
/// then has norm `M`, so its angle with the query decreases as `qᵀx` grows. Later vectors with a
/// larger norm are handled as follows, under the write lock:
/// - the first vectors added to an empty index set `M` to their largest norm;
/// - a vector (or a batch of ``add(ids:vectors:)``) whose norm exceeds `M` by more than 10% sets
///   `M` to that norm and **re-hashes every live vector** before it is added (O(n), but at most
///   log₁.₁(largest norm / first norm) times over the life of the index);
/// - a vector whose norm is above `M` by at most 10% is hashed with its tail **clamped to 0**: it is
///   hashed exactly as if `M` were its own norm, while the vectors hashed before keep their slightly
///   long tails. The error is small, and ``rehash()`` removes it (and shrinks `M` after the largest
///   vectors were removed).
/// Bulk loads through ``add(ids:vectors:)`` look at the whole batch first, so they hash once.
///
/// **Search.** In each table the query's own bucket is visited, then `probes` more buckets: the
/// sets of flipped bits with the smallest sum of squared projections (the bits whose projections
/// are closest to zero first), generated in order with Lv et al.'s shift/expand heap. Candidates
/// from all probed buckets are de-duplicated with a bitset over slots, filtered, and scored exactly
/// against the stored float rows into a bounded heap. Removed slots are taken out of their buckets
/// (and checked against the live flags). A search costs `tables·bitsPerTable` projections plus
/// one exact dot product per distinct candidate; ``candidateCount(for:probes:)`` tells how many.
///
/// **Updates.** Re-adding an id moves it to a new slot and takes its old slot out of its buckets;
/// the store keeps the dead row (no compaction), as for the other indexes.
///
/// **Files.** ``save(to:)`` writes the store's slots, the hyperplanes (`[tables·bitsPerTable, d + 1]`,
/// the last column multiplying the simple-LSH tail), every slot's keys (`[slots, tables]`) and the
/// hash norm, so ``load(from:)`` rebuilds the same buckets without re-hashing and gives identical
/// results, even if the random generator behind the seed changes.
public final class LSHIndex: VectorIndex, @unchecked Sendable {
    /// The shape of the hash tables and the search effort.
    public struct Configuration: Codable, Sendable, Equatable {
        /// Independent hash tables; more tables raise recall and memory.
        public var tables: Int
        /// Hyperplanes (key bits) per table, 1 to 32; more bits give smaller buckets.
        public var bitsPerTable: Int
        /// Buckets visited per table besides the query's own (multi-probe), 0 or more.
        public var probes: Int
        /// Seeds the hyperplanes.
        public var seed: UInt64

        public init(tables: Int = 8, bitsPerTable: Int = 14, probes: Int = 16, seed: UInt64 = 42) {
            self.tables = tables
            self.bitsPerTable = bitsPerTable
            self.probes = probes
            self.seed = seed
        }
    }

    public let dimension: Int
    public let metric: SimilarityMetric
    public let configuration: Configuration
    let store: VectorStore
    private let lock = ReadWriteLock()
    /// `tables·bitsPerTable` hyperplanes of `dimension + 1` coefficients (the last one multiplies the
    /// simple-LSH tail, which is 0 for queries and for cosine).
    private let planes: UnsafeMutablePointer<Float>
    private var planeCount: Int { configuration.tables * configuration.bitsPerTable }
    /// The key of slot `s` in table `t` at `s · tables + t` (dead slots keep their last keys).
    private var slotKeys: [UInt32] = []
    /// Per table, the live slots of each non-empty bucket.
    private var buckets: [[UInt32: [Int32]]]
    private var norm: Float = 0
    /// A new vector's norm may exceed the hash norm by this factor before everything is re-hashed.
    static let rehashGrowth: Float = 1.1

    /// An empty index; throws when the dimension or the configuration is out of range.
    public init(dimension: Int, metric: SimilarityMetric = .innerProduct, configuration: Configuration = Configuration()) throws(IndexError) {
        guard dimension > 0 else { throw .invalidArgument("LSHIndex: dimension must be positive, got \(dimension)") }
        guard configuration.tables > 0 else { throw .invalidArgument("LSHIndex: tables must be positive, got \(configuration.tables)") }
        guard (1...32).contains(configuration.bitsPerTable) else {
            throw .invalidArgument("LSHIndex: bitsPerTable must be in 1...32, got \(configuration.bitsPerTable)")
        }
        guard configuration.probes >= 0 else { throw .invalidArgument("LSHIndex: probes must be 0 or more, got \(configuration.probes)") }
        self.dimension = dimension
        self.metric = metric
        self.configuration = configuration
        store = VectorStore(dimension: dimension, metric: metric)
        buckets = Array(repeating: [:], count: configuration.tables)
        let total = configuration.tables * configuration.bitsPerTable * (dimension + 1)
        planes = .allocate(capacity: total)
        var rng = RandomGenerator(seed: configuration.seed)
        for i in 0..<total { planes[i] = rng.nextNormal() }
    }

    deinit { planes.deallocate() }

    public var count: Int { lock.reading { store.liveCount } }

    /// The `M` of the simple-LSH reduction (0 for cosine and for an empty index).
    public var hashNorm: Float { lock.reading { norm } }

    /// The store's bytes, the hyperplanes, the slots' keys and the buckets (each dictionary entry as
    /// key + array reference + a control byte, each bucket array as a 32-byte header + its capacity).
    public var memoryBytes: Int {
        lock.reading {
            var b = store.memoryBytes + planeCount * (dimension + 1) * 4 + slotKeys.capacity * 4
            for table in buckets {
                b += table.capacity * 13
                for list in table.values { b += 32 + list.capacity * 4 }
            }
            return b
        }
    }

    public func add(id: Int32, vector: [Float]) throws(IndexError) {
        try IndexSupport.check(vector, dimension: dimension, context: "LSHIndex.add(id: \(id))")
        let v = store.prepared(vector)
        lock.writing { appendLocked(ids: [id], rows: v) }
    }

    /// Adds many vectors at once (row `r` under `ids[r]`), choosing the hash norm from the whole batch.
    public func add(ids: [Int32], vectors: Tensor) throws(IndexError) {
        guard vectors.rank == 2, vectors.shape[1] == dimension else {
            throw .dimensionMismatch(expected: dimension, got: vectors.rank == 2 ? vectors.shape[1] : -1, context: "LSHIndex.add(ids:vectors:)")
        }
        guard ids.count == vectors.shape[0] else { throw .invalidArgument("LSHIndex.add(ids:vectors:): \(ids.count) ids for \(vectors.shape[0]) vectors") }
        let d = dimension
        var rows = vectors.scalars
        guard rows.allSatisfy(\.isFinite) else { throw .invalidArgument("LSHIndex.add(ids:vectors:): a vector has a NaN or infinite component") }
        if metric == .cosine {
            for r in 0..<ids.count { rows.replaceSubrange((r * d)..<((r + 1) * d), with: IndexSupport.normalised(Array(rows[(r * d)..<((r + 1) * d)]))) }
        }
        lock.writing { appendLocked(ids: ids, rows: rows) }
    }

    @discardableResult
    public func remove(id: Int32) -> Bool {
        lock.writing {
            guard let slot = store.remove(id: id) else { return false }
            unlink(slot: Int(slot))
            return true
        }
    }

    /// Re-hashes every live vector with the hash norm set to their largest norm (inner product), e.g.
    /// after vectors were clamped (see the type's documentation) or the largest ones were removed.
    public func rehash() { lock.writing { rehashLocked(norm: maxLiveNorm()) } }

    public func search(_ query: [Float], k: Int, filter: SearchFilter?) throws(IndexError) -> [TopK.Entry] {
        try search(query, k: k, filter: filter, probes: configuration.probes)
    }

    /// ``search(_:k:filter:)`` visiting `probes` extra buckets per table instead of the configured number.
    public func search(_ query: [Float], k: Int, filter: SearchFilter?, probes: Int) throws(IndexError) -> [TopK.Entry] {
        try IndexSupport.check(query, dimension: dimension, context: "LSHIndex.search")
        guard probes >= 0 else { throw .invalidArgument("LSHIndex.search: probes must be 0 or more, got \(probes)") }
        return run(query, k: k, filter: filter, probes: probes).entries
    }

    /// How many distinct live vectors a search for `query` scores exactly (without a filter).
    public func candidateCount(for query: [Float], probes: Int? = nil) throws(IndexError) -> Int {
        try IndexSupport.check(query, dimension: dimension, context: "LSHIndex.candidateCount")
        return run(query, k: 1, filter: nil, probes: max(0, probes ?? configuration.probes)).candidates
    }

    public func save(to url: URL) throws {
        try lock.reading {
            let n = store.slotCount, tables = configuration.tables
            let keys = slotKeys.prefix(n * tables).map { Int32(bitPattern: $0) }
            let hyperplanes = try Tensor(shape: [planeCount, dimension + 1],
                                         scalars: Array(UnsafeBufferPointer(start: planes, count: planeCount * (dimension + 1))))
            try IndexFile.write(store: store, kind: "lsh", configuration: configuration,
                                extra: ["keys": .init(shape: [n, tables], values: keys)],
                                floatExtra: ["hyperplanes": hyperplanes, "hashNorm": try Tensor(shape: [1], scalars: [norm])], to: url)
        }
    }

    /// Reads an index written by ``save(to:)``.
    public static func load(from url: URL) throws -> LSHIndex {
        let file = try IndexFile.read(url, kind: "lsh")
        let index = try LSHIndex(dimension: file.dimension, metric: file.metric, configuration: try file.configuration(Configuration.self))
        try file.restore(into: index.store)
        let n = index.store.slotCount, tables = index.configuration.tables, bits = index.configuration.bitsPerTable
        guard let hyperplanes = file.file.tensors["hyperplanes"], hyperplanes.shape == [index.planeCount, file.dimension + 1] else {
            throw IndexError.badFile(path: url.path, reason: "missing hyperplanes of shape [\(index.planeCount), \(file.dimension + 1)]")
        }
        guard let hashNorm = file.file.tensors["hashNorm"], hashNorm.count == 1, hashNorm.scalars[0].isFinite, hashNorm.scalars[0] >= 0 else {
            throw IndexError.badFile(path: url.path, reason: "missing or bad hashNorm")
        }
        let keys = try file.integers("keys", count: n * tables).map { UInt32(bitPattern: $0) }
        if bits < 32, let bad = keys.first(where: { $0 >> UInt32(bits) != 0 }) {
            throw IndexError.badFile(path: url.path, reason: "bucket key \(bad) does not fit in \(bits) bits")
        }
        hyperplanes.scalars.withUnsafeBufferPointer { index.planes.update(from: $0.baseAddress!, count: $0.count) }
        index.norm = hashNorm.scalars[0]
        index.slotKeys = keys
        for s in 0..<n where index.store.live[s] {
            for t in 0..<tables { index.buckets[t][keys[s * tables + t], default: []].append(Int32(s)) }
        }
        return index
    }

    // MARK: - Hashing (callers hold the write lock)

    /// Appends the rows of `rows` (already prepared) under `ids`, first re-hashing everything when
    /// they raise the hash norm by more than ``rehashGrowth``.
    private func appendLocked(ids: [Int32], rows: [Float]) {
        let d = dimension
        if metric == .innerProduct {
            var largest: Float = 0
            rows.withUnsafeBufferPointer { p in
                for r in 0..<ids.count { largest = max(largest, VectorKernels.dot(p.baseAddress! + r * d, p.baseAddress! + r * d, d).squareRoot()) }
            }
            if store.liveCount == 0 {
                norm = largest
            } else if largest > norm * Self.rehashGrowth {
                rehashLocked(norm: max(largest, maxLiveNorm()))
            }
        }
        store.reserve(store.slotCount + ids.count)
        slotKeys.reserveCapacity((store.slotCount + ids.count) * configuration.tables)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: configuration.bitsPerTable)
        defer { scratch.deallocate() }
        for (r, id) in ids.enumerated() {
            let (slot, replaced) = store.append(id: id, vector: Array(rows[(r * d)..<((r + 1) * d)]))
            if let replaced { unlink(slot: Int(replaced)) }
            slotKeys.append(contentsOf: repeatElement(0, count: configuration.tables))
            link(slot: Int(slot), scratch: scratch)
        }
    }

    /// Sets the hash norm and puts every live slot back in the buckets of its new keys.
    private func rehashLocked(norm newNorm: Float) {
        norm = metric == .innerProduct ? newNorm : 0
        for t in buckets.indices { buckets[t].removeAll(keepingCapacity: true) }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: configuration.bitsPerTable)
        defer { scratch.deallocate() }
        for s in 0..<store.slotCount where store.live[s] { link(slot: s, scratch: scratch) }
    }

    private func maxLiveNorm() -> Float {
        var m: Float = 0
        for s in 0..<store.slotCount where store.live[s] { m = max(m, VectorKernels.dot(store.row(s), store.row(s), dimension)) }
        return m.squareRoot()
    }

    /// Hashes slot `s` into every table (its `slotKeys` entries must exist).
    private func link(slot s: Int, scratch: UnsafeMutablePointer<Float>) {
        let x = store.row(s), tables = configuration.tables
        // Clamped to 0 when the vector is longer than the hash norm (see the type's documentation).
        let tail = metric == .innerProduct ? max(0, norm * norm - VectorKernels.dot(x, x, dimension)).squareRoot() : 0
        for t in 0..<tables {
            let key = project(x, tail: tail, table: t, into: scratch)
            slotKeys[s * tables + t] = key
            buckets[t][key, default: []].append(Int32(s))
        }
    }

    /// Takes slot `s` out of its buckets.
    private func unlink(slot s: Int) {
        let tables = configuration.tables
        for t in 0..<tables {
            let key = slotKeys[s * tables + t]
            guard let i = buckets[t][key]?.firstIndex(of: Int32(s)) else { continue }
            if buckets[t][key]!.count == 1 {
                buckets[t][key] = nil
            } else {
                buckets[t][key]!.swapAt(i, buckets[t][key]!.count - 1)
                buckets[t][key]!.removeLast()
            }
        }
    }

    /// Writes the projections of `[x, tail]` on the hyperplanes of `table` to `out` and returns its key.
    @inline(__always)
    private func project(_ x: UnsafePointer<Float>, tail: Float, table t: Int, into out: UnsafeMutablePointer<Float>) -> UInt32 {
        let d = dimension, bits = configuration.bitsPerTable
        var key: UInt32 = 0
        for b in 0..<bits {
            let h = planes + (t * bits + b) * (d + 1)
            let v = VectorKernels.dot(h, x, d) + h[d] * tail
            out[b] = v
            if v > 0 { key |= 1 << UInt32(b) }
        }
        return key
    }

    // MARK: - Search

    /// The best `k` ids for `query` among the probed buckets, and how many candidates were scored.
    private func run(_ query: [Float], k: Int, filter: SearchFilter?, probes: Int) -> (entries: [TopK.Entry], candidates: Int) {
        let q = metric == .cosine ? IndexSupport.normalised(query) : query
        let bits = configuration.bitsPerTable
        let projections = UnsafeMutablePointer<Float>.allocate(capacity: bits)
        let order = UnsafeMutablePointer<Int>.allocate(capacity: bits)
        let weights = UnsafeMutablePointer<Float>.allocate(capacity: bits)
        defer {
            projections.deallocate()
            order.deallocate()
            weights.deallocate()
        }
        var queue = ProbeQueue(capacity: 2 * probes + 2)
        return lock.reading {
            let words = max(1, (store.slotCount + 63) >> 6)
            let seen = UnsafeMutablePointer<UInt64>.allocate(capacity: words)
            seen.initialize(repeating: 0, count: words)
            defer { seen.deallocate() }
            var heap = TopK.Heap(k: k), candidates = 0
            q.withUnsafeBufferPointer { qb in
                let qp = qb.baseAddress!
                for t in 0..<configuration.tables {
                    let home = project(qp, tail: 0, table: t, into: projections)
                    candidates += scan(table: t, key: home, query: qp, seen: seen, filter: filter, heap: &heap)
                    guard probes > 0 else { continue }
                    // Bits by |projection|, smallest first (insertion sort: at most 32).
                    for j in 0..<bits {
                        let w = projections[j] * projections[j]
                        var i = j
                        while i > 0 && weights[i - 1] > w {
                            weights[i] = weights[i - 1]
                            order[i] = order[i - 1]
                            i -= 1
                        }
                        weights[i] = w
                        order[i] = j
                    }
                    // Flip sets as masks over sorted positions, cheapest first (Lv et al. 2007).
                    queue.reset()
                    queue.push(weights[0], 1)
                    var visited = 0
                    while visited < probes, let (score, mask) = queue.pop() {
                        var flip: UInt32 = 0, m = mask
                        while m != 0 {
                            flip |= 1 << UInt32(order[m.trailingZeroBitCount])
                            m &= m - 1
                        }
                        candidates += scan(table: t, key: home ^ flip, query: qp, seen: seen, filter: filter, heap: &heap)
                        visited += 1
                        let top = 31 - mask.leadingZeroBitCount
                        if top + 1 < bits {
                            let next = UInt32(1) << UInt32(top + 1)
                            queue.push(score - weights[top] + weights[top + 1], (mask & ~(UInt32(1) << UInt32(top))) | next)
                            queue.push(score + weights[top + 1], mask | next)
                        }
                    }
                }
            }
            return (heap.sorted(), candidates)
        }
    }

    /// Scores the unseen live, admitted slots of one bucket into `heap`; returns how many.
    @inline(__always)
    private func scan(table t: Int, key: UInt32, query: UnsafePointer<Float>, seen: UnsafeMutablePointer<UInt64>,
                      filter: SearchFilter?, heap: inout TopK.Heap) -> Int {
        guard let bucket = buckets[t][key] else { return 0 }
        let d = dimension
        var scored = 0
        for s in bucket {
            let slot = Int(s), word = slot >> 6, bit = UInt64(1) << UInt64(slot & 63)
            if seen[word] & bit != 0 { continue }
            seen[word] |= bit
            guard store.live[slot] else { continue }
            let id = store.ids[slot]
            if let filter, !filter.admits(id) { continue }
            heap.insert(id, VectorKernels.dot(store.row(slot), query, d))
            scored += 1
        }
        return scored
    }
}

/// A small min-heap of multi-probe flip sets (score, mask over sorted bit positions).
private struct ProbeQueue {
    private var scores: [Float] = []
    private var masks: [UInt32] = []

    init(capacity: Int) {
        scores.reserveCapacity(capacity)
        masks.reserveCapacity(capacity)
    }

    mutating func reset() {
        scores.removeAll(keepingCapacity: true)
        masks.removeAll(keepingCapacity: true)
    }

    mutating func push(_ score: Float, _ mask: UInt32) {
        scores.append(score)
        masks.append(mask)
        var i = scores.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard scores[i] < scores[p] else { break }
            swap(i, p)
            i = p
        }
    }

    mutating func pop() -> (Float, UInt32)? {
        guard let first = scores.first, let mask = masks.first else { return nil }
        let last = scores.count - 1
        swap(0, last)
        scores.removeLast()
        masks.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < scores.count && scores[l] < scores[m] { m = l }
            if r < scores.count && scores[r] < scores[m] { m = r }
            if m == i { break }
            swap(i, m)
            i = m
        }
        return (first, mask)
    }

    private mutating func swap(_ i: Int, _ j: Int) {
        scores.swapAt(i, j)
        masks.swapAt(i, j)
    }
}
