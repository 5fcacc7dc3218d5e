import Foundation
import StarlingData
import StarlingTensor

/// Implicit-feedback alternating least squares (Hu, Koren & Volinsky, ICDM 2008), solved with a
/// few conjugate-gradient steps per row (Takács, Pilászy & Tikk, RecSys 2011), as in the
/// `implicit` library.
///
/// With `r_ui` the value of an interaction (1 when the matrix has no values), the preference is
/// `p_ui = 1` if `r_ui > 0` else 0, and the confidence `c_ui = 1 + α·|r_ui|` (1 for every pair
/// without an interaction). The model minimises
///
///     Σ_u Σ_i c_ui (p_ui − x_uᵀ y_i)² + λ (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²)
///
/// over all users × items (λ is not scaled by counts, as in `implicit`). Each iteration solves every
/// user with the items fixed, then every item with the users fixed: for user `u`,
/// `(YᵀY + λI + Yᵀ(C_u − I)Y) x_u = Yᵀ C_u p_u`, with `YᵀY` computed once per half-sweep by one
/// BLAS call and the sparse correction applied row by row; `cgSteps` conjugate-gradient steps start
/// from the previous `x_u`. Rows are solved by `threads` workers in dynamically scheduled chunks; a
/// row's result does not depend on which worker solves it, and `YᵀY` is summed from one partial
/// product per worker in a fixed order, so a fit is reproducible for a given thread count. OpenBLAS
/// is kept single-threaded meanwhile (its idle threads would spin beside the workers).
///
/// `implicit`'s `alpha` multiplies the values and uses them as the confidence directly
/// (`c = alpha·r`), so with binary data its `alpha = a` is this model's `alpha = a − 1`.
///
/// Folding in a user is the exact least-squares solve (Cholesky) for that user with the item
/// factors fixed. Scores are `x_uᵀ y_i`; similar items are ranked by the cosine of item factors.
/// Reads are thread-safe; ``fit(_:events:)`` and ``foldIn(user:history:values:)`` must not run
/// concurrently with anything else on the same model.
public final class IALS: Recommender, @unchecked Sendable {
    /// Hyper-parameters.
    public struct Configuration: Codable, Sendable, Equatable {
        /// The width of the user and item factors.
        public var factors: Int
        /// λ, the L2 penalty on every user and item vector.
        public var regularization: Float
        /// α in the confidence `c = 1 + α·|r|`. The default, 40, is the paper's; on the Gowalla
        /// split it beats 1, 10, 20 and 80 (binary data). Scale it down for counts or ratings.
        public var alpha: Float
        /// Full sweeps (users, then items).
        public var iterations: Int
        /// Conjugate-gradient steps per row and half-sweep, warm-started from the previous factors.
        public var cgSteps: Int
        /// Seeds the initial factors.
        public var seed: UInt64
        /// Worker threads for the sweeps.
        public var threads: Int
        /// Whether each iteration reports the training loss (one extra pass over the interactions).
        public var calculateTrainingLoss: Bool

        public init(factors: Int = 64, regularization: Float = 0.01, alpha: Float = 40, iterations: Int = 15, cgSteps: Int = 3,
                    seed: UInt64 = 42, threads: Int = Parallel.coreCount, calculateTrainingLoss: Bool = false) {
            self.factors = factors
            self.regularization = regularization
            self.alpha = alpha
            self.iterations = iterations
            self.cgSteps = cgSteps
            self.seed = seed
            self.threads = threads
            self.calculateTrainingLoss = calculateTrainingLoss
        }

        func validate() throws(ModelError) {
            guard factors > 0 else { throw .invalidArgument("iALS: factors must be positive, got \(factors)") }
            guard regularization >= 0, regularization.isFinite else { throw .invalidArgument("iALS: regularization must be ≥ 0, got \(regularization)") }
            guard alpha >= 0, alpha.isFinite else { throw .invalidArgument("iALS: alpha must be ≥ 0, got \(alpha)") }
            guard iterations >= 0 else { throw .invalidArgument("iALS: iterations must be ≥ 0, got \(iterations)") }
            guard cgSteps >= 1 else { throw .invalidArgument("iALS: cgSteps must be ≥ 1, got \(cgSteps)") }
            guard threads >= 1 else { throw .invalidArgument("iALS: threads must be ≥ 1, got \(threads)") }
        }
    }

