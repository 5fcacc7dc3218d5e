import ArgumentParser
import Foundation
import StarlingData
import StarlingEval
import StarlingHTTP
import StarlingLoopbackClient
import StarlingModels
import StarlingServe
import StarlingTensor

/// Load-tests the whole service over HTTP on loopback: recommendations at saturation and at a
/// fixed rate, then event ingestion with durability on.
struct ServeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Recommend and ingest throughput and latency of the HTTP service on MovieLens-1M (JSON).",
        discussion: """
        The service (a fresh folder under the temporary directory) is loaded with MovieLens-1M, an iALS model \
        is trained on it and promoted, and the server listens on a free 127.0.0.1 port in this process. A \
        load generator on threads of its own (one keep-alive connection each) then runs: a warm-up; \
        GET /recommend/{user}?k=10 for random MovieLens users closed-loop at --concurrency (saturation); the \
        same open-loop at --rate requests/s for --seconds, latency counted from when each request was due; \
        POST /events batches of --batch-size new events (fsync'd group commit) closed-loop. Every non-2xx \
        answer or transport failure counts in `errors`.
        """)

    @Flag(help: "Print JSON only.") var json = false
    @OptionGroup var dataset: DatasetOptions
    @Option(help: "Connections for the saturation run.") var concurrency = 16
    @Option(help: "Seconds of the saturation run.") var saturationSeconds: Double = 20
    @Option(help: "Requests per second of the fixed-rate run.") var rate: Double = 1000
    @Option(help: "Connections of the fixed-rate run.") var rateConnections = 32
    @Option(help: "Seconds of the fixed-rate run.") var seconds: Double = 60
    @Option(help: "Connections posting events.") var ingestConnections = 8
    @Option(help: "Events per POST /events batch.") var batchSize = 100
    @Option(help: "Seconds of the ingestion run.") var ingestSeconds: Double = 10
    @Option(help: "iALS factors of the served model.") var factors = 64
    @Option(parsing: .upToNextOption,
            help: "Also load a peer serving GET /recommend/{user}?k=10 on these 127.0.0.1 ports (replicas; scripts/serve_implicit_peer.py), same phases, after Starling's.")
    var peerPorts: [Int] = []
    @Option(help: "Also write an SVG chart of the latencies (and the peer's) to this file.") var svg: String?

    func run() async throws {
        let root = try DataRoot.resolve(explicit: dataset.data)
        let data = try MovieLens1M.load(directory: try DataRoot.dataset("ml-1m", in: root)).compacted()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("starling-bench-serve-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let service = try RecommendationService(configuration: .init(directory: directory))
        let stored = try ServiceImport.load(data, into: service)
        let version = try service.retrain(configuration: IALS.Configuration(factors: factors, regularization: 50, alpha: 5, iterations: 10))
        try service.promote(version)
        Console.status("bench serve: \(data.itemCount) items, \(stored) events, iALS \(factors) factors promoted (version \(version))")

        let server = try await InProcessServer.start(service)
        let port = server.port

        let load = Load(ports: [port], users: data.users.ids, items: data.items.ids)
        let warmUp = await load.recommend(connections: concurrency, seconds: 3, pacing: .closedLoop)
        Console.status("warm-up: \(Int(warmUp.requestsPerSecond)) requests/s")
        let saturation = await load.recommend(connections: concurrency, seconds: saturationSeconds, pacing: .closedLoop)
        Console.status("saturation (\(concurrency) connections): \(Int(saturation.requestsPerSecond)) requests/s, "
            + "p50 \(ms(saturation.percentileMs(50))) ms, p99 \(ms(saturation.percentileMs(99))) ms")
        let fixed = await load.recommend(connections: rateConnections, seconds: seconds, pacing: .fixedRate(rate))
        Console.status("fixed rate \(Int(rate))/s for \(Int(seconds)) s: \(Int(fixed.requestsPerSecond)) requests/s, "
            + "p50 \(ms(fixed.percentileMs(50))) ms, p99 \(ms(fixed.percentileMs(99))) ms, errors \(fixed.errors)")
        let ingest = await load.ingest(connections: ingestConnections, batchSize: batchSize, seconds: ingestSeconds)
        let eventsPerSecond = Double((ingest.requests - ingest.errors) * batchSize) / ingest.seconds
        Console.status("ingest (\(ingestConnections) connections, batches of \(batchSize)): \(Int(eventsPerSecond)) events/s, "
            + "p99 \(ms(ingest.percentileMs(99))) ms per batch")
        await server.stop()

        let runs = [warmUp, saturation, fixed, ingest]
        var peer: [String: Any]?
        var peerSaturation: LoadGenerator.Outcome?, peerFixed: LoadGenerator.Outcome?
        if !peerPorts.isEmpty {
            let peerLoad = Load(ports: peerPorts, users: data.users.ids, items: data.items.ids)
            let peerWarmUp = await peerLoad.recommend(connections: concurrency, seconds: 3, pacing: .closedLoop)
            let peerSat = await peerLoad.recommend(connections: concurrency, seconds: saturationSeconds, pacing: .closedLoop)
            let peerRate = await peerLoad.recommend(connections: rateConnections, seconds: seconds, pacing: .fixedRate(rate))
            (peerSaturation, peerFixed) = (peerSat, peerRate)
            Console.status("peer on ports \(peerPorts.map(String.init).joined(separator: ", ")): saturation \(Int(peerSat.requestsPerSecond)) requests/s, "
                + "p99 at \(Int(rate))/s \(ms(peerRate.percentileMs(99))) ms, errors \(peerWarmUp.errors + peerSat.errors + peerRate.errors)")
            peer = ["saturation": summary(peerSat, ["connections": concurrency]),
                    "fixed_rate": summary(peerRate, ["connections": rateConnections, "target_rps": rate]),
                    "errors": peerWarmUp.errors + peerSat.errors + peerRate.errors,
                    "saturation_rps_ratio_starling_vs_peer": (saturation.requestsPerSecond / peerSat.requestsPerSecond).rounded(to: 3),
                    "p99_at_rate_ratio_starling_vs_peer": (fixed.percentileMs(99) / peerRate.percentileMs(99)).rounded(to: 3)]
            if let e = [peerWarmUp, peerSat, peerRate].compactMap(\.firstError).first { peer?["first_error"] = e }
        }

        let errors = runs.reduce(0) { $0 + $1.errors }
        var result: [String: Any] = [
            "build": BenchEnvironment.build, "cores": ProcessInfo.processInfo.activeProcessorCount,
            "dataset": "ml-1m: \(data.userCount) users, \(data.itemCount) items, \(stored) events",
            "model": "iALS \(factors) factors, HNSW ANN + item-to-item + popular + recent candidates, k = 10",
            "p99_ms_at_1000rps": fixed.percentileMs(99).rounded(to: 3),
            "saturation_rps": saturation.requestsPerSecond.rounded(to: 0),
            "events_per_s": eventsPerSecond.rounded(to: 0),
            "errors": errors,
            "saturation": summary(saturation, ["connections": concurrency]),
            "fixed_rate": summary(fixed, ["connections": rateConnections, "target_rps": rate]),
            "ingest": summary(ingest, ["connections": ingestConnections, "batch_size": batchSize]),
        ]
        if rate != 1000 { result["p99_ms_at_1000rps"] = NSNull() }
        if let first = runs.compactMap(\.firstError).first { result["first_error"] = first }
        if let peer { result["peer"] = peer }
        if let svg {
            var series: [(name: String, values: [Double])] = [("Starling", [saturation.percentileMs(50), saturation.percentileMs(99),
                                                                             fixed.percentileMs(50), fixed.percentileMs(99)])]
            if let peerSaturation, let peerFixed {
                series.append(("Python peer (implicit + uvicorn)", [peerSaturation.percentileMs(50), peerSaturation.percentileMs(99),
                                                                     peerFixed.percentileMs(50), peerFixed.percentileMs(99)]))
            }
            let chart = BarChart(title: "GET /recommend k=10, MovieLens-1M, latency ms (lower is better)",
                                 groups: ["p50 at saturation", "p99 at saturation", "p50 at \(Int(rate))/s", "p99 at \(Int(rate))/s"],
                                 series: series)
            try chart.svg().write(toFile: svg, atomically: true, encoding: .utf8)
        }
        let out = try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys])
        if json {
            print(String(decoding: out, as: UTF8.self))
        } else {
            print("p99 at \(Int(rate)) requests/s: \(ms(fixed.percentileMs(99))) ms; saturation: \(Int(saturation.requestsPerSecond)) requests/s; "
                + "ingest: \(Int(eventsPerSecond)) events/s; errors: \(errors)  (--json for machine-readable output)")
        }
    }

    private func ms(_ v: Double) -> String { String(format: "%.2f", v) }

    private func summary(_ o: LoadGenerator.Outcome, _ extra: [String: Any]) -> [String: Any] {
        var s: [String: Any] = ["requests": o.requests, "errors": o.errors, "seconds": o.seconds.rounded(to: 2),
                                "requests_per_s": o.requestsPerSecond.rounded(to: 1),
                                "p50_ms": o.percentileMs(50).rounded(to: 3), "p90_ms": o.percentileMs(90).rounded(to: 3),
                                "p99_ms": o.percentileMs(99).rounded(to: 3), "p999_ms": o.percentileMs(99.9).rounded(to: 3),
                                "max_ms": (o.latenciesMs.last ?? .nan).rounded(to: 3)]
        s.merge(extra) { a, _ in a }
        return s
    }
}

