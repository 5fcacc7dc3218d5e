import Foundation
import StarlingData
import StarlingTensor

/// A model trained pointwise on (user, item, label) examples: it returns one logit per pair.
public protocol PointwiseModel: Module, Sendable {
    func logits(users: [Int32], items: [Int32], on tape: Tape) -> Variable
}

extension NeuMF: PointwiseModel {}

/// Settings of pointwise training with sampled negatives (the NCF recipe).
public struct PointwiseTrainingConfiguration: Codable, Sendable, Equatable {
    public enum OptimizerKind: String, Codable, Sendable, CaseIterable { case adam, sgd, adagrad, adamw }

    public var epochs: Int = 20
    public var batchSize: Int = 256
    public var negativesPerPositive: Int = 4
    public var learningRate: Float = 0.001
    public var optimizer: OptimizerKind = .adam
    /// Cosine decay of the learning rate over all steps (off: constant, as in the paper).
    public var cosineDecay: Bool = false
    /// How Adam treats the rows of embedding tables a step did not touch (see ``Adam/SparseMode``).
    public var sparseMode: Adam.SparseMode = .denseEquivalent
    /// Global-norm gradient clipping (0: off).
    public var clipNorm: Float = 0
    public var seed: UInt64 = 42
    /// Worker threads for data-parallel steps; results are deterministic for a given count.
    public var threads: Int = Parallel.coreCount

    public init() {}

    func makeOptimizer() -> Optimizer {
        switch optimizer {
        case .adam: return Adam(learningRate: learningRate, sparseMode: sparseMode)
        case .adamw: return Adam.adamW(learningRate: learningRate, sparseMode: sparseMode)
        case .sgd: return SGD(learningRate: learningRate)
        case .adagrad: return Adagrad(learningRate: learningRate)
        }
    }
}

/// Progress reports from ``PointwiseTrainer``.
public enum TrainingEvent: Sendable {
    /// Periodic report within an epoch.
    case progress(epoch: Int, epochs: Int, step: Int, steps: Int, loss: Double, samplesPerSecond: Double, etaSeconds: Double)
    /// An epoch finished.
    case epochFinished(EpochSummary)
}

/// What one epoch did.
public struct EpochSummary: Codable, Sendable {
    public var epoch: Int
    public var loss: Double
    /// Wall-clock seconds of the epoch: sampling negatives plus training steps.
    public var seconds: Double
    /// Seconds spent sampling the epoch's negatives (included in ``seconds``).
    public var samplingSeconds: Double
    /// Examples per second of the training steps alone (forward, backward, optimizer).
    public var samplesPerSecond: Double
    /// Filled by the caller's evaluation hook, if any.
    public var metrics: [String: Double] = [:]
}

/// Trains a ``PointwiseModel`` with binary cross-entropy on positives and sampled negatives.
///
/// Each step splits the mini-batch into one contiguous shard per thread; the workers run forward
/// and backward on their own tapes concurrently, their gradients are summed in shard order and one
/// optimizer step follows. BLAS runs single-threaded meanwhile. For a fixed seed and thread count
/// the run is deterministic.
public final class PointwiseTrainer {
    public let configuration: PointwiseTrainingConfiguration
    public private(set) var history: [EpochSummary] = []
    /// The optimizer the trainer steps with.
    public let optimizer: Optimizer
    /// Seconds between progress events.
    public var progressInterval: Double = 1

    public init(configuration: PointwiseTrainingConfiguration) throws(ModelError) {
        guard configuration.epochs >= 0, configuration.batchSize > 0, configuration.threads > 0,
              configuration.negativesPerPositive >= 0, configuration.learningRate > 0 else {
            throw .invalidArgument("training: epochs, batch size, threads and learning rate must be positive")
        }
        self.configuration = configuration
        self.optimizer = configuration.makeOptimizer()
        self.optimizer.threadCount = configuration.threads
    }