    /// How a single row's least-squares problem is solved.
    public enum Solver: Sendable, Equatable {
        /// The exact solution (Cholesky factorisation through LAPACK).
        case cholesky
        /// `steps` conjugate-gradient steps from `start` (zeros when `nil`), as in training.
        case conjugateGradient(steps: Int, start: [Float]?)
    }

    public let configuration: Configuration
    public let itemCount: Int
    let users: FactorTable
    let items: FactorTable
    /// `YᵀY + λI` for the current item factors (what fold-in needs).
    private var itemGram: [Float]
    private var itemInverseNorms: [Float]

    /// A model with small random factors, uniform in [0, 0.01) as in `implicit`.
    public init(configuration: Configuration = Configuration(), userCount: Int, itemCount: Int) throws(ModelError) {
        try configuration.validate()
        guard userCount >= 0, itemCount > 0 else { throw .invalidArgument("iALS: need a positive item count and a non-negative user count") }
        self.configuration = configuration
        self.itemCount = itemCount
        let users = FactorTable(rows: userCount, width: configuration.factors)
        let items = FactorTable(rows: itemCount, width: configuration.factors)
        var rng = RandomGenerator(seed: configuration.seed)
        for table in [users, items] {
            for k in 0..<(table.rows * table.width) { table.base[k] = rng.nextFloat() * 0.01 }
        }
        self.users = users
        self.items = items
        itemGram = []
        itemInverseNorms = []
        refreshItemCaches()
    }

    init(configuration: Configuration, users: FactorTable, items: FactorTable) {
        self.configuration = configuration
        self.itemCount = items.rows
        self.users = users
        self.items = items
        itemGram = []
        itemInverseNorms = []
        refreshItemCaches()
    }

    /// A model fitted to `data` (users × items).
    public static func fit(_ data: InteractionMatrix, configuration: Configuration = Configuration(),
                           events: (FitEvent) -> Void = { _ in }) throws(ModelError) -> IALS {
        let model = try IALS(configuration: configuration, userCount: data.userCount, itemCount: data.itemCount)
        try model.fit(data, events: events)
        return model
    }

    public var modelName: String { "iALS" }
    public var userCount: Int { users.rows }
    public var factors: Int { configuration.factors }

    /// Snapshots (copies) of the factor tables, `user_factors` `[users, factors]` and
    /// `item_factors` `[items, factors]`; restore a model with ``load(from:)``.
    public var parameters: [Parameter] {
        [Parameter(name: "user_factors", value: users.tensor), Parameter(name: "item_factors", value: items.tensor)]
    }

    /// Copies of the factor tables.
    public var userFactors: Tensor { users.tensor }
    public var itemFactors: Tensor { items.tensor }

    private func refreshItemCaches() {
        itemGram = items.gram(plusDiagonal: configuration.regularization)
        itemInverseNorms = items.inverseNorms()
    }

    // MARK: training

    /// Runs `configuration.iterations` sweeps from the current factors on `data`, which must have
    /// the model's user and item counts. Reports each iteration through `events`.
    public func fit(_ data: InteractionMatrix, events: (FitEvent) -> Void = { _ in }) throws(ModelError) {
        guard data.userCount == userCount, data.itemCount == itemCount else {
            throw .invalidArgument("iALS.fit: data is \(data.userCount) users × \(data.itemCount) items, the model \(userCount) × \(itemCount)")
        }
        // Our workers are the parallelism; idle OpenBLAS threads would only spin beside them.
        SingleThreadedBLAS.enter()
        defer { SingleThreadedBLAS.leave() }
        let alpha = configuration.alpha, lambda = configuration.regularization, threads = configuration.threads
        let byUser = ConfidenceRows(data, alpha: alpha)
        let byItem = ConfidenceRows(data.transposed(), alpha: alpha)
        var gramY = items.gram(plusDiagonal: lambda, threads: threads)
        let total = configuration.iterations
        for iteration in 0..<total {
            let start = Date()
            sweep(byUser, solving: users, fixed: items, gram: gramY)
            sweep(byItem, solving: items, fixed: users, gram: users.gram(plusDiagonal: lambda, threads: threads))
            gramY = items.gram(plusDiagonal: lambda, threads: threads)
            let loss = configuration.calculateTrainingLoss ? trainingLoss(byUser, gramY: gramY) : nil
            events(.iteration(number: iteration + 1, of: total, loss: loss, seconds: Date().timeIntervalSince(start)))
        }
        itemGram = gramY
        itemInverseNorms = items.inverseNorms()
    }

