import CBLAS
import Foundation
import StarlingTensor

/// Exact top-K by brute force: queries are scored against blocks of stored vectors with one BLAS
/// `sgemm` per block, and each query's bounded heap is updated from the block's scores while they
/// are in cache, so no score matrix larger than a block exists and nothing is sorted.
///
/// Batched searches split the queries over threads (each with single-threaded BLAS), which keeps
/// both cores busy on the scan and the selection.
public final class ExactIndex: VectorIndex, @unchecked Sendable {
    public let dimension: Int
    public let metric: SimilarityMetric
    let store: VectorStore
    private let lock = ReadWriteLock()
    /// Stored vectors scored per `sgemm`.
    static let blockRows = 4096
    /// Queries scored together per `sgemm`.
    static let queryBlock = 64

    public init(dimension: Int, metric: SimilarityMetric = .innerProduct) throws(IndexError) {
        guard dimension > 0 else { throw .invalidArgument("ExactIndex: dimension must be positive, got \(dimension)") }
        self.dimension = dimension
        self.metric = metric
        store = VectorStore(dimension: dimension, metric: metric)
    }

    public var count: Int { lock.reading { store.liveCount } }
    public var memoryBytes: Int { lock.reading { store.memoryBytes } }

    public func add(id: Int32, vector: [Float]) throws(IndexError) {
        try IndexSupport.check(vector, dimension: dimension, context: "ExactIndex.add(id: \(id))")
        let v = store.prepared(vector)
        lock.writing { _ = store.append(id: id, vector: v) }
    }

    /// Adds many vectors at once (row `r` under `ids[r]`).
    public func add(ids: [Int32], vectors: Tensor) throws(IndexError) {
        guard vectors.rank == 2, vectors.shape[1] == dimension, ids.count == vectors.shape[0] else {
            throw .invalidArgument("ExactIndex.add: \(ids.count) ids and vectors of shape \(vectors.shape), dimension \(dimension)")
        }
        let flat = vectors.scalars, d = dimension
        lock.writing {
            store.reserve(store.slotCount + ids.count)
            for (r, id) in ids.enumerated() { store.append(id: id, vector: store.prepared(Array(flat[(r * d)..<((r + 1) * d)]))) }
        }
    }

    @discardableResult
    public func remove(id: Int32) -> Bool { lock.writing { store.remove(id: id) != nil } }

    public func search(_ query: [Float], k: Int, filter: SearchFilter?) throws(IndexError) -> [TopK.Entry] {
        try IndexSupport.check(query, dimension: dimension, context: "ExactIndex.search")
        return searchFlat(query, count: 1, k: k, filter: filter, threads: 1)[0]
    }

    public func search(batch queries: Tensor, k: Int, filter: SearchFilter?, threads: Int) throws(IndexError) -> [[TopK.Entry]] {
        guard queries.rank == 2, queries.shape[1] == dimension else {
            throw .dimensionMismatch(expected: dimension, got: queries.rank == 2 ? queries.shape[1] : -1, context: "ExactIndex.search(batch:)")
        }
        return searchFlat(queries.scalars, count: queries.shape[0], k: k, filter: filter, threads: threads)
    }

    /// Searches `count` queries given as consecutive rows of `flat`.
    func searchFlat(_ flat: [Float], count n: Int, k: Int, filter: SearchFilter?, threads: Int) -> [[TopK.Entry]] {
        let d = dimension
        var normalised = flat
        if metric == .cosine {
            for r in 0..<n { normalised.replaceSubrange((r * d)..<((r + 1) * d), with: IndexSupport.normalised(Array(flat[(r * d)..<((r + 1) * d)]))) }
        }
        let q = normalised
        let groups = stride(from: 0, to: n, by: Self.queryBlock).map { $0..<min(n, $0 + Self.queryBlock) }
        let workers = max(1, min(threads, groups.count))
        let perGroup = lock.reading { () -> [[[TopK.Entry]]] in
            let store = self.store
            let run = {
                Parallel.mapInOrder(groups.count, threads: workers) { g -> [[TopK.Entry]] in
                    let range = groups[g]
                    let scores = UnsafeMutablePointer<Float>.allocate(capacity: range.count * Self.blockRows)
                    defer { scores.deallocate() }
                    var heaps = range.map { _ in TopK.Heap(k: k) }
                    q.withUnsafeBufferPointer { qp in
                        Self.scan(store, queries: qp.baseAddress! + range.lowerBound * d, count: range.count,
                                  heaps: &heaps, scores: scores, filter: filter)
                    }
                    return heaps.map { $0.sorted() }
                }
            }
            // Our workers are the parallelism; with one, BLAS may use its own threads.
            return workers > 1 ? SingleThreadedBLAS.run(run) : run()
        }
        return perGroup.flatMap { $0 }
    }

    /// Scores `count` queries against every stored row, block by block, into their heaps.
    static func scan(_ store: VectorStore, queries: UnsafePointer<Float>, count: Int, heaps: inout [TopK.Heap],
                     scores: UnsafeMutablePointer<Float>, filter: SearchFilter?) {
        let d = store.dimension, total = store.slotCount
        var start = 0
        while start < total {
            let rows = min(blockRows, total - start)
            // scores[count × rows] = Q · Xᵀ
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(rows), Int32(d), 1,
                        queries, Int32(d), store.row(start), Int32(d), 0, scores, Int32(rows))
            for j in 0..<count {
                let row = scores + j * rows
                var threshold = heaps[j].threshold
                for i in 0..<rows where row[i] > threshold || (row[i] == threshold && !heaps[j].isFull) {
                    let slot = start + i
                    guard store.live[slot] else { continue }
                    let id = store.ids[slot]
                    if let filter, !filter.admits(id) { continue }
                    heaps[j].insert(id, row[i])
                    threshold = heaps[j].threshold
                }
            }
            start += rows
        }
    }

    public func save(to url: URL) throws {
        try lock.reading { try IndexFile.write(store: store, kind: "exact", configuration: [String: String](), extra: [:], to: url) }
    }

    /// Reads an index written by ``save(to:)``.
    public static func load(from url: URL) throws -> ExactIndex {
        let file = try IndexFile.read(url, kind: "exact")
        let index = try ExactIndex(dimension: file.dimension, metric: file.metric)
        try file.restore(into: index.store)
        return index
    }
}
