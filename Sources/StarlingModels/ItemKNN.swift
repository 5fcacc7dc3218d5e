import Foundation
import StarlingData
import StarlingTensor
import Synchronization

/// Item-based nearest neighbours with shrunk cosine similarity (Sarwar et al. 2001; the shrinkage
/// of Bell & Koren 2007).
///
/// - Similarity of items `i` and `j`, the columns of the user × item matrix `R` (binary, or the
///   values with ``Configuration/useValues``):
///   `sim(i, j) = Σ_u r_ui·r_uj / (‖r_i‖·‖r_j‖ + shrink)`.
/// - Each item keeps its ``Configuration/neighbours`` most similar other items (among those that
///   co-occur with it; ties to the lower id).
/// - A user's score of item `j`: `Σ_{h ∈ history} r_uh · sim(h, j)` over the histories' items `h`
///   that have `j` among their neighbours (`r_uh = 1` unless values are used).
///
/// The model keeps the users' histories and scores from them, so folding in a new or changed user
/// only stores the history.
public final class ItemKNN: Recommender {
    public struct Configuration: Codable, Sendable, Equatable {
        /// How many neighbours each item keeps.
        public var neighbours: Int
        /// Added to the denominator, so that similarities from few common users shrink toward 0.
        public var shrink: Float
        /// Whether the interactions' values (counts, ratings) weight similarities and scores;
        /// otherwise every interaction counts 1.
        public var useValues: Bool

        public init(neighbours: Int = 100, shrink: Float = 10, useValues: Bool = false) {
            self.neighbours = neighbours
            self.shrink = shrink
            self.useValues = useValues
        }

        func validate() throws(ModelError) {
            guard neighbours >= 1 else { throw .invalidArgument("ItemKNN: neighbours must be at least 1, got \(neighbours)") }
            guard shrink.isFinite && shrink >= 0 else { throw .invalidArgument("ItemKNN: shrink must be finite and non-negative, got \(shrink)") }
        }
    }

    public let configuration: Configuration
    public let itemCount: Int
    /// `neighbourStart[i] ..< neighbourStart[i + 1]` indexes item `i`'s neighbours, best first.
    let neighbourStart: [Int]
    let neighbourItems: [Int32]
    let neighbourSimilarities: [Float]
    let histories: Mutex<ItemBased.Histories>

    init(configuration: Configuration, itemCount: Int, neighbourStart: [Int], neighbourItems: [Int32],
         neighbourSimilarities: [Float], histories: ItemBased.Histories) {
        self.configuration = configuration
        self.itemCount = itemCount
        self.neighbourStart = neighbourStart
        self.neighbourItems = neighbourItems
        self.neighbourSimilarities = neighbourSimilarities
        self.histories = Mutex(histories)
    }

