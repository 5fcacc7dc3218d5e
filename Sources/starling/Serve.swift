import ArgumentParser
import Foundation
import StarlingHTTP
import StarlingRedis
import StarlingServe

/// Options shared by `serve` and `quickstart`: where the service keeps its files and how it listens.
struct ServiceOptions: ParsableArguments {
    @Option(help: "Folder for the event log, catalogue and model registry.") var directory = "runs/service"
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port = 8080
    @Option(help: "API key for every route (repeatable).") var adminKey: [String] = []
    @Option(help: "API key for events, catalogue changes and reads (repeatable).") var writeKey: [String] = []
    @Option(help: "API key for reads; when none is given reads need no key (repeatable).") var readKey: [String] = []
    @Option(help: "Largest request body in bytes.") var maxBodyBytes = 4 << 20
    @Flag(help: "Accept events for items that are not in the catalogue.") var autoCreateItems = false
    @Flag(help: "Learn online: update the active iALS model from the event stream and publish (and, past the gate, promote) a version every --publish-interval seconds.")
    var online = false
    @Option(help: "Seconds between online versions.") var publishInterval: Double = 10
    @Option(help: "Events per online mini-batch.") var onlineBatch = 2000
    @Option(help: "Run a full retrain when a drift PSI exceeds this (default: only report drift).") var retrainOnDriftPsi: Double?
    @Flag(help: ArgumentHelp("With --online, also re-rank with the streaming-feature ranker (learned from shown lists and their clicks).",
                             discussion: "It reads the features of every listed item and counts impressions on each request: "
                                 + "measured by `bench online --ranker`, it costs recommendation throughput while training runs at full speed."))
    var onlineRanker = false

    var onlineConfiguration: OnlineLearner.Configuration? {
        online ? OnlineLearner.Configuration(batchSize: onlineBatch, publishIntervalSeconds: publishInterval, retrainOnDriftPSI: retrainOnDriftPsi) : nil
    }

    @Option(help: "Keep the streaming features in the Redis server at HOST:PORT (shared by replicas) instead of in this process.")
    var redis: String?
    @Option(help: "Prefix of the Redis keys this service writes (several services can share one Redis).") var redisPrefix = "starling:"
    @Option(help: ArgumentHelp("Ingest events from this Redis stream (needs --redis) as a member of a consumer group.",
                               discussion: "A new group starts at the stream's first entry. Entries are acknowledged once ingested; "
                                   + "malformed or refused ones are copied to KEY:dead with the reason."))
    var redisStream: String?
    @Option(help: "The consumer group of --redis-stream.") var redisGroup = "starling"
    @Option(help: "This replica's consumer name in the group; keep it across restarts (default: the host name).") var redisConsumer: String?

    func validate() throws {
        _ = try redisEndpoint()
        if redisStream != nil && redis == nil { throw ValidationError("--redis-stream needs --redis HOST:PORT") }
        if redisStream?.isEmpty == true { throw ValidationError("--redis-stream needs a stream key") }
    }

    /// `--redis` as host and port.
    func redisEndpoint() throws -> (host: String, port: Int)? {
        guard let redis else { return nil }
        guard let colon = redis.lastIndex(of: ":"), let port = Int(redis[redis.index(after: colon)...]), (1...65_535).contains(port),
              colon != redis.startIndex else {
            throw ValidationError("--redis must be HOST:PORT (e.g. 127.0.0.1:6379), got '\(redis)'")
        }
        var host = redis[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }  // [::1]:6379
        return (String(host), port)
    }

    func openService() throws -> RecommendationService {
        var configuration = RecommendationService.Configuration(directory: URL(fileURLWithPath: directory), autoCreateItems: autoCreateItems,
                                                                online: onlineConfiguration,
                                                                ranker: online && onlineRanker ? StreamingRanker.Configuration() : nil)
        if case let (host, port)? = try redisEndpoint() {
            let prefix = redisPrefix
            configuration.featureStore = { definitions in
                try RedisStreamIngestion.featureStore(definitions: definitions, host: host, port: port, prefix: prefix)
            }
        }
        return try RecommendationService(configuration: configuration)
    }

    var server: APIServerConfiguration {
        APIServerConfiguration(host: host, port: port, keys: APIKeys(admin: Set(adminKey), write: Set(writeKey), read: Set(readKey)),
                               maxBodyBytes: maxBodyBytes)
    }

    /// Serves `service` until SIGTERM/SIGINT (or `seconds`, when given); prints the URLs once listening.
    func serve(_ service: RecommendationService, seconds: Double? = nil) async throws {
        let server = APIServer(service: service, configuration: self.server)
        if !self.server.keys.isEnabled { Console.status("no API keys set: every route is open (use --admin-key/--write-key in production)") }
        var ingestion: RedisStreamIngestion?
        if let stream = redisStream, case let (host, port)? = try redisEndpoint() {
            ingestion = try RedisStreamIngestion(service: service, host: host, port: port, key: stream, group: redisGroup,
                                                 consumer: redisConsumer ?? ProcessInfo.processInfo.hostName)
        }
        defer { ingestion?.stop() }
        let host = self.host
        let run = Task {
            try await server.run { port in
                // A line scripts can wait for, then the pages.
                print("listening on http://\(host):\(port)")
                print("demo page: http://\(host):\(port)/   operations: http://\(host):\(port)/ops   metrics: http://\(host):\(port)/metrics")
                fflush(nil)
            }
        }
        if let seconds {
            try await Task.sleep(for: .seconds(seconds))
            run.cancel()
        }
        try await run.value
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the recommendation service (HTTP API, web pages, metrics) over the files in --directory.")

    @OptionGroup var options: ServiceOptions
    @Option(help: "Stop after this many seconds (default: run until SIGTERM).") var seconds: Double?

    func run() async throws {
        let started = Date()
        let service = try options.openService()
        Console.status("opened \(options.directory): \(service.log.eventCount) events, \(service.engine.userCount) users, "
            + "\(service.engine.itemCount) items, model version \(service.activeModel.map { "\($0.version)" } ?? "none") "
            + "(\(String(format: "%.1f", Date().timeIntervalSince(started))) s)")
        try await options.serve(service, seconds: seconds)
    }
}
