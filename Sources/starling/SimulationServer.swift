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
    private let server: InProcessServer
    private let service: WeakService
    var port: Int { server.port }

    private init(directory: URL, server: InProcessServer, service: WeakService) {
        self.directory = directory
        self.server = server
        self.service = service
    }

    /// Opens the service in `directory` with ``Simulate/serviceConfiguration(directory:online:ranker:)``
    /// and starts serving it; returns once the port is bound.
    static func start(directory: URL, online: Bool, ranker: Bool) async throws -> SimulationServer {
        let service = try RecommendationService(configuration: Simulate.serviceConfiguration(directory: directory, online: online, ranker: ranker))
        let server: InProcessServer
        do { server = try await InProcessServer.start(service) } catch { throw SimulationFailure.serverDidNotStart("\(directory.path): \(error)") }
        return SimulationServer(directory: directory, server: server, service: WeakService(service))
    }

    /// Shuts the server down gracefully and waits for it (the service's files are then complete:
    /// events are on disk once acknowledged, experiment counters are flushed at shutdown).
    func stop() async { await server.stop() }

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
