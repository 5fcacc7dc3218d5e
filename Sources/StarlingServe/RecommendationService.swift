import Foundation
import StarlingData
import StarlingEval
import StarlingModels
import StarlingStream
import Synchronization

/// The whole system in one process: the durable event log, the catalogue, the model registry,
/// the recommendation engine and the A/B experiments, on local disk under one folder.
///
/// Layout: `<dir>/events.log`, `<dir>/catalogue.sqlite`, `<dir>/models/`. On start the log is
/// replayed into the engine (seen sets, recent items, popularity), so a restart serves what the
/// process served before it stopped.
public final class RecommendationService: Sendable {
    /// Options of the service.
    public struct Configuration: Sendable {
        public var directory: URL
        /// Model versions kept besides the active ones.
        public var keepVersions: Int
        /// Half-life of item popularity, in seconds of event time.
        public var popularityHalfLife: Double
        /// Accept events for items not in the catalogue (adding them, uncatalogued).
        public var autoCreateItems: Bool
        /// Online learning from the event log (nil: models change only by retrain and promotion).
        public var online: OnlineLearner.Configuration?
        /// A second-stage ranker over streaming features, learned from shown lists and their clicks
        /// (nil: the engine's order).
        public var ranker: StreamingRanker.Configuration?
        /// Where streaming features live, given the feature definitions (`features.json` or the
        /// standard ones); nil: an ``InMemoryFeatureStore`` in this process. A shared store (e.g.
        /// Redis) lets replicas see each other's counts; the log is not replayed into it on start,
        /// since it keeps what it counted before (and replicas would count their logs again).
        public var featureStore: (@Sendable ([FeatureDefinition]) throws -> any FeatureStore)?

        public init(directory: URL, keepVersions: Int = 5, popularityHalfLife: Double = 86_400, autoCreateItems: Bool = false,
                    online: OnlineLearner.Configuration? = nil, ranker: StreamingRanker.Configuration? = nil,
                    featureStore: (@Sendable ([FeatureDefinition]) throws -> any FeatureStore)? = nil) {
            self.directory = directory
            self.online = online
            self.ranker = ranker
            self.keepVersions = keepVersions
            self.popularityHalfLife = popularityHalfLife
            self.autoCreateItems = autoCreateItems
            self.featureStore = featureStore
        }
    }

    /// What a recommendation call returns: the items, and which model and experiment arm served them.
    public struct RecommendResult: Sendable {
        public var items: [Recommendation]
        public var modelVersion: Int?
        public var experiment: String?
        public var arm: String?
    }

    public let configuration: Configuration
    public let log: DurableEventLog
    public let catalogue: Catalogue
    public let registry: ModelRegistry
    public let engine: RecommendationEngine
    public let experiments: ExperimentBook
    /// Streaming features (windowed counts per user, item and category), from `features.json` in
    /// the service folder or ``FeatureDefinition/standard``, in the store the configuration chose.
    public let features: any FeatureStore
    /// Which model version served each user's latest list, and the clicks on it: online CTR.
    public let impressions = ImpressionLedger()
    /// The streaming-feature ranker, when ``Configuration/ranker`` is set.
    public let ranker: StreamingRanker?
    private let learner = Mutex<OnlineLearner?>(nil)
    /// Whether some streaming feature counts impressions (else served lists are not recorded there).
    private let featuresCountImpressions: Bool
    /// The latest event timestamp stored (0 before any).
    private let latestEventMs = Atomic<Int64>(0)
    private let active = Mutex<ServingModel?>(nil)
    private let armModels = Mutex<[Int: ServingModel]>([:])
    private let modelLock = Mutex<Void>(())

