import Foundation
import StarlingData
import StarlingTensor

/// Settings of LightGCN training: the paper's (and its official code's) defaults for Gowalla.
public struct LightGCNTrainingConfiguration: Codable, Sendable, Equatable {
    public var epochs: Int = 1000
    /// Triples per step.
    public var batchSize: Int = 2048
    public var learningRate: Float = 0.001
    /// `λ` of the L2 term `λ/2·(‖e_u⁽⁰⁾‖² + ‖e_p⁽⁰⁾‖² + ‖e_n⁽⁰⁾‖²)/batch`.
    public var regularization: Float = 1e-4
    /// Evaluate (through the caller's hook) every this many epochs, and after the last (0: only after the last).
    public var evaluateEvery: Int = 20
    /// Start no new epoch once this many seconds of training (sampling included, evaluation not) are spent.
    public var timeBudgetSeconds: Double?
    public var seed: UInt64 = 42
    public var threads: Int = Parallel.coreCount

    public init() {}

    func validate() throws(ModelError) {
        guard epochs >= 0, batchSize > 0, threads > 0, learningRate > 0, regularization >= 0, evaluateEvery >= 0 else {
            throw .invalidArgument("LightGCN training: epochs, batch size, threads and learning rate must be positive, λ ≥ 0")
        }
    }
}

/// Trains ``LightGCN`` as the official code does: each epoch draws as many (user, positive,
/// negative) triples as there are training interactions — the user uniform among users with
/// items, the positive uniform among theirs, the negative uniform among the rest — and takes an
/// Adam step per batch on the BPR loss plus the L2 term on the batch's layer-0 embeddings.
///
/// Every step is exact full-graph LightGCN, but computed only where the loss can see it: layer `k`
/// is propagated only within `K - k` hops of the batch's nodes, and the gradient
/// `∂L/∂E⁽⁰⁾ = (1/(K+1))·Σₖ Âᵏ·G` (`G` nonzero only on the batch's rows) is accumulated by Horner's
/// rule from `G` outward, so the early products touch a neighbourhood, not the whole graph.
public final class LightGCNTrainer {
    public let configuration: LightGCNTrainingConfiguration
    public private(set) var history: [EpochSummary] = []
    public let optimizer: Adam
    /// Seconds between progress events.
    public var progressInterval: Double = 1

    public init(configuration: LightGCNTrainingConfiguration) throws(ModelError) {
        try configuration.validate()
        self.configuration = configuration
        optimizer = Adam(learningRate: configuration.learningRate)
        optimizer.threadCount = configuration.threads
    }

    /// Trains `model` on its own graph; calls `model.refresh()` then `afterEpoch(epoch)` on
    /// evaluation epochs and records the metrics it returns.
    public func train(_ model: LightGCN, events: (TrainingEvent) -> Void = { _ in },
                      afterEpoch: (Int) -> [String: Double] = { _ in [:] }) {
        let c = configuration
        guard c.epochs > 0 else { return }
        let step = LightGCNStep(model: model, configuration: c)
        var rng = RandomGenerator(seed: c.seed)
        let interactions = model.interactions
        let users = (0..<interactions.userCount).filter { !interactions.items(of: $0).isEmpty }
        guard !users.isEmpty else { return }
        var spent: Double = 0
        for epoch in 1...c.epochs {
            if let budget = c.timeBudgetSeconds, spent >= budget { break }
            let epochStart = Date()
            let triples = Self.sample(interactions, users: users, count: interactions.count, using: &rng)
            let samplingSeconds = Date().timeIntervalSince(epochStart)
            let steps = (triples.users.count + c.batchSize - 1) / c.batchSize
            var lossSum: Double = 0
            var lastReport = Date()
            for s in 0..<steps {
                let range = (s * c.batchSize)..<min((s + 1) * c.batchSize, triples.users.count)
                lossSum += step.gradient(users: triples.users[range], positives: triples.positives[range], negatives: triples.negatives[range])
                var gradients = Gradients()
                gradients.dense[model.embeddings.key] = step.gradient
                optimizer.step([model.embeddings], gradients: gradients)
                if Date().timeIntervalSince(lastReport) >= progressInterval {
                    lastReport = Date()
                    let rate = Double(range.upperBound) / max(lastReport.timeIntervalSince(epochStart) - samplingSeconds, 1e-9)
                    let left = Double(triples.users.count - range.upperBound) / rate
                    events(.progress(epoch: epoch, epochs: c.epochs, step: s + 1, steps: steps, loss: lossSum / Double(s + 1),
                                     samplesPerSecond: rate, etaSeconds: left))
                }
            }
            let seconds = Date().timeIntervalSince(epochStart)
            spent += seconds
            var summary = EpochSummary(epoch: epoch, loss: lossSum / Double(steps), seconds: seconds, samplingSeconds: samplingSeconds,
                                       samplesPerSecond: Double(triples.users.count) / max(seconds - samplingSeconds, 1e-9))
            let last = epoch == c.epochs || (c.timeBudgetSeconds.map { spent >= $0 } ?? false)
            if last || (c.evaluateEvery > 0 && epoch % c.evaluateEvery == 0) {
                model.refresh(threads: c.threads)
                summary.metrics = afterEpoch(epoch)
            }
            history.append(summary)
            events(.epochFinished(summary))
        }
        model.refresh(threads: c.threads)
    }

