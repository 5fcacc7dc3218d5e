import Foundation
import Hummingbird
import StarlingServe

extension APIServer {
    /// GET /online: the online learner's status, with the online CTR of every model version.
    struct OnlineView: Encodable {
        var enabled: Bool
        var learner: OnlineLearner.Status?
        var ranker: StreamingRanker.Status?
        var ctrByVersion: [String: ImpressionLedger.Counts]
    }

    func addOnlineRoutes(_ router: Router<BasicRequestContext>) {
        let service = self.service
        on(router, .get, "/online") { _, _ -> Response in
            let ctr = Dictionary(uniqueKeysWithValues: service.impressions.all.map { ("\($0.key)", $0.value) })
            return try JSONCoding.response(OnlineView(enabled: service.online != nil, learner: service.online?.current,
                                                          ranker: service.ranker?.status, ctrByVersion: ctr))
        }
    }

    /// Exports the learner's figures and the active version's online CTR as gauges.
    static func exportOnlineMetrics(_ service: RecommendationService, to metrics: ServiceMetrics) {
        if let v = service.activeModel?.version {
            let c = service.impressions.counts(version: v)
            metrics.setGauge("online_ctr", help: "Clicks per recommended item shown by the active model version", c.ctr)
            metrics.setGauge("online_impressions", help: "Recommended items shown by the active model version", Double(c.impressions))
        }
        if let r = service.ranker?.status {
            metrics.setGauge("ranker_active", help: "Whether the streaming-feature ranker orders recommendations (1) or not (0)", r.active ? 1 : 0)
            metrics.setGauge("ranker_examples", help: "Shown items the streaming-feature ranker learned from", Double(r.examples))
            if let auc = r.auc { metrics.setGauge("ranker_progressive_auc", help: "Progressive-validation AUC of the ranker's click probability on shown items", auc) }
            for (order, auc) in [("ranker", r.rankerListAUC), ("engine", r.engineListAUC)] {
                if let auc {
                    metrics.setGauge("ranker_exploration_list_auc", help: "Per-list AUC on randomly ordered (exploration) lists",
                                     labels: [("order", order)], auc)
                }
            }
        }
        guard let s = service.online?.current else { return }
        metrics.setGauge("online_events_trained", help: "Events the online learner trained on", Double(s.eventsTrained))
        metrics.setGauge("online_training_events_per_second", help: "Online training throughput over its last batches", s.trainingEventsPerSecond)
        metrics.setGauge("online_versions_promoted", help: "Versions the online learner promoted", Double(s.promotedCount))
        metrics.setGauge("online_versions_rejected", help: "Versions the online learner's gate kept from promotion", Double(s.rejectedCount))
        metrics.setGauge("online_rollbacks", help: "Automatic rollbacks", Double(s.rollbackCount))
        for (model, p) in [("live", s.live), ("serving", s.serving)] {
            if let auc = p.auc { metrics.setGauge("online_progressive_auc", help: "Progressive-validation AUC", labels: [("model", model)], auc) }
            if let ll = p.logLoss { metrics.setGauge("online_progressive_logloss", help: "Progressive-validation log loss", labels: [("model", model)], ll) }
        }
        for (signal, d) in s.drift {
            metrics.setGauge("drift_psi", help: "Population stability index against the reference window", labels: [("signal", signal)], d.psi)
            metrics.setGauge("drift_kl", help: "KL divergence from the reference window", labels: [("signal", signal)], d.kl)
        }
    }
}