    /// Runs all epochs. `afterEpoch` may evaluate the model and return metrics to record.
    public func train<M: PointwiseModel>(
        _ model: M, on interactions: InteractionMatrix,
        events: (TrainingEvent) -> Void = { _ in },
        afterEpoch: (Int) -> [String: Double] = { _ in [:] },
        stopAfter: (EpochSummary) -> Bool = { _ in false }
    ) {
        let c = configuration
        var rng = RandomGenerator(seed: c.seed)
        let stepsPerEpoch = (interactions.count * (1 + c.negativesPerPositive) + c.batchSize - 1) / c.batchSize
        let schedule: (any LearningRateSchedule)? = c.cosineDecay
            ? CosineSchedule(rate: c.learningRate, totalSteps: max(1, stepsPerEpoch * c.epochs)) : nil
        // One shared scope, so that overlapping trainings do not restore a multi-threaded BLAS under each other.
        if c.threads > 1 { SingleThreadedBLAS.enter() }
        defer { if c.threads > 1 { SingleThreadedBLAS.leave() } }
        let parameters = model.parameters
        var globalStep = 0
        for epoch in 1...max(c.epochs, 1) where c.epochs > 0 {
            let epochStart = Date()
            let samples = PointwiseSamples(interactions: interactions, negativesPerPositive: c.negativesPerPositive, using: &rng)
            let samplingSeconds = Date().timeIntervalSince(epochStart)
            let stepsStart = Date()
            var lossSum: Double = 0
            var lastReport = Date()
            let steps = (samples.count + c.batchSize - 1) / c.batchSize
            for stepIndex in 0..<steps {
                let lo = stepIndex * c.batchSize, hi = min(lo + c.batchSize, samples.count)
                if let schedule { optimizer.learningRate = schedule.learningRate(at: globalStep) }
                lossSum += step(model, parameters: parameters, samples: samples, range: lo..<hi, globalStep: globalStep)
                globalStep += 1
                if Date().timeIntervalSince(lastReport) >= progressInterval {
                    lastReport = Date()
                    let elapsed = lastReport.timeIntervalSince(stepsStart)
                    let rate = Double(hi) / max(elapsed, 1e-9)
                    let remaining = Double(samples.count - hi) / rate
                        + Double(c.epochs - epoch) * Double(samples.count) / rate
                    events(.progress(epoch: epoch, epochs: c.epochs, step: stepIndex + 1, steps: steps,
                                     loss: lossSum / Double(hi), samplesPerSecond: rate, etaSeconds: remaining))
                }
            }
            optimizer.synchronize(parameters)  // weights as of this step, for evaluation and checkpoints
            let stepSeconds = Date().timeIntervalSince(stepsStart)
            var summary = EpochSummary(epoch: epoch, loss: lossSum / Double(max(samples.count, 1)),
                                       seconds: Date().timeIntervalSince(epochStart), samplingSeconds: samplingSeconds,
                                       samplesPerSecond: Double(samples.count) / max(stepSeconds, 1e-9))
            summary.metrics = afterEpoch(epoch)
            history.append(summary)
            events(.epochFinished(summary))
            if stopAfter(summary) { break }
        }
    }

    /// One optimizer step on `samples[range]`; returns the summed loss of those examples.
    /// BLAS should be single-threaded while several worker threads run (``train(_:on:events:afterEpoch:)`` sees to it).
    @discardableResult
    public func step<M: PointwiseModel>(_ model: M, parameters: [Parameter], samples: PointwiseSamples,
                                        range: Range<Int>, globalStep: Int) -> Double {
        var (g, loss) = batchGradients(model, samples: samples, range: range, seed: configuration.seed &+ UInt64(globalStep) &* 0x9E37_79B9)
        if configuration.clipNorm > 0 { g.clipGlobalNorm(to: configuration.clipNorm) }
        optimizer.step(parameters, gradients: g)
        return loss
    }

    /// Forward and backward over `range` of the samples, split across the worker threads; returns
    /// the gradient of the batch-mean loss and the summed loss.
    public func batchGradients<M: PointwiseModel>(_ model: M, samples: PointwiseSamples, range: Range<Int>, seed: UInt64) -> (Gradients, Double) {
        let total = Float(range.count)
        let shards = Parallel.ranges(range.count, parts: configuration.threads).map {
            (range.lowerBound + $0.lowerBound)..<(range.lowerBound + $0.upperBound)
        }
        let results = Parallel.map(shards.count) { s -> (Gradients, Double) in
            let r = shards[s]
            let tape = Tape(training: true, seed: seed &+ UInt64(s))
            let logits = model.logits(users: Array(samples.users[r]), items: Array(samples.items[r]), on: tape)
            let loss = Loss.binaryCrossEntropy(logits: logits, targets: Tensor(Array(samples.labels[r])))
            var g = tape.gradients(of: loss)
            g.scale(by: Float(r.count) / total)
            return (g, Double(loss.value.scalar) * Double(r.count))
        }
        return (Gradients.sum(results.map(\.0)), results.reduce(0) { $0 + $1.1 })
    }
}
