import CIntrinsics
import Foundation
import StarlingTensor

/// Hierarchical navigable small-world graph (Malkov & Yashunin, TPAMI 2018) for maximum inner
/// product or cosine search.
///
/// Each vector gets a level `⌊−ln U · 1/ln M⌋`; on every level up to its own it is linked to at
/// most `M` neighbours (`2M` on level 0) chosen by the paper's heuristic (a candidate is kept only
/// if it is closer to the new vector than to every neighbour kept so far). A search descends
/// greedily from the top entry point and runs a best-first search with a dynamic list of `ef`
/// candidates on level 0.
///
/// - Inserts are incremental: an added vector is searchable as soon as `add` returns. Updating an
///   id stores the new vector in a fresh node; the old node and removed ids stay in the graph as
///   routing points (as in hnswlib's mark-delete) but are never returned.
/// - Bulk ``add(ids:vectors:)`` inserts on several threads with per-node spin locks.
/// - Searches take a read lock and writers a write lock, so searches run concurrently with each
///   other and never observe a half-linked node.
/// - Inner product is not a metric: linking each vector to the ones with the largest inner product
///   links everything to a few long vectors. With ``Configuration/normAugmentation`` (the default)
///   the graph is built as if every vector had an extra coordinate `√(B² − ‖x‖²)`, B the largest
///   norm seen, which makes all norms equal without changing any query's scores. B grows by 10%
///   steps when a longer vector arrives (the extras of stored vectors are then recomputed; the
///   links already made stay).
/// - With ``Configuration/quantized``, the graph is walked with int8 codes (a quarter of the float
///   bytes) and the final `ef` candidates are re-ranked with exact float scores. The floats come
///   from ``rerankSource`` when set (e.g. the model's own item factors, so they are not held
///   twice), else from a float copy the index keeps.
public final class HNSWIndex: VectorIndex, @unchecked Sendable {
    /// Graph and search parameters.
    public struct Configuration: Codable, Sendable, Equatable {
        /// Links per node on levels above 0 (`2M` on level 0).
        public var m: Int
        /// The candidate list size while inserting.
        public var efConstruction: Int
        /// The default candidate list size while searching (at least `k` is used).
        public var efSearch: Int
        /// Walk the graph with int8 codes and re-rank the final candidates with floats.
        public var quantized: Bool
        /// Seeds the levels.
        public var seed: UInt64
        /// Inner product only: build the graph on norm-equalised augmented vectors (see the type's
        /// notes). Without it, a few long vectors attract every link and recall collapses on
        /// embeddings whose norms vary (iALS item factors).
        public var normAugmentation: Bool

        public init(m: Int = 16, efConstruction: Int = 200, efSearch: Int = 64, quantized: Bool = false, seed: UInt64 = 42,
                    normAugmentation: Bool = true) {
            self.normAugmentation = normAugmentation
            self.m = m
            self.efConstruction = efConstruction
            self.efSearch = efSearch
            self.quantized = quantized
            self.seed = seed
        }

        func validate() throws(IndexError) {
            guard m >= 2, m <= 128 else { throw .invalidArgument("HNSW: M must be in 2...128, got \(m)") }
            guard efConstruction >= 1 else { throw .invalidArgument("HNSW: efConstruction must be positive, got \(efConstruction)") }
            guard efSearch >= 1 else { throw .invalidArgument("HNSW: efSearch must be positive, got \(efSearch)") }
        }
    }

    /// Supplies exact float vectors by id for re-ranking a quantised index's final candidates;
    /// writes `dimension` floats and returns `true`, or `false` for an unknown id.
    public typealias FloatSource = @Sendable (_ id: Int32, _ into: UnsafeMutablePointer<Float>) -> Bool

    public let dimension: Int
    public let metric: SimilarityMetric
    public let configuration: Configuration
    let store: VectorStore
    private let lock = ReadWriteLock()
    private let pool: ScratchPool
    private let m: Int, m0: Int
    private let levelScale: Double
    private var rng: RandomGenerator
    /// Level-0 links: per slot `[count, n_1 … n_m0]`.
    private var level0: UnsafeMutablePointer<Int32>
    /// Per slot, `level × (m + 1)` links for levels 1…level (nil for level-0 nodes).
    private var upper: UnsafeMutablePointer<UnsafeMutablePointer<Int32>?>
    private var levels: UnsafeMutablePointer<UInt8>
    private var nodeLocks: UnsafeMutablePointer<UInt8>
    /// Per slot, the augmentation coordinate (norm augmentation only).
    private var extras: UnsafeMutablePointer<Float>
    private var normBound: Float = 0
    private var augmenting: Bool { metric == .innerProduct && configuration.normAugmentation }
    private var graphCapacity = 0
    private var entryPoint: Int32 = -1
    private var maxLevel = 0
    private let entryLock = NSLock()
    private let rerankLock = NSLock()
    private var _rerankSource: FloatSource?

