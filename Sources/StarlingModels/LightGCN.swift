import Foundation
import StarlingData
import StarlingTensor
import Synchronization

/// LightGCN (He et al., SIGIR 2020): user and item embeddings smoothed over the user–item graph
/// without transforms or non-linearities, `E⁽ᵏ⁺¹⁾ = Â·E⁽ᵏ⁾` with `Â = D^-1/2 A D^-1/2`; the final
/// embedding is the mean of layers `0…K` and a pair scores `e_u · e_i`.
///
/// The trainable parameters are the layer-0 ("ego") embeddings; ``LightGCNTrainer`` fits them with
/// BPR. Scores use the final embeddings, recomputed by ``refresh()``. A user unseen in training (or
/// whose history changed) is folded in through the graph: `e_u = (1/(K+1))·Σₖ₌₁…ₖ e_u⁽ᵏ⁾` with
/// `e_u⁽ᵏ⁾ = Σ_{i∈H} e_i⁽ᵏ⁻¹⁾ / √(|H|·deg(i))` (no ego term; item degrees as in training).
public final class LightGCN: Recommender, @unchecked Sendable {
    /// The architecture (the paper's Gowalla settings by default).
    public struct Configuration: Codable, Sendable, Equatable {
        public var factors: Int
        /// Propagation layers `K`.
        public var layers: Int
        /// Standard deviation of the initial embeddings.
        public var initialStandardDeviation: Float

        public init(factors: Int = 64, layers: Int = 3, initialStandardDeviation: Float = 0.1) {
            self.factors = factors
            self.layers = layers
            self.initialStandardDeviation = initialStandardDeviation
        }

        func validate() throws(ModelError) {
            guard factors > 0, layers >= 0, initialStandardDeviation > 0 else {
                throw .invalidArgument("LightGCN: factors and the initial standard deviation must be positive, layers ≥ 0")
            }
        }
    }

    /// What scoring reads: final embeddings, and each item's `Σₖ₌₀…ₖ₋₁ e_i⁽ᵏ⁾` for fold-in.
    private struct Final {
        /// Growable: fold-ins append rows.
        var users: FactorTable
        var items: FactorTable
        var itemPropagation: Tensor
        /// `1/‖row‖` of `items`, for similar items.
        var itemInverseNorms: [Float]
    }

    public let configuration: Configuration
    /// `[users + items, factors]`: the layer-0 embeddings, users first.
    public let embeddings: Parameter
    /// The training graph.
    public let graph: NormalizedBipartiteGraph
    /// The training interactions (kept for checkpoints).
    public let interactions: InteractionMatrix
    private let final: Mutex<Final>

    /// A new model on `interactions` with `N(0, σ²)` initial embeddings.
    public init(_ interactions: InteractionMatrix, configuration: Configuration = Configuration(), seed: UInt64 = 42) throws(ModelError) {
        try configuration.validate()
        guard interactions.userCount > 0, interactions.itemCount > 0 else { throw .invalidArgument("LightGCN: no users or items") }
        self.configuration = configuration
        self.interactions = interactions
        graph = NormalizedBipartiteGraph(interactions)
        var rng = RandomGenerator(seed: seed)
        embeddings = Parameter(name: "embeddings",
                               value: .normal(shape: [graph.nodeCount, configuration.factors],
                                              standardDeviation: configuration.initialStandardDeviation, using: &rng))
        final = Mutex(Final(users: FactorTable(rows: 0, width: configuration.factors), items: FactorTable(rows: 0, width: configuration.factors),
                            itemPropagation: Tensor(shape: [0]), itemInverseNorms: []))
        refresh()
    }

    public var modelName: String { "LightGCN" }
    public var userCount: Int { final.withLock { $0.users.rows } }
    public var itemCount: Int { graph.itemCount }
    public var parameters: [Parameter] { [embeddings] }

    /// Recomputes the final embeddings from the current layer-0 embeddings (after training steps
    /// or a checkpoint load); users folded in since are reset to their trained embeddings.
    public func refresh(threads: Int = Parallel.coreCount) {
        let d = configuration.factors, n = graph.nodeCount, u = graph.userCount
        var sum = embeddings.value
        var layer = embeddings.value
        var next = Tensor(uninitializedShape: [n, d])
        var itemPropagation = Tensor(shape: [graph.itemCount, d])
        for _ in 0..<configuration.layers {
            // Items' layers 0…K-1 sum to the fold-in operand.
            VectorKernels.add(layer.readPointer + u * d, into: itemPropagation.writePointer(), graph.itemCount * d)
            graph.propagate(layer.readPointer, into: next.writePointer(), width: d, threads: threads)
            swap(&layer, &next)
            sum.add(layer)
        }
        sum.scale(by: 1 / Float(configuration.layers + 1))
        let users = FactorTable(sum.slice(alongAxis: 0, 0..<u)), items = FactorTable(sum.slice(alongAxis: 0, u..<n))
        final.withLock { $0 = Final(users: users, items: items, itemPropagation: itemPropagation, itemInverseNorms: items.inverseNorms()) }
    }

