import Foundation
import StarlingData
import StarlingTensor

/// Bayesian Personalised Ranking matrix factorisation (Rendle et al., UAI 2009), trained with
/// Hogwild-style parallel SGD, as in the `implicit` library.
///
/// The score is `x̂_ui = x_uᵀ y_i + b_i` (`b_i` only with ``Configuration/itemBias``). Each epoch
/// draws as many triples `(u, i, j)` as there are training interactions: a training pair `(u, i)`
/// uniformly, and a negative item `j` uniformly among all items, redrawn while `u` interacted with
/// it. Each triple takes one SGD step on
///
///     −ln σ(x̂_ui − x̂_uj) + λ (‖x_u‖² + ‖y_i‖² + ‖y_j‖² + b_i² + b_j²) / 2
///
/// i.e. with `z = σ(x̂_uj − x̂_ui)` and learning rate `η`: `x_u += η (z (y_i − y_j) − λ x_u)`,
/// `y_i += η (z x_u − λ y_i)`, `y_j += η (−z x_u − λ y_j)`, `b_i += η (z − λ b_i)`,
/// `b_j += η (−z − λ b_j)` (the update `implicit` applies). The epoch's triples are split evenly
/// between `threads` workers, each with its own seeded generator, updating the shared factors
/// without locks (Hogwild): runs are deterministic only with one thread.
///
/// Folding in a user learns only that user's vector, from zeros, with the same SGD step and the
/// item factors and biases fixed: `foldInEpochs` epochs of as many triples as the user has
/// positive items, from a generator seeded by ``Configuration/seed`` (the same history always
/// gives the same vector). Only items with a positive value count as positives; every history item
/// is excluded from the negatives. Similar items are ranked by the cosine of item factors.
/// Reads are thread-safe; ``fit(_:events:)`` and ``foldIn(user:history:values:)`` must not run
/// concurrently with anything else on the same model.
public final class BPRMF: Recommender, @unchecked Sendable {
    /// Hyper-parameters.
    public struct Configuration: Codable, Sendable, Equatable {
        /// The width of the user and item factors.
        public var factors: Int
        /// The SGD step size η.
        public var learningRate: Float
        /// λ, the L2 penalty applied at every step to the vectors (and biases) the step touches.
        public var regularization: Float
        /// Epochs.
        public var iterations: Int
        /// Whether items have a learned bias `b_i`.
        public var itemBias: Bool
        /// Seeds the initial factors, the sampling and fold-in.
        public var seed: UInt64
        /// Hogwild worker threads.
        public var threads: Int
        /// Fold-in epochs over the user's positives; `nil` means ``iterations``.
        public var foldInEpochs: Int?
        /// Whether each epoch reports the mean BPR loss `−ln σ(x̂_ui − x̂_uj)` of its triples.
        public var calculateTrainingLoss: Bool

        public init(factors: Int = 64, learningRate: Float = 0.01, regularization: Float = 0.01, iterations: Int = 100,
                    itemBias: Bool = true, seed: UInt64 = 42, threads: Int = Parallel.coreCount, foldInEpochs: Int? = nil,
                    calculateTrainingLoss: Bool = false) {
            self.factors = factors
            self.learningRate = learningRate
            self.regularization = regularization
            self.iterations = iterations
            self.itemBias = itemBias
            self.seed = seed
            self.threads = threads
            self.foldInEpochs = foldInEpochs
            self.calculateTrainingLoss = calculateTrainingLoss
        }

        func validate() throws(ModelError) {
            guard factors > 0 else { throw .invalidArgument("BPR-MF: factors must be positive, got \(factors)") }
            guard learningRate > 0, learningRate.isFinite else { throw .invalidArgument("BPR-MF: learningRate must be positive, got \(learningRate)") }
            guard regularization >= 0, regularization.isFinite else { throw .invalidArgument("BPR-MF: regularization must be ≥ 0, got \(regularization)") }
            guard iterations >= 0 else { throw .invalidArgument("BPR-MF: iterations must be ≥ 0, got \(iterations)") }
            guard threads >= 1 else { throw .invalidArgument("BPR-MF: threads must be ≥ 1, got \(threads)") }
            if let foldInEpochs, foldInEpochs < 0 { throw .invalidArgument("BPR-MF: foldInEpochs must be ≥ 0, got \(foldInEpochs)") }
        }
    }