    /// An empty index. With `quantized` and `keepFloats: false`, set ``rerankSource`` before searching.
    public init(dimension: Int, metric: SimilarityMetric = .innerProduct, configuration: Configuration = Configuration(),
                keepFloats: Bool = true) throws(IndexError) {
        guard dimension > 0 else { throw .invalidArgument("HNSW: dimension must be positive, got \(dimension)") }
        try configuration.validate()
        self.dimension = dimension
        self.metric = metric
        self.configuration = configuration
        store = VectorStore(dimension: dimension, metric: metric, quantizer: configuration.quantized ? ScalarQuantizer() : nil,
                            keepsFloats: keepFloats, capacity: 0)
        m = configuration.m
        m0 = 2 * configuration.m
        levelScale = 1 / log(Double(configuration.m))
        rng = RandomGenerator(seed: configuration.seed)
        pool = ScratchPool(maxDegree: 2 * configuration.m)
        level0 = LargeBuffer.allocate(count: 0)
        upper = LargeBuffer.allocate(count: 0)
        levels = LargeBuffer.allocate(count: 0)
        nodeLocks = LargeBuffer.allocate(count: 0)
        extras = LargeBuffer.allocate(count: 0)
    }

    deinit {
        for s in 0..<store.slotCount { upper[s]?.deallocate() }
        LargeBuffer.free(level0)
        LargeBuffer.free(upper)
        LargeBuffer.free(levels)
        LargeBuffer.free(nodeLocks)
        LargeBuffer.free(extras)
    }

    /// Where a quantised index without its own floats reads exact vectors for re-ranking.
    public var rerankSource: FloatSource? {
        get { rerankLock.withLock { _rerankSource } }
        set { rerankLock.withLock { _rerankSource = newValue } }
    }

    public var count: Int { lock.reading { store.liveCount } }

    /// Bytes of the vectors (floats and/or codes), the graph links and the id tables.
    public var memoryBytes: Int { lock.reading { store.memoryBytes + graphBytes } }

    /// Bytes of the stored vectors alone: float rows, or int8 codes and scales.
    public var vectorBytes: Int { lock.reading { store.vectorBytes } }

    /// Bytes of the links.
    public var graphBytes: Int {
        var b = graphCapacity * ((m0 + 1) * 4 + MemoryLayout<UnsafeMutablePointer<Int32>?>.size + 2)
        for s in 0..<store.slotCount where levels[s] > 0 { b += Int(levels[s]) * (m + 1) * 4 }
        return b
    }

    // MARK: storage

    private func reserveGraph(_ n: Int) {
        guard n > graphCapacity else { return }
        let old = graphCapacity
        func grow<T>(_ p: UnsafeMutablePointer<T>, _ used: Int, _ size: Int) -> UnsafeMutablePointer<T> {
            LargeBuffer.grow(p, used: used, to: size)
        }
        level0 = grow(level0, old * (m0 + 1), n * (m0 + 1))
        upper = grow(upper, old, n)
        levels = grow(levels, old, n)
        nodeLocks = grow(nodeLocks, old, n)
        extras = grow(extras, old, n)
        (extras + old).initialize(repeating: 0, count: n - old)
        (upper + old).initialize(repeating: nil, count: n - old)
        (nodeLocks + old).initialize(repeating: 0, count: n - old)
        graphCapacity = n
    }

    private func drawLevel() -> Int {
        let u = max(Double(rng.nextFloat()), 1e-12)
        return min(Int(-log(u) * levelScale), 30)
    }