    /// Opens (creating) the service's files under `configuration.directory` and replays the log.
    public init(configuration: Configuration) throws {
        self.configuration = configuration
        let dir = configuration.directory
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        log = try DurableEventLog(url: dir.appendingPathComponent("events.log"))
        catalogue = try Catalogue(url: dir.appendingPathComponent("catalogue.sqlite"))
        registry = try ModelRegistry(root: dir.appendingPathComponent("models", isDirectory: true), keep: configuration.keepVersions)
        engine = RecommendationEngine(popularityHalfLife: configuration.popularityHalfLife)
        experiments = ExperimentBook(experiments: try catalogue.experiments())
        engine.apply(items: try catalogue.allItems())
        let definitions = try Self.featureDefinitions(in: dir)
        features = try configuration.featureStore?(definitions) ?? InMemoryFeatureStore(definitions: definitions)
        ranker = configuration.ranker.map { StreamingRanker(definitions: definitions, configuration: $0) }
        featuresCountImpressions = definitions.contains { $0.eventType == .impression }
        let events = try log.events()
        var start = 0
        while start < events.count {
            let end = min(events.count, start + 65_536)
            engine.record(Array(events[start..<end]))
            start = end
        }
        // Features need only the events inside the longest window of the newest one; a shared
        // store keeps its own counts.
        latestEventMs.store(events.lazy.map(\.timestamp).max() ?? 0, ordering: .relaxed)
        if features.isInProcess, let newest = events.max(by: { $0.timestamp < $1.timestamp })?.timestamp {
            let horizon = newest - (features.definitions.map(\.windowMs).max() ?? 0)
            features.record(events.filter { $0.timestamp > horizon }, categories: engine.categoryLookup())
        }
        if let (version, model) = registry.current {
            let serving = try ServingModel(version: version, model: model, itemIds: try itemIds(version: version))
            _ = engine.mapping(for: serving)
            active.withLock { $0 = serving }
        }
        if let online = configuration.online {
            let l = OnlineLearner(service: self, configuration: online)
            learner.withLock { $0 = l }
            l.start()
        }
    }

    deinit { learner.withLock { $0 }?.stop() }

    /// The online learner, when ``Configuration/online`` is set.
    public var online: OnlineLearner? { learner.withLock { $0 } }

    /// Stops the online learner's thread (waiting for its current batch); the service stays usable.
    public func stopOnlineLearning() { learner.withLock { $0 }?.stop() }

    /// The feature definitions in `features.json` under `directory`, else the standard ones.
    static func featureDefinitions(in directory: URL) throws -> [FeatureDefinition] {
        let url = directory.appendingPathComponent("features.json")
        guard FileManager.default.fileExists(atPath: url.path) else { return FeatureDefinition.standard }
        do { return try FeatureDefinition.load(json: try Data(contentsOf: url)) } catch {
            throw ServiceError.badRequest("\(url.path): \(error)")
        }
    }

    /// Milliseconds since 1970.
    public static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// When request-time features are read: the newest event's time, or `nowMs` if that is later
    /// than now (an event from the future) or there are no events yet. Event time, not wall time,
    /// because windows count event timestamps: a replayed or simulated stream keeps its features.
    public func featureClockMs(nowMs: Int64) -> Int64 {
        let newest = latestEventMs.load(ordering: .relaxed)
        return newest > 0 && newest <= nowMs ? newest : nowMs
    }

    /// The active serving model.
    public var activeModel: ServingModel? { active.withLock { $0 } }

    /// Ready to serve personalised recommendations: a model is active.
    public var isReady: Bool { activeModel != nil }

    // MARK: items and users

    /// Checks a new record's id: 1 to ``EventInput/maxIdBytes`` bytes.
    private static func validateNewId(_ id: String) throws {
        guard !id.isEmpty, id.utf8.count <= EventInput.maxIdBytes else {
            throw ServiceError.badRequest("field 'id' must be 1–\(EventInput.maxIdBytes) bytes")
        }
    }

    public func createItem(_ item: CatalogueItem) throws -> CatalogueItem {
        try Self.validateNewId(item.id)
        var item = item
        let now = Self.nowMs()
        (item.created, item.updated) = (now, now)
        try catalogue.insertItem(item)
        engine.apply(items: [item])
        return item
    }

    /// Adds or replaces many items at once (bulk import); their times are set to now.
    public func importItems(_ items: [CatalogueItem]) throws {
        let now = Self.nowMs()
        let stamped = items.map { var i = $0; i.created = now; i.updated = now; return i }
        try catalogue.upsertItems(stamped)
        engine.apply(items: stamped)
    }

    public func updateItem(_ id: String, _ patch: CatalogueItemPatch) throws -> CatalogueItem {
        let item = try catalogue.updateItem(id, patch, now: Self.nowMs())
        engine.apply(items: [item])
        return item
    }

    public func deleteItem(_ id: String) throws {
        guard try catalogue.deleteItem(id) else { throw ServiceError.notFound("item '\(id)' does not exist") }
        engine.removeItem(id)
    }

    public func createUser(_ user: CatalogueUser) throws -> CatalogueUser {
        try Self.validateNewId(user.id)
        var user = user
        let now = Self.nowMs()
        (user.created, user.updated) = (now, now)
        try catalogue.insertUser(user)
        return user
    }

    /// Deletes user `id` and every event of theirs (the log is rewritten without them); returns
    /// the number of events removed. Not found if the user has neither a record nor events.
    @discardableResult
    public func deleteUser(_ id: String) throws -> Int {
        let hadRecord = try catalogue.deleteUser(id)
        let hadEvents = engine.historyCount(of: id) != nil
        guard hadRecord || hadEvents else { throw ServiceError.notFound("user '\(id)' does not exist") }
        let removed = hadEvents ? try log.removeEvents { $0.user == id } : 0
        engine.removeUser(id)
        return removed
    }

