import ArgumentParser
import Foundation
import StarlingEval
import StarlingModels

/// Trains NeuMF for a few epochs and reports throughput and accuracy, for side-by-side runs with
/// PyTorch (scripts/bench_neumf_vs_pytorch.py).
struct NeuMFBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neumf", abstract: "NeuMF training throughput and accuracy after N epochs (JSON).")

    @OptionGroup var dataset: DatasetOptions
    @OptionGroup var options: NeuMFOptions

    func run() throws {
        let split = try dataset.ncfSplit()
        let evaluator = SampledRankingEvaluator(split: split, ks: [10], threads: options.threads)
        let model = try NeuMF(options.modelConfiguration(users: split.train.userCount, items: split.train.itemCount))
        let trainer = try PointwiseTrainer(configuration: options.trainingConfiguration)
        trainer.progressInterval = 5
        trainer.train(model, on: split.train, events: { Console.report($0, label: "NeuMF") })
        let report = evaluator.evaluate(model)
        let samplingSeconds = trainer.history.reduce(0) { $0 + $1.samplingSeconds }
        let stepSeconds = trainer.history.reduce(0) { $0 + $1.seconds - $1.samplingSeconds }
        let samples = trainer.history.reduce(0.0) { $0 + $1.samplesPerSecond * ($1.seconds - $1.samplingSeconds) }
        let result: [String: Any] = [
            "engine": "starling", "build": BenchEnvironment.build, "model": "NeuMF", "dataset": split.name,
            "factors": options.factors, "layers": options.layers, "batch_size": options.batchSize,
            "threads": options.threads, "epochs": options.epochs,
            "train_seconds": stepSeconds.rounded(to: 2), "sampling_seconds": samplingSeconds.rounded(to: 2),
            "samples_per_second": (samples / max(stepSeconds, 1e-9)).rounded(),
            "sparse_adam": options.sparseAdam.rawValue,
            "epoch_losses": trainer.history.map { $0.loss.rounded(to: 5) },
            "protocol": "sampled: held-out item + 99 given negatives, K=10",
            "HR@10": report.metrics["HR@10"]!.rounded(to: 4), "NDCG@10": report.metrics["NDCG@10"]!.rounded(to: 4),
        ]
        let data = try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
