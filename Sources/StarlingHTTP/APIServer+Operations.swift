import Foundation
import Hummingbird
import StarlingServe

extension APIServer {
    struct Status: Encodable {
        var status: String
        var modelVersion: Int?
    }

    struct Stats: Encodable {
        var events: Int
        var users: Int
        var items: Int
        var modelVersion: Int?
        var eventsPerSecond10s: Double
        var eventsPerSecond60s: Double
        /// Per "METHOD route": p50, p95, p99 in milliseconds and the request count.
        var latencyMs: [String: [String: Double]]
    }

    func addOperationRoutes(_ router: Router<BasicRequestContext>) {
        let service = self.service, metrics = self.metrics
        on(router, .get, "/healthz") { _, _ in try JSONCoding.response(Status(status: "ok")) }
        on(router, .get, "/readyz") { _, _ -> Response in
            guard let model = service.activeModel else {
                throw ServiceError.unavailable("not ready: no model is active (train one with POST /models/retrain, then promote it)")
            }
            return try JSONCoding.response(Status(status: "ready", modelVersion: model.version))
        }
        on(router, .get, "/metrics") { _, _ -> Response in
            metrics.modelVersion.set(Int64(service.activeModel?.version ?? 0))
            metrics.users.set(Int64(service.engine.userCount))
            metrics.items.set(Int64(service.engine.itemCount))
            Self.exportOnlineMetrics(service, to: metrics)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        on(router, .get, "/stats") { _, _ -> Response in
            let rates = metrics.ingestionRates()
            return try JSONCoding.response(Stats(events: service.log.eventCount, users: service.engine.userCount, items: service.engine.itemCount,
                                                 modelVersion: service.activeModel?.version, eventsPerSecond10s: rates.last10s,
                                                 eventsPerSecond60s: rates.last60s, latencyMs: metrics.latencySummary()))
        }
    }
}
