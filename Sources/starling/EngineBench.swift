import ArgumentParser
import Foundation
import StarlingData
import StarlingModels
import StarlingTensor

/// Measures the engine's building blocks: GEMM, embedding-bag, NeuMF training steps.
struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine", abstract: "sgemm GFLOP/s, embedding-bag GB/s and NeuMF training samples/s (JSON).")

    @Flag(help: "Print JSON only.") var json = false
    @OptionGroup var dataset: DatasetOptions
    @Option(help: "NeuMF training steps to time.") var steps = 3000
    @Option(parsing: .upToNextOption, help: "Run only these parts: sgemm, embedding-bag, neumf.")
    var only: [String] = []

    func run() throws {
        var result: [String: Any] = ["build": BenchEnvironment.build, "cores": ProcessInfo.processInfo.activeProcessorCount]
        let parts = only.isEmpty ? ["sgemm", "embedding-bag", "neumf"] : only
        if parts.contains("sgemm") { result["sgemm"] = sgemm() }
        if parts.contains("embedding-bag") { result["embedding_bag"] = embeddingBag() }
        if parts.contains("neumf") { result["neumf_training"] = try neumf() }
        let data = try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys])
        if json {
            print(String(decoding: data, as: UTF8.self))
        } else {
            printSummary(result)
        }
    }

    /// A short human-readable version of the results.
    func printSummary(_ result: [String: Any]) {
        print("Starling engine benchmark (\(result["build"]!), \(result["cores"]!) cores)")
        for row in result["sgemm"] as? [[String: Any]] ?? [] {
            print("  sgemm \(row["m"]!)×\(row["n"]!)×\(row["k"]!) on \(row["threads"]!) thread(s): \(row["gflops"]!) GFLOP/s")
        }
        if let bag = result["embedding_bag"] as? [String: Any] {
            print("  embedding-bag forward+backward (\(bag["table_rows"]!)×\(bag["width"]!) table, \(bag["bags"]!) bags of \(bag["bag_size"]!)): \(bag["gb_per_s"]!) GB/s")
        }
        if let neumf = result["neumf_training"] as? [String: Any] {
            for row in neumf["runs"] as? [[String: Any]] ?? [] {
                print("  NeuMF training, \(row["threads"]!) thread(s), batch \(row["batch_size"]!): \(row["samples_per_second"]!) samples/s (forward+backward \(row["forward_backward_us_per_step"]!) µs, optimizer \(row["optimizer_us_per_step"]!) µs per step)")
            }
        }
        print("(--json for machine-readable output)")
    }

    /// GFLOP/s of C = A·B at the sizes models use, on 1 and 2 BLAS threads (median of 5 trials).
    func sgemm() -> [[String: Any]] {
        var rows: [[String: Any]] = []
        let previous = BLAS.threadCount
        defer { BLAS.setThreadCount(previous) }
        for (m, n, k) in [(256, 64, 64), (1024, 256, 256), (1024, 1024, 1024)] {
            var rng = RandomGenerator(seed: 1)
            var a = Tensor.normal(shape: [m, k], using: &rng)
            let b = Tensor.normal(shape: [k, n], using: &rng)
            var c = Tensor(shape: [m, n])
            for threads in [1, 2] {
                BLAS.setThreadCount(threads)
                let flops = 2.0 * Double(m * n * k)
                let reps = max(1, Int(2e9 / flops))
                let seconds = BenchEnvironment.median(trials: 5) {
                    a[0, 0] += 1e-3  // perturb so no call can be skipped
                    let pa = a.readPointer, pb = b.readPointer, pc = c.writePointer()
                    for _ in 0..<reps { BLAS.gemm(m: m, n: n, k: k, a: pa, lda: k, b: pb, ldb: n, c: pc, ldc: n) }
                }
                rows.append(["m": m, "n": n, "k": k, "threads": threads,
                             "gflops": (flops * Double(reps) / seconds / 1e9).rounded(to: 1)])
            }
        }
        return rows
    }

    /// Embedding-bag forward + backward over a table larger than the caches.
    func embeddingBag() -> [String: Any] {
        let rows = 200_000, width = 64, bags = 4096, bagSize = 32
        var rng = RandomGenerator(seed: 2)
        let table = Parameter(name: "t", value: Tensor.normal(shape: [rows, width], using: &rng), isEmbeddingTable: true)
        let indices = (0..<(bags * bagSize)).map { _ in Int32(rng.nextInt(below: rows)) }
        let offsets = (0..<bags).map { $0 * bagSize }
        let upstream = Tensor(shape: [bags, width], repeating: 1)
        let seconds = BenchEnvironment.median(trials: 7) {
            let tape = Tape()
            let out = tape.embeddingBag(table, indices: indices, offsets: offsets, reduction: .mean)
            let g = tape.gradients(of: out, seed: upstream)
            precondition(g.sparse[table.key]!.indices.count == indices.count)
        }
        // Bytes that must move: each looked-up row read in forward, each row gradient written in backward.
        let bytes = Double(indices.count * width * 4 * 2)
        return ["table_rows": rows, "width": width, "bags": bags, "bag_size": bagSize, "reduction": "mean",
                "seconds": seconds.rounded(to: 6), "gb_per_s": (bytes / seconds / 1e9).rounded(to: 2),
                "bytes_counted": "rows gathered (forward) + row gradients written (backward)"]
    }

    /// NeuMF (32 factors, 3 layers) training steps at batch 256 on the NCF ML-1M split.
    func neumf() throws -> [String: Any] {
        let split = try dataset.ncfSplit()
        var rows: [[String: Any]] = []
        for threads in [1, Parallel.coreCount].uniqued() {
            var training = PointwiseTrainingConfiguration()
            training.threads = threads
            let model = try NeuMF(NeuMF.Configuration(userCount: split.train.userCount, itemCount: split.train.itemCount))
            let trainer = try PointwiseTrainer(configuration: training)
            trainer.optimizer.threadCount = threads
            var rng = RandomGenerator(seed: 3)
            let samples = PointwiseSamples(interactions: split.train, negativesPerPositive: 4, using: &rng)
            let previous = BLAS.threadCount
            BLAS.setThreadCount(1)
            let parameters = model.parameters
            let n = min(steps, samples.count / 256)
            for s in 0..<50 { trainer.step(model, parameters: parameters, samples: samples, range: (s * 256)..<(s * 256 + 256), globalStep: s) }
            let start = Date()
            for s in 0..<n { trainer.step(model, parameters: parameters, samples: samples, range: (s * 256)..<(s * 256 + 256), globalStep: s) }
            let seconds = Date().timeIntervalSince(start)
            // Where a step's time goes: forward + backward (parallel) and the optimizer update.
            var gradientSeconds = 0.0, optimizerSeconds = 0.0
            let phaseSteps = min(500, n)
            for s in 0..<phaseSteps {
                let t0 = Date()
                let (g, _) = trainer.batchGradients(model, samples: samples, range: (s * 256)..<(s * 256 + 256), seed: UInt64(s))
                let t1 = Date()
                trainer.optimizer.step(parameters, gradients: g)
                optimizerSeconds += Date().timeIntervalSince(t1)
                gradientSeconds += t1.timeIntervalSince(t0)
            }
            BLAS.setThreadCount(previous)
            rows.append(["threads": threads, "batch_size": 256, "factors": 32, "layers": 3, "steps": n,
                         "samples_per_second": (Double(n * 256) / seconds).rounded(),
                         "forward_backward_us_per_step": (gradientSeconds / Double(phaseSteps) * 1e6).rounded(),
                         "optimizer_us_per_step": (optimizerSeconds / Double(phaseSteps) * 1e6).rounded()])
        }
        return ["dataset": split.name, "optimizer": "adam (row-sparse embedding updates)", "runs": rows]
    }
}

enum BenchEnvironment {
    static var build: String {
        #if DEBUG
        return "debug (numbers are not meaningful; use swift build -c release)"
        #else
        return "release"
        #endif
    }

    /// The median wall time of `trials` runs of `body`, after one warm-up run.
    static func median(trials: Int, _ body: () -> Void) -> Double {
        body()
        var times: [Double] = []
        for _ in 0..<trials {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }
}

extension Double {
    func rounded(to digits: Int) -> Double {
        let f = pow(10, Double(digits))
        return (self * f).rounded() / f
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