    // MARK: Recommender

    public func scoreAllItems(users: [Int32]) -> Tensor {
        let f = final.withLock { $0 }
        return FactorScoring.scoreAll(users: users, userTable: f.users, itemTable: f.items, itemBias: nil)
    }

    public func scoreAllItems(history: [Int32], values: [Float]?) -> [Float] {
        FactorScoring.scoreAll(vector: foldedInVector(history), itemTable: final.withLock { $0.items }, itemBias: nil)
    }

    public func scores(users: [Int32], items: [Int32]) -> [Float] {
        let f = final.withLock { $0 }
        return FactorScoring.pairScores(users: users, items: items, userTable: f.users, itemTable: f.items, itemBias: nil)
    }

    /// The final item embeddings, `[itemCount, factors]`: a user vector's inner product with a row
    /// is the item's score.
    public var itemFactors: Tensor { final.withLock { $0.items.tensor } }

    /// The folded-in vector of a user described by `history` (see the type's documentation).
    public func userVector(history: [Int32]) throws -> [Float] {
        try validateFoldIn(user: 0, userCount: userCount, history: history, values: nil, itemCount: itemCount)
        return foldedInVector(history)
    }

    /// `(1/(K+1))·Σ_{i∈H} (Σₖ e_i⁽ᵏ⁾)/√(|H|·deg(i))` over the distinct known items of `history`.
    private func foldedInVector(_ history: [Int32]) -> [Float] {
        let d = configuration.factors
        let items = Set(history.filter { $0 >= 0 && Int($0) < itemCount })
        var v = [Float](repeating: 0, count: d)
        guard !items.isEmpty else { return v }
        let propagation = final.withLock { $0.itemPropagation }
        let p = propagation.readPointer
        let scale = 1 / Float(configuration.layers + 1)
        v.withUnsafeMutableBufferPointer { out in
            for i in items.sorted() {
                let degree = max(graph.degree(graph.userCount + Int(i)), 1)
                VectorKernels.addScaled(p + Int(i) * d, scale / (Float(items.count) * Float(degree)).squareRoot(), into: out.baseAddress!, d)
            }
        }
        return v
    }

    public func foldIn(user: Int, history: [Int32], values: [Float]?) throws {
        try validateFoldIn(user: user, userCount: userCount, history: history, values: values, itemCount: itemCount)
        let v = foldedInVector(history)
        final.withLock { f in
            let row = user == f.users.rows ? f.users.appendRow() : user
            v.withUnsafeBufferPointer { f.users.row(row).update(from: $0.baseAddress!, count: configuration.factors) }
        }
    }

    /// The items whose final embeddings have the highest cosine similarity with `item`'s (an
    /// unknown item has none).
    public func similarItems(to item: Int32, count: Int) -> [TopK.Entry] {
        let f = final.withLock { $0 }
        return FactorScoring.similarItems(to: item, count: count, itemTable: f.items, inverseNorms: f.itemInverseNorms)
    }

    // MARK: checkpoints

    /// The `model` metadata value of LightGCN checkpoints.
    public static let checkpointKind = "lightgcn"

    /// The layer-0 embeddings and the training graph (`train_offsets`, `train_items`).
    public func checkpoint() throws -> SafeTensorsFile {
        var file = SafeTensorsFile(tensors: ["embeddings": embeddings.value],
                                   metadata: try ModelCheckpoint.metadata(kind: LightGCN.checkpointKind, configuration: configuration))
        file.integerTensors["train_offsets"] = .init(shape: [interactions.rowStart.count], values: interactions.rowStart.map { Int32($0) })
        file.integerTensors["train_items"] = .init(shape: [interactions.count], values: interactions.itemIndices)
        file.metadata["items"] = "\(itemCount)"
        return file
    }

    /// Loads a model saved with ``Checkpointable/save(to:)``; also returns the file's metadata.
    public static func load(from url: URL) throws -> (model: LightGCN, metadata: [String: String]) {
        let (file, configuration) = try ModelCheckpoint.open(url, kind: checkpointKind, configuration: Configuration.self)
        guard let items = Int(try file.metadata("items", path: url.path)), items > 0 else {
            throw ModelError.badConfiguration(path: url.path, reason: "metadata 'items' must be a positive count")
        }
        let csr = try ItemBased.decodeCSR(file, offsets: "train_offsets", indices: "train_items", indexBound: items, path: url.path)
        let interactions = InteractionMatrix(userCount: csr.offsets.count - 1, itemCount: items, rowStart: csr.offsets,
                                             itemIndices: csr.indices, values: nil)
        let model: LightGCN
        do { model = try LightGCN(interactions, configuration: configuration) } catch {
            throw ModelError.badConfiguration(path: url.path, reason: error.description)
        }
        let e = try file.tensor("embeddings")
        guard e.shape == model.embeddings.shape else {
            throw ModelError.badConfiguration(path: url.path, reason: "embeddings \(e.shape), expected \(model.embeddings.shape)")
        }
        model.embeddings.value = e
        model.refresh()
        return (model, file.metadata)
    }
}
