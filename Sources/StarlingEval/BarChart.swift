import Foundation

/// A grouped SVG bar chart (no dependencies): one group per metric, one bar per model.
public struct BarChart {
    public var title: String
    /// Group labels (e.g. metric names).
    public var groups: [String]
    /// One series per model: its name and one value per group.
    public var series: [(name: String, values: [Double])]
    public var width = 760.0, height = 380.0

    public init(title: String, groups: [String], series: [(name: String, values: [Double])]) {
        precondition(series.allSatisfy { $0.values.count == groups.count }, "BarChart: every series needs one value per group")
        self.title = title
        self.groups = groups
        self.series = series
    }

    public func svg() -> String {
        let left = 56.0, right = 20.0, top = 40.0, bottom = 70.0
        let plotW = width - left - right, plotH = height - top - bottom
        let maxValue = max(series.flatMap(\.values).max() ?? 1, 1e-12) * 1.1
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="22" text-anchor="middle" font-size="15">\(esc(title))</text>

        """
        for t in 0...4 {
            let v = maxValue * Double(t) / 4, y = top + plotH * (1 - Double(t) / 4)
            out += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(left + plotW)\" y2=\"\(y)\" stroke=\"#eee\"/>\n"
            out += "<text x=\"\(left - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">\(String(format: "%.3g", v))</text>\n"
        }
        let groupW = plotW / Double(max(groups.count, 1))
        let barW = groupW * 0.8 / Double(max(series.count, 1))
        for (g, label) in groups.enumerated() {
            let x0 = left + Double(g) * groupW + groupW * 0.1
            for (s, entry) in series.enumerated() {
                let v = entry.values[g], h = plotH * v / maxValue
                let color = LineChart.colors[s % LineChart.colors.count]
                out += "<rect x=\"\(x0 + Double(s) * barW)\" y=\"\(top + plotH - h)\" width=\"\(barW * 0.92)\" height=\"\(h)\" fill=\"\(color)\"><title>\(esc(entry.name)) \(esc(label)): \(String(format: "%.4f", v))</title></rect>\n"
            }
            out += "<text x=\"\(x0 + groupW * 0.4)\" y=\"\(top + plotH + 16)\" text-anchor=\"middle\">\(esc(label))</text>\n"
        }
        var lx = left
        for (s, entry) in series.enumerated() {
            let color = LineChart.colors[s % LineChart.colors.count]
            out += "<rect x=\"\(lx)\" y=\"\(height - 30)\" width=\"12\" height=\"12\" fill=\"\(color)\"/>\n"
            out += "<text x=\"\(lx + 16)\" y=\"\(height - 20)\">\(esc(entry.name))</text>\n"
            lx += 28 + 7 * Double(entry.name.count)
        }
        return out + "</svg>\n"
    }
}
