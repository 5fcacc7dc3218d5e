import ArgumentParser
import Foundation
import StarlingHTTP
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

    var onlineConfiguration: OnlineLearner.Configuration? {
        online ? OnlineLearner.Configuration(batchSize: onlineBatch, publishIntervalSeconds: publishInterval, retrainOnDriftPSI: retrainOnDriftPsi) : nil
    }

    func openService() throws -> RecommendationService {
        try RecommendationService(configuration: .init(directory: URL(fileURLWithPath: directory), autoCreateItems: autoCreateItems,
                                                       online: onlineConfiguration))
    }

    var server: APIServerConfiguration {
        APIServerConfiguration(host: host, port: port, keys: APIKeys(admin: Set(adminKey), write: Set(writeKey), read: Set(readKey)),
                               maxBodyBytes: maxBodyBytes)
    }

    /// Serves `service` until SIGTERM/SIGINT (or `seconds`, when given); prints the URLs once listening.
    func serve(_ service: RecommendationService, seconds: Double? = nil) async throws {
        let server = APIServer(service: service, configuration: self.server)
        if !self.server.keys.isEnabled { Console.status("no API keys set: every route is open (use --admin-key/--write-key in production)") }
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
