import Foundation
import StarlingData
import StarlingTensor
import Synchronization

/// Embarrassingly Shallow Autoencoder (Steck, WWW 2019): an item × item weight matrix `B` with a
/// zero diagonal that reconstructs each user's row, `x_u·B`, solved in closed form:
///
/// `P = (XᵀX + λI)⁻¹`, `B = I − P·diagMat(1 ⊘ diag(P))`, i.e. `B[i, j] = −P[i, j] / P[j, j]` off
/// the diagonal.
///
/// `B` is dense (`itemCount² × 4` bytes), so catalogues above ``Configuration/maximumItems`` are
/// refused. The model keeps the users' histories and scores from them, so folding in a new or
/// changed user only stores the history.
public final class EASE: Recommender {
    public struct Configuration: Codable, Sendable, Equatable {
        /// The L2 regularisation `λ` added to the diagonal of `XᵀX` (Steck uses ~500 on
        /// MovieLens-scale data).
        public var lambda: Float
        /// The largest catalogue ``EASE/fit(_:configuration:events:)`` accepts.
        public var maximumItems: Int
        /// Whether the interactions' values form `X`; otherwise `X` is binary.
        public var useValues: Bool

        public init(lambda: Float = 500, maximumItems: Int = 20_000, useValues: Bool = false) {
            self.lambda = lambda
            self.maximumItems = maximumItems
            self.useValues = useValues
        }

        func validate() throws(ModelError) {
            guard lambda.isFinite && lambda > 0 else { throw .invalidArgument("EASE: lambda must be positive and finite, got \(lambda)") }
            guard maximumItems >= 1 else { throw .invalidArgument("EASE: maximumItems must be positive, got \(maximumItems)") }
        }
    }

    public let configuration: Configuration
    public let itemCount: Int
    /// `B`, `[itemCount, itemCount]`: row `h` is what having item `h` adds to every item's score.
    public let weights: Tensor
    let histories: Mutex<ItemBased.Histories>

    init(configuration: Configuration, weights: Tensor, histories: ItemBased.Histories) {
        self.configuration = configuration
        self.itemCount = weights.shape[0]
        self.weights = weights
        self.histories = Mutex(histories)
    }

    /// The bytes of the dense item × item matrix for `items` items.
    public static func denseBytes(items: Int) -> Int { items * items * MemoryLayout<Float>.stride }

