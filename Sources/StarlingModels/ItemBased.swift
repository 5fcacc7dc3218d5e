import Foundation
import StarlingData
import StarlingTensor
import Synchronization

/// Pieces shared by the models that score from the users' histories: the histories themselves,
/// checkpoint helpers, and raw buffers and work distribution for their parallel fits.
enum ItemBased {
    /// The interaction histories an item-based model scores from: the training rows, plus the rows
    /// folded in since (replacing a known user's row, or appending new users).
    struct Histories: Sendable {
        /// One user's items, sorted and distinct, with their values where the model uses them.
        struct Row: Sendable, Equatable {
            var items: [Int32]
            var values: [Float]?

            /// A history as the models store and score it: sorted by item; a repeated item counts
            /// once, its values summed (values are dropped unless `keepValues`). Stops on ids outside
            /// `0..<itemCount` or a values count that differs (``foldIn`` checks both first and throws).
            init(history: [Int32], values: [Float]?, itemCount: Int, keepValues: Bool) {
                precondition(values == nil || values!.count == history.count,
                             "history: \(values?.count ?? 0) values for \(history.count) items")
                var sorted = true
                for (k, i) in history.enumerated() {
                    precondition(i >= 0 && Int(i) < itemCount, "history: item \(i) is not among the \(itemCount) items")
                    if k > 0 && history[k - 1] >= i { sorted = false }
                }
                if sorted {
                    items = history
                    self.values = keepValues ? (values ?? [Float](repeating: 1, count: history.count)) : nil
                    return
                }
                let order = history.indices.sorted { history[$0] != history[$1] ? history[$0] < history[$1] : $0 < $1 }
                var outItems: [Int32] = [], outValues: [Float] = []
                outItems.reserveCapacity(history.count)
                for k in order {
                    let v = values?[k] ?? 1
                    if let last = outItems.last, last == history[k] {
                        if keepValues { outValues[outValues.count - 1] += v }
                    } else {
                        outItems.append(history[k])
                        if keepValues { outValues.append(v) }
                    }
                }
                items = outItems
                self.values = keepValues ? outValues : nil
            }
        }

        /// The training rows (values kept only where the model uses them).
        let base: InteractionMatrix
        /// Rows folded in since training, by user.
        private(set) var replaced: [Int: Row] = [:]
        /// Training users plus users added by fold-in.
        private(set) var userCount: Int

        init(_ train: InteractionMatrix, keepValues: Bool) {
            base = keepValues ? train : InteractionMatrix(userCount: train.userCount, itemCount: train.itemCount,
                                                          rowStart: train.rowStart, itemIndices: train.itemIndices, values: nil)
            userCount = train.userCount
        }

        /// User `u`'s items and (where kept) values.
        func row(_ u: Int) -> (items: ArraySlice<Int32>, values: ArraySlice<Float>?) {
            precondition(u >= 0 && u < userCount, "user \(u) is not among the model's \(userCount) users")
            if let r = replaced[u] { return (r.items[...], r.values?[...]) }
            let range = base.rowStart[u]..<base.rowStart[u + 1]
            return (base.itemIndices[range], base.values?[range])
        }

        /// Checks and stores a fold-in.
        mutating func foldIn(user: Int, history: [Int32], values: [Float]?, itemCount: Int, keepValues: Bool) throws(ModelError) {
            try validateFoldIn(user: user, userCount: userCount, history: history, values: values, itemCount: itemCount)
            if let values, let bad = values.first(where: { !$0.isFinite }) {
                throw .invalidArgument("fold-in: value \(bad) is not finite")
            }
            replaced[user] = Row(history: history, values: values, itemCount: itemCount, keepValues: keepValues)
            if user == userCount { userCount += 1 }
        }

        /// Adds the rows as `history_offsets` (I32, users + 1), `history_items` (I32) and, where values
        /// are kept, `history_values` (F32).
        func encode(into file: inout SafeTensorsFile) throws {
            var offsets: [Int32] = [0], items: [Int32] = [], values: [Float] = []
            offsets.reserveCapacity(userCount + 1)
            items.reserveCapacity(base.count)
            let keepValues = base.values != nil
            for u in 0..<userCount {
                let r = row(u)
                items += r.items
                if keepValues { values += r.values! }
                guard items.count <= Int(Int32.max) else {
                    throw ModelError.invalidArgument("checkpoint: more than \(Int32.max) interactions do not fit I32 offsets")
                }
                offsets.append(Int32(items.count))
            }
            file.integerTensors["history_offsets"] = .init(shape: [offsets.count], values: offsets)
            file.integerTensors["history_items"] = .init(shape: [items.count], values: items)
            if keepValues { file.tensors["history_values"] = Tensor(values) }
        }

