import Foundation
import Hummingbird
import StarlingServe

extension APIServer {
    struct RankRequest: Decodable {
        var user: String?
        var items: [String]
        var session: [String]?
    }

    /// A comma-separated list query parameter.
    static func listParameter(_ request: Request, _ name: String) -> [String] {
        guard let raw = request.uri.queryParameters[Substring(name)], !raw.isEmpty else { return [] }
        return raw.split(separator: ",").map(String.init)
    }

    static func query(_ request: Request, user: String?) throws -> RecommendationQuery {
        let k = try intParameter(request, "k", default: 10)
        var diversity: Float = 0
        if let raw = request.uri.queryParameters["diversity"] {
            guard let d = Float(raw) else { throw ServiceError.badRequest("query parameter 'diversity' must be a number, got '\(raw)'") }
            diversity = d
        }
        let category = request.uri.queryParameters["category"].map(String.init)
        return RecommendationQuery(user: user, count: k, category: category, exclude: Set(listParameter(request, "exclude")),
                                   sessionItems: listParameter(request, "session"), diversity: diversity)
    }

    func addRecommendationRoutes(_ router: Router<BasicRequestContext>) {
        let service = self.service, limit = configuration.maxBodyBytes
        on(router, .get, "/recommend/:user") { request, context -> Response in
            let user = try context.parameters.require("user")
            let query = try Self.query(request, user: user)
            let result = try await Blocking.unlessInProcess(service) { try service.recommend(query) }
            return JSONCoding.response(RecommendationList(user: user, items: result.items, modelVersion: result.modelVersion,
                                                          experiment: result.experiment, arm: result.arm))
        }
        on(router, .get, "/recommend") { request, _ -> Response in
            let query = try Self.query(request, user: nil)
            let result = try await Blocking.unlessInProcess(service) { try service.recommend(query) }
            return JSONCoding.response(RecommendationList(items: result.items, modelVersion: result.modelVersion))
        }
        on(router, .get, "/items/:id/similar") { request, context -> Response in
            let id = try context.parameters.require("id")
            let k = try Self.intParameter(request, "k", default: 10)
            let category = request.uri.queryParameters["category"].map(String.init)
            let items = try service.similar(to: id, count: k, category: category)
            return JSONCoding.response(RecommendationList(item: id, items: items, modelVersion: service.activeModel?.version))
        }
        on(router, .post, "/rank") { request, _ -> Response in
            let body = try await JSONCoding.decode(RankRequest.self, from: request, limit: limit)
            let items = try service.rank(user: body.user, items: body.items, sessionItems: body.session ?? [])
            return JSONCoding.response(RecommendationList(user: body.user, items: items, modelVersion: service.activeModel?.version))
        }
    }
}
