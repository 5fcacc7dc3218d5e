import Foundation
import Synchronization
import StarlingTensor

/// A growable row-major table of `width`-wide `Float` rows: the user or item factors of a
/// matrix-factorisation model (``IALS``, ``BPRMF``).
///
/// Rows live in one 64-byte aligned block whose address is stable until ``appendRow()`` grows it,
/// so training kernels and scoring work on raw pointers. Appending is amortised O(width) (the
/// capacity doubles), which is what folding in new users one at a time needs. The owner guarantees
/// that no read runs while a row is appended or written (the ``Recommender`` contract); concurrent
/// writers touch disjoint rows, except in Hogwild training, which tolerates the races by design.
final class FactorTable: @unchecked Sendable {
    let width: Int
    private(set) var rows: Int
    private var capacity: Int
    private(set) var base: UnsafeMutablePointer<Float>

    /// `rows` zero rows.
    init(rows: Int, width: Int) {
        precondition(rows >= 0 && width > 0, "FactorTable: invalid size \(rows)×\(width)")
        self.width = width
        self.rows = rows
        self.capacity = max(rows, 1)
        base = FactorTable.allocate(capacity * width)
        base.initialize(repeating: 0, count: capacity * width)
    }

    /// A copy of a rank-2 tensor.
    convenience init(_ tensor: Tensor) {
        precondition(tensor.rank == 2, "FactorTable: need a rank-2 tensor, got shape \(tensor.shape)")
        self.init(rows: tensor.shape[0], width: tensor.shape[1])
        base.update(from: tensor.readPointer, count: tensor.count)
    }

    deinit { base.deallocate() }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64).bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// The first element of row `r`.
    @inline(__always)
    func row(_ r: Int) -> UnsafeMutablePointer<Float> { base + r * width }

    /// Appends a zero row and returns its index.
    func appendRow() -> Int {
        if rows == capacity {
            let newCapacity = max(capacity * 2, 16)
            let grown = FactorTable.allocate(newCapacity * width)
            grown.moveInitialize(from: base, count: rows * width)
            base.deallocate()
            base = grown
            capacity = newCapacity
        }
        (base + rows * width).initialize(repeating: 0, count: width)
        rows += 1
        return rows - 1
    }

    /// A copy of the rows as a `[rows, width]` tensor.
    var tensor: Tensor {
        var t = Tensor(uninitializedShape: [rows, width])
        t.writePointer().update(from: base, count: rows * width)
        return t
    }

    /// A copy of row `r`.
    func copyRow(_ r: Int) -> [Float] { Array(UnsafeBufferPointer(start: row(r), count: width)) }

    /// `1/‖row‖` for each row (0 for a zero row), for cosine similarities.
    func inverseNorms() -> [Float] { FactorScoring.inverseNorms(base, rowCount: rows, width: width) }

    /// `YᵀY + λI` (`width × width`, row-major): one BLAS call per thread on its share of the rows,
    /// the partial sums added in a fixed order.
    func gram(plusDiagonal lambda: Float, threads: Int = 1) -> [Float] {
        let f = width
        let parts = Parallel.ranges(rows, parts: max(1, min(threads, rows / 1024)))
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: parts.count * f * f)
        defer { partial.deallocate() }
        let out = SharedPointer(partial), y = SharedPointer(base)
        Parallel.forEach(parts.count) { t in
            let r = parts[t]
            BLAS.gemm(transposeA: true, m: f, n: f, k: r.count, a: y.base + r.lowerBound * f, lda: f,
                      b: y.base + r.lowerBound * f, ldb: f, c: out.base + t * f * f, ldc: f)
        }
        var g = [Float](repeating: 0, count: f * f)
        g.withUnsafeMutableBufferPointer { g in
            for t in 0..<parts.count { VectorKernels.add(partial + t * f * f, into: g.baseAddress!, f * f) }
            for d in 0..<f { g[d * f + d] += lambda }
        }
        return g
    }
}

/// Prefetch by raw address for the factor models' hot loops (the SIMD kernels are `VectorKernels`).
enum FactorKernels {
    @inline(__always)
    static func prefetch(_ address: UnsafeRawPointer) {
        VectorKernels.prefetch(address.assumingMemoryBound(to: Float.self), count: 1)
    }

