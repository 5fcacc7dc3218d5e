import Foundation
import StarlingData
import StarlingIndex
import StarlingModels
import StarlingTensor
import Synchronization

/// A model version ready to serve: the model, the external ids of its items, and — for factor
/// models — its item vectors with an HNSW index over them for ANN candidates.
///
/// Factor models (iALS, BPR-MF) score a user by a vector folded in from their history; for BPR-MF
/// the item bias rides along as one more vector component (the user side gets a constant 1), so
/// one inner product is the model's score. Other models (EASE, ItemKNN, Popularity) score a
/// history as a whole row over all items.
public final class ServingModel: @unchecked Sendable {
    public let version: Int
    public let model: any Recommender
    /// Model item index → external item id.
    public let itemIds: IdVocabulary
    /// Item vectors (row per model item, `vectorDimension` wide) for factor models.
    let itemVectors: [Float]?
    public let vectorDimension: Int
    /// Inverse L2 norms of the item vectors (for cosine similarity in MMR and similar items).
    let inverseNorms: [Float]
    /// ANN index over the item vectors, ids = model item indices.
    let index: HNSWIndex?
    private let similarCache = Mutex<[Int32: [TopK.Entry]]>([:])

    /// Prepares `model` (trained on items `itemIds`) for serving: copies its item vectors and
    /// builds the ANN index.
    public init(version: Int, model: any Recommender, itemIds: IdVocabulary) throws {
        guard itemIds.count == model.itemCount else {
            throw ServiceError.badRequest("model version \(version): its item list has \(itemIds.count) ids, the model \(model.itemCount) items")
        }
        self.version = version
        self.model = model
        self.itemIds = itemIds
        var vectors: [Float]?, dimension = 0
        if let ials = model as? IALS {
            dimension = ials.factors
            // The tensor must outlive the read of its storage (a temporary would be freed at once).
            let factors = ials.itemFactors
            vectors = withExtendedLifetime(factors) { Array(UnsafeBufferPointer(start: factors.readPointer, count: model.itemCount * dimension)) }
        } else if let bpr = model as? BPRMF {
            let d = bpr.factors
            dimension = d + 1
            let factors = bpr.itemFactors, biases = bpr.itemBiases
            var v = [Float](repeating: 0, count: model.itemCount * dimension)
            withExtendedLifetime((factors, biases)) {
                let f = factors.readPointer, b = biases.readPointer
                for i in 0..<model.itemCount {
                    for j in 0..<d { v[i * dimension + j] = f[i * d + j] }
                    v[i * dimension + d] = b[i]
                }
            }
            vectors = v
        } else if let graph = model as? LightGCN {
            dimension = graph.configuration.factors
            let factors = graph.itemFactors
            vectors = withExtendedLifetime(factors) { Array(UnsafeBufferPointer(start: factors.readPointer, count: model.itemCount * dimension)) }
        }
        itemVectors = vectors
        vectorDimension = dimension
        if let vectors, dimension > 0 {
            inverseNorms = (0..<model.itemCount).map { i in
                let n = Self.dot(vectors, i * dimension, vectors, i * dimension, dimension).squareRoot()
                return n > 0 ? 1 / n : 0
            }
            let hnsw = try HNSWIndex(dimension: dimension, metric: .innerProduct,
                                 configuration: HNSWIndex.Configuration(m: 16, efConstruction: 100, efSearch: 64))
            let tensor = try Tensor(shape: [model.itemCount, dimension], scalars: vectors)
            try hnsw.add(ids: (0..<Int32(model.itemCount)).map { $0 }, vectors: tensor)
            index = hnsw
        } else {
            inverseNorms = []
            index = nil
        }
    }

    /// Whether the model scores users by a vector (and has ANN candidates).
    public var hasVectors: Bool { itemVectors != nil }

    /// The user vector folded in from `history` (model item indices); `nil` for non-factor models.
    func userVector(history: [Int32]) throws -> [Float]? {
        guard !history.isEmpty else { return nil }
        if let ials = model as? IALS { return try ials.userVector(history: history) }
        if let bpr = model as? BPRMF { return try bpr.userVector(history: history) + [1] }
        if let graph = model as? LightGCN { return try graph.userVector(history: history) }
        return nil
    }

    /// Scores of every model item for `history` (non-factor models).
    func fullScores(history: [Int32]) -> [Float] { model.scoreAllItems(history: history, values: nil) }

    /// The inner product of `vector` with item `item`'s vector.
    @inline(__always)
    func score(_ vector: [Float], item: Int32) -> Float {
        Self.dot(vector, 0, itemVectors!, Int(item) * vectorDimension, vectorDimension)
    }

    /// Cosine similarity of two items' vectors (0 for models without vectors).
    func cosine(_ a: Int32, _ b: Int32) -> Float {
        guard let v = itemVectors else { return 0 }
        let d = vectorDimension
        return Self.dot(v, Int(a) * d, v, Int(b) * d, d) * inverseNorms[Int(a)] * inverseNorms[Int(b)]
    }

    /// The ANN top-`count` items for `vector`, restricted by `allow`.
    func nearest(_ vector: [Float], count: Int, allow: (@Sendable (Int32) -> Bool)?) -> [TopK.Entry] {
        guard let index else { return [] }
        let ef = max(64, count * 2)
        return (try? index.search(vector, k: count, ef: ef, filter: allow.map { .predicate($0) })) ?? []
    }

    /// The `count` items most similar to `item` under the model (cached per item).
    func similar(to item: Int32, count: Int) -> [TopK.Entry] {
        if let hit = similarCache.withLock({ $0[item] }), hit.count >= count { return Array(hit.prefix(count)) }
        let fresh = model.similarItems(to: item, count: max(count, 50))
        similarCache.withLock { $0[item] = fresh }
        return Array(fresh.prefix(count))
    }

    @inline(__always)
    static func dot(_ x: [Float], _ xOffset: Int, _ y: [Float], _ yOffset: Int, _ n: Int) -> Float {
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in VectorKernels.dot(xp.baseAddress! + xOffset, yp.baseAddress! + yOffset, n) }
        }
    }
}
