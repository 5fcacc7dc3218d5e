import Foundation
import StarlingData
import StarlingModels
import StarlingStream
import StarlingTensor
import Synchronization

/// The request path: candidates from several sources, filters, a ranking model and an optional
/// diversity re-rank, over state that every ingested event updates at once (the user's seen set,
/// recent items and — through fold-in — their vector; item popularity; recent items).
public final class RecommendationEngine: Sendable {
    /// A serving model with the mapping between its item indices and the engine's.
    struct Mapped: Sendable {
        let serving: ServingModel
        let modelToEngine: [Int32]
        /// Engine item → model item, -1 where the model does not know the item.
        let engineToModel: [Int32]

        func model(_ engineItem: Int32) -> Int32 {
            Int(engineItem) < engineToModel.count ? engineToModel[Int(engineItem)] : -1
        }
    }

    private let items = Mutex(ItemTable())
    let activity = UserActivityStore()
    private let popularity: Mutex<DecayedPopularity>
    private let recentItems = Mutex<[Int32]>([])
    private let popularCache = Mutex<(at: UInt64, entries: [TopK.Entry])>((0, []))
    private let mapped = Mutex<[Int: Mapped]>([:])
    /// How many of the most recent items the `recent` source keeps.
    static let recentCapacity = 200

    /// An engine whose popularity halves every `popularityHalfLife` seconds of event time.
    public init(popularityHalfLife: Double = 86_400) {
        popularity = Mutex(DecayedPopularity(halfLifeMs: popularityHalfLife * 1000))
    }

    // MARK: catalogue and events

    /// Records catalogue items (start-up load, creation, update).
    public func apply(items catalogue: [CatalogueItem]) {
        items.withLock { table in for item in catalogue { table.apply(item) } }
    }

    /// Hides a deleted item from recommendations.
    public func removeItem(_ id: String) { items.withLock { $0.remove(id) } }

    /// Whether the engine knows item `id` (catalogued, or seen in events or a model).
    public func knowsItem(_ id: String) -> Bool { items.withLock { $0.index(of: id) != nil } }

    /// Whether `id` is a catalogue item.
    public func isCatalogued(_ id: String) -> Bool {
        items.withLock { t in t.index(of: id).map { t.catalogued[Int($0)] } ?? false }
    }

    /// Applies events that are already durable: seen sets, recent history, popularity.
    public func record(_ events: [LoggedEvent]) {
        let ids = items.withLock { table in events.map { table.intern($0.item) } }
        popularity.withLock { p in
            for (e, i) in zip(events, ids) { p.add(item: i, weight: Self.weight(of: e.type), timestampMs: e.timestamp) }
        }
        for (e, i) in zip(events, ids) { activity.record(user: e.user, item: i) }
        recentItems.withLock { recent in
            for i in ids {
                if let k = recent.lastIndex(of: i) { recent.remove(at: k) }
                recent.append(i)
            }
            if recent.count > Self.recentCapacity { recent.removeFirst(recent.count - Self.recentCapacity) }
        }
    }

    /// How much an event of `type` counts towards popularity.
    static func weight(of type: EventType) -> Float {
        switch type {
        case .purchase: return 3
        case .cart: return 2
        default: return 1
        }
    }

    /// Forgets everything about `user` (their events are removed from the log separately).
    public func removeUser(_ user: String) { activity.remove(user: user) }

    /// How many recent items are kept per user (the most ``recentItems(of:limit:)`` returns).
    public static var recentHistoryLimit: Int { UserActivity.recentLimit }

    /// The items `user` interacted with, most recent last (at most `limit`).
    public func recentItems(of user: String, limit: Int = 20) -> [String]? {
        guard let a = activity.activity(of: user) else { return nil }
        let table = items.withLock { $0 }
        return a.recent.suffix(limit).map { table.ids[$0] }
    }

    /// The number of items interacted with by `user` (nil if unknown).
    public func historyCount(of user: String) -> Int? { activity.activity(of: user)?.history.count }

    /// Number of users with activity, and of items known.
    public var userCount: Int { activity.userCount }
    public var itemCount: Int { items.withLock { $0.count } }

    /// An item's categories, looked up in a snapshot of the item table (for a batch of events).
    public func categoryLookup() -> @Sendable (String) -> [String] {
        let table = items.withLock { $0 }
        return { id in table.index(of: id).map { table.categories[Int($0)] } ?? [] }
    }

