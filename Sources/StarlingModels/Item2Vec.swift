import Foundation
import StarlingData
import StarlingTensor
import Synchronization

/// Item2vec (Barkan & Koenigstein, "Item2Vec: Neural Item Embedding for Collaborative Filtering",
/// 2016): word2vec's skip-gram with negative sampling (Mikolov et al. 2013), with each user's items
/// as a sentence.
///
/// A user's items form a set, so each epoch shuffles every user's items and takes, for each item
/// `t`, the up to `window` items on either side as its contexts `c`. Each (t, c) pair takes one
/// SGD step on `−ln σ(v_tᵀ w_c) − Σ_{k=1..negatives} ln σ(−v_tᵀ w_{n_k})`, the negatives `n_k`
/// drawn from the items' frequencies raised to `negativeExponent` (0.75, as word2vec), with
/// word2vec's update: the context and negative output vectors `w` move at once, the input vector
/// `v_t` after the pair. Frequent items are down-sampled as targets (word2vec's `sample`): item
/// `t` is kept with probability `(√(f_t / (s·N)) + 1) · s·N / f_t` (`f_t` its count, `N` all
/// interactions, `s` = ``Configuration/subsample``; 0 keeps all; user sets only). Items with fewer than
/// ``Configuration/minCount`` interactions take no part and keep zero vectors. The learning rate falls linearly
/// from ``Configuration/learningRate`` to 0.01% of it over the run. Users are split between
/// `threads` Hogwild workers with their own seeded generators: deterministic with one thread.
///
/// With ``Configuration/Corpus/randomWalks(walksPerItem:length:)`` the sentences are instead random
/// walks on the item co-occurrence graph (DeepWalk-style graph embeddings); the rest is the same.
///
/// The item vectors are `v`. Similar items: the cosine of `v`. A user's scores: the sum, over
/// their items `h`, of `cos(v_h, v_j)` — the same item-to-item similarity as ItemKNN, from learned
/// vectors. The model keeps the users' histories (as ItemKNN does), so folding in a user is
/// storing their items.
public final class Item2Vec: Recommender, @unchecked Sendable {
    /// Hyper-parameters.
    public struct Configuration: Codable, Sendable, Equatable {
        /// What the skip-gram reads as sentences.
        public enum Corpus: Codable, Sendable, Equatable {
            /// Each user's items, shuffled every epoch (Item2vec).
            case userSets
            /// Random walks on the item co-occurrence graph (``ItemCooccurrenceGraph``; DeepWalk,
            /// Perozzi et al. 2014): every epoch, `walksPerItem` walks of `length` items from each
            /// item, in a shuffled order.
            case randomWalks(walksPerItem: Int, length: Int)
        }

        /// What the sentences are.
        public var corpus: Corpus
        /// The width of the item vectors.
        public var factors: Int
        /// Contexts on each side of a target in the shuffled user set.
        public var window: Int
        /// Negative samples per (target, context) pair.
        public var negatives: Int
        /// The initial SGD step size (word2vec's `alpha`).
        public var learningRate: Float
        /// Epochs over all users.
        public var iterations: Int
        /// Exponent of the item frequencies the negatives are drawn from.
        public var negativeExponent: Double
        /// word2vec's `sample` threshold for down-sampling frequent targets (0: off).
        public var subsample: Double
        /// Items with fewer interactions are left out of training (word2vec's `min_count`): their
        /// vectors stay zero, so they are similar to nothing and add nothing to a user's scores.
        public var minCount: Int
        /// Seeds the initial vectors, the shuffles and the draws.
        public var seed: UInt64
        /// Hogwild worker threads.
        public var threads: Int

