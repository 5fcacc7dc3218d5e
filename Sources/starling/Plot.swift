import ArgumentParser
import Foundation

struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a training history (the .history.json written by `starling train`) as an SVG curve.")

    @Option(help: "The history file.") var history: String
    @Option(help: "The SVG to write (default: the history's name with .curve.svg).") var output: String?
    @Option(parsing: .upToNextOption, help: "Metrics to draw beside the loss (default: HR@10, NDCG@10 and their validation figures).")
    var metrics: [String] = ["HR@10", "NDCG@10", "val HR@10", "val NDCG@10"]

    func run() throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: history)) } catch {
            throw ValidationError("\(history): cannot read: \(error.localizedDescription)")
        }
        let stages: [TrainingStage]
        do { stages = try JSONDecoder().decode([TrainingStage].self, from: data) } catch {
            throw ValidationError("\(history): not a Starling training history: \(error)")
        }
        let target = output ?? (history.hasSuffix(".history.json") ? String(history.dropLast(".history.json".count)) : history) + ".curve.svg"
        try Console.write(TrainingArtifacts.curve(history: stages.map { ($0.stage, $0.epochs) }, protocol: nil, metrics: metrics), to: target)
        Console.status("curve written to \(target)")
    }
}
