import Foundation

/// A small SVG line chart (no dependencies), for training curves and benchmark comparisons.
public struct LineChart {
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// Drawn dashed (e.g. losses next to metrics).
        public var dashed: Bool
        public init(name: String, points: [(x: Double, y: Double)], dashed: Bool = false) {
            self.name = name
            self.points = points
            self.dashed = dashed
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var width = 720.0, height = 380.0

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    static let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// The chart as an SVG document.
    public func svg() -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        \(body())</svg>

        """
    }

    /// Several charts stacked vertically in one SVG document (one panel per training stage, say).
    public static func stacked(_ charts: [LineChart]) -> String {
        let width = charts.map(\.width).max() ?? 0
        let height = charts.reduce(0) { $0 + $1.height }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        var y = 0.0
        for chart in charts {
            out += "<g transform=\"translate(0 \(y))\">\n\(chart.body())</g>\n"
            y += chart.height
        }
        return out + "</svg>\n"
    }

    /// The chart's drawing, without the enclosing `<svg>` element.
    func body() -> String {
        let all = series.flatMap(\.points)
        let longest = Double(series.map(\.name.count).max() ?? 10)
        let left = 64.0, right = 44 + 7 * longest, top = 36.0, bottom = 48.0
        let plotW = width - left - right, plotH = height - top - bottom
        let xs = all.map(\.x), ys = all.map(\.y)
        var (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1)
        var (y0, y1) = (ys.min() ?? 0, ys.max() ?? 1)
        if x1 == x0 { x1 = x0 + 1 }
        if y1 == y0 { y1 = y0 + 1; y0 -= 1 }
        let pad = (y1 - y0) * 0.05
        y0 -= pad; y1 += pad
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * plotW }
        func py(_ y: Double) -> Double { top + (1 - (y - y0) / (y1 - y0)) * plotH }
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        var out = """
        <rect width="\(width)" height="\(height)" fill="white"/>
        <text x="\(width / 2)" y="20" text-anchor="middle" font-size="15">\(esc(title))</text>
        <rect x="\(left)" y="\(top)" width="\(plotW)" height="\(plotH)" fill="none" stroke="#888"/>

        """
        for t in 0...4 {
            let yv = y0 + (y1 - y0) * Double(t) / 4
            out += "<line x1=\"\(left)\" y1=\"\(py(yv))\" x2=\"\(left + plotW)\" y2=\"\(py(yv))\" stroke=\"#eee\"/>\n"
            out += "<text x=\"\(left - 6)\" y=\"\(py(yv) + 4)\" text-anchor=\"end\">\(String(format: "%.3g", yv))</text>\n"
        }
        // Integer x ticks when the x values are integers (epochs), else five even ticks.
        let integral = xs.allSatisfy { $0 == $0.rounded() }
        let step = integral ? max(1, ((x1 - x0) / 8).rounded(.up)) : (x1 - x0) / 4
        var xv = x0
        while xv <= x1 + 1e-9 {
            out += "<text x=\"\(px(xv))\" y=\"\(top + plotH + 16)\" text-anchor=\"middle\">\(String(format: "%.3g", xv))</text>\n"
            xv += step
        }
        out += "<text x=\"\(left + plotW / 2)\" y=\"\(height - 10)\" text-anchor=\"middle\">\(esc(xLabel))</text>\n"
        out += "<text transform=\"translate(16 \(top + plotH / 2)) rotate(-90)\" text-anchor=\"middle\">\(esc(yLabel))</text>\n"
        for (k, s) in series.enumerated() {
            let color = LineChart.colors[k % LineChart.colors.count]
            let path = s.points.map { "\(px($0.x)),\(py($0.y))" }.joined(separator: " ")
            let dash = s.dashed ? " stroke-dasharray=\"6 4\"" : ""
            out += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dash) points=\"\(path)\"/>\n"
            for p in s.points { out += "<circle cx=\"\(px(p.x))\" cy=\"\(py(p.y))\" r=\"2.5\" fill=\"\(color)\"/>\n" }
            let ly = top + 14 + Double(k) * 18
            out += "<line x1=\"\(left + plotW + 10)\" y1=\"\(ly - 4)\" x2=\"\(left + plotW + 30)\" y2=\"\(ly - 4)\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>\n"
            out += "<text x=\"\(left + plotW + 34)\" y=\"\(ly)\">\(esc(s.name))</text>\n"
        }
        return out
    }
}
