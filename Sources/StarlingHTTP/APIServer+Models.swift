import Foundation
import Hummingbird
import StarlingData
import StarlingModels
import StarlingServe

extension APIServer {
    struct Versions: Encodable {
        var active: Int?
        var versions: [VersionView]
    }

    /// A published version as the API shows it (times in Unix milliseconds, like every other time).
    struct VersionView: Encodable {
        var version: Int
        var model: String
        var published: Int64
        var metadata: [String: String]

        init(_ info: ModelVersionInfo) {
            version = info.version
            model = info.model
            published = Int64((info.published * 1000).rounded())
            metadata = info.metadata
        }
    }

    struct PublishRequest: Decodable {
        /// A checkpoint file on the server's disk.
        var checkpoint: String
        /// The model's item ids, one per model item (an id-vocabulary JSON or text file).
        var items: String
        var metadata: [String: String]?
    }

    struct RetrainRequest: Decodable {
        var factors: Int?
        var iterations: Int?
        var alpha: Float?
        var regularization: Float?
        var promote: Bool?
        /// Share of the log held out to measure the version's accuracy (default 0.1; 0: none).
        var holdOut: Double?
    }

    struct Published: Encodable {
        var version: Int
        var active: Int?
    }

    func addModelRoutes(_ router: Router<BasicRequestContext>) {
        let service = self.service, limit = configuration.maxBodyBytes, logger = self.logger
        on(router, .get, "/models") { _, _ -> Response in
            try JSONCoding.response(Versions(active: service.registry.activeVersion, versions: try service.registry.versions().map(VersionView.init)))
        }
        on(router, .post, "/models") { request, _ -> Response in
            let body = try await JSONCoding.decode(PublishRequest.self, from: request, limit: limit)
            let v = try await Blocking.run {
                let ids: IdVocabulary
                do { ids = try IdVocabulary.load(from: URL(fileURLWithPath: body.items)) } catch {
                    throw ServiceError.badRequest("field 'items': \(error)")
                }
                guard FileManager.default.fileExists(atPath: body.checkpoint) else {
                    throw ServiceError.badRequest("field 'checkpoint': no file at \(body.checkpoint)")
                }
                return try service.publish(checkpoint: URL(fileURLWithPath: body.checkpoint), itemIds: ids, metadata: body.metadata ?? [:])
            }
            return try JSONCoding.response(Published(version: v, active: service.registry.activeVersion), status: .created)
        }
        on(router, .post, "/models/retrain") { request, _ -> Response in
            let data = try await JSONCoding.body(request, limit: limit)
            let body = data.isEmpty ? RetrainRequest() : try JSONCoding.decode(RetrainRequest.self, data: data)
            var configuration = IALS.Configuration(factors: 64, regularization: 0.05, alpha: 5, iterations: 10)
            if let v = body.factors { configuration.factors = v }
            if let v = body.iterations { configuration.iterations = v }
            if let v = body.alpha { configuration.alpha = v }
            if let v = body.regularization { configuration.regularization = v }
            guard (1...1024).contains(configuration.factors), (1...200).contains(configuration.iterations),
                  configuration.alpha >= 0, configuration.regularization >= 0 else {
                throw ServiceError.badRequest("factors must be 1–1024, iterations 1–200, alpha and regularization ≥ 0")
            }
            let promote = body.promote ?? false, chosen = configuration, holdOut = body.holdOut ?? 0.1
            let v = try await Blocking.run {
                let v = try service.retrain(configuration: chosen, holdOut: holdOut)
                if promote { try service.promote(v) }
                return v
            }
            logger.info("trained model version \(v)\(promote ? " and promoted it" : "")")
            return try JSONCoding.response(Published(version: v, active: service.registry.activeVersion), status: .created)
        }
        on(router, .post, "/models/:version/promote") { _, context -> Response in
            let raw = try context.parameters.require("version")
            guard let v = Int(raw) else { throw ServiceError.badRequest("model version must be an integer, got '\(raw)'") }
            guard try service.registry.versions().contains(where: { $0.version == v }) else {
                throw ServiceError.notFound("model version \(v) does not exist")
            }
            try await Blocking.run { try service.promote(v) }
            return try JSONCoding.response(Published(version: v, active: service.registry.activeVersion))
        }
        on(router, .post, "/models/rollback") { _, _ -> Response in
            let v = try await Blocking.run { () throws -> Int in
                do { return try service.rollBack() } catch RegistryError.nothingToRollBackTo {
                    throw ServiceError.conflict("no earlier active version to roll back to")
                }
            }
            return try JSONCoding.response(Published(version: v, active: v))
        }
    }
}