    /// Prefetches the `count` floats at `p`.
    @inline(__always)
    static func prefetch(_ p: UnsafePointer<Float>, count: Int) { VectorKernels.prefetch(p, count: count) }
}

/// Scoring shared by the factor models: `score(u, i) = x_u · y_i (+ b_i)`.
enum FactorScoring {
    /// Scores of every item for each of `users`, one BLAS call for the whole batch.
    static func scoreAll(users: [Int32], userTable: FactorTable, itemTable: FactorTable, itemBias: FactorTable?) -> Tensor {
        let f = itemTable.width, n = itemTable.rows, b = users.count
        for u in users {
            precondition(u >= 0 && Int(u) < userTable.rows, "scoreAllItems: user \(u) is not among the model's \(userTable.rows) users")
        }
        var out = Tensor(uninitializedShape: [b, n])
        guard b > 0 && n > 0 else { return out }
        let c = out.writePointer()
        if b == 1 {
            BLAS.gemv(m: n, n: f, a: itemTable.base, lda: f, x: userTable.row(Int(users[0])), y: c)
        } else {
            let gathered = UnsafeMutablePointer<Float>.allocate(capacity: b * f)
            defer { gathered.deallocate() }
            for (k, u) in users.enumerated() { (gathered + k * f).update(from: userTable.row(Int(u)), count: f) }
            BLAS.gemm(transposeB: true, m: b, n: n, k: f, a: gathered, lda: f, b: itemTable.base, ldb: f, c: c, ldc: n)
        }
        if let itemBias {
            for r in 0..<b { VectorKernels.add(itemBias.base, into: c + r * n, n) }
        }
        return out
    }

    /// Scores of every item for one user vector (`itemTable.width` floats).
    static func scoreAll(vector: [Float], itemTable: FactorTable, itemBias: FactorTable?) -> [Float] {
        let n = itemTable.rows
        var out = [Float](repeating: 0, count: n)
        guard n > 0 else { return out }
        out.withUnsafeMutableBufferPointer { o in
            vector.withUnsafeBufferPointer { v in
                BLAS.gemv(m: n, n: itemTable.width, a: itemTable.base, lda: itemTable.width, x: v.baseAddress!, y: o.baseAddress!)
            }
            if let itemBias { VectorKernels.add(itemBias.base, into: o.baseAddress!, n) }
        }
        return out
    }

    /// One score per `(users[k], items[k])` pair: a dot product each.
    static func pairScores(users: [Int32], items: [Int32], userTable: FactorTable, itemTable: FactorTable, itemBias: FactorTable?) -> [Float] {
        precondition(users.count == items.count, "scores(users:items:): \(users.count) users, \(items.count) items")
        let f = itemTable.width
        return (0..<users.count).map { k in
            let u = Int(users[k]), i = Int(items[k])
            precondition(u >= 0 && u < userTable.rows && i >= 0 && i < itemTable.rows,
                         "scores(users:items:): pair (\(u), \(i)) outside \(userTable.rows) users × \(itemTable.rows) items")
            return VectorKernels.dot(userTable.row(u), itemTable.row(i), f) + (itemBias?.base[i] ?? 0)
        }
    }

    /// The `count` items whose factors have the highest cosine similarity with `item`'s, `item`
    /// itself excluded; an unknown item has none.
    static func similarItems(to item: Int32, count: Int, itemTable: FactorTable, inverseNorms: [Float]) -> [TopK.Entry] {
        similarItems(to: item, count: count, rows: itemTable.base, rowCount: itemTable.rows, width: itemTable.width, inverseNorms: inverseNorms)
    }

    /// The same over any row-major `rowCount × width` matrix of item vectors.
    static func similarItems(to item: Int32, count: Int, rows: UnsafePointer<Float>, rowCount n: Int, width: Int,
                             inverseNorms: [Float]) -> [TopK.Entry] {
        guard item >= 0 && Int(item) < n && count > 0 else { return [] }
        var scores = [Float](repeating: 0, count: n)
        return scores.withUnsafeMutableBufferPointer { s in
            let p = s.baseAddress!
            BLAS.gemv(m: n, n: width, a: rows, lda: width, x: rows + Int(item) * width, y: p)
            inverseNorms.withUnsafeBufferPointer { inv in
                let own = inv[Int(item)]
                for j in 0..<n { p[j] *= inv[j] * own }
            }
            return TopK.select(p, count: n, k: count, excluding: [item])
        }
    }