    public let configuration: Configuration
    public let itemCount: Int
    let users: FactorTable
    let items: FactorTable
    /// The item biases as a one-column table, or `nil` without ``Configuration/itemBias``.
    let bias: FactorTable?
    private var itemInverseNorms: [Float]

    /// How many uniform draws a negative gets before the triple is skipped (a user who has
    /// interacted with nearly every item).
    static let negativeTries = 64

    /// A model with factors uniform in `[−0.5, 0.5) / factors` (as in `implicit`) and zero biases.
    public init(configuration: Configuration = Configuration(), userCount: Int, itemCount: Int) throws(ModelError) {
        try configuration.validate()
        guard userCount >= 0, itemCount > 0 else { throw .invalidArgument("BPR-MF: need a positive item count and a non-negative user count") }
        self.configuration = configuration
        self.itemCount = itemCount
        let users = FactorTable(rows: userCount, width: configuration.factors)
        let items = FactorTable(rows: itemCount, width: configuration.factors)
        var rng = RandomGenerator(seed: configuration.seed)
        let scale = 1 / Float(configuration.factors)
        for table in [users, items] {
            for k in 0..<(table.rows * table.width) { table.base[k] = (rng.nextFloat() - 0.5) * scale }
        }
        self.users = users
        self.items = items
        bias = configuration.itemBias ? FactorTable(rows: itemCount, width: 1) : nil
        itemInverseNorms = items.inverseNorms()
    }

    init(configuration: Configuration, users: FactorTable, items: FactorTable, bias: FactorTable?) {
        self.configuration = configuration
        self.itemCount = items.rows
        self.users = users
        self.items = items
        self.bias = bias
        itemInverseNorms = items.inverseNorms()
    }

    /// A model fitted to `data` (users × items).
    public static func fit(_ data: InteractionMatrix, configuration: Configuration = Configuration(),
                           events: (FitEvent) -> Void = { _ in }) throws(ModelError) -> BPRMF {
        let model = try BPRMF(configuration: configuration, userCount: data.userCount, itemCount: data.itemCount)
        try model.fit(data, events: events)
        return model
    }

    public var modelName: String { "BPR-MF" }
    public var userCount: Int { users.rows }
    public var factors: Int { configuration.factors }

    /// Snapshots (copies) of `user_factors` `[users, factors]`, `item_factors` `[items, factors]`
    /// and, with item biases, `item_bias` `[items]`; restore a model with ``load(from:)``.
    public var parameters: [Parameter] {
        var p = [Parameter(name: "user_factors", value: users.tensor), Parameter(name: "item_factors", value: items.tensor)]
        if let bias { p.append(Parameter(name: "item_bias", value: bias.tensor.reshaped([itemCount]))) }
        return p
    }

    /// Copies of the factor tables and biases (zeros without item biases).
    public var userFactors: Tensor { users.tensor }
    public var itemFactors: Tensor { items.tensor }
    public var itemBiases: Tensor { bias?.tensor.reshaped([itemCount]) ?? Tensor(shape: [itemCount]) }

    // MARK: training