    /// Computes the neighbour lists of `data` (users × items) on all cores.
    ///
    /// For each item `i`, its users' rows are added into a dense per-worker row of co-occurrences
    /// (`Σ_u r_ui·r_u`), the touched items are turned into similarities and the best are selected.
    /// The cost is `Σ_u |items(u)|²`; the result does not depend on the number of threads.
    public static func fit(_ data: InteractionMatrix, configuration: Configuration = Configuration(),
                           events: (FitEvent) -> Void = { _ in }) throws(ModelError) -> ItemKNN {
        try configuration.validate()
        let start = Date()
        let n = data.itemCount
        let x = configuration.useValues ? data
            : InteractionMatrix(userCount: data.userCount, itemCount: n, rowStart: data.rowStart, itemIndices: data.itemIndices, values: nil)
        let t = x.transposed()
        var norms = [Float](repeating: 0, count: n)
        for i in 0..<n {
            var s = 0.0
            for k in t.rowStart[i]..<t.rowStart[i + 1] { let v = Double(t.values?[k] ?? 1); s += v * v }
            norms[i] = Float(s.squareRoot())
        }
        let keep = min(configuration.neighbours, max(n - 1, 0))
        let found = UnsafeMutableBufferPointer<Int32>.allocate(capacity: n)
        let bestItems = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(1, n * keep))
        let bestSims = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, n * keep))
        defer { found.deallocate(); bestItems.deallocate(); bestSims.deallocate() }
        // Each item writes its own slots.
        nonisolated(unsafe) let foundOut = found, itemsOut = bestItems, simsOut = bestSims
        let shrink = configuration.shrink
        let queue = ItemBased.ChunkQueue(count: n, chunk: 16)
        let workers = min(Parallel.coreCount, max(1, n / 16))
        norms.withUnsafeBufferPointer { normsBuffer in
            nonisolated(unsafe) let norm = normsBuffer.baseAddress!
            let kernel = CooccurrenceKernel(rows: x, columns: t)
            Parallel.forEach(workers) { _ in
                let scratch = CooccurrenceKernel.Scratch(itemCount: n, neighbours: keep)
                while let chunk = queue.claim() {
                    for i in chunk {
                        let touched = kernel.accumulate(item: i, into: scratch)
                        // Similarities of the touched items into the bounded heap; the co-occurrence row is reset.
                        var best = BestNeighbours(heap: scratch.heap, capacity: keep)
                        let ni = norm[i]
                        for q in 0..<touched {
                            let j = Int(scratch.touched[q])
                            let co = scratch.sums[j]
                            scratch.sums[j] = 0
                            if j == i || co == 0 { continue }
                            best.offer(Int32(j), co / (ni * norm[j] + shrink))
                        }
                        best.write(items: itemsOut.baseAddress! + i * keep, similarities: simsOut.baseAddress! + i * keep)
                        foundOut[i] = Int32(best.count)
                    }
                }
            }
        }
        var starts = [Int](repeating: 0, count: n + 1)
        for i in 0..<n { starts[i + 1] = starts[i] + Int(found[i]) }
        var items: [Int32] = [], sims: [Float] = []
        items.reserveCapacity(starts[n])
        sims.reserveCapacity(starts[n])
        for i in 0..<n {
            items += bestItems[(i * keep)..<(i * keep + Int(found[i]))]
            sims += bestSims[(i * keep)..<(i * keep + Int(found[i]))]
        }
        events(.message("ItemKNN: \(starts[n]) neighbours of \(n) items from \(data.count) interactions in \(ItemBased.seconds(since: start)) s (\(workers) threads)"))
        return ItemKNN(configuration: configuration, itemCount: n, neighbourStart: starts, neighbourItems: items,
                       neighbourSimilarities: sims, histories: ItemBased.Histories(data, keepValues: configuration.useValues))
    }

    public var modelName: String { "ItemKNN" }
    public var userCount: Int { histories.userCount }
    public var parameters: [Parameter] { [] }

    /// `user`'s items (training, or the last fold-in), sorted: pass them as `excluding` to
    /// ``Recommender/recommend(user:count:excluding:)`` to recommend unseen items only.
    public func history(of user: Int) -> ArraySlice<Int32> {
        histories.items(of: user)
    }

    /// `out[j] += Σ_h w_h · sim(h, j)` over the history's items and their neighbours.
    func accumulateScores(items: ArraySlice<Int32>, values: ArraySlice<Float>?, into out: UnsafeMutablePointer<Float>) {
        neighbourItems.withUnsafeBufferPointer { ids in
            neighbourSimilarities.withUnsafeBufferPointer { sims in
                neighbourStart.withUnsafeBufferPointer { starts in
                    var k = values?.startIndex ?? 0
                    for h in items {
                        let w: Float = values?[k] ?? 1
                        k += 1
                        for q in starts[Int(h)]..<starts[Int(h) + 1] { out[Int(ids[q])] += w * sims[q] }
                    }
                }
            }
        }
    }

    public func scoreAllItems(users: [Int32]) -> Tensor {
        let n = itemCount
        let rows = histories.rows(users)
        var out = Tensor(shape: [users.count, n])
        nonisolated(unsafe) let p = out.writePointer()
        // Users are independent, so rows come out the same whichever thread computes them.
        let blocks = Parallel.ranges(rows.count, parts: rows.count >= 64 ? Parallel.coreCount : 1)
        Parallel.forEach(blocks.count) { b in
            for r in blocks[b] { self.accumulateScores(items: rows[r].items, values: rows[r].values, into: p + r * n) }
        }
        return out
    }

    public func scoreAllItems(history: [Int32], values: [Float]?) -> [Float] {
        ItemBased.scores(history: history, values: values, itemCount: itemCount, keepValues: configuration.useValues) {
            accumulateScores(items: $0, values: $1, into: $2)
        }
    }

    /// Stores `history` as `user`'s (replacing it, or adding the user when `user == userCount`);
    /// repeated items count once, with their values summed.
    public func foldIn(user: Int, history: [Int32], values: [Float]?) throws {
        try histories.foldIn(user: user, history: history, values: values, itemCount: itemCount, keepValues: configuration.useValues)
    }

    /// The item's neighbour list: its most similar items, best first.
    public func similarItems(to item: Int32, count: Int) -> [TopK.Entry] {
        precondition(item >= 0 && Int(item) < itemCount, "ItemKNN.similarItems: item \(item) is not among the \(itemCount) items")
        let range = neighbourStart[Int(item)]..<min(neighbourStart[Int(item) + 1], neighbourStart[Int(item)] + max(0, count))
        return range.map { TopK.Entry(index: neighbourItems[$0], score: neighbourSimilarities[$0]) }
    }

    /// The number of stored neighbour entries (at most `itemCount × neighbours`).
    public var neighbourCount: Int { neighbourItems.count }

    // MARK: checkpoints

    /// The `model` metadata value of ItemKNN checkpoints.
    public static let checkpointKind = "itemknn"

    /// Neighbour lists as `neighbour_offsets` (I32, items + 1), `neighbour_items` (I32) and
    /// `neighbour_similarities` (F32), plus the users' histories.
    public func checkpoint() throws -> SafeTensorsFile {
        guard neighbourItems.count <= Int(Int32.max) else {
            throw ModelError.invalidArgument("ItemKNN checkpoint: \(neighbourItems.count) neighbours do not fit I32 offsets")
        }
        var file = SafeTensorsFile(
            tensors: ["neighbour_similarities": Tensor(neighbourSimilarities)],
            integerTensors: [
                "neighbour_offsets": .init(shape: [itemCount + 1], values: neighbourStart.map { Int32($0) }),
                "neighbour_items": .init(shape: [neighbourItems.count], values: neighbourItems),
            ],
            metadata: try ModelCheckpoint.metadata(kind: ItemKNN.checkpointKind, configuration: configuration))
        try histories.withLock { try $0.encode(into: &file) }
        return file
    }

    /// Loads a model saved with ``Checkpointable/save(to:)``; also returns the file's metadata.
    public static func load(from url: URL) throws -> (model: ItemKNN, metadata: [String: String]) {
        let (file, configuration) = try ModelCheckpoint.open(url, kind: checkpointKind, configuration: Configuration.self)
        do { try configuration.validate() } catch { throw ModelError.badConfiguration(path: url.path, reason: error.description) }
        let offsets = try file.integerTensor("neighbour_offsets").values
        let itemCount = offsets.count - 1
        let csr = try ItemBased.decodeCSR(file, offsets: "neighbour_offsets", indices: "neighbour_items", indexBound: itemCount, path: url.path)
        let sims = try file.tensor("neighbour_similarities")
        guard sims.count == csr.indices.count else {
            throw CheckpointError.badOffsets(path: url.path, tensor: "neighbour_similarities",
                                             reason: "\(sims.count) similarities for \(csr.indices.count) neighbours")
        }
        let histories = try ItemBased.Histories.decode(file, itemCount: itemCount, keepValues: configuration.useValues, path: url.path)
        let model = ItemKNN(configuration: configuration, itemCount: itemCount, neighbourStart: csr.offsets,
                            neighbourItems: csr.indices, neighbourSimilarities: sims.scalars, histories: histories)
        return (model, file.metadata)
    }
}

