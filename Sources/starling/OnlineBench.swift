import ArgumentParser
import Foundation
import StarlingData
import StarlingHTTP
import StarlingLoopbackClient
import StarlingModels
import StarlingServe
import StarlingTensor

/// Online learning under load: how fast the online trainer keeps up with events posted over HTTP
/// while the server answers recommendation requests, and how its progressive metrics compare with
/// the frozen serving model's on events from the future.
struct OnlineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "online",
        abstract: "Online trainer throughput while serving, and progressive AUC on MovieLens-1M's latest events (JSON).",
        discussion: """
        MovieLens-1M's events are ordered by time (the offline copy has none: a seeded random order). The first --train-share go into a fresh service with online \
        learning on; iALS is trained on them and promoted, and the learner starts from it (its state rebuilt from \
        the log). The server listens on a free 127.0.0.1 port. Then, at the same time: --connections clients ask \
        GET /recommend/{user}?k=10 closed-loop, and one client posts the remaining events in time order (batches \
        of --batch-size, as fast as the server acknowledges). `online_events_per_s` is the streamed events divided \
        by the wall time from the first post until the learner has trained on all of them; \
        `training_events_per_s` counts only the learner's own update time. Progressive AUC: each mini-batch is \
        scored before it is trained on (event item against 1 uniformly drawn unseen item), by the learner and by \
        the serving version.
        """)

    @Flag(help: "Print JSON only.") var json = false
    @OptionGroup var dataset: DatasetOptions
    @Option(help: "Share of the events (oldest first) loaded before online learning starts.") var trainShare = 0.9
    @Option(help: "Recommendation clients while the events stream in.") var connections = 4
    @Option(help: "Events per POST /events batch.") var batchSize = 500
    @Option(help: "Clients posting the streamed events.") var postConnections = 4
    @Option(help: "Events per online mini-batch.") var onlineBatch = 2000
    @Option(help: "iALS factors.") var factors = 64
    @Option(help: "Seconds between online versions.") var publishInterval: Double = 5
    @Flag(help: "Also run the streaming-feature ranker (serve --online --online-ranker).") var ranker = false

    func run() async throws {
        let root = try DataRoot.resolve(explicit: dataset.data)
        let data = try MovieLens1M.load(directory: try DataRoot.dataset("ml-1m", in: root)).compacted()
        let log = data.events
        // The offline copy has no timestamps (interactions_implicit.dat): the events are put in a
        // seeded random order and stamped 1 ms apart in it; with timestamps, time order is used.
        let order: [Int], times: [Int64]
        if let t = log.timestamps {
            times = t.map { $0 * 1000 }
            order = (0..<log.count).sorted { times[$0] != times[$1] ? times[$0] < times[$1] : $0 < $1 }
        } else {
            var rng = RandomGenerator(seed: 7)
            order = Array(0..<log.count).shuffled(using: &rng)
            var t = [Int64](repeating: 0, count: log.count)
            for (k, e) in order.enumerated() { t[e] = 1_700_000_000_000 + Int64(k) }
            times = t
        }
        let timeOrder = log.timestamps == nil ? "a seeded random order (no timestamps in the offline copy), 1 ms apart" : "time order"
        let cut = Int(Double(order.count) * trainShare)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("starling-bench-online-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let online = OnlineLearner.Configuration(batchSize: onlineBatch, publishIntervalSeconds: publishInterval, log: { Console.status("online: " + $0) })
        // As `serve --online` runs it: the learner, and with --ranker the streaming-feature ranker
        // (which reads the features of every listed item and counts its impressions on each request).
        let service = try RecommendationService(configuration: .init(directory: directory, online: online,
                                                                     ranker: ranker ? StreamingRanker.Configuration() : nil))
        let stored = try ServiceImport.load(data, into: service, order: Array(order[..<cut]), timestamps: times)
        let ials = IALS.Configuration(factors: factors, regularization: 50, alpha: 5, iterations: 10)
        let version = try service.retrain(configuration: ials, holdOut: 0)
        try service.promote(version)
        Console.status("bench online: \(stored) events (oldest \(Int(trainShare * 100))%), iALS \(factors) factors promoted (version \(version))")
        while service.online?.current.state != "training" { try await Task.sleep(for: .milliseconds(100)) }
        let startTrained = service.online!.current.eventsTrained

        let server = try await InProcessServer.start(service)
        let port = server.port

        // The streamed events as request bodies, in time order.
        let rest = Array(order[cut...])
        var bodies: [Data] = []
        var k = 0
        while k < rest.count {
            let slice = rest[k..<min(rest.count, k + batchSize)]
            let objects = slice.map { e -> [String: Any] in
                ["user": data.users.ids[Int(log.users[e])], "item": data.items.ids[Int(log.items[e])], "type": "rating",
                 "value": Double(log.values[e]), "timestamp": times[e], "event_id": "ml1m-\(e)"]
            }
            bodies.append(try JSONSerialization.data(withJSONObject: objects))
            k += batchSize
        }
        let users = data.users.ids, streamed = rest.count, requestBodies = bodies, listening = port
        // Blocking clients run on threads of their own: the cooperative pool (2 threads here) serves.
        let recommending = Task { [connections] in await Threads.offThread {
            LoadGenerator.run(ports: [listening], connections: connections, seconds: 3600, pacing: .closedLoop,
                              stop: { service.online!.eventsTrained - startTrained >= streamed }) { c, n in
                LoadGenerator.Request("GET", "/recommend/\(users[(c &* 7919 &+ n &* 31) % users.count])?k=10")
            }
        } }
        let started = Date()
        // --post-connections clients post the batches; client c takes batches c, c + n, c + 2n, ….
        let posters = postConnections
        let posting = await Threads.offThread { () -> (Int, Double) in
            let errors = Threads.run(posters) { c -> Int in
                var errors = 0
                do {
                    let client = try LoopbackHTTPClient(port: listening)
                    for k in stride(from: c, to: requestBodies.count, by: posters) {
                        let r = try client.request("POST", "/events", body: requestBodies[k], headers: ["Content-Type": "application/json"])
                        if !(200..<300).contains(r.status) { errors += 1 }
                    }
                } catch { errors += 1 }
                return errors
            }
            return (errors.reduce(0, +), Date().timeIntervalSince(started))
        }
        while service.online!.eventsTrained - startTrained < rest.count {
            if Date().timeIntervalSince(started) > 600 { throw ValidationError("the online learner did not catch up within 600 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
        let caughtUp = Date().timeIntervalSince(started)
        let load = await recommending.value
        await server.stop()
        service.stopOnlineLearning()
        let status = service.online!.current

        func figure(_ v: Double?) -> Any { v.map { ($0 * 10_000).rounded() / 10_000 } ?? NSNull() }
        let out: [String: Any] = [
            "dataset": "MovieLens-1M", "protocol": "events in \(timeOrder); the first \(Int(trainShare * 100))% loaded and trained (iALS \(factors)f, λ 50, α 5, 10 sweeps), the rest posted over HTTP in that order",
            "streamed_events": rest.count, "post_seconds": (posting.1 * 1000).rounded() / 1000, "post_errors": posting.0,
            "online_events_per_s": (Double(rest.count) / caughtUp).rounded(), "caught_up_seconds": (caughtUp * 1000).rounded() / 1000,
            "training_events_per_s": status.trainingEventsPerSecond.rounded(),
            "recommend_rps_while_training": load.requestsPerSecond.rounded(), "recommend_p99_ms_while_training": (load.percentileMs(99) * 1000).rounded() / 1000,
            "recommend_errors": load.errors,
            "progressive_auc_live": figure(status.live.auc), "progressive_logloss_live": figure(status.live.logLoss),
            "progressive_auc_serving": figure(status.serving.auc), "progressive_logloss_serving": figure(status.serving.logLoss),
            "progressive_examples": status.live.examples,
            "versions_published": status.publishedCount, "versions_promoted": status.promotedCount, "rollbacks": status.rollbackCount,
            "users": status.users, "items": status.items,
            "ranker": ["enabled": ranker, "lists_pending": service.ranker?.pendingLists ?? 0,
                       "note": "no clicks in this stream: the ranker only captures features and impressions of every served list"] as [String: Any],
        ]
        let text = String(decoding: try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self)
        print(text)
    }
}
