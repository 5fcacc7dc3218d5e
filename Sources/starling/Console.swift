import Foundation
import StarlingModels

/// Output helpers: progress goes to standard error, results to standard output.
enum Console {
    static func status(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m" }
        if s >= 60 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s)s"
    }

    static func rate(_ r: Double) -> String {
        r >= 1e6 ? String(format: "%.2fM", r / 1e6) : String(format: "%.0fk", r / 1e3)
    }

    /// Prints a trainer's progress events.
    static func report(_ event: TrainingEvent, label: String) {
        switch event {
        case let .progress(epoch, epochs, step, steps, loss, sps, eta):
            status("[\(label)] epoch \(epoch)/\(epochs)  step \(step)/\(steps)  loss \(String(format: "%.4f", loss))  \(rate(sps)) samples/s  ETA \(duration(eta))")
        case let .epochFinished(s):
            let metrics = s.metrics.keys.sorted().map { "\($0) \(String(format: "%.4f", s.metrics[$0]!))" }.joined(separator: "  ")
            status("[\(label)] epoch \(s.epoch) done  loss \(String(format: "%.4f", s.loss))  \(String(format: "%.1f", s.seconds))s  \(rate(s.samplesPerSecond)) samples/s  \(metrics)")
        }
    }

    static func write(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
}