    /// Appends `vector` (prepared) for `id` in a new slot with graph storage at `level`; no links yet.
    private func allocateNode(id: Int32, vector: [Float], level: Int) -> Int32 {
        let (slot, _) = store.append(id: id, vector: vector)
        reserveGraph(store.capacity)
        let s = Int(slot)
        (level0 + s * (m0 + 1)).initialize(repeating: 0, count: m0 + 1)
        levels[s] = UInt8(level)
        if augmenting { extras[s] = extra(norm: Self.norm(vector)) }
        if level > 0 {
            let p = UnsafeMutablePointer<Int32>.allocate(capacity: level * (m + 1))
            p.initialize(repeating: 0, count: level * (m + 1))
            upper[s] = p
        }
        return slot
    }

    // MARK: norm augmentation

    static func norm(_ vector: [Float]) -> Float {
        var s: Float = 0
        for x in vector { s += x * x }
        return s.squareRoot()
    }

    @inline(__always)
    private func extra(norm: Float) -> Float { (max(0, normBound * normBound - norm * norm)).squareRoot() }

    /// Raises the norm bound to cover `largest` (by 10% steps) and recomputes the stored extras.
    private func coverNorm(_ largest: Float) {
        guard augmenting, largest > normBound else { return }
        normBound = store.slotCount == 0 ? largest : max(largest, normBound * 1.1)
        recomputeExtras()
    }

    private func recomputeExtras() {
        let d = dimension
        for s in 0..<store.slotCount {
            var n: Float = 0
            if store.keepsFloats {
                let p = store.floats + s * d
                for j in 0..<d { n += p[j] * p[j] }
            } else {
                let sc = store.scales![s], c = store.codes! + s * d
                for j in 0..<d { n += sc * Float(c[j]) * sc * Float(c[j]) }
            }
            extras[s] = extra(norm: n.squareRoot())
        }
    }

    // MARK: scoring

    private func links(level: Int, locking: Bool) -> LinkReader {
        LinkReader(level0: level0, upper: upper, locks: nodeLocks, m0: m0, m: m, level: level, locking: locking)
    }

    private var floatScorer: FloatScorer { FloatScorer(base: store.floats, d: dimension) }
    private var codeScorer: CodeScorer { CodeScorer(codes: store.codes!, scales: store.scales!, d: dimension) }

    // MARK: search

    public func search(_ query: [Float], k: Int, filter: SearchFilter?) throws(IndexError) -> [TopK.Entry] {
        try search(query, k: k, ef: configuration.efSearch, filter: filter)
    }

    /// ``search(_:k:filter:)`` with an explicit candidate list size (`max(ef, k)` is used).
    public func search(_ query: [Float], k: Int, ef: Int, filter: SearchFilter? = nil) throws(IndexError) -> [TopK.Entry] {
        try IndexSupport.check(query, dimension: dimension, context: "HNSW.search")
        guard k > 0 else { return [] }
        let q = store.prepared(query)
        let source = configuration.quantized && !store.keepsFloats ? rerankSource : nil
        if configuration.quantized && !store.keepsFloats && source == nil {
            throw .invalidArgument("HNSW.search: a quantised index without floats needs a rerankSource")
        }
        return q.withUnsafeBufferPointer { searchPrepared($0.baseAddress!, k: k, ef: max(ef, k), filter: filter, source: source) }
    }

    /// Search with a prepared (normalised for cosine), checked query.
    private func searchPrepared(_ q: UnsafePointer<Float>, k: Int, ef: Int, filter: SearchFilter?, source: FloatSource?) -> [TopK.Entry] {
        lock.reading {
            if case let .allowed(allowed)? = filter, allowed.count <= max(1_000, store.liveCount / 50) {
                // A small allowed set: the graph walk would mostly route through excluded
                // nodes, so score the allowed vectors directly (exactly).
                return scoreAllowed(q, allowed, k: k, source: source)
            }
            return configuration.quantized
                ? searchLocked(q, k: k, ef: ef, filter: filter, source: source, scorer: codeScorer)
                : searchLocked(q, k: k, ef: ef, filter: filter, source: source, scorer: floatScorer)
        }
    }

    private func scoreAllowed(_ q: UnsafePointer<Float>, _ allowed: Set<Int32>, k: Int, source: FloatSource?) -> [TopK.Entry] {
        var heap = TopK.Heap(k: k)
        let d = dimension
        var buffer = [Float](repeating: 0, count: d)
        for id in allowed {
            guard let slot = store.slotOfId[id] else { continue }
            if store.keepsFloats {
                heap.insert(id, VectorKernels.dot(q, store.floats + Int(slot) * d, d))
            } else if let source, buffer.withUnsafeMutableBufferPointer({ source(id, $0.baseAddress!) }) {
                if metric == .cosine { buffer = IndexSupport.normalised(buffer) }
                heap.insert(id, buffer.withUnsafeBufferPointer { VectorKernels.dot(q, $0.baseAddress!, d) })
            }
        }
        return heap.sorted()
    }