    /// Runs `configuration.iterations` epochs from the current factors on `data`, which must have
    /// the model's user and item counts. Reports each epoch through `events`.
    public func fit(_ data: InteractionMatrix, events: (FitEvent) -> Void = { _ in }) throws(ModelError) {
        guard data.userCount == userCount, data.itemCount == itemCount else {
            throw .invalidArgument("BPR-MF.fit: data is \(data.userCount) users × \(data.itemCount) items, the model \(userCount) × \(itemCount)")
        }
        let total = configuration.iterations
        // (user, item) of every interaction side by side: one cache line per sampled pair.
        var pairs = [Int32](repeating: 0, count: 2 * data.count)
        for u in 0..<data.userCount {
            for k in data.rowStart[u]..<data.rowStart[u + 1] {
                pairs[2 * k] = Int32(u)
                pairs[2 * k + 1] = data.itemIndices[k]
            }
        }
        let samples = data.count
        let shares = Parallel.ranges(samples, parts: configuration.threads)
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: shares.count)
        defer { partial.deallocate() }
        for epoch in 0..<total {
            let start = Date()
            partial.initialize(repeating: 0, count: shares.count)
            if samples > 0 { runEpoch(data, pairs: pairs, shares: shares, epoch: epoch, losses: SharedDoubles(partial)) }
            let loss: Double? = configuration.calculateTrainingLoss && samples > 0
                ? (0..<shares.count).reduce(0) { $0 + partial[$1] } / Double(samples) : nil
            events(.iteration(number: epoch + 1, of: total, loss: loss, seconds: Date().timeIntervalSince(start)))
        }
        itemInverseNorms = items.inverseNorms()
    }

    /// Triples go through a software pipeline so that their random reads overlap instead of
    /// stalling one after another: a triple's pair is drawn and prefetched `3·d` steps before its
    /// update, its user's row bounds, factor rows and negative's row `2·d` steps before, and the
    /// lines the rejection test reads `d` steps before. The SGD steps run in draw order.
    static let pipelineDistance = 8

    private func runEpoch(_ data: InteractionMatrix, pairs: [Int32], shares: [Range<Int>], epoch: Int, losses: SharedDoubles) {
        let f = factors, n = itemCount, samples = data.count
        let lr = configuration.learningRate, reg = configuration.regularization
        let computeLoss = configuration.calculateTrainingLoss
        let seed = configuration.seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(epoch + 1)
        let xs = SharedPointer(users.base), ys = SharedPointer(items.base), bs = bias.map { SharedPointer($0.base) }
        Parallel.forEach(shares.count) { t in
            var rng = RandomGenerator(seed: seed ^ (0xD1B5_4A32_D192_ED03 &* UInt64(t + 1)))
            var loss = 0.0
            let d = BPRMF.pipelineDistance, ring = 4 * BPRMF.pipelineDistance, mask = ring - 1
            let slots = UnsafeMutablePointer<Int>.allocate(capacity: 4 * ring)
            defer { slots.deallocate() }
            let ks = slots, us = slots + ring, positives = slots + 2 * ring, js = slots + 3 * ring
            let count = shares[t].count
            data.rowStart.withUnsafeBufferPointer { rowStartBuffer in
                data.itemIndices.withUnsafeBufferPointer { itemIndices in
                    pairs.withUnsafeBufferPointer { pairBuffer in
                        let indices = itemIndices.baseAddress!, rowStart = rowStartBuffer.baseAddress!, pair = pairBuffer.baseAddress!
                        for s in (-3 * d)..<count {
                            // Stage 1: draw a training pair.
                            let a = s + 3 * d
                            if a < count {
                                let k = rng.nextInt(below: samples)
                                ks[a & mask] = k
                                FactorKernels.prefetch(pair + 2 * k)
                            }
                            // Stage 2: its user and item, their rows, and a negative.
                            let b = s + 2 * d
                            if b >= 0 && b < count {
                                let k = ks[b & mask]
                                let u = Int(pair[2 * k]), i = Int(pair[2 * k + 1]), j = rng.nextInt(below: n)
                                us[b & mask] = u
                                positives[b & mask] = i
                                js[b & mask] = j
                                FactorKernels.prefetch(rowStart + u)
                                FactorKernels.prefetch(xs.base + u * f, count: f)
                                FactorKernels.prefetch(ys.base + i * f, count: f)
                                FactorKernels.prefetch(ys.base + j * f, count: f)
                            }
                            // Stage 3: what the binary search will read: all of a short row,
                            // the first two levels of the search in a long one.
                            let c = s + d
                            if c >= 0 && c < count {
                                let u = us[c & mask]
                                let lo = rowStart[u], hi = rowStart[u + 1]
                                if hi - lo <= 128 {
                                    var k = lo
                                    while k < hi { FactorKernels.prefetch(indices + k); k += 16 }
                                    if hi > lo { FactorKernels.prefetch(indices + hi - 1) }
                                } else {
                                    let mid = (lo + hi) >> 1
                                    FactorKernels.prefetch(indices + mid)
                                    FactorKernels.prefetch(indices + ((lo + mid) >> 1))
                                    FactorKernels.prefetch(indices + ((mid + hi) >> 1))
                                }
                            }
                            // Stage 4: reject a negative the user interacted with, then the SGD step.
                            if s >= 0 {
                                let u = us[s & mask], i = positives[s & mask]
                                let lo = rowStart[u], hi = rowStart[u + 1]
                                var j = js[s & mask], tries = 1
                                while BPRMF.contains(indices, lo, hi, Int32(truncatingIfNeeded: j)) {
                                    if tries == BPRMF.negativeTries { j = -1; break }
                                    j = rng.nextInt(below: n)
                                    tries += 1
                                }
                                if j < 0 { continue }
                                let margin = BPRMF.step(x: xs.base + u * f, positive: ys.base + i * f, negative: ys.base + j * f,
                                                        bias: bs?.base, i: i, j: j, f: f, learningRate: lr, regularization: reg)
                                if computeLoss { loss += BPRMF.negativeLogSigmoid(margin) }
                            }
                        }
                    }
                }
            }
            losses.base[t] = loss
        }
    }

    /// Whether the sorted `indices[lo..<hi]` contain `item` (binary search).
    @inline(__always)
    static func contains(_ indices: UnsafePointer<Int32>, _ lo: Int, _ hi: Int, _ item: Int32) -> Bool {
        var lo = lo, hi = hi
        while lo < hi {
            let mid = (lo + hi) >> 1
            let v = indices[mid]
            if v == item { return true }
            if v < item { lo = mid + 1 } else { hi = mid }
        }
        return false
    }

    /// `−ln σ(m)`, computed without overflow.
    @inline(__always)
    static func negativeLogSigmoid(_ m: Float) -> Double {
        let d = Double(m)
        return d > 0 ? Foundation.log1p(Foundation.exp(-d)) : -d + Foundation.log1p(Foundation.exp(d))
    }

    /// One SGD step on the triple; returns the margin `x̂_ui − x̂_uj` before the step.
    @inline(__always)
    static func step(x: UnsafeMutablePointer<Float>, positive yi: UnsafeMutablePointer<Float>, negative yj: UnsafeMutablePointer<Float>,
                     bias: UnsafeMutablePointer<Float>?, i: Int, j: Int, f: Int, learningRate lr: Float, regularization reg: Float) -> Float {
        var margin = VectorKernels.dot(x, yi, f) - VectorKernels.dot(x, yj, f)
        if let bias { margin += bias[i] - bias[j] }
        let z = 1 / (1 + Foundation.exp(margin))
        for k in 0..<f {
            let xk = x[k], a = yi[k], b = yj[k]
            x[k] = xk + lr * (z * (a - b) - reg * xk)
            yi[k] = a + lr * (z * xk - reg * a)
            yj[k] = b + lr * (-z * xk - reg * b)
        }
        if let bias {
            bias[i] += lr * (z - reg * bias[i])
            bias[j] += lr * (-z - reg * bias[j])
        }
        return margin
    }

    // MARK: fold-in

    /// The user vector fold-in learns for `history` (item factors and biases fixed).
    public func userVector(history: [Int32], values: [Float]? = nil) throws(ModelError) -> [Float] {
        try FactorScoring.validate(user: userCount, userCount: userCount, history: history, values: values, itemCount: itemCount)
        return foldInVector(FactorScoring.canonical(history: history, values: values))
    }

    private func foldInVector(_ history: (items: [Int32], values: [Float])) -> [Float] {
        let f = factors, n = itemCount
        var x = [Float](repeating: 0, count: f)
        let positives = zip(history.items, history.values).filter { $0.1 > 0 }.map { Int($0.0) }
        guard !positives.isEmpty else { return x }
        let lr = configuration.learningRate, reg = configuration.regularization
        let epochs = configuration.foldInEpochs ?? configuration.iterations
        var rng = RandomGenerator(seed: configuration.seed ^ 0x5EED_F01D_0000_0001)
        let difference = UnsafeMutablePointer<Float>.allocate(capacity: f)
        defer { difference.deallocate() }
        x.withUnsafeMutableBufferPointer { xb in
            history.items.withUnsafeBufferPointer { seen in
                let xp = xb.baseAddress!, seenBase = seen.baseAddress!
                for _ in 0..<epochs {
                    for _ in 0..<positives.count {
                        let i = positives[rng.nextInt(below: positives.count)]
                        var j = -1
                        for _ in 0..<BPRMF.negativeTries {
                            let c = rng.nextInt(below: n)
                            if !BPRMF.contains(seenBase, 0, seen.count, Int32(truncatingIfNeeded: c)) { j = c; break }
                        }
                        if j < 0 { continue }
                        let yi = items.row(i), yj = items.row(j)
                        for k in 0..<f { difference[k] = yi[k] - yj[k] }
                        var margin = VectorKernels.dot(xp, difference, f)
                        if let bias { margin += bias.base[i] - bias.base[j] }
                        let z = 1 / (1 + Foundation.exp(margin))
                        for k in 0..<f { xp[k] += lr * (z * difference[k] - reg * xp[k]) }
                    }
                }
            }
        }
        return x
    }

    /// Stores the fold-in vector for `history` as `user`'s (`user == userCount` adds a user).
    public func foldIn(user: Int, history: [Int32], values: [Float]?) throws {
        try FactorScoring.validate(user: user, userCount: userCount, history: history, values: values, itemCount: itemCount)
        let x = foldInVector(FactorScoring.canonical(history: history, values: values))
        let row = user == userCount ? users.appendRow() : user
        x.withUnsafeBufferPointer { users.row(row).update(from: $0.baseAddress!, count: factors) }
    }

    // MARK: scoring

    public func scoreAllItems(users batch: [Int32]) -> Tensor {
        FactorScoring.scoreAll(users: batch, userTable: users, itemTable: items, itemBias: bias)
    }

    /// Scores for the fold-in vector of `history`; items the model does not know are ignored.
    public func scoreAllItems(history: [Int32], values: [Float]?) -> [Float] {
        let x = foldInVector(FactorScoring.known(history: history, values: values, itemCount: itemCount))
        return FactorScoring.scoreAll(vector: x, itemTable: items, itemBias: bias)
    }

    public func scores(users batch: [Int32], items pairs: [Int32]) -> [Float] {
        FactorScoring.pairScores(users: batch, items: pairs, userTable: users, itemTable: items, itemBias: bias)
    }

    public func similarItems(to item: Int32, count: Int) -> [TopK.Entry] {
        FactorScoring.similarItems(to: item, count: count, itemTable: items, inverseNorms: itemInverseNorms)
    }

    // MARK: checkpoints

    /// The `model` metadata value of BPR-MF checkpoints.
    public static let checkpointKind = "bpr-mf"

    public func checkpoint() throws -> SafeTensorsFile {
        var tensors = ["user_factors": users.tensor, "item_factors": items.tensor]
        if let bias { tensors["item_bias"] = bias.tensor.reshaped([itemCount]) }
        return SafeTensorsFile(tensors: tensors, metadata: try ModelCheckpoint.metadata(kind: BPRMF.checkpointKind, configuration: configuration))
    }

    /// Loads a model saved with ``Checkpointable/save(to:)``, with the file's metadata.
    public static func load(from url: URL) throws -> (model: BPRMF, metadata: [String: String]) {
        let (file, configuration) = try ModelCheckpoint.open(url, kind: checkpointKind, configuration: Configuration.self)
        do { try configuration.validate() } catch { throw ModelError.badConfiguration(path: url.path, reason: "\(error)") }
        let (users, items) = try FactorCheckpoint.tables(file, factors: configuration.factors, path: url.path)
        var bias: FactorTable?
        if configuration.itemBias {
            let b = try file.tensor("item_bias")
            guard b.shape == [items.rows] else {
                throw ModelError.badConfiguration(path: url.path, reason: "item_bias has shape \(b.shape), expected [\(items.rows)]")
            }
            bias = FactorTable(b.reshaped([items.rows, 1]))
        }
        return (BPRMF(configuration: configuration, users: users, items: items, bias: bias), file.metadata)
    }
}
