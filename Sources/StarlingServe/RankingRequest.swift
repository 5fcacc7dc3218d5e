import StarlingModels
import StarlingStream
import StarlingTensor

/// One request's use of the ``StreamingRanker``: re-scores the engine's candidates when the ranker
/// is active, shuffles the list when it is an exploration list, and afterwards hands the shown
/// list, with the features each item had at serving time, to the ranker to learn from. Used by one
/// request on one thread.
public final class RankingRequest: CandidateReranker {
    private let ranker: StreamingRanker
    /// The ranker's weights when it is active, else nil (the engine's order stands).
    private let model: FTRLLogisticRegression?
    private let user: String?
    private let store: any FeatureStore
    private let recentCategories: [[String]]
    /// When the features are read (event time) and when the list is served (wall time).
    private let featureAtMs: Int64
    private let nowMs: Int64
    /// The seed of this list's random order when it is an exploration list.
    private let exploration: UInt64?
    private var candidates: [String: RankingCandidate] = [:]
    private var vectors: [String: [Float]] = [:]

    init(ranker: StreamingRanker, model: FTRLLogisticRegression?, user: String?, store: any FeatureStore,
         recentCategories: [[String]], featureAtMs: Int64, nowMs: Int64, exploration: UInt64?) {
        self.ranker = ranker
        self.model = model
        self.user = user
        self.store = store
        self.recentCategories = recentCategories
        self.featureAtMs = featureAtMs
        self.nowMs = nowMs
        self.exploration = exploration
    }

    /// Whether this list is shown in a random order.
    public var isExploration: Bool { exploration != nil }

    /// The list as it is to be shown: `items` as they are, or shuffled (seeded) on an exploration list.
    public func arrange(_ items: [Recommendation]) -> [Recommendation] {
        guard let exploration else { return items }
        var rng = RandomGenerator(seed: exploration)
        var out = items
        out.shuffle(using: &rng)
        return out
    }

    public func rescore(_ candidates: [RankingCandidate]) -> [Float]? {
        for c in candidates { self.candidates[c.item] = c }
        guard let model else { return nil }
        return features(of: candidates).map { Float(model.logit($0)) }
    }

    /// The ranker vectors (no position) of `candidates`, with one batched feature read per entity.
    private func features(of candidates: [RankingCandidate]) -> [[Float]] {
        let layout = ranker.layout
        let items = layout.itemFeatures.isEmpty ? candidates.map { _ in [:] }
            : store.values(entity: .item, keys: candidates.map(\.item), atMs: featureAtMs)
        var categoryValues: [String: [String: Float]] = [:]
        if !layout.categoryFeatures.isEmpty {
            var seen = Set<String>()
            let keys = candidates.flatMap(\.categories).filter { seen.insert($0).inserted }
            for (key, values) in zip(keys, store.values(entity: .category, keys: keys, atMs: featureAtMs)) { categoryValues[key] = values }
        }
        let out = zip(candidates, items).map { c, item in
            layout.vector(c, item: item, categories: c.categories.compactMap { categoryValues[$0] }, recentCategories: recentCategories)
        }
        for (c, x) in zip(candidates, out) { vectors[c.item] = x }
        return out
    }

    /// Hands the list the user was shown to the ranker (nothing for an anonymous request).
    public func commit(shown items: [String]) {
        guard let user, !items.isEmpty else { return }
        let shown = items.prefix(ranker.configuration.shownLimit).compactMap { candidates[$0] }
        guard shown.count == min(items.count, ranker.configuration.shownLimit) else { return }
        let missing = shown.filter { vectors[$0.item] == nil }
        if !missing.isEmpty { _ = features(of: missing) }
        ranker.served(user: user, items: shown.map(\.item), vectors: shown.map { vectors[$0.item]! },
                      baselineRanks: shown.map(\.baselineRank), exploration: exploration != nil, nowMs: nowMs)
    }
}
