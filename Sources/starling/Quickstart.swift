import ArgumentParser
import Foundation
import StarlingData
import StarlingModels
import StarlingServe
import StarlingTensor

struct Quickstart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load MovieLens-1M (titles, genres), train and evaluate iALS, load it into the service and serve it.",
        discussion: """
        Data comes from --data, $STARLING_DATA or ../shared/datasets, else the official download; with neither, \
        simulated data. The service's files go to --directory (default runs/quickstart), which is recreated.
        """)

    @OptionGroup var dataset: DatasetOptions
    @OptionGroup var service: ServiceOptions
    @Option(help: "iALS factors.") var factors = 64
    @Option(help: "iALS sweeps.") var iterations = 10
    @Option(help: "iALS confidence weight (confidence = 1 + alpha).") var alpha: Float = 5
    @Option(help: "iALS L2 regularisation.") var regularization: Float = 50
    @Flag(help: "Stop after training and evaluating (do not serve).") var noServe = false
    @Option(help: "Serve for this many seconds, then exit (default: until SIGTERM).") var serveSeconds: Double?

    func run() async throws {
        let data = await loadData()
        Console.status("dataset \(data.name): \(data.userCount) users, \(data.itemCount) items, \(data.eventCount) events")
        let ials = IALS.Configuration(factors: factors, regularization: regularization, alpha: alpha, iterations: iterations)

        // The service, on all the data; retraining measures the configuration on a held-out 20%
        // of the events first (full ranking), then trains on everything and publishes.
        let directory = URL(fileURLWithPath: service.directory == "runs/service" ? "runs/quickstart" : service.directory)
        try? FileManager.default.removeItem(at: directory)
        var options = service
        options.directory = directory.path
        let started = Date()
        let system = try options.openService()
        let stored = try ServiceImport.load(data, into: system)
        Console.status("service: \(data.itemCount) items and \(stored) events stored durably in \(directory.path) "
            + "(\(String(format: "%.1f", Date().timeIntervalSince(started))) s)")
        Console.status("[iALS] held-out evaluation: training on a seeded 80% of the events, ranking the other 20%")
        let version = try system.retrain(configuration: ials, holdOut: 0.2, progress: { Self.progress($0) }) { report in
            print(report.summary)
            fflush(nil)  // before the progress of the full fit on stderr
        }
        try system.promote(version)
        Console.status("service: model version \(version) (iALS on all \(stored) events) is active")
        let user = data.users.ids[0]
        let sample = try system.recommend(RecommendationQuery(user: user, count: 5))
        Console.status("recommendations for user \(user): " + sample.items.map { "\($0.title ?? $0.item) [\($0.source.rawValue)]" }.joined(separator: "; "))
        if noServe { return }
        try await options.serve(system, seconds: serveSeconds)
    }

    static func progress(_ event: FitEvent) {
        if case let .iteration(number, total, _, seconds) = event {
            Console.status("[iALS] sweep \(number)/\(total)  \(String(format: "%.2f", seconds)) s  ETA \(Console.duration(Double(total - number) * seconds))")
        }
    }

    /// MovieLens-1M from the data folder, else the official download, else simulated data.
    func loadData() async -> Dataset {
        if let root = try? DataRoot.resolve(explicit: dataset.data), let folder = try? DataRoot.dataset("ml-1m", in: root),
           let d = try? MovieLens1M.load(directory: folder) {
            return d.compacted()
        }
        Console.status("MovieLens-1M is not in the data folder; trying the official download")
        do {
            let folder = try await MovieLensDownloader().fetch(.ml1m)
            return try MovieLens1M.load(directory: folder).compacted()
        } catch {
            Console.status("no MovieLens data and no download (\(error)); running on simulated data instead")
            return SimulatedShop.dataset()
        }
    }
}