    /// The title of item `id`, if catalogued with one.
    public func title(of id: String) -> String? {
        items.withLock { t in t.index(of: id).flatMap { t.titles[Int($0)] } }
    }

    // MARK: models

    /// Prepares the mapping between `serving`'s items and the engine's (adding items the engine has
    /// not seen); cached per version.
    func mapping(for serving: ServingModel) -> Mapped {
        if let m = mapped.withLock({ $0[serving.version] }), m.serving === serving { return m }
        let (toEngine, count) = items.withLock { table in
            (serving.itemIds.ids.map { table.intern($0) }, table.count)
        }
        var toModel = [Int32](repeating: -1, count: count)
        for (m, e) in toEngine.enumerated() { toModel[Int(e)] = Int32(m) }
        let m = Mapped(serving: serving, modelToEngine: toEngine, engineToModel: toModel)
        mapped.withLock { $0[serving.version] = m }
        return m
    }

    /// Drops cached mappings of versions not in `versions`.
    func retainMappings(_ versions: Set<Int>) {
        mapped.withLock { m in m = m.filter { versions.contains($0.key) } }
    }

    // MARK: requests

    /// Recommendations for `query` ranked by `serving` (nil: popularity only), then re-scored by
    /// `reranker` when it gives scores.
    public func recommend(_ query: RecommendationQuery, serving: ServingModel?,
                          reranker: (any CandidateReranker)? = nil) throws(ServiceError) -> [Recommendation] {
        guard query.count >= 1 && query.count <= 1000 else { throw .badRequest("k must be between 1 and 1000, got \(query.count)") }
        guard query.diversity >= 0 && query.diversity < 1 else { throw .badRequest("diversity must be in [0, 1), got \(query.diversity)") }
        let table = items.withLock { $0 }
        var sessionIds: [Int32] = []
        for id in query.sessionItems {
            guard let i = table.index(of: id) else { throw .notFound("session item '\(id)' is not a known item") }
            sessionIds.append(i)
        }
        let userActivity = query.user.flatMap { activity.activity(of: $0) }
        // Items that may not be returned, and then also those already taken as candidates.
        let blocked = ItemBitmap(capacity: table.count)
        for id in query.exclude { if let i = table.index(of: id) { blocked.insert(i) } }
        blocked.insert(contentsOf: sessionIds)
        if let userActivity { blocked.insert(contentsOf: userActivity.history) }
        let recentOfUser = (userActivity?.recent ?? []) + sessionIds

        let map = serving.map(mapping(for:))
        let scorer = map.flatMap { userScorer(map: $0, user: query.user, activity: userActivity, session: sessionIds) }
        let category = query.category
        let eligible: @Sendable (Int32) -> Bool = { i in !blocked.contains(i) && table.isEligible(i, category: category) }

        let want = max(query.count * 3, 30)
        var candidates: [Int32] = []
        var sources: [Int32: CandidateSource] = [:]
        candidates.reserveCapacity(want * 3)
        sources.reserveCapacity(want * 3)
        func add(_ i: Int32, _ source: CandidateSource) {
            guard eligible(i) else { return }
            blocked.insert(i)
            sources[i] = source
            candidates.append(i)
        }
        if let map, let scorer {
            switch scorer {
            case let .vector(v):
                let toEngine = map.modelToEngine
                for e in map.serving.nearest(v, count: want, allow: { m in eligible(toEngine[Int(m)]) }) {
                    add(map.modelToEngine[Int(e.index)], .ann)
                }
            case let .full(scores):
                let excludedCount = (userActivity?.history.count ?? 0) + sessionIds.count + query.exclude.count
                let best = scores.withUnsafeBufferPointer { TopK.select($0.baseAddress!, count: scores.count, k: min(scores.count, want + excludedCount)) }
                for e in best { add(map.modelToEngine[Int(e.index)], .model) }
            }
            for i in recentOfUser.suffix(3).reversed() {
                let m = map.model(i)
                guard m >= 0 else { continue }
                for e in map.serving.similar(to: m, count: 10) { add(map.modelToEngine[Int(e.index)], .itemToItem) }
            }
        }
        for e in popularTop() { add(e.index, .popular); if candidates.count >= want * 2 { break } }
        for i in recentItems.withLock({ $0 }).reversed().prefix(query.count * 2) { add(i, .recent) }

        let baseline = rank(candidates, map: map, scorer: scorer)
        var ranked = baseline.entries
        if let reranker {
            let rows = ranked.enumerated().map { k, e in
                RankingCandidate(item: table.ids[e.index], categories: table.categories[Int(e.index)], source: sources[e.index]!,
                                 modelScore: k < baseline.scoredCount ? e.score : nil, popularity: baseline.popularity[k], baselineRank: k)
            }
            if let scores = reranker.rescore(rows), scores.count == ranked.count {
                ranked = zip(ranked, scores).map { TopK.Entry(index: $0.index, score: $1) }
                ranked.sort { $0.score > $1.score }
            }
        }
        if query.diversity > 0, let map, map.serving.hasVectors {
            ranked = Self.maximalMarginalRelevance(ranked, count: query.count, lambda: query.diversity, map: map)
        }
        return ranked.prefix(query.count).map { e in
            Recommendation(item: table.ids[e.index], score: e.score, source: sources[e.index]!, title: table.titles[Int(e.index)])
        }
    }

