import Foundation
import StarlingData
import StarlingTensor

/// Settings of SASRec training (the paper's defaults for Amazon Games).
public struct SASRecTrainingConfiguration: Codable, Sendable, Equatable {
    /// The paper trains 200 epochs; with validation, fewer may be kept (see ``patience``).
    public var epochs: Int = 200
    /// Sequences per step.
    public var batchSize: Int = 128
    public var learningRate: Float = 0.001
    /// Adam's β₂ (0.98 in the reference code).
    public var beta2: Float = 0.98
    /// Evaluate the validation protocol every this many epochs (0: never; the last epoch's weights are kept).
    public var evaluateEvery: Int = 10
    /// Stop after this many evaluations without a better validation NDCG@10 (0: never stop early).
    public var patience: Int = 5
    public var seed: UInt64 = 42
    /// Worker threads for data-parallel steps; results are deterministic for a given count.
    public var threads: Int = Parallel.coreCount

    public init() {}

    func validate() throws(ModelError) {
        guard epochs >= 0, batchSize > 0, threads > 0, learningRate > 0, evaluateEvery >= 0, patience >= 0,
              (0..<1).contains(beta2) else {
            throw .invalidArgument("SASRec training: epochs, batch size, threads and learning rate must be positive, β₂ in [0, 1)")
        }
    }
}

/// Trains ``SASRec`` as the paper does: each step draws `batchSize` users uniformly (among those
/// with at least two training items), predicts every next item of their training sequence (its
/// last `maxLength` transitions) against one uniformly drawn item the user never interacted with,
/// and takes an Adam step (β = 0.9/0.98; embedding rows the step did not touch follow dense Adam's
/// trajectory, as TensorFlow's Adam does for the paper's code). An epoch is
/// `⌈users / batchSize⌉` steps.
///
/// Each step's sequences are split into one shard per thread; workers run forward and backward on
/// their own tapes and the gradients are summed in shard order, so a run is deterministic for a
/// given seed and thread count.
public final class SASRecTrainer {
    public let configuration: SASRecTrainingConfiguration
    public private(set) var history: [EpochSummary] = []
    /// The epoch whose weights were kept (the best validation NDCG@10), when validation ran.
    public private(set) var selectedEpoch: Int?
    public let optimizer: Adam
    /// Seconds between progress events.
    public var progressInterval: Double = 1

    public init(configuration: SASRecTrainingConfiguration) throws(ModelError) {
        try configuration.validate()
        self.configuration = configuration
        optimizer = Adam(learningRate: configuration.learningRate, beta1: 0.9, beta2: configuration.beta2, sparseMode: .denseEquivalent)
        optimizer.threadCount = configuration.threads
    }

    /// Trains on `split`'s training sequences. `afterEpoch(epoch)` runs every `evaluateEvery`
    /// epochs and at the last; when it returns `val NDCG@10` the best epoch's weights are kept.
    public func train(_ model: SASRec, on split: SequenceSplit, events: (TrainingEvent) -> Void = { _ in },
                      afterEpoch: (Int) -> [String: Double] = { _ in [:] }) {
        train(model, sequences: (0..<split.userCount).map { split.trainSequence(of: $0) }, events: events, afterEpoch: afterEpoch)
    }

