import StarlingHTTP
import StarlingServe

/// A service served on 127.0.0.1 at a free port in this process (benchmarks and `simulate`).
struct InProcessServer {
    let port: Int
    let running: Task<Void, any Error>

    /// Starts serving `service`; returns once the port is bound, or throws why the server stopped
    /// before it was.
    static func start(_ service: RecommendationService) async throws -> InProcessServer {
        let server = APIServer(service: service, configuration: APIServerConfiguration(host: "127.0.0.1", port: 0))
        let bound = AsyncStream<Int>.makeStream()
        let running = Task {
            defer { bound.continuation.finish() }  // a server that fails to bind ends the wait below
            try await server.run { port in bound.continuation.yield(port) }
        }
        var port = 0
        for await p in bound.stream { port = p; break }
        guard port > 0 else {
            try await running.value
            throw InProcessServerError.stoppedBeforeListening
        }
        return InProcessServer(port: port, running: running)
    }

    /// Stops serving and waits for the server to finish.
    func stop() async {
        running.cancel()
        _ = try? await running.value
    }
}

/// The in-process server ended without binding its port and without an error of its own.
enum InProcessServerError: Error, CustomStringConvertible {
    case stoppedBeforeListening

    var description: String { "the in-process server stopped before listening on 127.0.0.1" }
}