    // MARK: events

    /// Validates `inputs`, appends them durably (returns only once they are on disk) and applies
    /// them to the engine; returns how many were new (re-sent event ids are not stored twice).
    /// Blocks on the disk sync: call it off the request threads.
    public func ingest(_ inputs: [EventInput]) throws -> Int {
        guard !inputs.isEmpty else { throw ServiceError.badRequest("no events: send an event object or a non-empty array") }
        let now = Self.nowMs()
        var events: [LoggedEvent] = []
        events.reserveCapacity(inputs.count)
        for (k, input) in inputs.enumerated() {
            let e = try input.logged(index: k, now: now)
            if !configuration.autoCreateItems && !engine.knowsItem(e.item) {
                throw ServiceError.notFound("event \(k): item '\(e.item)' does not exist; create it with POST /items first")
            }
            events.append(e)
        }
        let added = try log.appendNew(events)
        // Re-sent event ids are not stored again, and must not count again in popularity,
        // history or experiment results either.
        let fresh = added.count == events.count ? events : added.map { events[$0] }
        engine.record(fresh)
        if let newest = fresh.lazy.map(\.timestamp).max() { latestEventMs.max(newest, ordering: .relaxed) }
        features.record(fresh, categories: engine.categoryLookup())
        for e in fresh where e.type == .click || e.type == .purchase {
            experiments.recordOutcome(user: e.user, item: e.item, isPurchase: e.type == .purchase)
            impressions.clicked(user: e.user, item: e.item, isPurchase: e.type == .purchase, nowMs: now)
            ranker?.clicked(user: e.user, item: e.item, nowMs: now)
        }
        return fresh.count
    }

    // MARK: requests

    /// Recommendations for `query`, from the experiment arm of the user if an experiment runs,
    /// else from the active model (popularity only while no model is active).
    public func recommend(_ query: RecommendationQuery) throws -> RecommendResult {
        let now = Self.nowMs(), featureAt = featureClockMs(nowMs: now)
        let request = ranker?.request(user: query.user, store: features, recentCategories: recentCategories(of: query.user),
                                      featureAtMs: featureAt, nowMs: now)
        if let user = query.user, let experiment = experiments.running {
            let arm = experiment.armIndex(for: user)
            let serving = try servingModel(version: experiment.arms[arm].version)
            let items = try list(query, serving: serving, request: request)
            experiments.recordImpressions(experiment: experiment.id, arm: arm, user: user, items: items.map(\.item))
            recordServed(items, user: user, version: serving.version, request: request, nowMs: now, featureAtMs: featureAt)
            return RecommendResult(items: items, modelVersion: serving.version, experiment: experiment.id, arm: experiment.arms[arm].name)
        }
        let serving = activeModel
        let items = try list(query, serving: serving, request: request)
        recordServed(items, user: query.user, version: serving?.version, request: request, nowMs: now, featureAtMs: featureAt)
        return RecommendResult(items: items, modelVersion: serving?.version)
    }

    /// What a served list leaves behind: the version's impressions (online CTR), the ranker's
    /// pending list, and ``EventType/impression`` events in the streaming features (not logged:
    /// they are what the service did, not what the user did).
    private func recordServed(_ items: [Recommendation], user: String?, version: Int?, request: RankingRequest?,
                              nowMs: Int64, featureAtMs: Int64) {
        let shown = items.map(\.item)
        if let user, let version { impressions.served(user: user, items: shown, version: version, nowMs: nowMs) }
        request?.commit(shown: shown)
        guard !shown.isEmpty, featuresCountImpressions else { return }
        features.record(shown.map { LoggedEvent(user: user ?? "", item: $0, type: .impression, timestamp: featureAtMs) },
                        categories: engine.categoryLookup())
    }

    /// The categories of `user`'s latest 20 items, from the feature store's history (shared by
    /// replicas when the store is).
    private func recentCategories(of user: String?) -> [[String]] {
        guard let user else { return [] }
        let lookup = engine.categoryLookup()
        return features.recentItems(user: user, limit: 20).map(lookup)
    }

    /// The engine's list, re-ranked (and on exploration lists shuffled) by the ranker's `request`.
    private func list(_ query: RecommendationQuery, serving: ServingModel?, request: RankingRequest?) throws -> [Recommendation] {
        guard let request else { return try engine.recommend(query, serving: serving) }
        return request.arrange(try engine.recommend(query, serving: serving, reranker: request))
    }