    /// The exact gradient of one batch's loss (mean BPR + L2 term) with respect to the layer-0
    /// embeddings, computed as a training step does, and the loss; the model is not changed.
    public func batchGradient(_ model: LightGCN, users: [Int32], positives: [Int32], negatives: [Int32]) -> (gradient: Tensor, loss: Double) {
        precondition(users.count == positives.count && users.count == negatives.count && !users.isEmpty,
                     "batchGradient: users, positives and negatives must be non-empty and aligned")
        let step = LightGCNStep(model: model, configuration: configuration)
        let loss = step.gradient(users: users[...], positives: positives[...], negatives: negatives[...])
        return (step.gradient, loss)
    }

    /// One epoch's (user, positive, negative) triples.
    struct Triples {
        var users: [Int32] = [], positives: [Int32] = [], negatives: [Int32] = []
    }

    static func sample(_ m: InteractionMatrix, users: [Int], count: Int, using rng: inout RandomGenerator) -> Triples {
        var t = Triples()
        t.users.reserveCapacity(count); t.positives.reserveCapacity(count); t.negatives.reserveCapacity(count)
        for _ in 0..<count {
            let u = users[rng.nextInt(below: users.count)]
            let items = m.items(of: u)
            guard items.count < m.itemCount else { continue }  // a user who has every item has no negative
            t.users.append(Int32(u))
            t.positives.append(items[items.startIndex + rng.nextInt(below: items.count)])
            var n: Int32
            repeat { n = Int32(rng.nextInt(below: m.itemCount)) } while m.contains(user: u, item: n)
            t.negatives.append(n)
        }
        return t
    }
}

/// The buffers and arithmetic of one LightGCN training step (see ``LightGCNTrainer``).
final class LightGCNStep {
    let model: LightGCN
    let graph: NormalizedBipartiteGraph
    let configuration: LightGCNTrainingConfiguration
    let width: Int
    let layers: Int
    /// `E⁽¹⁾ … E⁽ᴷ⁾`, valid only on the rows the current step computed.
    let layerValues: [UnsafeMutablePointer<Float>]
    /// `∂L/∂(final embeddings)/(K+1)`, zero outside the batch's rows between steps.
    let seedGradient: UnsafeMutablePointer<Float>
    /// Horner accumulators, zero outside their support between steps.
    let accumulators: [UnsafeMutablePointer<Float>]
    var gradient: Tensor
    var mark: [UInt32]
    var stamp: UInt32 = 0
    /// Each batch node's row in the step's packed final embeddings (valid for this step's nodes only).
    var slot: [Int32]

