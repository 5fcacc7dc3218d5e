import Foundation
import Testing

/// End-to-end: the `starling` binary trains, writes its artefacts and evaluates with `--json`, on
/// a small synthetic dataset in the NCF file format.
@Suite("The starling command line")
struct CommandLineTests {
    var binary: URL {
        // The test bundle and the executable are built into the same folder.
        let bundle = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        var dir = bundle.deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("starling").path) && dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("starling")
    }

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
}
