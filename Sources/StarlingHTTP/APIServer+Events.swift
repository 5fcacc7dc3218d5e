import Foundation
import Hummingbird
import StarlingServe

extension APIServer {
    struct IngestResult: Encodable {
        var received: Int
        var stored: Int
    }

    /// The most events one request may carry.
    static let maxEventsPerRequest = 10_000

    func addEventRoutes(_ router: Router<BasicRequestContext>) {
        let service = self.service, metrics = self.metrics, limit = configuration.maxBodyBytes
        on(router, .post, "/events") { request, _ -> Response in
            let data = try await JSONCoding.body(request, limit: limit)
            let isArray = data.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "[")
            let events = isArray ? try JSONCoding.decode([EventInput].self, data: data) : [try JSONCoding.decode(EventInput.self, data: data)]
            guard events.count <= Self.maxEventsPerRequest else {
                throw ServiceError.badRequest("at most \(Self.maxEventsPerRequest) events per request, got \(events.count)")
            }
            // Acknowledged only after the append is on disk (group commit with concurrent requests).
            let stored = try await Blocking.run { try service.ingest(events) }
            metrics.recordIngest(received: events.count, stored: stored)
            return try JSONCoding.response(IngestResult(received: events.count, stored: stored))
        }
    }
}
