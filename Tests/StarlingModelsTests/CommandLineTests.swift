import Foundation
import StarlingData
import StarlingTestSupport
import Testing

/// End-to-end: the `starling` binary trains, writes its artefacts and evaluates with `--json`, on
/// a small synthetic dataset in the NCF file format.
@Suite("The starling command line")
struct CommandLineTests {
    var binary: URL { StarlingExecutable.url }

    /// 30 users, 25 items; user u likes items with the same parity (learnable), one held out each.
    func syntheticDataRoot() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("starling-cli-\(UUID().uuidString)")
        let dir = root.appendingPathComponent("ncf-ml-1m")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var train = "", test = "", negative = ""
        for u in 0..<30 {
            let liked = (0..<25).filter { $0 % 2 == u % 2 }
            let held = liked[u % liked.count]
            for i in liked where i != held { train += "\(u)\t\(i)\n" }
            test += "\(u)\t\(held)\t5\t0\n"
            negative += "(\(u),\(held))\t" + (0..<25).filter { $0 % 2 != u % 2 }.prefix(9).map(String.init).joined(separator: "\t") + "\n"
        }
        try train.write(to: dir.appendingPathComponent("ml-1m.train.pairs"), atomically: true, encoding: .utf8)
        try test.write(to: dir.appendingPathComponent("ml-1m.test.rating"), atomically: true, encoding: .utf8)
        try negative.write(to: dir.appendingPathComponent("ml-1m.test.negative"), atomically: true, encoding: .utf8)
        return root
    }

    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test func trainThenEvaluateAsJSON() throws {
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "starling binary not found at \(binary.path)")
        let root = try syntheticDataRoot()
        let checkpoint = root.appendingPathComponent("runs/model.safetensors").path
        let train = try run(["train", "neumf", "--data", root.path, "--epochs", "8", "--factors", "8", "--layers", "2",
                             "--batch-size", "32", "--learning-rate", "0.01", "--output", checkpoint])
        #expect(train.status == 0, "train failed: \(train.stderr)")
        #expect(train.stderr.contains("epoch 8 done"))
        for suffix in [".safetensors", ".history.json", ".curve.svg"] {
            let path = checkpoint.replacingOccurrences(of: ".safetensors", with: suffix)
            #expect(FileManager.default.fileExists(atPath: path), "missing \(path)")
        }
        // The saved history re-plots.
        let plotted = root.appendingPathComponent("replot.svg").path
        let plot = try run(["plot", "--history", checkpoint.replacingOccurrences(of: ".safetensors", with: ".history.json"), "--output", plotted])
        #expect(plot.status == 0, "plot failed: \(plot.stderr)")
        let svg = try #require(FileManager.default.contents(atPath: plotted))
        #expect(String(decoding: svg, as: UTF8.self).contains("<polyline"))
        let reportPath = root.appendingPathComponent("report.json").path
        let evaluate = try run(["evaluate", "--checkpoint", checkpoint, "--data", root.path, "--json", "--output", reportPath])
        #expect(evaluate.status == 0, "evaluate failed: \(evaluate.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(evaluate.stdout.utf8)) as! [String: Any]
        #expect(object["model"] as? String == "NeuMF")
        #expect(object["dataset"] as? String == "ncf-ml-1m")
        #expect((object["protocol"] as? [String: Any])?["ranking"] as? String == "sampled")
        let metrics = try #require(object["metrics"] as? [String: Double])
        // The parity structure is learnable: the held-out item beats the 9 other-parity negatives.
        #expect(metrics["HR@10"] == 1)
        #expect(metrics["NDCG@10"]! > 0.5, "\(metrics)")
        #expect(FileManager.default.contents(atPath: reportPath) != nil)
    }

    @Test func badInputGivesAClearErrorAndNonZeroExit() throws {
        try #require(FileManager.default.isExecutableFile(atPath: binary.path))
        let root = try syntheticDataRoot()
        let missing = try run(["evaluate", "--checkpoint", root.appendingPathComponent("none.safetensors").path, "--data", root.path])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("none.safetensors"))
        let noData = try run(["train", "neumf", "--data", "/nonexistent/data", "--epochs", "1"])
        #expect(noData.status != 0)
        #expect(noData.stderr.contains("/nonexistent/data"))
    }

    /// A classic model on real data: `train` records the dataset and split seed in the checkpoint,
    /// `evaluate` re-creates that split and reproduces the training report's metrics, and `report`
    /// turns the JSON reports into a markdown table with a bar chart.
    @Test func classicModelTrainEvaluateReportOnML100K() throws {
        try #require(FileManager.default.isExecutableFile(atPath: binary.path))
        let data = try DataRoot.resolve().path
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("starling-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let checkpoint = dir.appendingPathComponent("ials.safetensors").path, trained = dir.appendingPathComponent("ials.json").path
        let train = try run(["train", "ials", "--dataset", "ml-100k", "--data", data, "--split-seed", "7", "--iterations", "3", "--factors", "16",
                             "--regularization", "50", "--alpha", "5", "--threads", "2", "--output", checkpoint, "--report", trained])
        #expect(train.status == 0, "train failed: \(train.stderr)")
        #expect(train.stderr.contains("[iALS] iteration 3/3"))
        let evaluated = dir.appendingPathComponent("evaluated.json").path
        let evaluate = try run(["evaluate", "--checkpoint", checkpoint, "--data", data, "--json", "--output", evaluated])
        #expect(evaluate.status == 0, "evaluate failed: \(evaluate.stderr)")
        let a = try JSONDecoder().decode(EvaluationReportShape.self, from: try Data(contentsOf: URL(fileURLWithPath: trained)))
        let b = try JSONDecoder().decode(EvaluationReportShape.self, from: Data(evaluate.stdout.utf8))
        #expect(b.model == "iALS" && b.dataset == "ml-100k" && b.protocol.ranking == "full-ranking")
        #expect(b.protocol.split.contains("random 80/0/20 per interaction, seed 7"))
        #expect(a.metrics == b.metrics)
        // Better than chance by far on ML-100K (1,682 items): Recall@20 of random ranking is ≈ 0.012.
        #expect(try #require(b.metrics["Recall@20"]) > 0.15, "\(b.metrics)")
        let markdown = dir.appendingPathComponent("report.md").path
        let report = try run(["report", trained, evaluated, "--title", "ML-100K", "--output", markdown])
        #expect(report.status == 0, "report failed: \(report.stderr)")
        let text = try String(contentsOfFile: markdown, encoding: .utf8)
        #expect(text.contains("| iALS |") && text.contains("![ML-100K](report.svg)"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("report.svg").path))
        let wrong = try run(["evaluate", "--checkpoint", checkpoint, "--data", data, "--dataset", "lightgcn-gowalla"])
        #expect(wrong.status != 0 && wrong.stderr.contains("29858"), "\(wrong.stderr)")
    }

    /// SASRec (Amazon Games, sampled protocol) and LightGCN (ML-100K, full ranking): train with
    /// progress and validation, then `evaluate` on the checkpoint gives the training run's figures.
    @Test func sequentialAndGraphModelsTrainAndEvaluate() throws {
        try #require(FileManager.default.isExecutableFile(atPath: binary.path))
        let data = try DataRoot.resolve().path
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("starling-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sasrec = dir.appendingPathComponent("sasrec.safetensors").path
        let train = try run(["train", "sasrec", "--data", data, "--epochs", "2", "--evaluate-every", "1", "--threads", "2", "--output", sasrec, "--json"])
        #expect(train.status == 0, "train failed: \(train.stderr)")
        #expect(train.stderr.contains("[SASRec] epoch 2 done") && train.stderr.contains("val NDCG@10"))
        let evaluate = try run(["evaluate", "--checkpoint", sasrec, "--data", data, "--json"])
        #expect(evaluate.status == 0, "evaluate failed: \(evaluate.stderr)")
        let a = try JSONDecoder().decode(EvaluationReportShape.self, from: Data(train.stdout.utf8))
        let b = try JSONDecoder().decode(EvaluationReportShape.self, from: Data(evaluate.stdout.utf8))
        #expect(b.model == "SASRec" && b.dataset == "sasrec-games" && b.protocol.ranking == "sampled" && a.metrics == b.metrics)
        #expect(try #require(b.metrics["HR@10"]) > 0.4, "\(b.metrics)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("sasrec.curve.svg").path))

        let lightgcn = dir.appendingPathComponent("lightgcn.safetensors").path
        let graph = try run(["train", "lightgcn", "--dataset", "ml-100k", "--data", data, "--epochs", "3", "--eval-every", "1", "--threads", "2",
                             "--output", lightgcn, "--json"])
        #expect(graph.status == 0, "train failed: \(graph.stderr)")
        #expect(graph.stderr.contains("[LightGCN] epoch 3 done") && graph.stderr.contains("Recall@20"))
        let graphEvaluate = try run(["evaluate", "--checkpoint", lightgcn, "--data", data, "--json"])
        #expect(graphEvaluate.status == 0, "evaluate failed: \(graphEvaluate.stderr)")
        let c = try JSONDecoder().decode(EvaluationReportShape.self, from: Data(graph.stdout.utf8))
        let d = try JSONDecoder().decode(EvaluationReportShape.self, from: Data(graphEvaluate.stdout.utf8))
        #expect(d.model == "LightGCN" && d.protocol.ranking == "full-ranking" && c.metrics == d.metrics)
    }
}

/// The fields of an evaluation report these tests read.
private struct EvaluationReportShape: Decodable {
    struct ProtocolShape: Decodable { let ranking: String; let split: String }
    let model: String
    let dataset: String
    let `protocol`: ProtocolShape
    let metrics: [String: Double]
}
