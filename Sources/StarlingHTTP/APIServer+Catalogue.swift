import Foundation
import Hummingbird
import StarlingServe

extension APIServer {
    /// The body of POST /items.
    struct ItemInput: Decodable {
        var id: String
        var title: String?
        var categories: [String]?
        var tags: [String]?
        var hidden: Bool?
        var attributes: [String: String]?
    }

    /// The body of POST /users.
    struct UserInput: Decodable {
        var id: String?
        var attributes: [String: String]?
    }

    /// The body of PATCH /users/{id}: attributes merged in (null removes a key).
    struct UserPatch: Decodable {
        var attributes: [String: String?]?
    }

    struct Deleted: Encodable {
        var deleted: String
        var eventsRemoved: Int?
    }

    struct HistoryItem: Encodable {
        var item: String
        var title: String?
    }

    struct History: Encodable {
        var user: String
        var interactions: Int
        var recent: [HistoryItem]
    }

    func addCatalogueRoutes(_ router: Router<BasicRequestContext>) {
        let service = self.service, limit = configuration.maxBodyBytes
        on(router, .post, "/items") { request, _ -> Response in
            let input = try await JSONCoding.decode(ItemInput.self, from: request, limit: limit)
            let item = CatalogueItem(id: input.id, title: input.title, categories: input.categories ?? [], tags: input.tags ?? [],
                                     hidden: input.hidden ?? false, attributes: input.attributes ?? [:])
            return try JSONCoding.response(try await Blocking.run { try service.createItem(item) }, status: .created)
        }
        on(router, .get, "/items") { request, _ -> Response in
            let (cursor, n) = try Self.paging(request)
            return try JSONCoding.response(try service.catalogue.items(after: cursor, limit: n))
        }
        on(router, .get, "/items/:id") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard let item = try service.catalogue.item(id) else { throw ServiceError.notFound("item '\(id)' does not exist") }
            return try JSONCoding.response(item)
        }
        on(router, .patch, "/items/:id") { request, context -> Response in
            let id = try context.parameters.require("id")
            let patch = try await JSONCoding.decode(CatalogueItemPatch.self, from: request, limit: limit)
            return try JSONCoding.response(try await Blocking.run { try service.updateItem(id, patch) })
        }
        on(router, .delete, "/items/:id") { _, context -> Response in
            let id = try context.parameters.require("id")
            try await Blocking.run { try service.deleteItem(id) }
            return try JSONCoding.response(Deleted(deleted: id))
        }

        on(router, .post, "/users") { request, _ -> Response in
            let input = try await JSONCoding.decode(UserInput.self, from: request, limit: limit)
            guard let id = input.id else { throw ServiceError.badRequest("field 'id' is required") }
            let user = CatalogueUser(id: id, attributes: input.attributes ?? [:])
            return try JSONCoding.response(try await Blocking.run { try service.createUser(user) }, status: .created)
        }
        on(router, .get, "/users") { request, _ -> Response in
            let (cursor, n) = try Self.paging(request)
            return try JSONCoding.response(try service.catalogue.users(after: cursor, limit: n))
        }
        on(router, .get, "/users/:id") { _, context -> Response in
            let id = try context.parameters.require("id")
            if let user = try service.catalogue.user(id) { return try JSONCoding.response(user) }
            // A user known only from events has no record yet: an empty one.
            guard service.engine.historyCount(of: id) != nil else { throw ServiceError.notFound("user '\(id)' does not exist") }
            return try JSONCoding.response(CatalogueUser(id: id))
        }
        on(router, .patch, "/users/:id") { request, context -> Response in
            let id = try context.parameters.require("id")
            let input = try await JSONCoding.decode(UserPatch.self, from: request, limit: limit)
            let attributes = input.attributes ?? [:]
            return try JSONCoding.response(try await Blocking.run {
                try service.catalogue.updateUser(id, attributes: attributes, now: RecommendationService.nowMs())
            })
        }
        on(router, .delete, "/users/:id") { _, context -> Response in
            let id = try context.parameters.require("id")
            let removed = try await Blocking.run { try service.deleteUser(id) }
            return try JSONCoding.response(Deleted(deleted: id, eventsRemoved: removed))
        }
        on(router, .get, "/users/:id/history") { request, context -> Response in
            let id = try context.parameters.require("id")
            let n = try Self.intParameter(request, "limit", default: 20)
            guard (1...RecommendationEngine.recentHistoryLimit).contains(n) else {
                throw ServiceError.badRequest("limit must be between 1 and \(RecommendationEngine.recentHistoryLimit) (the recent items kept per user), got \(n)")
            }
            guard let recent = service.engine.recentItems(of: id, limit: n) else {
                throw ServiceError.notFound("user '\(id)' has no events")
            }
            let items = recent.reversed().map { HistoryItem(item: $0, title: service.engine.title(of: $0)) }
            return try JSONCoding.response(History(user: id, interactions: service.engine.historyCount(of: id) ?? 0, recent: items))
        }
    }
}