    private func searchLocked<S: SlotScorer>(_ q: UnsafePointer<Float>, k: Int, ef: Int, filter: SearchFilter?, source: FloatSource?,
                                             scorer: S) -> [TopK.Entry] {
        guard entryPoint >= 0, store.liveCount > 0 else { return [] }
        let scratch = pool.acquire(slots: store.slotCount)
        defer { pool.release(scratch) }
        var cur = entryPoint, curScore = scorer.score(q, cur)
        var level = maxLevel
        while level > 0 {
            (cur, curScore) = HNSWSearch.greedy(q, from: cur, score: curScore, links: links(level: level, locking: false),
                                                scorer: scorer, buffer: scratch.neighbourBuffer)
            level -= 1
        }
        let store = self.store
        let ids = store.ids, live = store.live
        let bottom = links(level: 0, locking: false)
        if let filter {
            HNSWSearch.layer(q, entry: cur, entryScore: curScore, ef: ef, links: bottom, scorer: scorer,
                             admission: FilteredSlots(live: live, ids: ids, filter: filter), scratch: scratch)
        } else if store.liveCount == store.slotCount {
            HNSWSearch.layer(q, entry: cur, entryScore: curScore, ef: ef, links: bottom, scorer: scorer,
                             admission: AllSlots(), scratch: scratch)
        } else {
            HNSWSearch.layer(q, entry: cur, entryScore: curScore, ef: ef, links: bottom, scorer: scorer,
                             admission: LiveSlots(live: live), scratch: scratch)
        }
        var heap = TopK.Heap(k: k)
        let results = scratch.results
        if configuration.quantized {
            // Exact float scores for the final candidates.
            let d = dimension
            var buffer = [Float](repeating: 0, count: d)
            for j in 0..<results.count {
                let slot = results.slots[j]
                if store.keepsFloats {
                    heap.insert(ids[Int(slot)], VectorKernels.dot(q, store.floats + Int(slot) * d, d))
                } else if let source {
                    let found = buffer.withUnsafeMutableBufferPointer { source(ids[Int(slot)], $0.baseAddress!) }
                    if found {
                        if metric == .cosine { buffer = IndexSupport.normalised(buffer) }
                        heap.insert(ids[Int(slot)], buffer.withUnsafeBufferPointer { VectorKernels.dot(q, $0.baseAddress!, d) })
                    }
                }
            }
        } else {
            for j in 0..<results.count { heap.insert(ids[Int(results.slots[j])], results.scores[j]) }
        }
        return heap.sorted()
    }

    public func search(batch queries: Tensor, k: Int, filter: SearchFilter?, threads: Int) throws(IndexError) -> [[TopK.Entry]] {
        try search(batch: queries, k: k, ef: configuration.efSearch, filter: filter, threads: threads)
    }

    /// Batched search with an explicit candidate list size, rows spread over `threads` threads.
    public func search(batch queries: Tensor, k: Int, ef: Int, filter: SearchFilter? = nil, threads: Int = Parallel.coreCount) throws(IndexError) -> [[TopK.Entry]] {
        let d = dimension
        guard queries.rank == 2, queries.shape[1] == d else {
            throw .dimensionMismatch(expected: d, got: queries.rank == 2 ? queries.shape[1] : -1, context: "HNSW.search(batch:)")
        }
        if configuration.quantized && !store.keepsFloats && rerankSource == nil {
            throw .invalidArgument("HNSW.search(batch:): a quantised index without floats needs a rerankSource")
        }
        let n = queries.shape[0]
        var flat = queries.scalars
        guard flat.allSatisfy(\.isFinite) else { throw .invalidArgument("HNSW.search(batch:): a query has a NaN or infinite component") }
        if metric == .cosine {
            for r in 0..<n { flat.replaceSubrange((r * d)..<((r + 1) * d), with: IndexSupport.normalised(Array(flat[(r * d)..<((r + 1) * d)]))) }
        }
        guard k > 0 else { return Array(repeating: [], count: n) }
        let prepared = flat, source = rerankSource, width = max(ef, k)
        let chunks = (n + 15) / 16
        return Parallel.mapInOrder(chunks, threads: max(1, threads)) { chunk in
            prepared.withUnsafeBufferPointer { p in
                ((chunk * 16)..<min(n, chunk * 16 + 16)).map { r in
                    self.searchPrepared(p.baseAddress! + r * d, k: k, ef: width, filter: filter, source: source)
                }
            }
        }.flatMap { $0 }
    }