    init(model: LightGCN, configuration: LightGCNTrainingConfiguration) {
        self.model = model
        graph = model.graph
        self.configuration = configuration
        width = model.configuration.factors
        layers = model.configuration.layers
        let size = graph.nodeCount * width
        func zeros() -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: size)
            p.initialize(repeating: 0, count: size)
            return p
        }
        layerValues = (0..<layers).map { _ in zeros() }
        seedGradient = zeros()
        accumulators = [zeros(), zeros()]
        gradient = Tensor(shape: [graph.nodeCount, width])
        mark = [UInt32](repeating: 0, count: graph.nodeCount)
        slot = [Int32](repeating: 0, count: graph.nodeCount)
    }

    deinit {
        for p in layerValues + accumulators + [seedGradient] { p.deallocate() }
    }

    /// Computes ``gradient`` (of the batch's loss with respect to the layer-0 embeddings) and
    /// returns the loss (mean BPR + L2 term).
    func gradient(users: ArraySlice<Int32>, positives: ArraySlice<Int32>, negatives: ArraySlice<Int32>) -> Double {
        let d = width, k = layers, threads = configuration.threads
        let offset = Int32(graph.userCount)
        let batch = users.count
        let items = Array(positives) + Array(negatives)
        // Hop sets: hops[0] = the batch's nodes, hops[j] = within j hops of them (j < K).
        stamp &+= 1
        var nodes: [Int32] = []
        nodes.reserveCapacity(3 * batch)
        for x in users where mark[Int(x)] != stamp { mark[Int(x)] = stamp; nodes.append(x) }
        for x in items where mark[Int(x + offset)] != stamp { mark[Int(x + offset)] = stamp; nodes.append(x + offset) }
        var hops = [nodes]
        for _ in 0..<max(k - 1, 0) { hops.append(graph.expand(hops.last!, mark: &mark, stamp: stamp)) }

        // Forward: E⁽ʲ⁾ on the rows within K - j hops.
        let e0 = model.embeddings.value
        let p0 = e0.readPointer
        for j in 0..<k {
            graph.propagate(j == 0 ? p0 : UnsafePointer(layerValues[j - 1]), into: layerValues[j], rows: hops[k - 1 - j], width: d, threads: threads)
        }
        // The batch's final embeddings, packed in `nodes` order.
        var finals = [Float](repeating: 0, count: nodes.count * d)
        let scale = 1 / Float(k + 1)
        finals.withUnsafeMutableBufferPointer { f in
            for (s, r) in nodes.enumerated() {
                slot[Int(r)] = Int32(s)
                let out = f.baseAddress! + s * d
                out.update(from: p0 + Int(r) * d, count: d)
                for j in 0..<k { VectorKernels.add(layerValues[j] + Int(r) * d, into: out, d) }
                VectorKernels.scale(out, scale, d)
            }
        }
        // BPR loss and its gradient with respect to the final embeddings (scaled by 1/(K+1)).
        var loss: Double = 0, penalty: Double = 0
        let lambda = configuration.regularization
        let g = seedGradient
        finals.withUnsafeBufferPointer { f in
            for t in users.indices {
                let (u, p, n) = (users[t], positives[t] + offset, negatives[t] + offset)
                let fu = f.baseAddress! + Int(slot[Int(u)]) * d, fp = f.baseAddress! + Int(slot[Int(p)]) * d
                let fn = f.baseAddress! + Int(slot[Int(n)]) * d
                let x = VectorKernels.dot(fu, fn, d) - VectorKernels.dot(fu, fp, d)
                loss += Double(max(x, 0) + Foundation.log1p(Foundation.exp(-abs(x))))  // softplus
                let c = 1 / (1 + Foundation.exp(-x)) / Float(batch) * scale  // sigmoid(x)
                VectorKernels.addScaled(fn, c, into: g + Int(u) * d, d)
                VectorKernels.addScaled(fp, -c, into: g + Int(u) * d, d)
                VectorKernels.addScaled(fu, -c, into: g + Int(p) * d, d)
                VectorKernels.addScaled(fu, c, into: g + Int(n) * d, d)
                let (eu, ep, en) = (p0 + Int(u) * d, p0 + Int(p) * d, p0 + Int(n) * d)
                penalty += Double(VectorKernels.dot(eu, eu, d) + VectorKernels.dot(ep, ep, d) + VectorKernels.dot(en, en, d))
            }
        }
        // ∂L/∂E⁽⁰⁾ = Σⱼ Âʲ·G by Horner: acc ← G + Â·acc, the product restricted to where it can be nonzero.
        let pg = gradient.writePointer()
        var input = UnsafePointer(g)
        for j in 1...max(k, 1) {
            let last = j >= k
            let out = last ? pg : accumulators[(j - 1) % 2]
            if k == 0 {
                pg.update(from: g, count: graph.nodeCount * d)
            } else {
                // acc is zero outside hops[j-1]: scatter from it when that is less work than gathering into the receivers.
                let receivers = last ? graph.entryCount : graph.entryCount(of: hops[j])
                if 2 * graph.entryCount(of: hops[j - 1]) < receivers {
                    if last { out.update(repeating: 0, count: graph.nodeCount * d) }
                    graph.scatter(input, into: out, rows: hops[j - 1], width: d, threads: threads)
                } else {
                    graph.propagate(input, into: out, rows: last ? nil : hops[j], width: d, threads: threads)
                }
                for r in nodes { VectorKernels.add(g + Int(r) * d, into: out + Int(r) * d, d) }
            }
            input = UnsafePointer(out)
        }
        // The L2 term's gradient: λ/batch·e⁽⁰⁾ per occurrence.
        let l2 = lambda / Float(batch)
        for x in users { VectorKernels.addScaled(p0 + Int(x) * d, l2, into: pg + Int(x) * d, d) }
        for x in items { VectorKernels.addScaled(p0 + Int(x + offset) * d, l2, into: pg + Int(x + offset) * d, d) }
        // Restore the zero invariants.
        for r in nodes { (g + Int(r) * d).update(repeating: 0, count: d) }
        for j in 1..<max(k, 1) {
            for r in hops[j] { (accumulators[(j - 1) % 2] + Int(r) * d).update(repeating: 0, count: d) }
        }
        return loss / Double(batch) + Double(lambda) * 0.5 * penalty / Double(batch)
    }
}
