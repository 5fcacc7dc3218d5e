import ArgumentParser
import Foundation
import StarlingData
import StarlingStream

/// Measures the streaming feature store alone: events recorded per second on one thread.
struct FeatureBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features", abstract: "Streaming feature store: events/s recorded with the standard features, 1 thread (JSON).")

    @Option(help: "Synthetic events (6,040 users, 3,706 items, 2 categories each, 1 ms apart; a third are clicks).") var events = 400_000
    @Option(help: "Events per record call.") var batchSize = 100
    @Option(help: "Trials; the best is reported.") var trials = 3

    func run() throws {
        let log = (0..<events).map { k in
            LoggedEvent(user: "user\(k % 6040)", item: "item\(k % 3706)", type: k % 3 == 0 ? .click : .view, timestamp: 1_700_000_000_000 + Int64(k))
        }
        let categories = ["Drama", "Comedy"]
        // The batches are cut once, outside the timed loop.
        let batches = stride(from: 0, to: log.count, by: batchSize).map { Array(log[$0..<min(log.count, $0 + batchSize)]) }
        var best = Double.infinity
        for _ in 0..<trials {
            let store = try InMemoryFeatureStore()
            let start = DispatchTime.now().uptimeNanoseconds
            for batch in batches { store.record(batch, categories: { _ in categories }) }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let result: [String: Any] = ["build": BenchEnvironment.build, "events": events, "features": FeatureDefinition.standard.count,
                                     "batch_size": batchSize, "seconds": best.rounded(to: 4),
                                     "events_per_s": (Double(events) / best).rounded(to: 0)]
        print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
    }
}