    /// One half-sweep: every row of `x` solved by conjugate gradient with `y` fixed.
    private func sweep(_ rows: ConfidenceRows, solving x: FactorTable, fixed y: FactorTable, gram: [Float]) {
        let f = configuration.factors, steps = configuration.cgSteps
        let queue = ChunkQueue(total: rows.count, chunk: 128)
        let xs = SharedPointer(x.base), ys = SharedPointer(y.base)
        Parallel.forEach(min(configuration.threads, queue.count)) { _ in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 3 * f)
            defer { scratch.deallocate() }
            gram.withUnsafeBufferPointer { g in
                rows.withPointers { start, indices, weights, targets in
                    while let chunk = queue.take() {
                        for r in chunk.rows {
                            let lo = start[r], hi = start[r + 1]
                            IALS.conjugateGradient(x: xs.base + r * f, f: f, gram: g.baseAddress!, y: ys.base,
                                                   indices: indices + lo, weights: weights + lo, targets: targets + lo,
                                                   count: hi - lo, steps: steps, scratch: scratch)
                        }
                    }
                }
            }
        }
    }

    /// The objective above divided by `Σ c_ui` over all user × item pairs, as `implicit` reports it.
    private func trainingLoss(_ rows: ConfidenceRows, gramY: [Float]) -> Double {
        let f = configuration.factors
        let queue = ChunkQueue(total: rows.count, chunk: 256)
        let partial = UnsafeMutableBufferPointer<Double>.allocate(capacity: queue.count)
        partial.initialize(repeating: 0)
        defer { partial.deallocate() }
        let sums = SharedDoubles(partial.baseAddress!)
        let xs = SharedPointer(users.base), ys = SharedPointer(items.base)
        Parallel.forEach(min(configuration.threads, max(queue.count, 1))) { _ in
            let t = UnsafeMutablePointer<Float>.allocate(capacity: f)
            defer { t.deallocate() }
            gramY.withUnsafeBufferPointer { g in
                rows.withPointers { start, indices, weights, targets in
                    while let chunk = queue.take() {
                        var s = 0.0
                        for r in chunk.rows {
                            let x = xs.base + r * f
                            // xᵀ(YᵀY + λI)x: every pair at confidence 1 and preference 0, plus λ‖x‖².
                            IALS.symmetricMatVec(g.baseAddress!, x, t, f)
                            var row = Double(VectorKernels.dot(t, x, f))
                            for e in start[r]..<start[r + 1] {
                                let d = Double(VectorKernels.dot(ys.base + Int(indices[e]) * f, x, f))
                                let c = 1 + Double(weights[e]), p: Double = targets[e] > 0 ? 1 : 0
                                row += c * (p - d) * (p - d) - d * d
                            }
                            s += row
                        }
                        sums.base[chunk.index] = s
                    }
                }
            }
        }
        var loss = partial.reduce(0, +)
        for k in 0..<(items.rows * f) { loss += Double(configuration.regularization) * Double(items.base[k] * items.base[k]) }
        var confidence = Double(userCount) * Double(itemCount) - Double(rows.indices.count)
        for w in rows.weights { confidence += 1 + Double(w) }
        return loss / max(confidence, 1)
    }

    // MARK: kernels

    /// `out = G·v` for a symmetric `n×n` row-major `G` (columns in SIMD registers, 64 at a time).
    @inline(__always)
    static func symmetricMatVec(_ g: UnsafePointer<Float>, _ v: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        typealias V = SIMD16<Float>
        var c = 0
        while c + 64 <= n {
            var a0 = V(), a1 = V(), a2 = V(), a3 = V()
            for j in 0..<n {
                let s = V(repeating: v[j]), row = g + j * n + c
                a0 += s * VectorKernels.load(row)
                a1 += s * VectorKernels.load(row + 16)
                a2 += s * VectorKernels.load(row + 32)
                a3 += s * VectorKernels.load(row + 48)
            }
            VectorKernels.store(a0, out + c); VectorKernels.store(a1, out + c + 16); VectorKernels.store(a2, out + c + 32); VectorKernels.store(a3, out + c + 48)
            c += 64
        }
        while c + 16 <= n {
            var a0 = V(), a1 = V()
            var j = 0
            while j + 1 < n {
                a0 += V(repeating: v[j]) * VectorKernels.load(g + j * n + c)
                a1 += V(repeating: v[j + 1]) * VectorKernels.load(g + (j + 1) * n + c)
                j += 2
            }
            if j < n { a0 += V(repeating: v[j]) * VectorKernels.load(g + j * n + c) }
            VectorKernels.store(a0 + a1, out + c)
            c += 16
        }
        // G is symmetric: column k is row k.
        while c < n { out[c] = VectorKernels.dot(g + c * n, v, n); c += 1 }
    }

    /// How many entries ahead the first pass over a row prefetches factor rows.
    static let prefetchDistance = 6

    /// `steps` conjugate-gradient steps on `(G + Σ_e w_e y_e y_eᵀ) x = Σ_e t_e y_e` from the
    /// current `x`, where `e` runs over the row's `count` entries (`y_e` is row `indices[e]` of `y`,
    /// `w_e = c − 1`, `t_e = c·p`). A row without entries gets `x = 0`, its exact solution.
    /// `scratch` holds `3·f` floats.
    @inline(__always)
    static func conjugateGradient(x: UnsafeMutablePointer<Float>, f: Int, gram: UnsafePointer<Float>, y: UnsafePointer<Float>,
                                  indices: UnsafePointer<Int32>, weights: UnsafePointer<Float>, targets: UnsafePointer<Float>,
                                  count: Int, steps: Int, scratch: UnsafeMutablePointer<Float>) {
        if count == 0 { x.update(repeating: 0, count: f); return }
        let r = scratch, p = scratch + f, ap = scratch + 2 * f
        for e in 0..<min(count, prefetchDistance) { VectorKernels.prefetch(y + Int(indices[e]) * f, count: f) }
        // r = b − A·x
        symmetricMatVec(gram, x, r, f)
        for k in 0..<f { r[k] = -r[k] }
        for e in 0..<count {
            if e + prefetchDistance < count { VectorKernels.prefetch(y + Int(indices[e + prefetchDistance]) * f, count: f) }
            let ye = y + Int(indices[e]) * f
            let coefficient = targets[e] - weights[e] * VectorKernels.dot(ye, x, f)
            for k in 0..<f { r[k] += coefficient * ye[k] }
        }
        p.update(from: r, count: f)
        var rsOld = VectorKernels.dot(r, r, f)
        if rsOld < 1e-20 { return }
        for _ in 0..<steps {
            // ap = A·p without forming A
            symmetricMatVec(gram, p, ap, f)
            for e in 0..<count {
                let w = weights[e]
                if w == 0 { continue }
                let ye = y + Int(indices[e]) * f
                let coefficient = w * VectorKernels.dot(ye, p, f)
                for k in 0..<f { ap[k] += coefficient * ye[k] }
            }
            let pAp = VectorKernels.dot(p, ap, f)
            guard pAp > 0 else { break }
            let a = rsOld / pAp
            for k in 0..<f { x[k] += a * p[k] }
            for k in 0..<f { r[k] -= a * ap[k] }
            let rsNew = VectorKernels.dot(r, r, f)
            if rsNew < 1e-20 { break }
            let beta = rsNew / rsOld
            for k in 0..<f { p[k] = r[k] + beta * p[k] }
            rsOld = rsNew
        }
    }

    // MARK: fold-in

    /// The least-squares user vector for `history` with the item factors fixed: what fold-in
    /// stores. Repeated items have their values summed; `values` default to 1.
    public func userVector(history: [Int32], values: [Float]? = nil, solver: Solver = .cholesky) throws(ModelError) -> [Float] {
        try FactorScoring.validate(user: userCount, userCount: userCount, history: history, values: values, itemCount: itemCount)
        if case let .conjugateGradient(steps, start) = solver {
            guard steps >= 1 else { throw .invalidArgument("iALS.userVector: need at least one conjugate-gradient step") }
            if let start, start.count != factors { throw .invalidArgument("iALS.userVector: start has \(start.count) values, the model \(factors) factors") }
        }
        return solve(ConfidenceRow(FactorScoring.canonical(history: history, values: values), alpha: configuration.alpha), solver: solver)
    }

    private func solve(_ row: ConfidenceRow, solver: Solver) -> [Float] {
        switch solver {
        case .cholesky:
            if let exact = choleskySolve(row) { return exact }
            // Only a singular system (λ = 0 and too few items) gets here: CG gives a least-squares answer.
            return conjugateGradientSolve(row, steps: 2 * factors, start: nil)
        case let .conjugateGradient(steps, start):
            return conjugateGradientSolve(row, steps: steps, start: start)
        }
    }

    private func conjugateGradientSolve(_ row: ConfidenceRow, steps: Int, start: [Float]?) -> [Float] {
        let f = factors
        var x = start ?? [Float](repeating: 0, count: f)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 3 * f)
        defer { scratch.deallocate() }
        x.withUnsafeMutableBufferPointer { xp in
            itemGram.withUnsafeBufferPointer { g in
                row.items.withUnsafeBufferPointer { i in
                    row.weights.withUnsafeBufferPointer { w in
                        row.targets.withUnsafeBufferPointer { t in
                            IALS.conjugateGradient(x: xp.baseAddress!, f: f, gram: g.baseAddress!, y: items.base,
                                                   indices: i.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                                                   weights: w.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                                                   targets: t.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                                                   count: row.items.count, steps: steps, scratch: scratch)
                        }
                    }
                }
            }
        }
        return x
    }

    /// `(YᵀY + λI + Σ w_e y_e y_eᵀ) x = Σ t_e y_e` by Cholesky; `nil` when the matrix is singular.
    private func choleskySolve(_ row: ConfidenceRow) -> [Float]? {
        let f = factors, n = row.items.count
        var x = [Float](repeating: 0, count: f)
        if n == 0 { return x }
        var a = itemGram
        let gathered = UnsafeMutablePointer<Float>.allocate(capacity: 2 * n * f)
        defer { gathered.deallocate() }
        let weighted = gathered + n * f
        for (e, item) in row.items.enumerated() {
            let ye = items.row(Int(item))
            (gathered + e * f).update(from: ye, count: f)
            VectorKernels.scaled(ye, row.weights[e], into: weighted + e * f, f)
        }
        let solved: Bool = a.withUnsafeMutableBufferPointer { ap in
            x.withUnsafeMutableBufferPointer { xp in
                BLAS.gemm(transposeA: true, m: f, n: f, k: n, a: gathered, lda: f, b: weighted, ldb: f, beta: 1, c: ap.baseAddress!, ldc: f)
                row.targets.withUnsafeBufferPointer { t in
                    BLAS.gemv(transpose: true, m: n, n: f, a: gathered, lda: f, x: t.baseAddress!, y: xp.baseAddress!)
                }
                do {
                    try LAPACK.choleskyFactor(ap.baseAddress!, n: f)
                    try LAPACK.solveCholesky(factor: ap.baseAddress!, n: f, rhs: xp.baseAddress!, count: 1)
                    return true
                } catch {
                    return false
                }
            }
        }
        return solved ? x : nil
    }

    /// Stores the exact least-squares vector for `history` as `user`'s (`user == userCount` adds a user).
    public func foldIn(user: Int, history: [Int32], values: [Float]?) throws {
        try FactorScoring.validate(user: user, userCount: userCount, history: history, values: values, itemCount: itemCount)
        let x = solve(ConfidenceRow(FactorScoring.canonical(history: history, values: values), alpha: configuration.alpha), solver: .cholesky)
        let row = user == userCount ? users.appendRow() : user
        x.withUnsafeBufferPointer { users.row(row).update(from: $0.baseAddress!, count: factors) }
    }

    // MARK: scoring

    public func scoreAllItems(users batch: [Int32]) -> Tensor {
        FactorScoring.scoreAll(users: batch, userTable: users, itemTable: items, itemBias: nil)
    }

    /// Scores for the exact fold-in vector of `history`; items the model does not know are ignored.
    public func scoreAllItems(history: [Int32], values: [Float]?) -> [Float] {
        let row = ConfidenceRow(FactorScoring.known(history: history, values: values, itemCount: itemCount), alpha: configuration.alpha)
        return FactorScoring.scoreAll(vector: solve(row, solver: .cholesky), itemTable: items, itemBias: nil)
    }

    public func scores(users batch: [Int32], items pairs: [Int32]) -> [Float] {
        FactorScoring.pairScores(users: batch, items: pairs, userTable: users, itemTable: items, itemBias: nil)
    }

    public func similarItems(to item: Int32, count: Int) -> [TopK.Entry] {
        FactorScoring.similarItems(to: item, count: count, itemTable: items, inverseNorms: itemInverseNorms)
    }

    // MARK: checkpoints

    /// The `model` metadata value of iALS checkpoints.
    public static let checkpointKind = "ials"

    public func checkpoint() throws -> SafeTensorsFile {
        return SafeTensorsFile(tensors: ["user_factors": users.tensor, "item_factors": items.tensor],
                               metadata: try ModelCheckpoint.metadata(kind: IALS.checkpointKind, configuration: configuration))
    }

    /// Loads a model saved with ``Checkpointable/save(to:)``, with the file's metadata.
    public static func load(from url: URL) throws -> (model: IALS, metadata: [String: String]) {
        let (file, configuration) = try ModelCheckpoint.open(url, kind: checkpointKind, configuration: Configuration.self)
        do { try configuration.validate() } catch { throw ModelError.badConfiguration(path: url.path, reason: "\(error)") }
        let (users, items) = try FactorCheckpoint.tables(file, factors: configuration.factors, path: url.path)
        return (IALS(configuration: configuration, users: users, items: items), file.metadata)
    }
}