        public init(corpus: Corpus = .userSets, factors: Int = 64, window: Int = 5, negatives: Int = 5, learningRate: Float = 0.025, iterations: Int = 10,
                    negativeExponent: Double = 0.75, subsample: Double = 1e-3, minCount: Int = 5, seed: UInt64 = 42,
                    threads: Int = Parallel.coreCount) {
            self.corpus = corpus
            self.factors = factors
            self.window = window
            self.negatives = negatives
            self.learningRate = learningRate
            self.iterations = iterations
            self.negativeExponent = negativeExponent
            self.subsample = subsample
            self.minCount = minCount
            self.seed = seed
            self.threads = threads
        }

        func validate() throws(ModelError) {
            guard factors > 0 else { throw .invalidArgument("Item2vec: factors must be positive, got \(factors)") }
            guard window >= 1 else { throw .invalidArgument("Item2vec: window must be at least 1, got \(window)") }
            guard negatives >= 1 else { throw .invalidArgument("Item2vec: negatives must be at least 1, got \(negatives)") }
            guard learningRate > 0, learningRate.isFinite else { throw .invalidArgument("Item2vec: learningRate must be positive, got \(learningRate)") }
            guard iterations >= 0 else { throw .invalidArgument("Item2vec: iterations must be ≥ 0, got \(iterations)") }
            guard negativeExponent.isFinite, negativeExponent >= 0 else { throw .invalidArgument("Item2vec: negativeExponent must be ≥ 0, got \(negativeExponent)") }
            guard subsample.isFinite, subsample >= 0 else { throw .invalidArgument("Item2vec: subsample must be ≥ 0, got \(subsample)") }
            guard threads >= 1 else { throw .invalidArgument("Item2vec: threads must be ≥ 1, got \(threads)") }
            guard minCount >= 1 else { throw .invalidArgument("Item2vec: minCount must be ≥ 1, got \(minCount)") }
            if case let .randomWalks(walks, length) = corpus, walks < 1 || length < 2 {
                throw .invalidArgument("DeepWalk: walksPerItem must be ≥ 1 and length ≥ 2, got \(walks) and \(length)")
            }
        }
    }

    public let configuration: Configuration
    public let itemCount: Int
    /// Input (item) vectors `v` and output (context) vectors `w`.
    let input: FactorTable
    let output: FactorTable
    /// `v` scaled to unit length (zero rows stay zero): what scoring and similarity use.
    private let unit: FactorTable
    let histories: Mutex<ItemBased.Histories>

    init(configuration: Configuration, input: FactorTable, output: FactorTable, histories: ItemBased.Histories) {
        self.configuration = configuration
        itemCount = input.rows
        self.input = input
        self.output = output
        self.histories = Mutex(histories)
        unit = FactorTable(rows: input.rows, width: input.width)
        let inverse = input.inverseNorms()
        for r in 0..<input.rows { VectorKernels.scaled(input.row(r), inverse[r], into: unit.row(r), input.width) }
    }

    /// A model fitted to `data` (users × items; values are ignored).
    public static func fit(_ data: InteractionMatrix, configuration: Configuration = Configuration(),
                           events: (FitEvent) -> Void = { _ in }) throws(ModelError) -> Item2Vec {
        try configuration.validate()
        guard data.itemCount > 0 else { throw .invalidArgument("Item2vec: no items") }
        let f = configuration.factors, n = data.itemCount
        let input = FactorTable(rows: n, width: f), output = FactorTable(rows: n, width: f)
        // word2vec: input uniform in [−0.5, 0.5) / f, output zero.
        var rng = RandomGenerator(seed: configuration.seed)
        for k in 0..<(n * f) { input.base[k] = (rng.nextFloat() - 0.5) / Float(f) }
        var counts = [Double](repeating: 0, count: n)
        for i in data.itemIndices { counts[Int(i)] += 1 }
        // Items below minCount: zero vectors, and no part in training.
        for i in 0..<n where counts[i] < Double(configuration.minCount) {
            counts[i] = 0
            input.row(i).initialize(repeating: 0, count: f)
        }
        let trainer = SkipGramTrainer(configuration: configuration, data: data, counts: counts, input: input, output: output)
        for epoch in 0..<configuration.iterations {
            let started = Date()
            let loss = trainer.epoch(epoch)
            events(.iteration(number: epoch + 1, of: configuration.iterations, loss: loss, seconds: ItemBased.seconds(since: started)))
        }
        return Item2Vec(configuration: configuration, input: input, output: output, histories: ItemBased.Histories(data, keepValues: false))
    }