    /// How a user is scored: a folded-in vector (factor models) or a full row of scores.
    enum UserScorer {
        case vector([Float])
        case full([Float])
    }

    /// The scorer for a user's history (plus session items) under `map`; nil when the history
    /// has no item the model knows. Vectors of known users are cached until their next event.
    func userScorer(map: Mapped, user: String?, activity a: UserActivity?, session: [Int32]) -> UserScorer? {
        let serving = map.serving
        if session.isEmpty, user != nil, let a, let cached = a.vector, cached.modelVersion == serving.version, cached.generation == a.generation {
            return .vector(cached.value)
        }
        let history = ((a?.history ?? []) + session).suffix(500).map { map.model($0) }.filter { $0 >= 0 }
        guard !history.isEmpty else { return nil }
        if serving.hasVectors {
            guard let v = try? serving.userVector(history: Array(history)) else { return nil }
            if session.isEmpty, let user, let a {
                activity.cache(user: user, modelVersion: serving.version, generation: a.generation, vector: v)
            }
            return .vector(v)
        }
        return .full(serving.fullScores(history: Array(history)))
    }

    /// Candidates ordered by the model's score; items it cannot score (no model, a new item, a
    /// user with no known history) follow, by popularity. `scoredCount`: how many lead with a
    /// model score; `popularity`: each entry's, in the same order.
    private func rank(_ candidates: [Int32], map: Mapped?, scorer: UserScorer?)
        -> (entries: [TopK.Entry], scoredCount: Int, popularity: [Float]) {
        var scored: [(entry: TopK.Entry, popularity: Float)] = [], rest: [(entry: TopK.Entry, popularity: Float)] = []
        let pop = popularity.withLock { p in candidates.map { p.score($0) } }
        for (k, i) in candidates.enumerated() {
            let m = map?.model(i) ?? -1
            switch (scorer, m >= 0) {
            case let (.vector(v)?, true): scored.append((TopK.Entry(index: i, score: map!.serving.score(v, item: m)), pop[k]))
            case let (.full(s)?, true): scored.append((TopK.Entry(index: i, score: s[Int(m)]), pop[k]))
            default: rest.append((TopK.Entry(index: i, score: pop[k]), pop[k]))
            }
        }
        scored.sort { $0.entry.score > $1.entry.score }
        rest.sort { $0.entry.score > $1.entry.score }
        let all = scored + rest
        return (all.map(\.entry), scored.count, all.map(\.popularity))
    }

