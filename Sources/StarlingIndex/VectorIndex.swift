import Foundation
import StarlingTensor

/// How an index compares a query with stored vectors. Larger scores are better.
public enum SimilarityMetric: String, Codable, Sendable, CaseIterable {
    /// `qᵀv`, e.g. a user factor against item factors.
    case innerProduct = "inner-product"
    /// `qᵀv / (‖q‖‖v‖)`; stored vectors and queries are normalised, so it is an inner product.
    case cosine
}

/// Which stored ids a search may return.
public enum SearchFilter: Sendable {
    /// Only these ids.
    case allowed(Set<Int32>)
    /// Only ids for which the predicate holds (called from the searching thread).
    case predicate(@Sendable (Int32) -> Bool)

    @inline(__always)
    func admits(_ id: Int32) -> Bool {
        switch self {
        case let .allowed(ids): return ids.contains(id)
        case let .predicate(p): return p(id)
        }
    }
}

/// Errors of the vector indexes, with the file or argument at fault.
public enum IndexError: Error, CustomStringConvertible, Equatable {
    case dimensionMismatch(expected: Int, got: Int, context: String)
    case invalidArgument(String)
    case badFile(path: String, reason: String)

    public var description: String {
        switch self {
        case let .dimensionMismatch(expected, got, context): return "\(context): vectors have \(expected) dimensions, got \(got)"
        case let .invalidArgument(message): return message
        case let .badFile(path, reason): return "\(path): \(reason)"
        }
    }
}

/// A set of id-labelled vectors searched for the largest scores under a ``SimilarityMetric``.
///
/// Every index here is safe for concurrent searches while another thread adds, updates or removes
/// vectors; a vector added or updated is found by any search that starts after `add` returns, and
/// a removed id is never returned by a search that starts after `remove` returns.
public protocol VectorIndex: AnyObject, Sendable {
    /// The width of every vector.
    var dimension: Int { get }
    var metric: SimilarityMetric { get }
    /// Live (not removed) vectors.
    var count: Int { get }
    /// Bytes held for vectors and search structures (not counting the Swift object headers).
    var memoryBytes: Int { get }

    /// Adds `vector` under `id`, or replaces the vector stored under `id`.
    func add(id: Int32, vector: [Float]) throws(IndexError)
    /// Removes `id`; returns whether it was present.
    @discardableResult func remove(id: Int32) -> Bool
    /// The `k` best ids for `query`, best first, restricted by `filter`.
    func search(_ query: [Float], k: Int, filter: SearchFilter?) throws(IndexError) -> [TopK.Entry]
    /// ``search(_:k:filter:)`` for each row of `queries` (`[n, dimension]`), spread over `threads` threads.
    func search(batch queries: Tensor, k: Int, filter: SearchFilter?, threads: Int) throws(IndexError) -> [[TopK.Entry]]
    /// Writes the index to a file that ``load(from:)`` of the same type reads.
    func save(to url: URL) throws
}

extension VectorIndex {
    /// Adds many vectors: row `r` of `vectors` under `ids[r]`.
    public func add(ids: [Int32], vectors: Tensor) throws(IndexError) {
        guard vectors.rank == 2, vectors.shape[1] == dimension else {
            throw .dimensionMismatch(expected: dimension, got: vectors.rank == 2 ? vectors.shape[1] : -1, context: "add(ids:vectors:)")
        }
        guard ids.count == vectors.shape[0] else { throw .invalidArgument("add(ids:vectors:): \(ids.count) ids for \(vectors.shape[0]) vectors") }
        let flat = vectors.scalars, d = dimension
        for (r, id) in ids.enumerated() { try add(id: id, vector: Array(flat[(r * d)..<((r + 1) * d)])) }
    }

    public func search(_ query: [Float], k: Int) throws(IndexError) -> [TopK.Entry] { try search(query, k: k, filter: nil) }

    /// Default batched search: the single-query search of each row, rows split over threads.
    public func search(batch queries: Tensor, k: Int, filter: SearchFilter? = nil, threads: Int = Parallel.coreCount) throws(IndexError) -> [[TopK.Entry]] {
        try IndexSupport.batchedSearch(self, queries, k: k, filter: filter, threads: threads)
    }
}

/// Helpers shared by the index types.
enum IndexSupport {
    static func batchedSearch(_ index: some VectorIndex, _ queries: Tensor, k: Int, filter: SearchFilter?, threads: Int) throws(IndexError) -> [[TopK.Entry]] {
        let d = index.dimension
        guard queries.rank == 2, queries.shape[1] == d else {
            throw .dimensionMismatch(expected: d, got: queries.rank == 2 ? queries.shape[1] : -1, context: "search(batch:)")
        }
        let n = queries.shape[0], flat = queries.scalars
        let parts = Parallel.ranges(n, parts: max(1, min(threads, n)))
        let results = Parallel.map(parts.count) { p -> [[TopK.Entry]] in
            parts[p].map { r in (try? index.search(Array(flat[(r * d)..<((r + 1) * d)]), k: k, filter: filter)) ?? [] }
        }
        return results.flatMap { $0 }
    }

    /// `v / ‖v‖` (unchanged when the norm is zero).
    static func normalised(_ v: [Float]) -> [Float] {
        var s: Float = 0
        for x in v { s += x * x }
        guard s > 0 else { return v }
        let inv = 1 / s.squareRoot()
        return v.map { $0 * inv }
    }

    static func check(_ v: [Float], dimension: Int, context: String) throws(IndexError) {
        guard v.count == dimension else { throw .dimensionMismatch(expected: dimension, got: v.count, context: context) }
        guard v.allSatisfy(\.isFinite) else { throw .invalidArgument("\(context): the vector has a NaN or infinite component") }
    }
}