    public var modelName: String { configuration.corpus == .userSets ? "Item2vec" : "DeepWalk" }
    public var userCount: Int { histories.userCount }
    public var parameters: [Parameter] { [] }

    /// `user`'s items (training, or the last fold-in), sorted.
    public func history(of user: Int) -> ArraySlice<Int32> { histories.items(of: user) }

    /// `Σ_h v̂_h` over `items`, into `out` (`factors` floats).
    private func userVector(_ items: ArraySlice<Int32>, into out: UnsafeMutablePointer<Float>) {
        let f = unit.width
        out.initialize(repeating: 0, count: f)
        for h in items { VectorKernels.add(unit.row(Int(h)), into: out, f) }
    }

    /// The scores of every item for `items`, into `out` (`itemCount` floats): one gemv.
    private func scores(_ items: ArraySlice<Int32>, into out: UnsafeMutablePointer<Float>) {
        let f = unit.width
        let u = UnsafeMutablePointer<Float>.allocate(capacity: f)
        defer { u.deallocate() }
        userVector(items, into: u)
        BLAS.gemv(m: itemCount, n: f, a: unit.base, lda: f, x: u, y: out)
    }

    public func scoreAllItems(users: [Int32]) -> Tensor {
        let rows = histories.rows(users), n = itemCount, f = unit.width
        var out = Tensor(uninitializedShape: [users.count, n])
        guard !users.isEmpty else { return out }
        let c = out.writePointer()
        if users.count == 1 {
            scores(rows[0].items, into: c)
            return out
        }
        let gathered = UnsafeMutablePointer<Float>.allocate(capacity: users.count * f)
        defer { gathered.deallocate() }
        for (k, row) in rows.enumerated() { userVector(row.items, into: gathered + k * f) }
        BLAS.gemm(transposeB: true, m: users.count, n: n, k: f, a: gathered, lda: f, b: unit.base, ldb: f, c: c, ldc: n)
        return out
    }

    public func scoreAllItems(history: [Int32], values: [Float]?) -> [Float] {
        ItemBased.scores(history: history, values: values, itemCount: itemCount, keepValues: false) { items, _, out in
            scores(items, into: out)
        }
    }

    public func scores(users: [Int32], items: [Int32]) -> [Float] {
        precondition(users.count == items.count, "scores(users:items:): \(users.count) users, \(items.count) items")
        let rows = histories.rows(users), f = unit.width
        let u = UnsafeMutablePointer<Float>.allocate(capacity: f)
        defer { u.deallocate() }
        var current: Int32?  // the user whose vector `u` holds (pairs usually come grouped by user)
        return (0..<users.count).map { k in
            let i = items[k]
            precondition(i >= 0 && Int(i) < itemCount, "scores(users:items:): item \(i) is not among the \(itemCount) items")
            if users[k] != current {
                userVector(rows[k].items, into: u)
                current = users[k]
            }
            return VectorKernels.dot(u, unit.row(Int(i)), f)
        }
    }

    /// Stores `history` as `user`'s (replacing it, or adding the user when `user == userCount`).
    public func foldIn(user: Int, history: [Int32], values: [Float]?) throws {
        try histories.foldIn(user: user, history: history, values: values, itemCount: itemCount, keepValues: false)
    }

    /// The items with the highest cosine to `item`'s vector, best first.
    public func similarItems(to item: Int32, count: Int) -> [TopK.Entry] {
        precondition(item >= 0 && Int(item) < itemCount, "Item2vec.similarItems: item \(item) is not among the \(itemCount) items")
        var sims = [Float](repeating: 0, count: itemCount)
        sims.withUnsafeMutableBufferPointer { s in
            BLAS.gemv(m: itemCount, n: unit.width, a: unit.base, lda: unit.width, x: unit.row(Int(item)), y: s.baseAddress!)
        }
        return sims.withUnsafeBufferPointer { TopK.select($0.baseAddress!, count: itemCount, k: min(count, itemCount - 1), excluding: [item]) }
    }