    public func similar(to item: String, count: Int, category: String? = nil) throws -> [Recommendation] {
        try engine.similar(to: item, count: count, category: category, serving: activeModel)
    }

    public func rank(user: String?, items: [String], sessionItems: [String] = []) throws -> [Recommendation] {
        try engine.rank(user: user, candidates: items, sessionItems: sessionItems, serving: activeModel)
    }

    // MARK: models

    /// The model's item ids published with `version`.
    private func itemIds(version: Int) throws -> IdVocabulary {
        let url = registry.attachment("items.json", version: version)
        do { return try IdVocabulary.load(from: url) } catch {
            throw ServiceError.unavailable("model version \(version) has no readable item list (\(url.path)): \(error)")
        }
    }

    /// The serving model of `version` (the active one, or loaded once for an experiment arm).
    func servingModel(version: Int) throws -> ServingModel {
        if let a = activeModel, a.version == version { return a }
        if let m = armModels.withLock({ $0[version] }) { return m }
        let url = registry.checkpointURL(version: version)
        guard FileManager.default.fileExists(atPath: url.path) else { throw ServiceError.notFound("model version \(version) does not exist") }
        let serving = try ServingModel(version: version, model: try ModelLoader.load(from: url).model, itemIds: try itemIds(version: version))
        armModels.withLock { $0[version] = serving }
        return serving
    }

    /// Publishes a checkpoint with the external ids of its items (one per model item, in order).
    public func publish(checkpoint: URL, itemIds: IdVocabulary, metadata: [String: String]) throws -> Int {
        let (model, _) = try ModelLoader.load(from: checkpoint)
        guard model.itemCount == itemIds.count else {
            throw ServiceError.badRequest("the checkpoint has \(model.itemCount) items but the item list \(itemIds.count) ids")
        }
        return try registry.publish(checkpoint: checkpoint, metadata: metadata,
                                    attachments: ["items.json": try JSONEncoder().encode(itemIds)])
    }

