import Foundation

/// A short human report of several evaluation results: the protocol, a table of models × metrics,
/// and a bar chart (SVG written beside the markdown).
public enum MarkdownReport {
    /// The markdown text; `chartFile` is the SVG's file name as the markdown should link it.
    public static func render(title: String, reports: [EvaluationReport], metrics: [String]? = nil, chartFile: String?) -> String {
        guard let first = reports.first else { return "# \(title)\n\nNo results.\n" }
        let names = metrics ?? defaultMetrics(reports)
        var out = "# \(title)\n\n"
        var protocols: [EvaluationProtocol] = []
        for r in reports where !protocols.contains(r.evaluationProtocol) { protocols.append(r.evaluationProtocol) }
        for p in protocols {
            out += "- Protocol: **\(p.ranking)**, candidates: \(p.candidates); split: \(p.split); K = \(p.ks.map(String.init).joined(separator: ", ")); ties: \(p.ties)\n"
        }
        out += "- Dataset: \(Set(reports.map(\.dataset)).sorted().joined(separator: ", ")); users evaluated: \(first.users)\n\n"
        out += "| model | " + names.joined(separator: " | ") + " | fit s | evaluation s |\n"
        out += "|---|" + names.map { _ in "---:" }.joined(separator: "|") + "|---:|---:|\n"
        for r in reports {
            let cells = names.map { r.metrics[$0].map { String(format: "%.4f", $0) } ?? "—" }
            let fit = r.details["fit_seconds"].flatMap(Double.init).map { String(format: "%.1f", $0) } ?? "—"
            out += "| \(r.model) | " + cells.joined(separator: " | ") + " | \(fit) | \(String(format: "%.1f", r.seconds)) |\n"
        }
        let settings = reports.compactMap { r -> String? in
            let keys = r.details.keys.filter { !MarkdownReport.runDetails.contains($0) }.sorted()
            return keys.isEmpty ? nil : "- \(r.model): " + keys.map { "\($0)=\(r.details[$0]!)" }.joined(separator: " ") + "\n"
        }
        if !settings.isEmpty { out += "\nSettings:\n\n" + settings.joined() }
        if let chartFile { out += "\n![\(title)](\(chartFile))\n" }
        return out
    }

    /// Details that describe the run rather than the model's settings.
    static let runDetails: Set<String> = ["checkpoint", "fit_seconds", "configuration"]

    /// The bar chart of the same reports.
    public static func chart(title: String, reports: [EvaluationReport], metrics: [String]? = nil) -> BarChart {
        let names = (metrics ?? defaultMetrics(reports)).filter { !$0.hasPrefix("Novelty") }  // different scale
        return BarChart(title: title, groups: names, series: reports.map { r in (r.model, names.map { r.metrics[$0] ?? 0 }) })
    }

    /// The accuracy metrics present in every report, in a fixed order.
    static func defaultMetrics(_ reports: [EvaluationReport]) -> [String] {
        let order = ["HR", "Recall", "Precision", "NDCG", "MRR", "MAP", "ItemCoverage", "Novelty", "GAUC"]
        let common = reports.dropFirst().reduce(Set(reports.first?.metrics.keys ?? [:].keys)) { $0.intersection($1.metrics.keys) }
        return common.sorted { a, b in
            let (na, ka) = split(a), (nb, kb) = split(b)
            let ia = order.firstIndex(of: na) ?? order.count, ib = order.firstIndex(of: nb) ?? order.count
            return ia != ib ? ia < ib : ka < kb
        }
    }

    static func split(_ metric: String) -> (String, Int) {
        let parts = metric.split(separator: "@")
        return (String(parts[0]), parts.count > 1 ? Int(parts[1]) ?? 0 : 0)
    }
}