    /// `1/‖row‖` of each row of a row-major matrix (0 for a zero row), for cosine similarities.
    static func inverseNorms(_ rows: UnsafePointer<Float>, rowCount: Int, width: Int) -> [Float] {
        (0..<rowCount).map { r in
            let n = VectorKernels.dot(rows + r * width, rows + r * width, width).squareRoot()
            return n > 0 ? 1 / n : 0
        }
    }

    /// A fold-in history in canonical form: items sorted and unique, values of repeated items
    /// summed (1 each when `values` is `nil`).
    static func canonical(history: [Int32], values: [Float]?) -> (items: [Int32], values: [Float]) {
        let order = history.indices.sorted { history[$0] != history[$1] ? history[$0] < history[$1] : $0 < $1 }
        var items: [Int32] = [], vals: [Float] = []
        items.reserveCapacity(history.count)
        vals.reserveCapacity(history.count)
        for k in order {
            let v = values?[k] ?? 1
            if let last = items.last, last == history[k] { vals[vals.count - 1] += v } else {
                items.append(history[k])
                vals.append(v)
            }
        }
        return (items, vals)
    }

    /// The canonical form of the part of `history` a model can use for scoring: items it does
    /// not know, and non-finite values, are left out.
    static func known(history: [Int32], values: [Float]?, itemCount: Int) -> (items: [Int32], values: [Float]) {
        precondition(values == nil || values!.count == history.count,
                     "scoreAllItems(history:values:): \(values!.count) values for \(history.count) items")
        let kept = history.indices.filter { history[$0] >= 0 && Int(history[$0]) < itemCount && (values?[$0].isFinite ?? true) }
        return canonical(history: kept.map { history[$0] }, values: values.map { v in kept.map { v[$0] } })
    }

    /// Checks the shared fold-in arguments plus finite values.
    static func validate(user: Int, userCount: Int, history: [Int32], values: [Float]?, itemCount: Int) throws(ModelError) {
        try validateFoldIn(user: user, userCount: userCount, history: history, values: values, itemCount: itemCount)
        if let values, let bad = values.first(where: { !$0.isFinite }) {
            throw .invalidArgument("fold-in: value \(bad) is not finite")
        }
    }
}

/// Hands out consecutive chunks of `0..<total` to worker threads (dynamic scheduling: a thread
/// that finishes early takes the next chunk). Which thread solves a row never changes its result.
final class ChunkQueue: Sendable {
    let total: Int, chunk: Int
    private let next = Atomic<Int>(0)

    init(total: Int, chunk: Int) {
        self.total = total
        self.chunk = max(1, chunk)
    }

    /// The number of chunks.
    var count: Int { (total + chunk - 1) / chunk }

    /// The next chunk's index and rows, or `nil` when all are taken.
    func take() -> (index: Int, rows: Range<Int>)? {
        let start = next.wrappingAdd(chunk, ordering: .relaxed).oldValue
        guard start < total else { return nil }
        return (start / chunk, start..<min(start + chunk, total))
    }
}

/// A `Double` buffer whose slots are written by different threads.
struct SharedDoubles: @unchecked Sendable {
    let base: UnsafeMutablePointer<Double>
    init(_ base: UnsafeMutablePointer<Double>) { self.base = base }
}

/// Reading the factor tables of a matrix-factorisation checkpoint.
enum FactorCheckpoint {
    static func tables(_ file: SafeTensorsFile, factors: Int, path: String) throws -> (users: FactorTable, items: FactorTable) {
        let u = try file.tensor("user_factors"), i = try file.tensor("item_factors")
        guard u.rank == 2, i.rank == 2, u.shape[1] == factors, i.shape[1] == factors, i.shape[0] > 0 else {
            throw ModelError.badConfiguration(path: path, reason: "factor tables \(u.shape) and \(i.shape) do not have \(factors) columns")
        }
        return (FactorTable(u), FactorTable(i))
    }
}