        /// The rows written by ``encode(into:)``, checked.
        static func decode(_ file: SafeTensorsFile, itemCount: Int, keepValues: Bool, path: String) throws -> Histories {
            let csr = try decodeCSR(file, offsets: "history_offsets", indices: "history_items", indexBound: itemCount, path: path)
            var values: [Float]? = nil
            if keepValues {
                let v = try file.tensor("history_values")
                guard v.count == csr.indices.count else {
                    throw CheckpointError.badOffsets(path: path, tensor: "history_values", reason: "\(v.count) values for \(csr.indices.count) items")
                }
                values = v.scalars
            }
            let m = InteractionMatrix(userCount: csr.offsets.count - 1, itemCount: itemCount, rowStart: csr.offsets,
                                      itemIndices: csr.indices, values: values)
            return Histories(m, keepValues: keepValues)
        }
    }

    /// Reads a compressed-row structure from integer tensors, checking that the offsets start at 0,
    /// never decrease and end at the index count, and that every index lies in `0..<indexBound`.
    static func decodeCSR(_ file: SafeTensorsFile, offsets offsetsName: String, indices indicesName: String,
                   indexBound: Int, path: String) throws -> (offsets: [Int], indices: [Int32]) {
        let o = try file.integerTensor(offsetsName).values
        let indices = try file.integerTensor(indicesName).values
        guard let first = o.first, first == 0, Int(o.last!) == indices.count else {
            throw CheckpointError.badOffsets(path: path, tensor: offsetsName,
                                             reason: "offsets must start at 0 and end at \(indices.count) (the number of \(indicesName))")
        }
        for k in 1..<o.count where o[k] < o[k - 1] {
            throw CheckpointError.badOffsets(path: path, tensor: offsetsName, reason: "offsets decrease at position \(k)")
        }
        if let bad = indices.first(where: { $0 < 0 || Int($0) >= indexBound }) {
            throw CheckpointError.badOffsets(path: path, tensor: indicesName, reason: "index \(bad) outside 0..<\(indexBound)")
        }
        return (o.map(Int.init), indices)
    }

    /// Seconds since `start`, rounded to milliseconds, for progress messages.
    static func seconds(since start: Date) -> Double {
        (Date().timeIntervalSince(start) * 1000).rounded() / 1000
    }

    /// Hands out `0..<count` in chunks to workers that claim them as they finish, so uneven chunks
    /// (popular items) balance across cores.
    final class ChunkQueue: Sendable {
        private let next = Atomic<Int>(0)
        let count: Int, chunk: Int

        init(count: Int, chunk: Int) {
            self.count = count
            self.chunk = max(1, chunk)
        }

        /// The next unclaimed chunk, or `nil` when all are claimed.
        func claim() -> Range<Int>? {
            let start = next.add(chunk, ordering: .relaxed).oldValue
            return start < count ? start..<min(start + chunk, count) : nil
        }
    }

    /// A read-only copy of a compressed-row matrix in raw buffers, for hot loops on several threads
    /// (no bounds or exclusivity checks, no array retains).
    final class CompressedRows: Sendable {
        nonisolated(unsafe) let start: UnsafeMutablePointer<Int>
        nonisolated(unsafe) let indices: UnsafeMutablePointer<Int32>
        nonisolated(unsafe) let values: UnsafeMutablePointer<Float>?
        let rowCount: Int

        init(_ m: InteractionMatrix) {
            rowCount = m.userCount
            start = .allocate(capacity: m.rowStart.count)
            start.initialize(from: m.rowStart, count: m.rowStart.count)
            indices = .allocate(capacity: max(1, m.count))
            indices.initialize(from: m.itemIndices, count: m.count)
            if let v = m.values {
                let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, v.count))
                p.initialize(from: v, count: v.count)
                values = p
            } else {
                values = nil
            }
        }

        deinit {
            start.deallocate()
            indices.deallocate()
            values?.deallocate()
        }
    }
}

/// The locked histories of an item-based model: what each of Popularity, ItemKNN and EASE needs
/// from them, in one place.
extension Mutex where Value == ItemBased.Histories {
    var userCount: Int { withLock { $0.userCount } }

    /// The user's history items.
    func items(of user: Int) -> ArraySlice<Int32> { withLock { $0.row(user).items } }

    /// The history rows of `users`, read under one lock.
    func rows(_ users: [Int32]) -> [(items: ArraySlice<Int32>, values: ArraySlice<Float>?)] {
        withLock { h in users.map { h.row(Int($0)) } }
    }

    /// Stores `history` as `user`'s (replacing it, or adding the user when `user == userCount`);
    /// repeated items count once, with their values summed.
    func foldIn(user: Int, history: [Int32], values: [Float]?, itemCount: Int, keepValues: Bool) throws {
        try withLock { (h: inout ItemBased.Histories) throws(ModelError) in
            try h.foldIn(user: user, history: history, values: values, itemCount: itemCount, keepValues: keepValues)
        }
    }
}

extension ItemBased {
    /// Scores of every item for an ad-hoc history, filled by `score(items, values, out)`.
    static func scores(history: [Int32], values: [Float]?, itemCount: Int, keepValues: Bool,
                       _ score: (ArraySlice<Int32>, ArraySlice<Float>?, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        let row = Histories.Row(history: history, values: values, itemCount: itemCount, keepValues: keepValues)
        var out = [Float](repeating: 0, count: itemCount)
        out.withUnsafeMutableBufferPointer { score(row.items[...], row.values?[...], $0.baseAddress!) }
        return out
    }
}