/// One row's confidence terms: `w = c − 1 = α·|r|` and `t = c·p`.
struct ConfidenceRow {
    let items: [Int32], weights: [Float], targets: [Float]

    init(_ canonical: (items: [Int32], values: [Float]), alpha: Float) {
        items = canonical.items
        weights = canonical.values.map { alpha * abs($0) }
        targets = canonical.values.map { $0 > 0 ? 1 + alpha * $0 : 0 }
    }
}

/// Every row's confidence terms, in compressed-row form.
struct ConfidenceRows: Sendable {
    let rowStart: [Int], indices: [Int32], weights: [Float], targets: [Float]

    init(_ m: InteractionMatrix, alpha: Float) {
        rowStart = m.rowStart
        indices = m.itemIndices
        if let values = m.values {
            weights = values.map { alpha * abs($0) }
            targets = values.map { $0 > 0 ? 1 + alpha * $0 : 0 }
        } else {
            weights = [Float](repeating: alpha, count: m.count)
            targets = [Float](repeating: 1 + alpha, count: m.count)
        }
    }

    var count: Int { rowStart.count - 1 }

    func withPointers<R>(_ body: (UnsafePointer<Int>, UnsafePointer<Int32>, UnsafePointer<Float>, UnsafePointer<Float>) -> R) -> R {
        rowStart.withUnsafeBufferPointer { s in
            indices.withUnsafeBufferPointer { i in
                weights.withUnsafeBufferPointer { w in
                    targets.withUnsafeBufferPointer { t in
                        // Empty arrays have no base address; no row reads them then.
                        body(s.baseAddress!, i.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                             w.baseAddress ?? UnsafePointer(bitPattern: 8)!, t.baseAddress ?? UnsafePointer(bitPattern: 8)!)
                    }
                }
            }
        }
    }
}