    // MARK: insertion

    public func add(id: Int32, vector: [Float]) throws(IndexError) {
        try IndexSupport.check(vector, dimension: dimension, context: "HNSW.add(id: \(id))")
        let v = store.prepared(vector)
        lock.writing {
            coverNorm(Self.norm(v))
            let level = drawLevel()
            let slot = allocateNode(id: id, vector: v, level: level)
            let scratch = pool.acquire(slots: store.slotCount)
            defer { pool.release(scratch) }
            insert(slot, level: level, scratch: scratch, locking: false)
        }
    }

    /// Adds row `r` of `vectors` under `ids[r]`, inserting on `threads` threads.
    public func add(ids: [Int32], vectors: Tensor, threads: Int = Parallel.coreCount) throws(IndexError) {
        guard vectors.rank == 2, vectors.shape[1] == dimension, ids.count == vectors.shape[0] else {
            throw .invalidArgument("HNSW.add: \(ids.count) ids and vectors of shape \(vectors.shape), dimension \(dimension)")
        }
        let flat = vectors.scalars, d = dimension
        for r in 0..<ids.count {
            try IndexSupport.check(Array(flat[(r * d)..<((r + 1) * d)]), dimension: d, context: "HNSW.add(ids:vectors:) row \(r)")
        }
        lock.writing {
            var largest: Float = 0
            for r in 0..<ids.count { largest = max(largest, Self.norm(Array(flat[(r * d)..<((r + 1) * d)]))) }
            coverNorm(largest)
            store.reserve(store.slotCount + ids.count)
            reserveGraph(store.capacity)
            // Nodes and levels are created in order (deterministic); linking runs in parallel.
            let first = store.slotCount
            for (r, id) in ids.enumerated() {
                _ = allocateNode(id: id, vector: store.prepared(Array(flat[(r * d)..<((r + 1) * d)])), level: drawLevel())
            }
            let total = store.slotCount
            // The first node alone seeds an empty graph so that parallel inserts have an entry point.
            var start = first
            if entryPoint < 0 && start < total {
                entryPoint = Int32(start)
                maxLevel = Int(levels[start])
                start += 1
            }
            let begin = start
            let locking = min(threads, total - begin) > 1
            _ = Parallel.mapInOrder(total - begin, threads: max(1, threads)) { j in
                let slot = Int32(begin + j)
                let scratch = self.pool.acquire(slots: total)
                self.insert(slot, level: Int(self.levels[Int(slot)]), scratch: scratch, locking: locking)
                self.pool.release(scratch)
            }
        }
    }

    /// Links `slot` (allocated, at `level`) into the graph, scoring with floats when kept.
    private func insert(_ slot: Int32, level: Int, scratch: SearchScratch, locking: Bool) {
        switch (store.keepsFloats, augmenting) {
        case (true, false): insert(slot, level: level, scratch: scratch, locking: locking, scorer: floatScorer)
        case (false, false): insert(slot, level: level, scratch: scratch, locking: locking, scorer: codeScorer)
        case (true, true):
            insert(slot, level: level, scratch: scratch, locking: locking,
                   scorer: AugmentedScorer(base: floatScorer, extra: extras, queryExtra: 0).anchored(at: slot))
        case (false, true):
            insert(slot, level: level, scratch: scratch, locking: locking,
                   scorer: AugmentedScorer(base: codeScorer, extra: extras, queryExtra: 0).anchored(at: slot))
        }
    }