    /// Trains on users' item sequences (oldest first; user `u` is `sequences[u]`, items below the
    /// model's `itemCount`), e.g. read from the event log.
    public func train(_ model: SASRec, sequences: [ArraySlice<Int32>], events: (TrainingEvent) -> Void = { _ in },
                      afterEpoch: (Int) -> [String: Double] = { _ in [:] }) {
        let c = configuration
        let itemCount = model.itemCount
        precondition(sequences.allSatisfy { $0.allSatisfy { $0 >= 0 && Int($0) < itemCount } },
                     "SASRecTrainer: a sequence holds an item outside the model's \(itemCount) items")
        // A user needs a next item to predict and an item they never touched to contrast it with.
        let trainable = sequences.indices.filter { sequences[$0].count >= 2 && Set(sequences[$0]).count < itemCount }
        guard c.epochs > 0, !trainable.isEmpty else { return }
        let seen = InteractionMatrix(itemCount: itemCount, sequences: sequences)
        var rng = RandomGenerator(seed: c.seed)
        // One shared scope, so that overlapping trainings do not restore a multi-threaded BLAS under each other.
        if c.threads > 1 { SingleThreadedBLAS.enter() }
        defer { if c.threads > 1 { SingleThreadedBLAS.leave() } }
        let parameters = model.parameters
        let stepsPerEpoch = (sequences.count + c.batchSize - 1) / c.batchSize
        var best: (epoch: Int, score: Double, weights: [String: Tensor])?
        var evaluationsSinceBest = 0
        var globalStep = 0
        for epoch in 1...c.epochs {
            let epochStart = Date()
            var lossSum: Double = 0, samplingSeconds: Double = 0, sequencesDone = 0
            var lastReport = Date()
            for step in 0..<stepsPerEpoch {
                let samplingStart = Date()
                let batch = Self.sample(sequences, trainable: trainable, seen: seen, count: c.batchSize,
                                        maxLength: model.configuration.maxLength, using: &rng)
                samplingSeconds += Date().timeIntervalSince(samplingStart)
                let (gradients, loss) = self.gradients(model, batch, seed: c.seed &+ UInt64(globalStep) &* 0x9E37_79B9)
                optimizer.step(parameters, gradients: gradients)
                lossSum += loss
                globalStep += 1
                sequencesDone += c.batchSize
                if Date().timeIntervalSince(lastReport) >= progressInterval {
                    lastReport = Date()
                    let rate = Double(sequencesDone) / max(lastReport.timeIntervalSince(epochStart), 1e-9)
                    let remaining = Double((stepsPerEpoch - step - 1) + (c.epochs - epoch) * stepsPerEpoch) * Double(c.batchSize) / rate
                    events(.progress(epoch: epoch, epochs: c.epochs, step: step + 1, steps: stepsPerEpoch,
                                     loss: lossSum / Double(step + 1), samplesPerSecond: rate, etaSeconds: remaining))
                }
            }
            optimizer.synchronize(parameters)
            let seconds = Date().timeIntervalSince(epochStart)
            var summary = EpochSummary(epoch: epoch, loss: lossSum / Double(stepsPerEpoch), seconds: seconds, samplingSeconds: samplingSeconds,
                                       samplesPerSecond: Double(sequencesDone) / max(seconds - samplingSeconds, 1e-9))
            var stop = false
            if (c.evaluateEvery > 0 && epoch % c.evaluateEvery == 0) || epoch == c.epochs {
                summary.metrics = afterEpoch(epoch)
                if let score = summary.metrics["val NDCG@10"] {
                    if best == nil || score > best!.score {
                        best = (epoch, score, model.stateDictionary())
                        evaluationsSinceBest = 0
                    } else {
                        evaluationsSinceBest += 1
                        stop = c.patience > 0 && evaluationsSinceBest >= c.patience
                    }
                }
            }
            history.append(summary)
            events(.epochFinished(summary))
            if stop { break }
        }
        if let best {
            try! model.loadStateDictionary(best.weights)  // the model's own names and shapes
            selectedEpoch = best.epoch
        }
    }

    /// One step's sequences: inputs, their next items and one negative per position.
    struct Batch {
        var inputs: [ArraySlice<Int32>] = []
        var positives: [[Int32]] = []
        var negatives: [[Int32]] = []
    }

    static func sample(_ sequences: [ArraySlice<Int32>], trainable: [Int], seen: InteractionMatrix, count: Int, maxLength: Int,
                       using rng: inout RandomGenerator) -> Batch {
        var batch = Batch()
        for _ in 0..<count {
            let user = trainable[rng.nextInt(below: trainable.count)]
            let sequence = sequences[user]
            let inputs = sequence.dropLast().suffix(maxLength)
            let positives = Array(sequence.dropFirst().suffix(maxLength))
            var negatives = [Int32](repeating: 0, count: positives.count)
            for k in negatives.indices {
                var item: Int32
                repeat { item = Int32(rng.nextInt(below: seen.itemCount)) } while seen.contains(user: user, item: item)
                negatives[k] = item
            }
            batch.inputs.append(inputs)
            batch.positives.append(positives)
            batch.negatives.append(negatives)
        }
        return batch
    }

    /// The gradient of the batch loss (mean over all positions of the batch) and that loss,
    /// computed in one shard per thread.
    func gradients(_ model: SASRec, _ batch: Batch, seed: UInt64) -> (Gradients, Double) {
        let tokens = batch.positives.reduce(0) { $0 + $1.count }
        let shards = Parallel.ranges(batch.inputs.count, parts: configuration.threads)
        let results = Parallel.map(shards.count) { s -> (Gradients, Double) in
            let r = shards[s]
            let shardTokens = batch.positives[r].reduce(0) { $0 + $1.count }
            guard shardTokens > 0 else { return (Gradients(), 0) }
            let tape = Tape(training: true, seed: seed &+ UInt64(s))
            let loss = model.loss(inputs: Array(batch.inputs[r]), positives: batch.positives[r].flatMap { $0 },
                                  negatives: batch.negatives[r].flatMap { $0 }, on: tape)
            var g = tape.gradients(of: loss)
            let share = Float(shardTokens) / Float(tokens)
            g.scale(by: share)
            return (g, Double(loss.value.scalar) * Double(share))
        }
        return (Gradients.sum(results.map(\.0)), results.reduce(0) { $0 + $1.1 })
    }
}
