import Foundation
import StarlingFeatures
import StarlingTensor

/// Settings of click-model training.
public struct ClickTrainingConfiguration: Codable, Sendable, Equatable {
    public enum OptimizerKind: String, Codable, Sendable, CaseIterable { case adam, adagrad, sgd }

    public var epochs: Int = 10
    public var batchSize: Int = 256
    public var learningRate: Float = 0.001
    public var optimizer: OptimizerKind = .adam
    /// L2 penalty added to the gradients (embedding rows only when a batch touches them).
    public var weightDecay: Float = 0
    /// With a validation metric: stop after this many epochs without improvement and keep the
    /// best epoch's weights (0: train every epoch, keep the last).
    public var patience: Int = 2
    public var seed: UInt64 = 42
    /// Worker threads for data-parallel steps; results are deterministic for a given count.
    public var threads: Int = Parallel.coreCount

    public init() {}

    func makeOptimizer() -> Optimizer {
        switch optimizer {
        case .adam: return Adam(learningRate: learningRate, weightDecay: weightDecay, sparseMode: .lazy)
        case .adagrad: return Adagrad(learningRate: learningRate)
        case .sgd: return SGD(learningRate: learningRate)
        }
    }
}

/// Trains a ``ClickModel`` on encoded examples with mini-batch gradient descent.
///
/// Each epoch shuffles the rows (seeded); each step splits the mini-batch into one contiguous
/// shard per thread, runs forward and backward on per-thread tapes, sums the gradients in shard
/// order and takes one optimizer step. BLAS runs single-threaded meanwhile. For a fixed seed and
/// thread count the run is deterministic.
public final class ClickModelTrainer {
    public let configuration: ClickTrainingConfiguration
    public private(set) var history: [EpochSummary] = []
    public let optimizer: Optimizer
    /// Seconds between progress events.
    public var progressInterval: Double = 1
    /// The epoch whose weights were kept, when a validation metric selected one.
    public private(set) var selectedEpoch: Int?

    public init(configuration: ClickTrainingConfiguration) throws(ModelError) {
        guard configuration.epochs >= 0, configuration.batchSize > 0, configuration.threads > 0,
              configuration.learningRate > 0, configuration.weightDecay >= 0, configuration.patience >= 0 else {
            throw .invalidArgument("training: epochs, batch size, threads and learning rate must be positive; weight decay and patience not negative")
        }
        self.configuration = configuration
        self.optimizer = configuration.makeOptimizer()
        self.optimizer.threadCount = configuration.threads
    }

    /// Runs the epochs.
    /// - Parameters:
    ///   - labels: one array per task of the model, one label per row.
    ///   - afterEpoch: evaluates the model (on validation data) and returns metrics to record.
    ///   - selectBy: a metric of `afterEpoch` (higher is better) that picks the epoch whose
    ///     weights are kept and stops training after ``ClickTrainingConfiguration/patience``
    ///     epochs without improvement.
    public func train<M: ClickModel>(
        _ model: M, features: EncodedFeatures, labels: [[Float]],
        events: (TrainingEvent) -> Void = { _ in },
        afterEpoch: (Int) -> [String: Double] = { _ in [:] },
        selectBy: String? = nil
    ) {
        precondition(labels.count == model.tasks.count && labels.allSatisfy { $0.count == features.rowCount },
                     "ClickModelTrainer: one label per row for each of the model's \(model.tasks.count) tasks expected")
        let c = configuration
        var rng = RandomGenerator(seed: c.seed)
        // One shared scope, so that overlapping trainings do not restore a multi-threaded BLAS under each other.
        if c.threads > 1 { SingleThreadedBLAS.enter() }
        defer { if c.threads > 1 { SingleThreadedBLAS.leave() } }
        let parameters = model.parameters
        var best: (epoch: Int, score: Double, weights: [String: Tensor])?
        var order = Array(0..<features.rowCount)
        var globalStep = 0
        for epoch in 1...max(c.epochs, 1) where c.epochs > 0 {
            rng.shuffle(&order)
            let start = Date()
            var lastReport = start
            var lossSum = 0.0
            let steps = (order.count + c.batchSize - 1) / c.batchSize
            for s in 0..<steps {
                let batch = order[(s * c.batchSize)..<min((s + 1) * c.batchSize, order.count)]
                let (g, loss) = batchGradients(model, features: features, labels: labels, rows: batch,
                                               seed: c.seed &+ UInt64(globalStep) &* 0x9E37_79B9)
                optimizer.step(parameters, gradients: g)
                lossSum += loss
                globalStep += 1
                if Date().timeIntervalSince(lastReport) >= progressInterval {
                    lastReport = Date()
                    let done = min((s + 1) * c.batchSize, order.count)
                    let rate = Double(done) / max(lastReport.timeIntervalSince(start), 1e-9)
                    let remaining = Double(order.count - done) / rate + Double(c.epochs - epoch) * Double(order.count) / rate
                    events(.progress(epoch: epoch, epochs: c.epochs, step: s + 1, steps: steps, loss: lossSum / Double(done),
                                     samplesPerSecond: rate, etaSeconds: remaining))
                }
            }
            optimizer.synchronize(parameters)
            let seconds = Date().timeIntervalSince(start)
            var summary = EpochSummary(epoch: epoch, loss: lossSum / Double(max(order.count, 1)), seconds: seconds,
                                       samplingSeconds: 0, samplesPerSecond: Double(order.count) / max(seconds, 1e-9))
            summary.metrics = afterEpoch(epoch)
            history.append(summary)
            events(.epochFinished(summary))
            if let selectBy, let score = summary.metrics[selectBy] {
                if best == nil || score > best!.score { best = (epoch, score, model.stateDictionary()) }
                if c.patience > 0 && epoch - best!.epoch >= c.patience { break }
            }
        }
        if let best {
            try! model.loadStateDictionary(best.weights)  // the model's own names and shapes
            selectedEpoch = best.epoch
        }
    }

    /// Forward and backward over `rows`, split across the worker threads; returns the gradient of
    /// the batch-mean loss and the summed loss of the rows.
    public func batchGradients<M: ClickModel>(_ model: M, features: EncodedFeatures, labels: [[Float]],
                                              rows: ArraySlice<Int>, seed: UInt64) -> (Gradients, Double) {
        let total = Float(rows.count)
        let shards = Parallel.ranges(rows.count, parts: min(configuration.threads, rows.count)).map {
            Array(rows[(rows.startIndex + $0.lowerBound)..<(rows.startIndex + $0.upperBound)])
        }
        let results = Parallel.map(shards.count) { s -> (Gradients, Double) in
            let shard = shards[s]
            let tape = Tape(training: true, seed: seed &+ UInt64(s))
            let loss = model.loss(features.selecting(rows: shard), labels: labels.map { l in shard.map { l[$0] } }, on: tape)
            var g = tape.gradients(of: loss)
            g.scale(by: Float(shard.count) / total)
            return (g, Double(loss.value.scalar) * Double(shard.count))
        }
        return (Gradients.sum(results.map(\.0)), results.reduce(0) { $0 + $1.1 })
    }
}