    private func insert<S: SlotScorer>(_ slot: Int32, level: Int, scratch: SearchScratch, locking: Bool, scorer: S) {
        if locking { entryLock.lock() }
        var entry = entryPoint
        let top = maxLevel
        let raisesTop = level > top
        if !raisesTop && locking { entryLock.unlock() }
        defer { if raisesTop && locking { entryLock.unlock() } }
        guard entry >= 0 else {
            entryPoint = slot
            maxLevel = level
            return
        }
        let d = dimension
        let q = UnsafeMutablePointer<Float>.allocate(capacity: d)
        defer { q.deallocate() }
        vector(of: slot, into: q)
        var entryScore = scorer.score(q, entry)
        var l = top
        while l > level {
            (entry, entryScore) = HNSWSearch.greedy(q, from: entry, score: entryScore, links: links(level: l, locking: locking),
                                                    scorer: scorer, buffer: scratch.neighbourBuffer)
            l -= 1
        }
        var candidates = [(Int32, Float)]()
        for lev in stride(from: min(level, top), through: 0, by: -1) {
            scratch.begin(slots: store.slotCount)
            HNSWSearch.layer(q, entry: entry, entryScore: entryScore, ef: configuration.efConstruction, links: links(level: lev, locking: locking),
                             scorer: scorer, admission: AllSlotsBut(excluded: slot), scratch: scratch)
            candidates.removeAll(keepingCapacity: true)
            for j in 0..<scratch.results.count { candidates.append((scratch.results.slots[j], scratch.results.scores[j])) }
            candidates.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
            if let best = candidates.first { (entry, entryScore) = best }
            let chosen = selectNeighbours(candidates, limit: m, scorer: scorer)
            // Our own links.
            let own = links(level: lev, locking: false).list(slot)
            if locking { starling_spin_lock(nodeLocks + Int(slot)) }
            own[0] = Int32(chosen.count)
            for (j, c) in chosen.enumerated() { own[j + 1] = c }
            if locking { starling_spin_unlock(nodeLocks + Int(slot)) }
            // Back links, pruned by the same heuristic when a list is full.
            let cap = lev == 0 ? m0 : m
            for c in chosen { link(c, to: slot, level: lev, cap: cap, locking: locking, scorer: scorer) }
        }
        if raisesTop {
            entryPoint = slot
            maxLevel = level
        }
    }

    private func link<S: SlotScorer>(_ node: Int32, to slot: Int32, level: Int, cap: Int, locking: Bool, scorer: S) {
        if locking { starling_spin_lock(nodeLocks + Int(node)) }
        defer { if locking { starling_spin_unlock(nodeLocks + Int(node)) } }
        let l = links(level: level, locking: false).list(node)
        let n = Int(l[0])
        for j in 0..<n where l[j + 1] == slot { return }
        if n < cap {
            l[n + 1] = slot
            l[0] = Int32(n + 1)
            return
        }
        let d = dimension
        let base = UnsafeMutablePointer<Float>.allocate(capacity: d)
        defer { base.deallocate() }
        vector(of: node, into: base)
        let fromNode = scorer.anchored(at: node)
        var candidates = [(Int32, Float)]()
        candidates.reserveCapacity(n + 1)
        candidates.append((slot, fromNode.score(base, slot)))
        for j in 0..<n { candidates.append((l[j + 1], fromNode.score(base, l[j + 1]))) }
        candidates.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        let kept = selectNeighbours(candidates, limit: cap, scorer: scorer)
        l[0] = Int32(kept.count)
        for (j, c) in kept.enumerated() { l[j + 1] = c }
    }

    /// The stored vector of `slot` as floats (decoded from its int8 code when floats are not kept).
    @inline(__always)
    private func vector(of slot: Int32, into out: UnsafeMutablePointer<Float>) {
        let d = dimension
        if store.keepsFloats {
            out.update(from: store.floats + Int(slot) * d, count: d)
        } else {
            let s = store.scales![Int(slot)], c = store.codes! + Int(slot) * d
            for i in 0..<d { out[i] = s * Float(c[i]) }
        }
    }

    /// The paper's heuristic: walk candidates best first and keep one only if it scores higher with
    /// the new vector than with every neighbour already kept.
    private func selectNeighbours<S: SlotScorer>(_ candidates: [(Int32, Float)], limit: Int, scorer: S) -> [Int32] {
        if candidates.count <= limit { return candidates.map(\.0) }
        var kept: [Int32] = []
        kept.reserveCapacity(limit)
        let d = dimension
        let v = UnsafeMutablePointer<Float>.allocate(capacity: d)
        defer { v.deallocate() }
        for (c, s) in candidates {
            if kept.count >= limit { break }
            vector(of: c, into: v)
            let fromCandidate = scorer.anchored(at: c)
            var good = true
            for r in kept where fromCandidate.score(v, r) > s {
                good = false
                break
            }
            if good { kept.append(c) }
        }
        return kept
    }