extension ItemKNN {
    /// Co-occurrences of one item with all others, `Σ_{u ∈ users(i)} r_ui · r_u`, accumulated into a
    /// worker's dense row.
    struct CooccurrenceKernel: Sendable {
        let rows: ItemBased.CompressedRows, columns: ItemBased.CompressedRows

        /// `rows` is users × items, `columns` its transpose.
        init(rows: InteractionMatrix, columns: InteractionMatrix) {
            self.rows = ItemBased.CompressedRows(rows)
            self.columns = ItemBased.CompressedRows(columns)
        }

        /// A worker's buffers, allocated once: the dense co-occurrence row, the mark of the last
        /// item that touched each slot, the touched list, and the neighbour heap.
        final class Scratch {
            let sums: UnsafeMutablePointer<Float>
            let stamp: UnsafeMutablePointer<Int32>
            let touched: UnsafeMutablePointer<Int32>
            let heap: UnsafeMutablePointer<UInt64>

            init(itemCount n: Int, neighbours: Int) {
                sums = .allocate(capacity: max(n, 1)); sums.initialize(repeating: 0, count: n)
                stamp = .allocate(capacity: max(n, 1)); stamp.initialize(repeating: -1, count: n)
                touched = .allocate(capacity: max(n, 1))
                heap = .allocate(capacity: max(neighbours, 1))
            }

