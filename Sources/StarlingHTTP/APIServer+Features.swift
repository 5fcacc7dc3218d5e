import Foundation
import Hummingbird
import StarlingServe
import StarlingStream

extension APIServer {
    struct FeatureList: Encodable {
        var definitions: [FeatureDefinition]
    }

    struct FeatureValues: Encodable {
        var entity: String
        var key: String
        /// The end of the windows, Unix milliseconds.
        var at: Int64
        var values: [String: Float]
        /// For a user: their latest items, oldest first (the store's last-N history).
        var recentItems: [String]?
    }

    func addFeatureRoutes(_ router: Router<BasicRequestContext>) {
        let service = self.service
        on(router, .get, "/features") { _, _ -> Response in
            try JSONCoding.response(FeatureList(definitions: service.features.definitions))
        }
        on(router, .get, "/features/:entity/:id") { request, context -> Response in
            let raw = try context.parameters.require("entity")
            guard let entity = FeatureDefinition.Entity(rawValue: raw) else {
                throw ServiceError.badRequest("entity must be one of \(FeatureDefinition.Entity.allCases.map(\.rawValue).joined(separator: ", ")), got '\(raw)'")
            }
            let id = try context.parameters.require("id")
            var at = RecommendationService.nowMs()
            if let t = request.uri.queryParameters["at"] {
                guard let v = Int64(t) else { throw ServiceError.badRequest("query parameter 'at' must be Unix milliseconds, got '\(t)'") }
                at = v
            }
            let features = service.features, when = at
            let answer = try await Blocking.unlessInProcess(service) {
                FeatureValues(entity: raw, key: id, at: when, values: features.values(entity: entity, key: id, atMs: when),
                              recentItems: entity == .user ? features.recentItems(user: id, limit: 50) : nil)
            }
            return try JSONCoding.response(answer)
        }
    }
}