    /// Trains iALS on every event in the log and publishes it (not promoted); returns the version.
    /// With `holdOut` > 0 the version's metadata also records held-out accuracy: the same
    /// configuration is first fitted on a seeded random (1 − holdOut) share of the log's
    /// user–item pairs and ranked against the rest (full ranking, training items excluded).
    /// `evaluated` receives the whole held-out report (every metric, the protocol).
    public func retrain(configuration ials: IALS.Configuration = IALS.Configuration(factors: 64, regularization: 0.05, alpha: 5, iterations: 10),
                        holdOut: Double = 0.1, progress: (FitEvent) -> Void = { _ in },
                        evaluated: (EvaluationReport) -> Void = { _ in }) throws -> Int {
        let data = try log.dataset(name: "event-log")
        guard data.eventCount > 0 else { throw ServiceError.conflict("the event log is empty: post events before training") }
        guard holdOut >= 0 && holdOut < 1 else { throw ServiceError.badRequest("hold_out must be in [0, 1), got \(holdOut)") }
        var metadata = ["trained_on": "event-log", "events": "\(data.eventCount)", "users": "\(data.userCount)", "items": "\(data.itemCount)",
                        "factors": "\(ials.factors)", "alpha": "\(ials.alpha)", "regularization": "\(ials.regularization)"]
        if holdOut > 0 {
            let report = try Self.heldOutEvaluation(data, configuration: ials, holdOut: holdOut, progress: progress)
            evaluated(report)
            metadata["holdout_protocol"] = "\(report.evaluationProtocol.split); full ranking excluding training items; \(report.users) test users"
            for key in ["Recall@20", "NDCG@20", "HR@10"] {
                if let v = report.metrics[key] { metadata["holdout_\(key.lowercased())"] = String(format: "%.4f", v) }
            }
        }
        let matrix = data.interactionMatrix(value: .one)
        let model = try IALS.fit(matrix, configuration: ials, events: progress)
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("starling-retrain-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: tmp) }
        try model.save(to: tmp)
        let times = data.events.timestamps ?? []
        if let first = times.min(), let last = times.max() { metadata["data_from"] = "\(first)"; metadata["data_to"] = "\(last)" }
        return try publish(checkpoint: tmp, itemIds: data.items, metadata: metadata)
    }

    /// `configuration` fitted on a seeded random (1 − holdOut) share of `data`'s events and ranked
    /// against the rest (full ranking, K 10 and 20).
    static func heldOutEvaluation(_ data: Dataset, configuration: IALS.Configuration, holdOut: Double,
                                  progress: (FitEvent) -> Void) throws -> EvaluationReport {
        let split = DatasetSplit.random(data, trainFraction: 1 - holdOut, seed: 42)
        let train = split.train.interactionMatrix(value: .one), test = split.test.interactionMatrix(value: .one)
        let model = try IALS.fit(train, configuration: configuration, events: progress)
        return FullRankingEvaluator(train: train, test: test, ks: [10, 20], datasetName: data.name, splitDescription: split.protocolDescription)
            .evaluate(model, details: ["factors": "\(configuration.factors)", "alpha": "\(configuration.alpha)",
                                       "regularization": "\(configuration.regularization)"])
    }

    /// Loads, warms and activates `version`; requests in flight finish on the previous model.
    public func promote(_ version: Int) throws {
        try modelLock.withLock { _ in
            let ids = try itemIds(version: version)
            try registry.promote(version)
            guard let (v, model) = registry.current, v == version else { throw ServiceError.unavailable("promotion of \(version) did not take") }
            try install(ServingModel(version: v, model: model, itemIds: ids))
        }
    }

    /// Re-activates the previously active version; returns it.
    @discardableResult
    public func rollBack() throws -> Int {
        try modelLock.withLock { _ in
            let v = try registry.rollBack()
            guard let (current, model) = registry.current, current == v else { throw ServiceError.unavailable("rollback to \(v) did not take") }
            try install(ServingModel(version: v, model: model, itemIds: try itemIds(version: v)))
            return v
        }
    }

    private func install(_ serving: ServingModel) throws {
        _ = engine.mapping(for: serving)  // warm: the first request must not pay for it
        _ = try engine.recommend(RecommendationQuery(user: nil, count: 1), serving: serving)
        active.withLock { $0 = serving }
        armModels.withLock { $0[serving.version] = nil }
    }

    // MARK: experiments

    /// Starts an A/B experiment after checking that every arm's model version exists.
    public func startExperiment(_ experiment: Experiment) throws -> Experiment {
        var e = experiment
        e.created = Self.nowMs()
        e.status = .running
        e.stopped = nil
        e.arms = e.arms.map { Experiment.Arm(name: $0.name, version: $0.version, share: $0.share) }
        e.looks = nil
        e.conclusion = nil
        try e.validate()
        for arm in e.arms { _ = try servingModel(version: arm.version) }
        try experiments.start(e)
        try experiments.flush(to: catalogue)
        return e
    }

    public func stopExperiment(_ id: String) throws -> Experiment {
        let e = try experiments.stop(id, at: Self.nowMs())
        try experiments.flush(to: catalogue)
        armModels.withLock { $0 = [:] }
        return e
    }

    /// Applies the running experiment's guardrail: when an arm is significantly worse than the
    /// control, the experiment stops and, if that arm's version is the active model, the control's
    /// version is promoted in its place (rollback); when `promoteWinner` is set and an arm is
    /// significantly better, its version is promoted. Returns the experiment it ended, if any.
    /// The server calls this every few seconds.
    @discardableResult
    public func enforceGuardrails() throws -> Experiment? {
        let active = registry.activeVersion
        guard let (experiment, decision) = experiments.look(at: Self.nowMs(), conclusion: { e, d in
            let control = e.arms[0]
            func describe(_ i: Int, _ p: Double, _ verdict: String, _ action: String) -> String {
                let a = e.arms[i]
                return "guardrail: arm '\(a.name)' (version \(a.version)) \(verdict) the control '\(control.name)' (version \(control.version)): "
                    + "CTR \(String(format: "%.4f", Double(a.clicks) / Double(a.impressions))) vs "
                    + "\(String(format: "%.4f", Double(control.clicks) / Double(control.impressions))) over "
                    + "\(a.impressions) and \(control.impressions) impressions, p = \(String(format: "%.2g", p)); \(action)"
            }
            switch d {
            case let .worse(i, p):
                let action = e.arms[i].version == active && control.version != active
                    ? "rolled back to version \(control.version)" : "traffic returns to the active model"
                return describe(i, p, "did worse than", action)
            case let .better(i, p):
                return describe(i, p, "did better than", "version \(e.arms[i].version) promoted")
            }
        }) else { return nil }
        armModels.withLock { $0 = [:] }
        switch decision {
        case let .worse(i, _):
            let control = experiment.arms[0].version
            if experiment.arms[i].version == active && control != active { try promote(control) }
        case let .better(i, _):
            try promote(experiment.arms[i].version)
        }
        try experiments.flush(to: catalogue)
        return experiment
    }

    /// Writes experiment counters to the catalogue.
    public func flush() throws { try experiments.flush(to: catalogue) }
}