    /// Greedy MMR: each pick maximises (1 − λ)·relevance − λ·(highest cosine to a picked item),
    /// relevance min-max normalised over the candidates.
    static func maximalMarginalRelevance(_ ranked: [TopK.Entry], count: Int, lambda: Float, map: Mapped) -> [TopK.Entry] {
        let pool = Array(ranked.prefix(max(count * 5, 50)))
        guard pool.count > 1 else { return ranked }
        let hi = pool.map(\.score).max()!, lo = pool.map(\.score).min()!
        let span = hi > lo ? hi - lo : 1
        var left = pool, picked: [TopK.Entry] = []
        var maxSimilarity = [Float](repeating: 0, count: pool.count)
        while picked.count < count && !left.isEmpty {
            var best = 0, bestValue = -Float.infinity
            for (k, e) in left.enumerated() {
                let value = (1 - lambda) * (e.score - lo) / span - lambda * maxSimilarity[k]
                if value > bestValue { bestValue = value; best = k }
            }
            let chosen = left.remove(at: best)
            maxSimilarity.remove(at: best)
            picked.append(chosen)
            let cm = map.model(chosen.index)
            for (k, e) in left.enumerated() {
                let m = map.model(e.index)
                if cm >= 0 && m >= 0 { maxSimilarity[k] = max(maxSimilarity[k], map.serving.cosine(cm, m)) }
            }
        }
        return picked
    }

    /// The popular list, recomputed at most every 200 ms.
    private func popularTop() -> [TopK.Entry] {
        let now = DispatchTime.now().uptimeNanoseconds
        if let hit = popularCache.withLock({ c in now &- c.at < 200_000_000 && !c.entries.isEmpty ? c.entries : nil }) { return hit }
        let fresh = popularity.withLock { $0.top(500) }
        popularCache.withLock { $0 = (now, fresh) }
        return fresh
    }

    /// Items similar to `item` under `serving`, hidden items and `category` filtered out; for an
    /// item the model does not know, popular items of its categories.
    public func similar(to item: String, count: Int, category: String? = nil, serving: ServingModel?) throws(ServiceError) -> [Recommendation] {
        guard count >= 1 && count <= 1000 else { throw .badRequest("k must be between 1 and 1000, got \(count)") }
        let table = items.withLock { $0 }
        guard let i = table.index(of: item) else { throw .notFound("item '\(item)' does not exist") }
        var out: [Recommendation] = []
        if let serving {
            let map = mapping(for: serving)
            let m = map.model(i)
            if m >= 0 {
                for e in serving.similar(to: m, count: count * 2 + 10) {
                    let j = map.modelToEngine[Int(e.index)]
                    guard j != i, table.isEligible(j, category: category) else { continue }
                    out.append(Recommendation(item: table.ids[j], score: e.score, source: .itemToItem, title: table.titles[Int(j)]))
                    if out.count == count { return out }
                }
            }
        }
        let categories = category.map { [$0] } ?? table.categories[Int(i)]
        for e in popularTop() where e.index != i && table.isEligible(e.index, category: nil)
            && (categories.isEmpty || table.categories[Int(e.index)].contains(where: categories.contains))
            && !out.contains(where: { $0.item == table.ids[e.index] }) {
            out.append(Recommendation(item: table.ids[e.index], score: e.score, source: .popular, title: table.titles[Int(e.index)]))
            if out.count == count { break }
        }
        return out
    }

    /// Scores `candidates` for `user` (like a predict call), best first. Items the model cannot
    /// score are ranked after the others by popularity.
    public func rank(user: String?, candidates: [String], sessionItems: [String] = [], serving: ServingModel?) throws(ServiceError) -> [Recommendation] {
        guard !candidates.isEmpty else { throw .badRequest("field 'items': at least one item to rank") }
        guard candidates.count <= 10_000 else { throw .badRequest("field 'items': at most 10000 items, got \(candidates.count)") }
        let table = items.withLock { $0 }
        var ids: [Int32] = []
        for id in candidates {
            guard let i = table.index(of: id) else { throw .notFound("item '\(id)' does not exist") }
            ids.append(i)
        }
        var session: [Int32] = []
        for id in sessionItems {
            guard let i = table.index(of: id) else { throw .notFound("session item '\(id)' is not a known item") }
            session.append(i)
        }
        let a = user.flatMap { activity.activity(of: $0) }
        let map = serving.map(mapping(for:))
        let scorer = map.flatMap { userScorer(map: $0, user: user, activity: a, session: session) }
        var seen = Set<Int32>()
        let unique = ids.filter { seen.insert($0).inserted }
        return rank(unique, map: map, scorer: scorer).entries.map { e in
            let known = scorer != nil && (map?.model(e.index) ?? -1) >= 0
            return Recommendation(item: table.ids[e.index], score: e.score, source: known ? .model : .popular,
                                  title: table.titles[Int(e.index)])
        }
    }
}
