import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import StarlingServe
import StarlingStream
import Synchronization

/// Options of the HTTP server.
public struct APIServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port (see `onRunning`).
    public var port: Int
    public var keys: APIKeys
    /// The largest request body accepted, in bytes (413 beyond).
    public var maxBodyBytes: Int

    public init(host: String = "127.0.0.1", port: Int = 8080, keys: APIKeys = APIKeys(), maxBodyBytes: Int = 4 << 20) {
        self.host = host
        self.port = port
        self.keys = keys
        self.maxBodyBytes = maxBodyBytes
    }
}

/// The HTTP API and web pages of a ``RecommendationService`` (Hummingbird 2).
public struct APIServer: Sendable {
    public let service: RecommendationService
    public let configuration: APIServerConfiguration
    public let metrics: ServiceMetrics
    let logger: Logger
    private let routeList = RouteList()

    /// Every route registered by ``makeRouter()``, as `METHOD /path/{parameter}` (what the
    /// OpenAPI file must describe).
    public var routes: [String] { routeList.routes.withLock { $0 } }

    /// Registers `handler` for `method path` and records the route.
    func on(_ router: Router<BasicRequestContext>, _ method: HTTPRequest.Method, _ path: String,
            _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response) {
        let documented = path.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
        routeList.routes.withLock { $0.append("\(method.rawValue) \(documented)") }
        router.on(RouterPath(path), method: method, use: handler)
    }

    public init(service: RecommendationService, configuration: APIServerConfiguration, metrics: ServiceMetrics = ServiceMetrics()) {
        self.service = service
        self.configuration = configuration
        self.metrics = metrics
        var logger = Logger(label: "starling")
        logger.logLevel = .info
        self.logger = logger
    }

    /// The router with every route and middleware.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: ErrorMiddleware(logger: logger))
        router.add(middleware: APIKeyMiddleware(keys: configuration.keys))
        addOperationRoutes(router)
        addCatalogueRoutes(router)
        addEventRoutes(router)
        addRecommendationRoutes(router)
        addModelRoutes(router)
        addExperimentRoutes(router)
        addFeatureRoutes(router)
        addOnlineRoutes(router)
        addPages(router)
        return router
    }

    /// Runs the server until the task is cancelled or the process gets SIGTERM/SIGINT, then shuts
    /// down gracefully (requests in flight are answered); `onRunning` receives the bound port.
    /// Every 5 s the running experiment's guardrail is applied and experiment counters are
    /// flushed (and once more at the end).
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let app = Application(
            router: makeRouter(),
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: "starling"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        let service = self.service, logger = self.logger
        let flusher = Task {
            var ticks = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(5))
                ticks += 1
                do {
                    if let ended = try await Blocking.run({ try service.enforceGuardrails() }) {
                        logger.notice("experiment '\(ended.id)' stopped: \(ended.conclusion ?? "")")
                    }
                } catch { logger.error("experiment guardrail failed: \(error)") }
                do { try service.flush() } catch { logger.error("flushing experiment counters failed: \(error)") }
                // Lists whose users did not come back are labelled once their window has passed.
                service.ranker?.labelExpired(nowMs: RecommendationService.nowMs())
                // Forgetting stale feature keys walks every key: once a minute is enough. (Other
                // stores expire their keys themselves.)
                if ticks % 12 == 0 {
                    service.features.expire(atMs: RecommendationService.nowMs())
                    service.impressions.expire(nowMs: RecommendationService.nowMs())
                }
            }
        }
        defer { flusher.cancel(); try? service.flush() }
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        // The group runs in a task of its own so that cancelling the caller asks for a graceful
        // shutdown instead of cancelling the server mid-request.
        let running = Task { try await group.run() }
        try await withTaskCancellationHandler {
            try await running.value
        } onCancel: {
            Task { await group.triggerGracefulShutdown() }
        }
    }

    /// The `limit` query parameter (1–1000, default 100) and `cursor`.
    static func paging(_ request: Request) throws -> (cursor: String?, limit: Int) {
        let limit = try intParameter(request, "limit", default: 100)
        guard (1...1000).contains(limit) else { throw ServiceError.badRequest("limit must be between 1 and 1000, got \(limit)") }
        return (request.uri.queryParameters["cursor"].map(String.init), limit)
    }

    /// An integer query parameter, with a clear error when it is not one.
    static func intParameter(_ request: Request, _ name: String, default value: Int) throws -> Int {
        guard let raw = request.uri.queryParameters[Substring(name)] else { return value }
        guard let v = Int(raw) else { throw ServiceError.badRequest("query parameter '\(name)' must be an integer, got '\(raw)'") }
        return v
    }
}

/// The routes an ``APIServer`` registered.
final class RouteList: Sendable {
    let routes = Mutex<[String]>([])
}

/// Runs blocking work (disk syncs, SQLite writes, training) on a Dispatch thread, so the two
/// cooperative threads keep serving requests.
enum Blocking {
    static let queue = DispatchQueue(label: "starling.blocking", attributes: .concurrent)

    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// `work` on the blocking queue when `service` reads a store over the network (Redis), else
    /// right here: in-process reads are too quick to be worth the thread hop.
    static func unlessInProcess<T: Sendable>(_ service: RecommendationService, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        service.features.isInProcess ? try work() : try await run(work)
    }
}