    /// Solves for `B` on `data` (users × items).
    ///
    /// `XᵀX` is accumulated sparsely, one item row per task on all cores (its lower triangle, in
    /// exact integer counts when `X` is binary); `+ λI` is inverted through LAPACK's Cholesky
    /// (`spotrf` + `spotri`, threaded by OpenBLAS); `B` overwrites the inverse in place, so the fit
    /// needs one dense matrix.
    ///
    /// - Throws: ``ModelError/invalidArgument(_:)`` for a catalogue above `maximumItems` (naming
    ///   the memory needed) or a matrix LAPACK cannot invert.
    public static func fit(_ data: InteractionMatrix, configuration: Configuration = Configuration(),
                           events: (FitEvent) -> Void = { _ in }) throws(ModelError) -> EASE {
        try configuration.validate()
        let n = data.itemCount
        guard n <= configuration.maximumItems else {
            let gigabytes = (Double(denseBytes(items: n)) / 1e7).rounded() / 100
            throw .invalidArgument("EASE: the catalogue has \(n) items, more than maximumItems (\(configuration.maximumItems)); "
                + "its dense item × item matrix would need \(gigabytes) GB (\(n)² × 4 bytes). "
                + "Raise maximumItems if the machine has the memory, or use ItemKNN.")
        }
        guard n > 0 else { throw .invalidArgument("EASE: the data has no items") }
        var start = Date()
        let x = configuration.useValues ? data
            : InteractionMatrix(userCount: data.userCount, itemCount: n, rowStart: data.rowStart, itemIndices: data.itemIndices, values: nil)
        let rows = ItemBased.CompressedRows(x), columns = ItemBased.CompressedRows(x.transposed())
        var matrix = Tensor(shape: [n, n])
        nonisolated(unsafe) let g = matrix.writePointer()
        // G = XᵀX, lower triangle: row i gathers Σ_{u ∈ users(i)} x_ui · x_uj for j ≤ i (rows are sorted).
        let queue = ItemBased.ChunkQueue(count: n, chunk: 8)
        Parallel.forEach(min(Parallel.coreCount, max(1, n / 8))) { _ in
            while let chunk = queue.claim() {
                for i in chunk {
                    let out = g + i * n
                    for k in columns.start[i]..<columns.start[i + 1] {
                        let u = Int(columns.indices[k])
                        var m = rows.start[u]
                        let hi = rows.start[u + 1]
                        if let rowValues = rows.values, let columnValues = columns.values {
                            let w = columnValues[k]
                            while m < hi && Int(rows.indices[m]) <= i { out[Int(rows.indices[m])] += w * rowValues[m]; m += 1 }
                        } else {
                            while m < hi && Int(rows.indices[m]) <= i { out[Int(rows.indices[m])] += 1; m += 1 }
                        }
                    }
                }
            }
        }
        for i in 0..<n { g[i * n + i] += configuration.lambda }
        events(.message("EASE: Gram matrix of \(n) items from \(data.count) interactions in \(ItemBased.seconds(since: start)) s"))
        start = Date()
        do { try LAPACK.invertSymmetricPositiveDefinite(g, n: n) } catch {
            throw .invalidArgument("EASE: XᵀX + λI (λ = \(configuration.lambda)) could not be inverted: \(error); try a larger lambda")
        }
        // B[i, j] = −P[i, j] / P[j, j], zero diagonal.
        var negativeInverseDiagonal = [Float](repeating: 0, count: n)
        for j in 0..<n { negativeInverseDiagonal[j] = -1 / g[j * n + j] }
        negativeInverseDiagonal.withUnsafeBufferPointer { buffer in
            nonisolated(unsafe) let scale = buffer.baseAddress!
            let parts = Parallel.ranges(n, parts: Parallel.coreCount)
            Parallel.forEach(parts.count) { p in
                for i in parts[p] {
                    let row = g + i * n
                    for j in 0..<n { row[j] *= scale[j] }
                    row[i] = 0
                }
            }
        }
        events(.message("EASE: inverted and scaled in \(ItemBased.seconds(since: start)) s"))
        return EASE(configuration: configuration, weights: matrix, histories: ItemBased.Histories(data, keepValues: configuration.useValues))
    }

    public var modelName: String { "EASE" }
    public var userCount: Int { histories.userCount }
    public var parameters: [Parameter] { [] }

    /// `user`'s items (training, or the last fold-in), sorted: pass them as `excluding` to
    /// ``Recommender/recommend(user:count:excluding:)`` to recommend unseen items only.
    public func history(of user: Int) -> ArraySlice<Int32> {
        histories.items(of: user)
    }

    /// `out = Σ_h w_h · B[h, :]` over the history's items: `|history|` rows of `B` read, where a
    /// dense `x_u·B` reads all of it.
    func scoreSparse(items: ArraySlice<Int32>, values: ArraySlice<Float>?, into out: UnsafeMutablePointer<Float>) {
        let n = itemCount, b = weights.readPointer
        out.update(repeating: 0, count: n)
        var k = values?.startIndex ?? 0
        for h in items {
            let w: Float = values?[k] ?? 1
            k += 1
            VectorKernels.addScaled(b + Int(h) * n, w, into: out, n)
        }
    }

    /// `out = X·B` for a block of users through one `sgemm` on their dense history rows.
    func scoreDense(_ rows: ArraySlice<(items: ArraySlice<Int32>, values: ArraySlice<Float>?)>, into out: UnsafeMutablePointer<Float>) {
        let n = itemCount
        let x = UnsafeMutablePointer<Float>.allocate(capacity: rows.count * n)
        defer { x.deallocate() }
        x.initialize(repeating: 0, count: rows.count * n)
        for (r, row) in rows.enumerated() {
            var k = row.values?.startIndex ?? 0
            for h in row.items { x[r * n + Int(h)] = row.values?[k] ?? 1; k += 1 }
        }
        BLAS.gemm(m: rows.count, n: n, k: n, a: x, lda: n, b: weights.readPointer, ldb: n, c: out, ldc: n)
    }