    /// The learned item vector of `item` (not normalised).
    public func vector(of item: Int32) -> [Float] { input.copyRow(Int(item)) }

    // MARK: checkpoints

    /// The `model` metadata value of Item2vec checkpoints.
    public static let checkpointKind = "item2vec"

    /// `item_factors` (the input vectors) and `context_factors` (the output vectors), plus the users' histories.
    public func checkpoint() throws -> SafeTensorsFile {
        var file = SafeTensorsFile(tensors: ["item_factors": input.tensor, "context_factors": output.tensor],
                                   metadata: try ModelCheckpoint.metadata(kind: Item2Vec.checkpointKind, configuration: configuration))
        try histories.withLock { try $0.encode(into: &file) }
        return file
    }

    /// Loads a model saved with ``Checkpointable/save(to:)``; also returns the file's metadata.
    public static func load(from url: URL) throws -> (model: Item2Vec, metadata: [String: String]) {
        let (file, configuration) = try ModelCheckpoint.open(url, kind: checkpointKind, configuration: Configuration.self)
        do { try configuration.validate() } catch { throw ModelError.badConfiguration(path: url.path, reason: error.description) }
        let v = try file.tensor("item_factors"), w = try file.tensor("context_factors")
        guard v.rank == 2, v.shape == w.shape, v.shape[1] == configuration.factors, v.shape[0] > 0 else {
            throw ModelError.badConfiguration(path: url.path, reason: "item_factors \(v.shape) and context_factors \(w.shape) "
                                              + "must both be items × \(configuration.factors)")
        }
        let histories = try ItemBased.Histories.decode(file, itemCount: v.shape[0], keepValues: false, path: url.path)
        return (Item2Vec(configuration: configuration, input: FactorTable(v), output: FactorTable(w), histories: histories), file.metadata)
    }
}

/// One Item2vec (or DeepWalk) fit's epochs: the negative-sampling table, the down-sampling
/// probabilities, the co-occurrence graph for walks, and the Hogwild workers.
private struct SkipGramTrainer {
    let configuration: Item2Vec.Configuration
    let data: InteractionMatrix
    let input: FactorTable
    let output: FactorTable
    /// Items repeated in proportion to count^exponent: a uniform draw from it is a negative.
    let negativeTable: [Int32]
    /// Per item, the probability of keeping it as a target.
    let keep: [Float]
    /// The co-occurrence graph (random-walk corpora only).
    let graph: ItemCooccurrenceGraph?

    init(configuration: Item2Vec.Configuration, data: InteractionMatrix, counts: [Double], input: FactorTable, output: FactorTable) {
        self.configuration = configuration
        self.data = data
        self.input = input
        self.output = output
        let powered = counts.map { pow($0, configuration.negativeExponent) }
        let total = powered.reduce(0, +)
        let size = max(1_000_000, 20 * counts.count)
        var table: [Int32] = []
        table.reserveCapacity(size)
        for (i, p) in powered.enumerated() where p > 0 {
            let slots = max(1, Int((p / total * Double(size)).rounded()))
            table.append(contentsOf: repeatElement(Int32(i), count: slots))
        }
        negativeTable = table.isEmpty ? (0..<Int32(counts.count)).map { $0 } : table
        let all = counts.reduce(0, +), s = configuration.subsample
        keep = counts.map { c in
            guard c > 0 else { return 0 }
            guard s > 0 else { return 1 }
            let threshold = s * all
            return Float(min(1, ((c / threshold).squareRoot() + 1) * threshold / c))
        }
        if case .randomWalks = configuration.corpus {
            graph = ItemCooccurrenceGraph(data) { counts[Int($0)] == 0 }
        } else {
            graph = nil
        }
    }

