import Foundation
import StarlingData
import StarlingHTTP
import StarlingLoopbackClient
import StarlingModels
import StarlingServe
import StarlingTensor

/// A service loaded with MovieLens-100K (items with titles and genres, all 100,000 ratings as
/// events), an iALS model trained and promoted, served on a free loopback port.
final class LiveServer: @unchecked Sendable {
    let directory: URL
    let service: RecommendationService
    let server: APIServer
    private(set) var port = 0
    private var task: Task<Void, any Error>?
    private let queue = DispatchQueue(label: "starling.test.client")
    private var client: LoopbackHTTPClient?

    /// MovieLens-100K, read once.
    static let movieLens: Result<Dataset, any Error> = Result {
        try MovieLens100K.load(directory: try DataRoot.dataset("ml-100k", in: try DataRoot.resolve()).appendingPathComponent("raw"))
    }

    /// Events held back from the service (`holdOut` > 0): user → items they rated, to replay as
    /// the "future" in online experiments.
    private(set) var heldOut: [String: Set<String>] = [:]

    /// `holdOut`: the share of ratings (seeded, per event) kept out of the service.
    init(keys: APIKeys = APIKeys(), maxBodyBytes: Int = 1 << 20, train: Bool = true, directory: URL? = nil, holdOut: Double = 0) throws {
        self.directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("starling-http-\(UUID().uuidString)")
        let fresh = !FileManager.default.fileExists(atPath: self.directory.path)
        service = try RecommendationService(configuration: .init(directory: self.directory))
        server = APIServer(service: service, configuration: APIServerConfiguration(host: "127.0.0.1", port: 0, keys: keys, maxBodyBytes: maxBodyBytes))
        guard fresh else { return }
        let data = try Self.movieLens.get()
        try service.importItems(data.items.ids.enumerated().map { k, id in
            CatalogueItem(id: id, title: data.itemMetadata[k].title, categories: data.itemMetadata[k].categories)
        })
        let log = data.events
        var batch: [EventInput] = []
        var rng = RandomGenerator(seed: 42)
        for k in 0..<log.count {
            if holdOut > 0 && rng.nextDouble() < holdOut {
                heldOut[data.users.ids[Int(log.users[k])], default: []].insert(data.items.ids[Int(log.items[k])])
            } else {
                batch.append(EventInput(user: data.users.ids[Int(log.users[k])], item: data.items.ids[Int(log.items[k])], type: "rating",
                                        value: log.values[k], timestamp: (log.timestamps?[k] ?? 0) * 1000))
            }
            if batch.count == 25_000 || (k == log.count - 1 && !batch.isEmpty) { _ = try service.ingest(batch); batch = [] }
        }
        if train {
            let v = try service.retrain(configuration: IALS.Configuration(factors: 16, regularization: 5, alpha: 5, iterations: 4, seed: 7))
            try service.promote(v)
        }
    }

    /// Starts serving; returns once the port is bound.
    func start() async throws -> LiveServer {
        let bound = AsyncStream<Int>.makeStream()
        let server = self.server
        task = Task { try await server.run { port in bound.continuation.yield(port) } }
        for await p in bound.stream { port = p; break }
        return self
    }

    func stop() async {
        task?.cancel()
        _ = try? await task?.value
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `body` with a keep-alive client on a thread of its own (the client blocks).
    func http<T: Sendable>(_ body: @escaping @Sendable (LoopbackHTTPClient) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result {
                    if self.client == nil { self.client = try LoopbackHTTPClient(port: self.port) }
                    return try body(self.client!)
                })
            }
        }
    }

    /// Shorthand: one request.
    func call(_ method: String, _ path: String, json: Any? = nil, body: Data? = nil, headers: [String: String] = [:]) async throws -> LoopbackHTTPClient.Response {
        nonisolated(unsafe) let payload = json
        return try await http { c in
            if let payload { return try c.request(method, path, json: payload, headers: headers) }
            return try c.request(method, path, body: body, headers: headers)
        }
    }
}
