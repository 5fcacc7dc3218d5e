import ArgumentParser
import Foundation
import StarlingData
import StarlingEval
import StarlingModels
import StarlingTensor

/// Where a trained classic model and its report go.
struct OutputOptions: ParsableArguments {
    @Option(help: "Checkpoint to write (default: runs/<model>-<dataset>.safetensors).") var output: String?
    @Option(help: "Also write the evaluation report as JSON here.") var report: String?
    @Flag(help: "Print the evaluation report as JSON instead of a summary line.") var json = false
}

/// The shared flow of `starling train <classic model>`: load data, fit with progress, save,
/// evaluate under the dataset's protocol, report.
enum ClassicTraining {
    static func run<M: Recommender>(
        model name: String, selection: DatasetSelection, output: OutputOptions,
        hyperparameters: [String: String],
        fit: (InteractionMatrix, @escaping (FitEvent) -> Void) throws -> M
    ) throws {
        let data = try selection.prepare()
        Console.status("dataset \(data.describe)")
        Console.status("[\(name)] fitting with \(hyperparameters.keys.sorted().map { "\($0)=\(hyperparameters[$0]!)" }.joined(separator: " "))")
        let start = Date()
        let model = try fit(data.train) { event in
            switch event {
            case let .iteration(number, total, loss, seconds):
                let l = loss.map { String(format: "  loss %.5g", $0) } ?? ""
                let eta = Double(total - number) * seconds
                Console.status("[\(name)] iteration \(number)/\(total)\(l)  \(String(format: "%.2f", seconds))s  ETA \(Console.duration(eta))")
            case let .message(text):
                Console.status("[\(name)] \(text)")
            }
        }
        let fitSeconds = Date().timeIntervalSince(start)
        Console.status("[\(name)] fitted in \(String(format: "%.2f", fitSeconds)) s")
        let path = output.output ?? "runs/\(name.lowercased())-\(data.name).safetensors"
        var file = try model.checkpoint()
        file.metadata["dataset"] = data.name
        file.metadata["dataset_selection"] = selection.dataset.rawValue
        file.metadata["split_seed"] = "\(selection.splitSeed)"
        file.metadata["fit_seconds"] = String(format: "%.3f", fitSeconds)
        try file.write(to: URL(fileURLWithPath: path))
        Console.status("checkpoint written to \(path)")
        var details = hyperparameters
        details["checkpoint"] = path
        details["fit_seconds"] = String(format: "%.3f", fitSeconds)
        if details["threads"] == nil { details["threads"] = "\(Parallel.coreCount)" }
        let report = data.evaluate(model, details: details)
        let text = try report.json()
        if let path = output.report { try Console.write(text + "\n", to: path) }
        print(output.json ? text : report.summary)
    }
}