    /// What an epoch's sentences start from: users, or (for walks) every item with neighbours,
    /// `walksPerItem` times, shuffled.
    private func sources(epoch: Int) -> [Int32] {
        guard let graph, case let .randomWalks(walks, _) = configuration.corpus else { return (0..<Int32(data.userCount)).map { $0 } }
        var starts: [Int32] = []
        for i in 0..<Int32(graph.itemCount) where graph.hasNeighbours(i) { starts.append(contentsOf: repeatElement(i, count: walks)) }
        var rng = RandomGenerator(seed: configuration.seed &+ 0x5eed &+ UInt64(epoch))
        starts.shuffle(using: &rng)
        return starts
    }

    /// One epoch; returns the mean loss of its positive pairs (with their negatives).
    func epoch(_ epoch: Int) -> Double {
        let sources = self.sources(epoch: epoch)
        let threads = min(configuration.threads, max(1, sources.count))
        let parts = Parallel.ranges(sources.count, parts: threads)
        let losses = Mutex([(Double, Int)](repeating: (0, 0), count: parts.count))
        Parallel.forEach(parts.count) { t in
            var rng = RandomGenerator(seed: configuration.seed &+ UInt64(epoch) &* 1_000_003 &+ UInt64(t) &* 7919)
            let result = run(sources[parts[t]], epoch: epoch, rng: &rng)
            losses.withLock { $0[t] = result }
        }
        let (sum, pairs) = losses.withLock { $0.reduce((0.0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) } }
        return pairs > 0 ? sum / Double(pairs) : 0
    }

    /// The pairs of the sentences from `range` (users, or walk starts); returns (summed loss, pairs).
    private func run(_ range: ArraySlice<Int32>, epoch: Int, rng: inout RandomGenerator) -> (Double, Int) {
        let f = configuration.factors, window = configuration.window, negatives = configuration.negatives
        let start = configuration.learningRate, floor = start * 1e-4
        let totalSteps = Double(max(1, configuration.iterations * range.count))
        let gradient = UnsafeMutablePointer<Float>.allocate(capacity: f)
        defer { gradient.deallocate() }
        var loss = 0.0, pairs = 0
        var set: [Int32] = []
        for (k, source) in range.enumerated() {
            let progress = (Double(epoch * range.count + k)) / totalSteps
            let rate = max(floor, start * Float(1 - progress))
            if let graph, case let .randomWalks(_, length) = configuration.corpus {
                graph.walk(from: source, length: length, rng: &rng, into: &set)
            } else {
                set.removeAll(keepingCapacity: true)
                for i in data.items(of: Int(source)) where keep[Int(i)] >= 1 || rng.nextFloat() < keep[Int(i)] { set.append(i) }
                set.shuffle(using: &rng)
            }
            guard set.count > 1 else { continue }
            for (p, target) in set.enumerated() {
                let v = input.row(Int(target))
                for q in max(0, p - window)...min(set.count - 1, p + window) where q != p {
                    gradient.initialize(repeating: 0, count: f)
                    for d in 0...negatives {
                        let c: Int32, label: Float
                        if d == 0 {
                            c = set[q]; label = 1
                        } else {
                            c = negativeTable[rng.nextInt(below: negativeTable.count)]
                            if c == set[q] { continue }
                            label = 0
                        }
                        let w = output.row(Int(c))
                        let x = VectorKernels.dot(v, w, f)
                        let sigma = 1 / (1 + exp(-x))
                        loss -= Double(label == 1 ? log(max(sigma, 1e-7)) : log(max(1 - sigma, 1e-7)))
                        let g = rate * (label - sigma)
                        VectorKernels.addScaled(w, g, into: gradient, f)
                        VectorKernels.addScaled(v, g, into: w, f)
                    }
                    VectorKernels.add(gradient, into: v, f)
                    pairs += 1
                }
            }
        }
        return (loss, pairs)
    }
}
