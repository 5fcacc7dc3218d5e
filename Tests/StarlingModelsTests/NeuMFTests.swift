import Foundation
import StarlingData
import StarlingEval
import StarlingModels
import StarlingTensor
import Testing

@Suite("NeuMF")
struct NeuMFTests {
    func tinyConfiguration(_ variant: NeuMF.Variant = .neuMF) -> NeuMF.Configuration {
        NeuMF.Configuration(variant: variant, userCount: 7, itemCount: 9, factors: 4, layers: 2)
    }

    @Test func towerWidthsHalveDownToTheFactors() throws {
        let c = NeuMF.Configuration(userCount: 10, itemCount: 10, factors: 32, layers: 3)
        #expect(c.mlpWidths == [256, 128, 64, 32])
        #expect(c.mlpEmbeddingWidth == 128)
        let model = try NeuMF(c)
        let expected = 20 * 32 + 20 * 128 + (256 * 128 + 128) + (128 * 64 + 64) + (64 * 32 + 32) + (64 + 1)
        #expect(model.parameterCount == expected)
        #expect(try NeuMF(NeuMF.Configuration(variant: .gmf, userCount: 10, itemCount: 10, factors: 8)).parameters.count == 4)
        #expect(throws: ModelError.self) { try NeuMF(NeuMF.Configuration(userCount: 0, itemCount: 10)) }
    }

    /// Every parameter's gradient (embedding rows included) matches finite differences.
    @Test func parameterGradientsMatchFiniteDifferences() throws {
        let model = try NeuMF(tinyConfiguration(), seed: 3)
        // Larger embeddings than the N(0, 0.01²) default, so the MLP's ReLUs are active.
        var rng = RandomGenerator(seed: 5)
        for p in model.parameters { p.value = Tensor.uniform(shape: p.shape, low: -0.8, high: 0.8, using: &rng) }
        let users: [Int32] = [0, 3, 3, 6], items: [Int32] = [1, 1, 8, 0]
        let labels = Tensor([1, 0, 1, 0])
        func loss(_ tape: Tape) -> Variable { Loss.binaryCrossEntropy(logits: model.logits(users: users, items: items, on: tape), targets: labels) }
        let tape = Tape()
        let grads = tape.gradients(of: loss(tape))
        let eps: Float = 2e-3
        for p in model.parameters {
            let analytic = try #require(grads[p], "no gradient for \(p.name)")
            let original = p.value
            // Check a spread of elements of each parameter.
            for i in stride(from: 0, to: original.count, by: max(1, original.count / 7)) {
                var plus = original, minus = original
                plus.withUnsafeMutableBufferPointer { $0[i] += eps }
                minus.withUnsafeMutableBufferPointer { $0[i] -= eps }
                p.value = plus
                let lp = loss(Tape(recording: false)).value.scalar
                p.value = minus
                let lm = loss(Tape(recording: false)).value.scalar
                p.value = original
                let numeric = (lp - lm) / (2 * eps)
                #expect(abs(analytic.scalars[i] - numeric) <= 2e-3 + 2e-2 * abs(numeric), "\(p.name)[\(i)]: \(analytic.scalars[i]) vs \(numeric)")
            }
        }
        // Embedding tables got row-sparse gradients for the looked-up rows only.
        #expect(Set(grads.sparse[model.gmfUser!.table.key]!.coalesced().indices) == [0, 3, 6])
    }

    @Test func checkpointRoundTripGivesIdenticalScores() throws {
        let model = try NeuMF(tinyConfiguration(), seed: 9)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("neumf-\(UUID().uuidString).safetensors")
        try model.save(to: url)
        let (loaded, metadata) = try NeuMF.load(from: url)
        #expect(metadata["model"] == "neumf")
        #expect(loaded.configuration == model.configuration)
        let u: [Int32] = [0, 1, 6], i: [Int32] = [8, 2, 0]
        #expect(loaded.scores(users: u, items: i) == model.scores(users: u, items: i))
        // A checkpoint of something else is refused with a clear error.
        try SafeTensorsFile(tensors: [:], metadata: ["model": "ials"]).write(to: url)
        #expect { try NeuMF.load(from: url) } throws: { "\($0)".contains("ials") }
        try SafeTensorsFile(tensors: [:], metadata: ["model": "neumf", "configuration": "{not json"]).write(to: url)
        #expect { try NeuMF.load(from: url) } throws: { "\($0)".contains("configuration") }
    }