/// The requests of the benchmark: seeded random users and items of the dataset.
private struct Load: Sendable {
    let ports: [Int]
    let paths: [String]
    let users: [String]
    let items: [String]

    init(ports: [Int], users: [String], items: [String]) {
        self.ports = ports
        self.users = users
        self.items = items
        var rng = RandomGenerator(seed: 2026)
        paths = (0..<(1 << 16)).map { _ in "/recommend/\(users[Int(rng.next() % UInt64(users.count))])?k=10" }
    }

    func recommend(connections: Int, seconds: Double, pacing: LoadGenerator.Pacing) async -> LoadGenerator.Outcome {
        let paths = self.paths, ports = self.ports
        return await Threads.offThread {
            LoadGenerator.run(ports: ports, connections: connections, seconds: seconds, pacing: pacing) { c, n in
                LoadGenerator.Request("GET", paths[(c &* 7919 &+ n) & (paths.count - 1)])
            }
        }
    }

    func ingest(connections: Int, batchSize: Int, seconds: Double) async -> LoadGenerator.Outcome {
        let users = self.users, items = self.items, ports = self.ports
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return await Threads.offThread {
            LoadGenerator.run(ports: ports, connections: connections, seconds: seconds, pacing: .closedLoop) { c, n in
                var body = "["
                for k in 0..<batchSize {
                    let u = users[(c &* 104_729 &+ n &* 31 &+ k &* 7) % users.count]
                    let i = items[(n &* 7_919 &+ k &* 13 &+ c) % items.count]
                    if k > 0 { body += "," }
                    body += #"{"user":"\#(u)","item":"\#(i)","type":"click","timestamp":\#(now + Int64(n)),"event_id":"bench-\#(c)-\#(n)-\#(k)"}"#
                }
                body += "]"
                return LoadGenerator.Request("POST", "/events", body: Data(body.utf8), headers: ["Content-Type": "application/json"])
            }
        }
    }
}
