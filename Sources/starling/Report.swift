import ArgumentParser
import Foundation
import StarlingEval

/// `starling report`: one markdown table and bar chart from several evaluation JSON files.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Combine evaluation reports (JSON from train/evaluate --report/--output) into a markdown table with an SVG bar chart.")

    @Argument(help: "Evaluation report JSON files, one per model.") var reports: [String]
    @Option(help: "Title of the report.") var title = "Evaluation"
    @Option(help: "Markdown file to write; the chart goes beside it with the extension .svg.") var output: String
    @Option(parsing: .upToNextOption, help: "Metrics to show (default: every accuracy metric all reports share).")
    var metrics: [String] = []

    func run() throws {
        guard !reports.isEmpty else { throw ValidationError("give at least one report file") }
        let decoded = try reports.map { path -> EvaluationReport in
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw ValidationError("\(path): cannot read (\(error.localizedDescription))")
            }
            do { return try JSONDecoder().decode(EvaluationReport.self, from: data) } catch {
                throw ValidationError("\(path): not an evaluation report (\(error))")
            }
        }
        let chosen = metrics.isEmpty ? nil : metrics
        let markdownURL = URL(fileURLWithPath: output)
        let chartURL = markdownURL.deletingPathExtension().appendingPathExtension("svg")
        let markdown = MarkdownReport.render(title: title, reports: decoded, metrics: chosen, chartFile: chartURL.lastPathComponent)
        try Console.write(MarkdownReport.chart(title: title, reports: decoded, metrics: chosen).svg(), to: chartURL.path)
        try Console.write(markdown, to: markdownURL.path)
        Console.status("wrote \(markdownURL.path) and \(chartURL.path)")
    }
}
