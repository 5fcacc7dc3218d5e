import Foundation
import StarlingHTTP
import StarlingServe

/// A recommendation service over one folder, served in this process on a free 127.0.0.1 port
/// (the way `bench serve` runs it), for `simulate` to talk to over HTTP only.
final class SimulationServer: Sendable {
    /// A weak reference to the service, to tell when it is gone (its files closed).
    private final class WeakService: @unchecked Sendable {
        private let lock = NSLock()
        private weak var service: RecommendationService?
        init(_ service: RecommendationService) { self.service = service }
        var isReleased: Bool { lock.withLock { service == nil } }
    }

    let directory: URL
    let port: Int
    private let running: Task<Void, any Error>
    private let service: WeakService

    private init(directory: URL, port: Int, running: Task<Void, any Error>, service: WeakService) {
        self.directory = directory
        self.port = port
        self.running = running
        self.service = service
    }

    /// Opens the service in `directory` with ``Simulate/serviceConfiguration(directory:online:ranker:)``
    /// and starts serving it; returns once the port is bound.
    static func start(directory: URL, online: Bool, ranker: Bool) async throws -> SimulationServer {
        let service = try RecommendationService(configuration: Simulate.serviceConfiguration(directory: directory, online: online, ranker: ranker))
        let server = APIServer(service: service, configuration: APIServerConfiguration(host: "127.0.0.1", port: 0))
        let bound = AsyncStream<Int>.makeStream()
        let running = Task {
            defer { bound.continuation.finish() }
            try await server.run { port in bound.continuation.yield(port) }
        }
        var port = 0
        for await p in bound.stream { port = p; break }
        guard port > 0 else {
            _ = try? await running.value
            throw SimulationFailure.serverDidNotStart(directory.path)
        }
        return SimulationServer(directory: directory, port: port, running: running, service: WeakService(service))
    }

    /// Shuts the server down gracefully and waits for it (the service's files are then complete:
    /// events are on disk once acknowledged, experiment counters are flushed at shutdown).
    func stop() async {
        running.cancel()
        _ = try? await running.value
    }

    /// Stops the server and waits until the service itself is released, that is until its event
    /// log and catalogue database are closed (SQLite removes its -wal and -shm files then), so its
    /// folder can be copied. The release can trail the server's shutdown by a moment.
    func stopAndClose(timeoutSeconds: Double = 30) async throws {
        await stop()
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutSeconds * 1e9)
        while !service.isReleased {
            guard DispatchTime.now().uptimeNanoseconds < deadline else { throw SimulationFailure.serviceStillOpen(directory.path) }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