    /// A block of users goes through `sgemm` when it has at least `denseBlockMinimum` users and
    /// their histories fill at least `1 / denseFillRatio` of its dense rows; otherwise rows of `B`
    /// are summed per user. Measured on ML-1M (3,706 items, 2 cores): summing rows costs ~0.085 ms
    /// per user of 165 items, a 256-user `sgemm` ~0.25 ms per user whatever the history; the
    /// break-even is near 1/8 fill.
    static let denseBlockMinimum = 16, denseBlock = 256, denseFillRatio = 8

    /// Scores of every item for each user. A single user (and any sparse block) sums the rows of
    /// `B` for their items; large blocks of dense histories use one `sgemm` each, whose rounding can
    /// differ from the single-user path in the last bits.
    public func scoreAllItems(users: [Int32]) -> Tensor {
        let n = itemCount
        let rows = histories.rows(users)
        var out = Tensor(shape: [users.count, n])
        nonisolated(unsafe) let p = out.writePointer()
        var sparseRows: [Int] = []
        var blockStart = 0
        while blockStart < rows.count {
            let block = blockStart..<min(blockStart + EASE.denseBlock, rows.count)
            let filled = block.reduce(0) { $0 + rows[$1].items.count }
            if block.count >= EASE.denseBlockMinimum && filled * EASE.denseFillRatio >= block.count * n {
                scoreDense(rows[block], into: p + block.lowerBound * n)
            } else {
                sparseRows += block
            }
            blockStart = block.upperBound
        }
        let sparse = sparseRows
        let parts = Parallel.ranges(sparse.count, parts: sparse.count >= 64 ? Parallel.coreCount : 1)
        Parallel.forEach(parts.count) { part in
            for s in parts[part] {
                let r = sparse[s]
                self.scoreSparse(items: rows[r].items, values: rows[r].values, into: p + r * n)
            }
        }
        return out
    }

    public func scoreAllItems(history: [Int32], values: [Float]?) -> [Float] {
        ItemBased.scores(history: history, values: values, itemCount: itemCount, keepValues: configuration.useValues) {
            scoreSparse(items: $0, values: $1, into: $2)
        }
    }

    /// Stores `history` as `user`'s (replacing it, or adding the user when `user == userCount`);
    /// repeated items count once, with their values summed.
    public func foldIn(user: Int, history: [Int32], values: [Float]?) throws {
        try histories.foldIn(user: user, history: history, values: values, itemCount: itemCount, keepValues: configuration.useValues)
    }

    /// The largest entries of row `item` of `B` (the items that having `item` recommends most).
    public func similarItems(to item: Int32, count: Int) -> [TopK.Entry] {
        precondition(item >= 0 && Int(item) < itemCount, "EASE.similarItems: item \(item) is not among the \(itemCount) items")
        return TopK.select(weights.readPointer + Int(item) * itemCount, count: itemCount, k: count, excluding: [item])
    }

    // MARK: checkpoints

    /// The `model` metadata value of EASE checkpoints.
    public static let checkpointKind = "ease"

    /// `B` as `weights` (F32, items × items), plus the users' histories.
    public func checkpoint() throws -> SafeTensorsFile {
        var file = SafeTensorsFile(tensors: ["weights": weights],
                                   metadata: try ModelCheckpoint.metadata(kind: EASE.checkpointKind, configuration: configuration))
        try histories.withLock { try $0.encode(into: &file) }
        return file
    }

    /// Loads a model saved with ``Checkpointable/save(to:)``; also returns the file's metadata.
    public static func load(from url: URL) throws -> (model: EASE, metadata: [String: String]) {
        let (file, configuration) = try ModelCheckpoint.open(url, kind: checkpointKind, configuration: Configuration.self)
        do { try configuration.validate() } catch { throw ModelError.badConfiguration(path: url.path, reason: error.description) }
        let weights = try file.tensor("weights")
        guard weights.rank == 2 && weights.shape[0] == weights.shape[1] && weights.shape[0] > 0 else {
            throw CheckpointError.badOffsets(path: url.path, tensor: "weights", reason: "shape \(weights.shape) is not a square matrix")
        }
        let histories = try ItemBased.Histories.decode(file, itemCount: weights.shape[0], keepValues: configuration.useValues, path: url.path)
        return (EASE(configuration: configuration, weights: weights, histories: histories), file.metadata)
    }
}
