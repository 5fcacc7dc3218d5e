import Foundation
import Hummingbird
import StarlingServe

extension APIServer {
    struct ExperimentRequest: Decodable {
        struct Arm: Decodable {
            var name: String
            var version: Int
            var share: Double?
        }
        struct Guardrail: Decodable {
            var minImpressions: Int?
            var alpha: Double?
            var maxLooks: Int?
            var promoteWinner: Bool?
        }
        var id: String
        var name: String?
        var arms: [Arm]
        /// Automatic stopping; on with its defaults unless `auto_stop` is false.
        var guardrail: Guardrail?
        var autoStop: Bool?

        var resolvedGuardrail: Experiment.Guardrail? {
            guard autoStop ?? true else { return nil }
            var g = Experiment.Guardrail()
            if let v = guardrail?.minImpressions { g.minImpressions = v }
            if let v = guardrail?.alpha { g.alpha = v }
            if let v = guardrail?.maxLooks { g.maxLooks = v }
            if let v = guardrail?.promoteWinner { g.promoteWinner = v }
            return g
        }
    }

    /// An experiment with its per-arm results.
    struct ExperimentView: Encodable {
        var id: String
        var name: String
        var status: String
        var created: Int64
        var stopped: Int64?
        var arms: [ArmResult]
        var guardrail: Experiment.Guardrail?
        var looks: Int?
        var conclusion: String?

        init(_ e: Experiment) {
            id = e.id
            name = e.name
            status = e.status.rawValue
            created = e.created
            stopped = e.stopped
            arms = e.results
            guardrail = e.guardrail
            looks = e.looks
            conclusion = e.conclusion
        }
    }

    struct ExperimentList: Encodable {
        var experiments: [ExperimentView]
    }

    func addExperimentRoutes(_ router: Router<BasicRequestContext>) {
        let service = self.service, limit = configuration.maxBodyBytes
        on(router, .post, "/experiments") { request, _ -> Response in
            let body = try await JSONCoding.decode(ExperimentRequest.self, from: request, limit: limit)
            let experiment = Experiment(id: body.id, name: body.name ?? body.id,
                                        arms: body.arms.map { Experiment.Arm(name: $0.name, version: $0.version, share: $0.share ?? 1) },
                                        created: 0, guardrail: body.resolvedGuardrail)
            let started = try await Blocking.run { try service.startExperiment(experiment) }
            return try JSONCoding.response(ExperimentView(started), status: .created)
        }
        on(router, .get, "/experiments") { _, _ -> Response in
            try JSONCoding.response(ExperimentList(experiments: service.experiments.all.map(ExperimentView.init)))
        }
        on(router, .get, "/experiments/:id") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard let e = service.experiments.experiment(id) else { throw ServiceError.notFound("experiment '\(id)' does not exist") }
            return try JSONCoding.response(ExperimentView(e))
        }
        on(router, .post, "/experiments/:id/stop") { _, context -> Response in
            let id = try context.parameters.require("id")
            return try JSONCoding.response(ExperimentView(try await Blocking.run { try service.stopExperiment(id) }))
        }
    }
}