    /// The paper's pre-training fusion is exact: with α = 0.5 the fused logit is the mean of the
    /// GMF and MLP logits.
    @Test func pretrainedFusionAveragesTheTwoTowers() throws {
        let gmf = try NeuMF(tinyConfiguration(.gmf), seed: 1), mlp = try NeuMF(tinyConfiguration(.mlp), seed: 2)
        let fused = try NeuMF(pretrainedGMF: gmf, mlp: mlp, alpha: 0.5)
        let u: [Int32] = [0, 2, 5, 6], i: [Int32] = [3, 3, 8, 0]
        let expected = zip(gmf.scores(users: u, items: i), mlp.scores(users: u, items: i)).map { 0.5 * $0 + 0.5 * $1 }
        for (a, b) in zip(fused.scores(users: u, items: i), expected) { #expect(abs(a - b) < 1e-6) }
        #expect(throws: ModelError.self) { try NeuMF(pretrainedGMF: mlp, mlp: gmf) }
    }

    @Test func dataParallelTrainingIsDeterministic() throws {
        let pairs: [(user: Int32, item: Int32)] = (0..<400).map { k in (Int32(k % 40), Int32((k * 7) % 50)) }
        let data = InteractionMatrix(userCount: 40, itemCount: 50, pairs: pairs)
        func run(threads: Int) throws -> [Float] {
            var c = PointwiseTrainingConfiguration()
            c.epochs = 2; c.batchSize = 64; c.threads = threads; c.seed = 11
            let model = try NeuMF(NeuMF.Configuration(userCount: 40, itemCount: 50, factors: 8, layers: 2), seed: 4)
            try PointwiseTrainer(configuration: c).train(model, on: data)
            return model.parameters.flatMap(\.value.scalars)
        }
        let a = try run(threads: 2), b = try run(threads: 2), single = try run(threads: 1)
        #expect(a == b, "same seed and thread count must give bit-identical weights")
        // Another thread count sums gradients in another order: equal up to rounding.
        let worst = zip(a, single).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-3)
    }

    /// One epoch on the real split already beats item popularity by a wide margin under the NCF protocol.
    @Test func learnsMovieLensBeyondPopularity() throws {
        let split = try NCFSplit.load(directory: try DataRoot.dataset("ncf-ml-1m", in: try DataRoot.resolve()))
        let popularity = split.train.itemPopularity
        let evaluator = SampledRankingEvaluator(split: split)
        let popular = evaluator.evaluate(PopularityScorer(popularity: popularity, users: split.train.userCount))
        var c = PointwiseTrainingConfiguration()
        c.epochs = 1
        let model = try NeuMF(NeuMF.Configuration(userCount: split.train.userCount, itemCount: split.train.itemCount, factors: 8))
        let trainer = try PointwiseTrainer(configuration: c)
        trainer.train(model, on: split.train)
        let report = evaluator.evaluate(model)
        #expect(trainer.history.count == 1 && trainer.history[0].loss < 0.4)
        #expect(popular.metrics["HR@10"]! > 0.4 && popular.metrics["HR@10"]! < 0.5)
        #expect(report.metrics["HR@10"]! > popular.metrics["HR@10"]! + 0.1, "NeuMF \(report.metrics) vs popularity \(popular.metrics)")
    }
}

/// Scores an item by its training popularity (the non-personalised baseline).
final class PopularityScorer: PairScoring, @unchecked Sendable {
    let popularity: [Int]
    let userCount: Int
    var itemCount: Int { popularity.count }
    let modelName = "Popularity"
    init(popularity: [Int], users: Int) { self.popularity = popularity; userCount = users }
    func scores(users: [Int32], items: [Int32]) -> [Float] { items.map { Float(popularity[Int($0)]) } }
}