            deinit {
                sums.deallocate(); stamp.deallocate(); touched.deallocate(); heap.deallocate()
            }
        }

        /// Adds item `i`'s co-occurrences into `scratch.sums` and lists the touched items (in the
        /// order first met) in `scratch.touched`; returns how many. The caller resets their sums to 0.
        func accumulate(item i: Int, into scratch: Scratch) -> Int {
            let sums = scratch.sums, stamp = scratch.stamp, touched = scratch.touched
            let rowStart = rows.start, rowItems = rows.indices, columnStart = columns.start, columnUsers = columns.indices
            let mark = Int32(i)
            var count = 0
            for k in columnStart[i]..<columnStart[i + 1] {
                let u = Int(columnUsers[k])
                let lo = rowStart[u], hi = rowStart[u + 1]
                if let rowValues = rows.values, let columnValues = columns.values {
                    let w = columnValues[k]
                    for m in lo..<hi {
                        let j = Int(rowItems[m])
                        if stamp[j] != mark { stamp[j] = mark; touched[count] = Int32(j); count += 1 }
                        sums[j] += w * rowValues[m]
                    }
                } else {
                    for m in lo..<hi {
                        let j = Int(rowItems[m])
                        if stamp[j] != mark { stamp[j] = mark; touched[count] = Int32(j); count += 1 }
                        sums[j] += 1
                    }
                }
            }
            return count
        }
    }

    /// The `capacity` best neighbours offered so far, in a min-heap of packed keys whose root is
    /// the worst kept. A key orders by similarity, then by lower id, in one integer comparison, so
    /// the result does not depend on the order of the offers.
    struct BestNeighbours {
        let heap: UnsafeMutablePointer<UInt64>
        let capacity: Int
        private(set) var count = 0

        init(heap: UnsafeMutablePointer<UInt64>, capacity: Int) {
            self.heap = heap
            self.capacity = capacity
        }

        /// The key of `(item, similarity)`: the similarity's bits made order-preserving as an
        /// unsigned integer in the high half, the complemented id in the low half.
        @inline(__always)
        static func key(_ item: Int32, _ similarity: Float) -> UInt64 {
            let b = similarity.bitPattern
            let ordered = b & 0x8000_0000 != 0 ? ~b : b | 0x8000_0000
            return UInt64(ordered) << 32 | UInt64(~UInt32(bitPattern: item))
        }

        @inline(__always)
        static func entry(_ key: UInt64) -> (item: Int32, similarity: Float) {
            let ordered = UInt32(truncatingIfNeeded: key >> 32)
            let b = ordered & 0x8000_0000 != 0 ? ordered & 0x7FFF_FFFF : ~ordered
            return (Int32(bitPattern: ~UInt32(truncatingIfNeeded: key)), Float(bitPattern: b))
        }

        @inline(__always)
        mutating func offer(_ item: Int32, _ similarity: Float) {
            let k = BestNeighbours.key(item, similarity)
            if count < capacity {
                var c = count
                count += 1
                while c > 0 {
                    let parent = (c - 1) / 2
                    guard k < heap[parent] else { break }
                    heap[c] = heap[parent]
                    c = parent
                }
                heap[c] = k
            } else if count > 0 && k > heap[0] {
                siftDown(k, count)
            }
        }

        /// Puts `k` at the root and restores the heap over `0..<end`.
        @inline(__always)
        private func siftDown(_ k: UInt64, _ end: Int) {
            var i = 0
            while true {
                let l = 2 * i + 1
                if l >= end { break }
                var m = l
                if l + 1 < end && heap[l + 1] < heap[l] { m = l + 1 }
                if heap[m] >= k { break }
                heap[i] = heap[m]
                i = m
            }
            heap[i] = k
        }

        /// Writes the kept neighbours best first (heap sort: the worst goes to the back).
        func write(items: UnsafeMutablePointer<Int32>, similarities: UnsafeMutablePointer<Float>) {
            var end = count
            while end > 1 {
                end -= 1
                let worst = heap[0]
                siftDown(heap[end], end)
                heap[end] = worst
            }
            for q in 0..<count { (items[q], similarities[q]) = BestNeighbours.entry(heap[q]) }
        }
    }
}
