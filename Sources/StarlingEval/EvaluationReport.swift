import Foundation

/// How a figure was measured: every reported metric carries one.
public struct EvaluationProtocol: Codable, Sendable, Equatable {
    /// `full-ranking` or `sampled`.
    public var ranking: String
    /// How each user's candidates were formed, e.g. "held-out item + 99 given negatives".
    public var candidates: String
    /// The split, e.g. "NCF leave-one-out (ml-1m.test.rating)".
    public var split: String
    /// The cut-offs reported.
    public var ks: [Int]
    /// How equal scores are ordered.
    public var ties: String

    public init(ranking: String, candidates: String, split: String, ks: [Int], ties: String) {
        self.ranking = ranking
        self.candidates = candidates
        self.split = split
        self.ks = ks
        self.ties = ties
    }
}

/// The result of evaluating one model on one dataset under one protocol, printed by
/// `starling evaluate --json` as `{"model", "dataset", "protocol", "metrics", …}`.
public struct EvaluationReport: Codable, Sendable {
    public var model: String
    public var dataset: String
    public var evaluationProtocol: EvaluationProtocol
    /// Metric name (e.g. `HR@10`) to value, averaged over ``users``.
    public var metrics: [String: Double]
    /// The number of users evaluated.
    public var users: Int
    /// Wall-clock seconds the evaluation took.
    public var seconds: Double
    /// Free-form details (checkpoint path, configuration).
    public var details: [String: String]

    enum CodingKeys: String, CodingKey {
        case model, dataset, evaluationProtocol = "protocol", metrics, users, seconds, details
    }

    public init(model: String, dataset: String, evaluationProtocol: EvaluationProtocol, metrics: [String: Double],
                users: Int, seconds: Double, details: [String: String] = [:]) {
        self.model = model
        self.dataset = dataset
        self.evaluationProtocol = evaluationProtocol
        self.metrics = metrics
        self.users = users
        self.seconds = seconds
        self.details = details
    }

    /// The report as pretty-printed JSON with sorted keys.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// One line for people: `NeuMF on ncf-ml-1m (sampled, …): HR@10 0.7012  NDCG@10 0.4251`.
    public var summary: String {
        let values = metrics.keys.sorted().map { "\($0) \(String(format: "%.4f", metrics[$0]!))" }.joined(separator: "  ")
        return "\(model) on \(dataset) [\(evaluationProtocol.ranking): \(evaluationProtocol.candidates)]: \(values)"
    }
}