    // MARK: removal

    @discardableResult
    public func remove(id: Int32) -> Bool { lock.writing { store.remove(id: id) != nil } }

    // MARK: files

    public func save(to url: URL) throws {
        try lock.reading {
            let n = store.slotCount
            var upperOffsets = [Int32](repeating: 0, count: n + 1)
            var upperLinks: [Int32] = []
            for s in 0..<n {
                if levels[s] > 0 { upperLinks.append(contentsOf: UnsafeBufferPointer(start: upper[s]!, count: Int(levels[s]) * (m + 1))) }
                upperOffsets[s + 1] = Int32(upperLinks.count)
            }
            try IndexFile.write(store: store, kind: "hnsw", configuration: configuration, extra: [
                "level0": .init(shape: [n, m0 + 1], values: Array(UnsafeBufferPointer(start: level0, count: n * (m0 + 1)))),
                "levels": .init(shape: [n], values: (0..<n).map { Int32(levels[$0]) }),
                "upper_offsets": .init(shape: [n + 1], values: upperOffsets),
                "upper_links": .init(shape: [upperLinks.count], values: upperLinks),
                "entry": .init(shape: [2], values: [entryPoint, Int32(maxLevel)]),
            ], floatExtra: ["norm_bound": try Tensor(shape: [1], scalars: [normBound])], to: url)
        }
    }

    /// Reads an index written by ``save(to:)``. A quantised index saved without floats needs its
    /// ``rerankSource`` set again.
    public static func load(from url: URL) throws -> HNSWIndex {
        let file = try IndexFile.read(url, kind: "hnsw")
        let configuration = try file.configuration(Configuration.self)
        let keepsFloats = file.file.tensors["vectors"] != nil
        let index = try HNSWIndex(dimension: file.dimension, metric: file.metric, configuration: configuration, keepFloats: keepsFloats)
        try file.restore(into: index.store)
        let n = index.store.slotCount, m0 = index.m0, m = index.m
        let level0 = try file.integers("level0", count: n * (m0 + 1))
        let levels = try file.integers("levels", count: n)
        let offsets = try file.integers("upper_offsets", count: n + 1)
        let links = try file.integers("upper_links")
        let entry = try file.integers("entry", count: 2)
        index.reserveGraph(index.store.capacity)
        level0.withUnsafeBufferPointer { index.level0.update(from: $0.baseAddress!, count: level0.count) }
        for s in 0..<n {
            let level = Int(levels[s])
            guard level >= 0, level <= 30, Int(offsets[s + 1] - offsets[s]) == level * (m + 1) else {
                throw IndexError.badFile(path: url.path, reason: "node \(s) has inconsistent upper links")
            }
            index.levels[s] = UInt8(level)
            if level > 0 {
                let p = UnsafeMutablePointer<Int32>.allocate(capacity: level * (m + 1))
                links.withUnsafeBufferPointer { p.initialize(from: $0.baseAddress! + Int(offsets[s]), count: level * (m + 1)) }
                index.upper[s] = p
            }
        }
        // Every list: a count within its capacity, then that many slots that exist.
        func check(_ list: ArraySlice<Int32>, cap: Int) throws {
            let c = Int(list.first ?? 0)
            guard c >= 0, c <= cap, list.dropFirst().prefix(c).allSatisfy({ $0 >= 0 && Int($0) < n }) else {
                throw IndexError.badFile(path: url.path, reason: "a neighbour list is corrupt")
            }
        }
        for s in 0..<n { try check(level0[(s * (m0 + 1))..<((s + 1) * (m0 + 1))], cap: m0) }
        for start in stride(from: 0, to: links.count, by: m + 1) { try check(links[start..<min(links.count, start + m + 1)], cap: m) }
        guard n == 0 || (entry[0] >= 0 && Int(entry[0]) < n && Int(entry[1]) == Int(index.levels[Int(entry[0])])) else {
            throw IndexError.badFile(path: url.path, reason: "bad entry point")
        }
        if index.augmenting {
            guard let bound = file.file.tensors["norm_bound"], bound.count == 1 else { throw IndexError.badFile(path: url.path, reason: "missing norm_bound") }
            index.normBound = bound.scalars[0]
            index.recomputeExtras()
        }
        index.entryPoint = entry[0]
        index.maxLevel = Int(entry[1])
        return index
    }
}
