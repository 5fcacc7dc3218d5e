import Foundation
import StarlingData
import StarlingEval
import StarlingModels
import StarlingStream
import StarlingTensor
import Synchronization

/// Learns from the event log while the service serves: tails the log in mini-batches, updates an
/// ``IncrementalALS`` copy of the active iALS model, and publishes a new model version every
/// `publishIntervalSeconds` (or `publishEveryEvents`), promoting it only when its progressive
/// metrics are not worse than the serving version's.
///
/// Every batch is scored before it is trained on (progressive validation): for up to
/// `validationSamplesPerBatch` of its events whose user has a history, the user is folded in from
/// the history they had *before* the batch (`evaluationSteps` conjugate-gradient steps from zero,
/// the same procedure for both models) and the event's item is scored against one item drawn
/// uniformly from the items the user has not interacted with — by the live trainer and by the
/// serving version. AUC is over those positive/negative pairs; log loss is of
/// Platt-calibrated probabilities (``PlattCalibrator``, learned prequentially per model). An item
/// the serving version does not know scores 0 there.
///
/// Safety:
/// - promotion gate: live AUC ≥ serving AUC − `gateAUCTolerance` and live log loss ≤ serving
///   log loss + `gateLogLossTolerance`, each over at least `minValidationExamples` examples;
/// - rollback: after a promotion, if the new version's progressive AUC falls more than
///   `rollbackAUCDrop` below the previous version's on the same events (the previous version keeps
///   scoring every sampled event beside it), or its online CTR (``ImpressionLedger``) is
///   below the previous version's CTR over its last `rollbackBaselineSeconds` by more than
///   `rollbackMinRelativeDrop` and significantly so (two-proportion test at `rollbackAlpha`, at
///   least `rollbackMinImpressions` impressions each), the previous version is restored and promotions
///   pause for `cooldownSeconds`;
/// - drift: the population stability index and KL divergence of the live model's positive scores
///   and of two streaming features at event time (the item's events in the last day, the user's
///   in the last hour) against a reference window taken after the last (re)start or full retrain;
///   above `driftPSIWarning` it is logged, and with `retrainOnDriftPSI` set a full retrain runs.
///
/// A full retrain published and promoted beside it (POST /models/retrain) replaces the trainer's
/// item factors (``IncrementalALS/rebase(on:itemIds:)``). The trainer's state is rebuilt from the
/// whole log at start. Runs on a thread of its own.
public final class OnlineLearner: Sendable {
    /// Options of the online learner.
    public struct Configuration: Sendable {
        /// Most events per mini-batch.
        public var batchSize: Int
        /// Seconds between published versions (when events arrived meanwhile).
        public var publishIntervalSeconds: Double
        /// Trained events that also trigger a publication.
        public var publishEveryEvents: Int
        /// The incremental updates' settings; λ and α are taken from the active model at start.
        public var incremental: IncrementalALS.Configuration
        public var validationSamplesPerBatch: Int
        public var evaluationSteps: Int
        public var minValidationExamples: Int
        public var gateAUCTolerance: Double
        public var gateLogLossTolerance: Double
        public var rollbackAUCDrop: Double
        public var rollbackMinImpressions: Int
        public var rollbackAlpha: Double
        /// The least relative CTR drop that can trigger a rollback (a drifting world moves CTR a
        /// little on its own; huge samples make tiny moves significant).
        public var rollbackMinRelativeDrop: Double
        /// The previous version's CTR baseline covers its last this many seconds as the active one
        /// (its early CTR, under older tastes, would not be a fair comparison).
        public var rollbackBaselineSeconds: Double
        public var cooldownSeconds: Double
        /// Seconds between rollback and drift checks.
        public var checkIntervalSeconds: Double
        public var driftPSIWarning: Double
        /// PSI above which a full retrain runs (nil: never).
        public var retrainOnDriftPSI: Double?
        /// Where decisions are logged (stderr by default).
        public var log: @Sendable (String) -> Void

        public init(batchSize: Int = 2000, publishIntervalSeconds: Double = 10, publishEveryEvents: Int = 200_000,
                    incremental: IncrementalALS.Configuration = IncrementalALS.Configuration(),
                    validationSamplesPerBatch: Int = 200, evaluationSteps: Int = 8, minValidationExamples: Int = 300,
                    gateAUCTolerance: Double = 0.01, gateLogLossTolerance: Double = 0.02, rollbackAUCDrop: Double = 0.03,
                    rollbackMinImpressions: Int = 2000, rollbackAlpha: Double = 0.001,
                    rollbackMinRelativeDrop: Double = 0.1, rollbackBaselineSeconds: Double = 60, cooldownSeconds: Double = 60,
                    checkIntervalSeconds: Double = 5, driftPSIWarning: Double = 0.25, retrainOnDriftPSI: Double? = nil,
                    log: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(("online: " + $0 + "\n").utf8)) }) {
            self.batchSize = batchSize
            self.publishIntervalSeconds = publishIntervalSeconds
            self.publishEveryEvents = publishEveryEvents
            self.incremental = incremental
            self.validationSamplesPerBatch = validationSamplesPerBatch
            self.evaluationSteps = evaluationSteps
            self.minValidationExamples = minValidationExamples
            self.gateAUCTolerance = gateAUCTolerance
            self.gateLogLossTolerance = gateLogLossTolerance
            self.rollbackAUCDrop = rollbackAUCDrop
            self.rollbackMinImpressions = rollbackMinImpressions
            self.rollbackAlpha = rollbackAlpha
            self.rollbackMinRelativeDrop = rollbackMinRelativeDrop
            self.rollbackBaselineSeconds = rollbackBaselineSeconds
            self.cooldownSeconds = cooldownSeconds
            self.checkIntervalSeconds = checkIntervalSeconds
            self.driftPSIWarning = driftPSIWarning
            self.retrainOnDriftPSI = retrainOnDriftPSI
            self.log = log
        }
    }

    /// Progressive figures of one model.
    public struct Progressive: Sendable, Codable, Equatable {
        public var auc: Double?
        public var logLoss: Double?
        public var examples: Int

        public init(auc: Double? = nil, logLoss: Double? = nil, examples: Int) {
            self.auc = auc
            self.logLoss = logLoss
            self.examples = examples
        }
    }

    /// What the learner has done so far (GET /online).
    public struct Status: Sendable, Codable {
        /// "waiting for an active iALS model", "training" or "stopped".
        public var state = "waiting for an active iALS model"
        public var eventsTrained = 0
        public var batches = 0
        /// Events per second of training time over the last batches.
        public var trainingEventsPerSecond = 0.0
        /// Log time (ms) of the newest event trained on, and wall time (ms) when it was.
        public var newestEventMs: Int64?
        public var trainedAtMs: Int64?
        public var users = 0
        public var items = 0
        public var pendingItems = 0
        public var admittedItems = 0
        public var expiredUsers = 0
        /// Versions published, promoted, kept back by the gate, and rollbacks, since the start.
        public var publishedCount = 0
        public var promotedCount = 0
        public var rejectedCount = 0
        public var rollbackCount = 0
        /// The latest ``Status/kept`` of each.
        public var published: [Int] = []
        public var promoted: [Int] = []
        public var rejected: [Int] = []
        public var rollbacks: [String] = []
        /// How many entries each list keeps.
        public static let kept = 100

        /// Appends `value` to `list`, keeping the latest ``kept``.
        static func append<T>(_ value: T, to list: inout [T]) {
            list.append(value)
            if list.count > kept { list.removeFirst(list.count - kept) }
        }

        mutating func recordPublished(_ version: Int, promoted isPromoted: Bool) {
            publishedCount += 1
            Self.append(version, to: &published)
            if isPromoted { promotedCount += 1; Self.append(version, to: &promoted) } else { rejectedCount += 1; Self.append(version, to: &rejected) }
        }

        mutating func recordRollback(_ note: String) {
            rollbackCount += 1
            Self.append(note, to: &rollbacks)
            lastDecision = note
        }
        public var lastDecision: String?
        public var live = Progressive(examples: 0)
        public var serving = Progressive(examples: 0)
        public var servingSincePromotion = Progressive(examples: 0)
        public var servingVersion: Int?
        /// Drift of each signal against its reference: PSI and KL.
        public var drift: [String: DistributionDrift] = [:]
        public var retrainsTriggered = 0
        public var error: String?
    }

    /// Weak: the service owns the learner and stops it from its deinitialiser. While that waits
    /// for the thread, the service reads as nil here (an unowned reference would trap) and the
    /// worker ends.
    weak let service: RecommendationService?
    public let configuration: Configuration
    private let status = Mutex(Status())
    private let trained = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    /// The drift signals, in status order.
    public static let driftSignals = ["score", "item_events_1d", "user_events_1h"]

    init(service: RecommendationService, configuration: Configuration) {
        self.service = service
        self.configuration = configuration
    }

    /// The learner's status now.
    public var current: Status { status.withLock { $0 } }

    /// Events trained on so far (``Status/eventsTrained`` without copying the status).
    public var eventsTrained: Int { trained.load(ordering: .relaxed) }

    /// The learner thread's `pthread_self()` (0 before it starts).
    private let workerThread = Atomic<UInt>(0)

    func start() {
        let thread = Thread { [self] in
            workerThread.store(UInt(pthread_self()), ordering: .releasing)
            var worker = Worker(learner: self)
            worker.run()
            finished.signal()
        }
        thread.name = "starling-online"
        thread.start()
    }

    /// Stops the thread and waits for it — unless called on that thread (the service's last
    /// reference released by the worker itself), which then ends after its current step.
    func stop() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        guard UInt(pthread_self()) != workerThread.load(ordering: .acquiring) else { return }
        finished.wait()
    }

    /// Thrown by the worker when the service is gone.
    struct ServiceClosed: Error {}

    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    func update(_ body: (inout Status) -> Void) { status.withLock { body(&$0) } }

    /// The trainer thread's state.
    struct Worker {
        let learner: OnlineLearner
        var service: RecommendationService {
            get throws(ServiceClosed) {
                guard let service = learner.service else { throw ServiceClosed() }
                return service
            }
        }
        var configuration: Configuration { learner.configuration }
        var trainer: IncrementalALS!
        var consumer: EventLogConsumer!
        var rng = RandomGenerator(seed: 2026)
        var live = ProgressiveValidation(window: 10_000)
        var serving = ProgressiveValidation(window: 10_000)
        var sincePromotion = ProgressiveValidation(window: 10_000)
        var liveCalibrator = PlattCalibrator()
        var servingCalibrator = PlattCalibrator()
        /// The serving version's progressive AUC and CTR counts when the current one replaced it.
        /// The version the serving one replaced, kept scoring the same events for the rollback
        /// check, with its CTR over its last `rollbackBaselineSeconds` as the active one.
        var previous: (version: Int, model: ServingModel, index: [String: Int32], counts: ImpressionLedger.Counts)?
        var previousSince = ProgressiveValidation(window: 10_000)
        var previousCalibrator = PlattCalibrator()
        var servingModel: ServingModel?
        /// Cumulative counts of the serving version at each check, for its recent-CTR baseline.
        var servingCounts: [(at: Date, counts: ImpressionLedger.Counts)] = []
        /// The version a rollback restored: becoming active again is not a new promotion to judge.
        var rolledBackTo: Int?
        var servingVersion: Int?
        var servingIndex: [String: Int32] = [:]
        /// The version this learner promoted last (followed without a rebase).
        var ownPromotion: Int?
        var lastPublish = Date()
        var eventsSincePublish = 0
        var cooldownUntil = Date.distantPast
        var references: [String: [Float]] = [:]
        var recent: [String: [Float]] = [:]
        var lastDriftCheck = Date()
        var lastExpiry = Date()
        var trainSeconds: [(events: Int, seconds: Double)] = []

        init(learner: OnlineLearner) { self.learner = learner }

        mutating func run() {
            defer { learner.update { $0.state = "stopped" } }
            while !learner.isStopping {
                do {
                    if trainer == nil {
                        guard try bootstrap() else { Thread.sleep(forTimeInterval: 0.2); continue }
                    }
                    try step()
                } catch is ServiceClosed {
                    return
                } catch {
                    configuration.log("error: \(error)")
                    learner.update { $0.error = "\(error)" }
                    consumer?.rewind()
                    Thread.sleep(forTimeInterval: 1)
                }
            }
        }

        /// Builds the trainer from the active iALS version and the whole log; false while there is none.
        mutating func bootstrap() throws -> Bool {
            guard let active = try service.activeModel, let ials = active.model as? IALS else { return false }
            let start = Date()
            // λ and α are the active model's: the updates continue its objective.
            var incremental = configuration.incremental
            incremental.regularization = ials.configuration.regularization
            incremental.alpha = ials.configuration.alpha
            let trainer = try IncrementalALS(base: ials, itemIds: active.itemIds.ids, configuration: incremental)
            let directory = try service.configuration.directory.appendingPathComponent("consumers", isDirectory: true)
            // The trainer's state is not persisted: it is rebuilt from the start of the log.
            try? FileManager.default.removeItem(at: directory.appendingPathComponent("online-learner.position.json"))
            let consumer = try EventLogConsumer(log: service.log, name: "online-learner", directory: directory)
            var history: [IncrementalALS.Interaction] = []
            while true {
                let events = try consumer.poll(max: 65_536)
                if events.isEmpty { break }
                history.append(contentsOf: events.compactMap(Self.interaction))
            }
            trainer.load(history)
            try consumer.acknowledge()
            self.trainer = trainer
            self.consumer = consumer
            adoptServing(active)
            configuration.log("started from version \(active.version): \(trainer.userCount) users, \(trainer.itemCount) items, "
                + "\(history.count) logged events in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
            learner.update { s in
                s.state = "training"
                s.users = trainer.userCount
                s.items = trainer.itemCount
                s.servingVersion = active.version
                s.newestEventMs = history.last?.timestampMs
            }
            return true
        }

        static func interaction(_ e: LoggedEvent) -> IncrementalALS.Interaction? {
            IncrementalALS.Interaction(user: e.user, item: e.item, value: 1, timestampMs: e.timestamp)
        }

        mutating func adoptServing(_ model: ServingModel) {
            servingVersion = model.version
            servingModel = model
            servingIndex = Self.index(of: model)
        }

        static func index(of model: ServingModel) -> [String: Int32] {
            var index: [String: Int32] = [:]
            for (k, id) in model.itemIds.ids.enumerated() { index[id] = Int32(k) }
            return index
        }

        /// From now on the serving version (replaced by another) is judged as the previous one:
        /// it keeps scoring the same events as its successor. A version restored by a rollback is
        /// not judged against the one it replaced.
        mutating func retireServing(restoring: Bool) {
            if let model = servingModel, !restoring {
                previous = (model.version, model, servingIndex, recentCounts(of: model.version))
                previousSince = ProgressiveValidation(window: previousSince.window)
                previousCalibrator = servingCalibrator
            } else {
                previous = nil
            }
            servingCounts = []
        }

        mutating func step() throws {
            try followActiveVersion()
            let events = try consumer.poll(max: configuration.batchSize)
            if events.isEmpty {
                Thread.sleep(forTimeInterval: 0.01)
            } else {
                train(events)
                try consumer.acknowledge()
            }
            let now = Date()
            if eventsSincePublish > 0 && (now.timeIntervalSince(lastPublish) >= configuration.publishIntervalSeconds
                                          || eventsSincePublish >= configuration.publishEveryEvents) {
                try publish()
            }
            if now.timeIntervalSince(lastDriftCheck) >= configuration.checkIntervalSeconds { lastDriftCheck = now; try checkRollback(); checkDrift() }
            if now.timeIntervalSince(lastExpiry) >= 60, let newest = learner.current.newestEventMs {
                lastExpiry = now
                let (users, _) = trainer.expire(nowMs: newest)
                learner.update { $0.expiredUsers += users }
            }
        }

        /// A version made active by anyone but this learner's last promotion (a full retrain, an
        /// operator, a rollback) becomes the serving reference and its iALS factors replace the
        /// trainer's; the version it replaced is remembered for the rollback check.
        mutating func followActiveVersion() throws {
            guard let active = try service.activeModel, active.version != servingVersion else { return }
            retireServing(restoring: active.version == rolledBackTo)
            rolledBackTo = nil
            if active.version != ownPromotion, let ials = active.model as? IALS, ials.factors == trainer.factors {
                try trainer.rebase(on: ials, itemIds: active.itemIds.ids)
                references = [:]
                recent = [:]
                configuration.log("rebased on version \(active.version) (made active outside the learner)")
            }
            adoptServing(active)
            serving = ProgressiveValidation(window: serving.window)
            sincePromotion = ProgressiveValidation(window: sincePromotion.window)
            learner.update { $0.servingVersion = active.version }
        }

        mutating func train(_ events: [LoggedEvent]) {
            let batch = events.compactMap(Self.interaction)
            validate(batch)
            let start = DispatchTime.now().uptimeNanoseconds
            let report = trainer.update(batch)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            trainSeconds.append((batch.count, seconds))
            if trainSeconds.count > 20 { trainSeconds.removeFirst() }
            let rate = Double(trainSeconds.reduce(0) { $0 + $1.events }) / max(1e-9, trainSeconds.reduce(0) { $0 + $1.seconds })
            eventsSincePublish += batch.count
            let trainer = self.trainer!
            let (liveFigures, servingFigures, sinceFigures) = (figures(live), figures(serving), figures(sincePromotion))
            learner.trained.add(batch.count, ordering: .relaxed)
            learner.update { s in
                s.eventsTrained += batch.count
                s.batches += 1
                s.trainingEventsPerSecond = rate
                s.newestEventMs = max(s.newestEventMs ?? .min, events.map(\.timestamp).max() ?? .min)
                s.trainedAtMs = RecommendationService.nowMs()
                s.users = trainer.userCount
                s.items = trainer.itemCount
                s.pendingItems = trainer.pendingItemCount
                s.admittedItems += report.admittedItems
                s.live = liveFigures
                s.serving = servingFigures
                s.servingSincePromotion = sinceFigures
            }
        }

        func figures(_ v: ProgressiveValidation) -> Progressive { Progressive(auc: v.auc, logLoss: v.logLoss, examples: v.count) }

        /// Scores a sample of the batch with both models before the trainer sees it.
        mutating func validate(_ batch: [IncrementalALS.Interaction]) {
            guard !batch.isEmpty else { return }
            let steps = configuration.evaluationSteps
            guard let lookup = learner.service?.features else { return }
            var taken = 0
            let start = Int(rng.next() % UInt64(batch.count))
            for k in 0..<batch.count where taken < configuration.validationSamplesPerBatch {
                let e = batch[(start + k) % batch.count]
                guard let item = trainer.itemRow(e.item) else { continue }
                let history = trainer.history(of: e.user)
                guard !history.items.isEmpty, !history.items.contains(item) else { continue }
                var negative: Int32 = -1
                for _ in 0..<10 {
                    let j = Int32(rng.next() % UInt64(trainer.itemCount))
                    if j != item && !history.items.contains(j) { negative = j; break }
                }
                guard negative >= 0 else { continue }
                taken += 1
                let x = trainer.foldIn(items: history.items, values: history.values, steps: steps)
                let (pos, neg) = (trainer.score(x, item: item), trainer.score(x, item: negative))
                record(&live, &liveCalibrator, pos, neg)
                if let servingModel, let (sp, sn) = scores(servingModel, servingIndex, history, e.item, trainer.itemIds[Int(negative)]) {
                    record(&serving, &servingCalibrator, sp, sn, also: &sincePromotion)
                }
                if let previous, let (pp, pn) = scores(previous.model, previous.index, history, e.item, trainer.itemIds[Int(negative)]) {
                    record(&previousSince, &previousCalibrator, pp, pn)
                }
                push("score", pos)
                let itemEvents = lookup.values(entity: .item, key: e.item, atMs: e.timestampMs)["item_events_1d"]
                let userEvents = lookup.values(entity: .user, key: e.user, atMs: e.timestampMs)["user_events_1h"]
                if let itemEvents { push("item_events_1d", log1p(itemEvents)) }
                if let userEvents { push("user_events_1h", log1p(userEvents)) }
            }
        }

        /// `model`'s scores of `item` and `negative` for a user folded in from `history` (trainer
        /// rows) — the same procedure as the live model's; 0 for an item the model does not know.
        /// Nil for a model that is not iALS.
        func scores(_ model: ServingModel, _ index: [String: Int32], _ history: (items: [Int32], values: [Float]),
                    _ item: String, _ negative: String) -> (Float, Float)? {
            guard let ials = model.model as? IALS else { return nil }
            var mapped: [Int32] = [], values: [Float] = []
            for (i, v) in zip(history.items, history.values) {
                if let m = index[trainer.itemIds[Int(i)]] { mapped.append(m); values.append(v) }
            }
            guard !mapped.isEmpty, let x = try? ials.userVector(history: mapped, values: values,
                                                                solver: .conjugateGradient(steps: configuration.evaluationSteps, start: nil)) else { return (0, 0) }
            return (index[item].map { model.score(x, item: $0) } ?? 0, index[negative].map { model.score(x, item: $0) } ?? 0)
        }

        func record(_ v: inout ProgressiveValidation, _ c: inout PlattCalibrator, _ pos: Float, _ neg: Float) {
            v.add(score: pos, probability: c.probability(pos), label: true)
            v.add(score: neg, probability: c.probability(neg), label: false)
            c.learn(score: pos, label: true)
            c.learn(score: neg, label: false)
        }

        func record(_ v: inout ProgressiveValidation, _ c: inout PlattCalibrator, _ pos: Float, _ neg: Float, also w: inout ProgressiveValidation) {
            w.add(score: pos, probability: c.probability(pos), label: true)
            w.add(score: neg, probability: c.probability(neg), label: false)
            record(&v, &c, pos, neg)
        }

        static let driftWindow = 2000

        mutating func push(_ signal: String, _ value: Float) {
            if references[signal, default: []].count < Self.driftWindow {
                references[signal, default: []].append(value)
                return
            }
            // Trimmed a window at a time (not one value per push); the check reads the last window.
            recent[signal, default: []].append(value)
            if recent[signal]!.count >= 2 * Self.driftWindow { recent[signal]!.removeFirst(Self.driftWindow) }
        }

        mutating func checkDrift() {
            var drift: [String: DistributionDrift] = [:]
            for signal in OnlineLearner.driftSignals {
                guard let r = references[signal], let c = recent[signal]?.suffix(Self.driftWindow), c.count >= Self.driftWindow / 2,
                      let d = DistributionDrift(reference: r, current: Array(c)) else { continue }
                drift[signal] = d
                if d.psi > configuration.driftPSIWarning {
                    configuration.log("drift: \(signal) PSI \(String(format: "%.3f", d.psi)), KL \(String(format: "%.3f", d.kl)) against its reference window")
                }
            }
            // The last measurement stays on show while new windows fill (after a restart or retrain).
            if !drift.isEmpty { learner.update { $0.drift = drift } }
            if let threshold = configuration.retrainOnDriftPSI, let worst = drift.max(by: { $0.value.psi < $1.value.psi }), worst.value.psi > threshold,
               Date() >= cooldownUntil {
                cooldownUntil = Date().addingTimeInterval(configuration.cooldownSeconds)
                references = [:]
                recent = [:]
                learner.update { $0.retrainsTriggered += 1 }
                configuration.log("drift: \(worst.key) PSI \(String(format: "%.3f", worst.value.psi)) > \(threshold): full retrain started")
                // The retrain repeats the active model's configuration (its factors, λ, α, sweeps).
                guard let service = learner.service else { return }
                let log = configuration.log
                let ials = (service.activeModel?.model as? IALS)?.configuration
                Thread.detachNewThread {
                    do {
                        var settings = ials ?? IALS.Configuration(factors: 64, regularization: 0.05, alpha: 5, iterations: 10)
                        if settings.iterations == 0 { settings.iterations = 10 }  // an online snapshot records 0 sweeps
                        let v = try service.retrain(configuration: settings, holdOut: 0)
                        try service.promote(v)
                        log("drift retrain: version \(v) promoted")
                    } catch { log("drift retrain failed: \(error)") }
                }
            }
        }

        mutating func publish() throws {
            let (model, ids) = trainer.snapshot()
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("starling-online-\(UUID().uuidString).safetensors")
            defer { try? FileManager.default.removeItem(at: tmp) }
            try model.save(to: tmp)
            let (l, s) = (figures(live), figures(serving))
            func text(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "n/a" }
            let metadata = ["trained_on": "online", "events": "\(learner.current.eventsTrained)", "items": "\(ids.count)",
                            "factors": "\(model.factors)", "progressive_auc": text(l.auc), "progressive_logloss": text(l.logLoss),
                            "progressive_examples": "\(l.examples)", "serving_version": servingVersion.map { "\($0)" } ?? "none",
                            "serving_progressive_auc": text(s.auc), "serving_progressive_logloss": text(s.logLoss),
                            "progressive_protocol": "each batch scored before training: event item vs 1 uniform unseen item, fold-in of the pre-batch history"]
            let version = try service.publish(checkpoint: tmp, itemIds: try IdVocabulary(ids: ids), metadata: metadata)
            lastPublish = Date()
            eventsSincePublish = 0
            let decision = gate(l, s)
            if let reason = decision.reason {
                configuration.log("version \(version) not promoted: \(reason)")
                learner.update { $0.recordPublished(version, promoted: false); $0.lastDecision = "version \(version) not promoted: \(reason)" }
                return
            }
            ownPromotion = version
            try service.promote(version)
            retireServing(restoring: false)
            adoptServing(try service.activeModel!)
            // The new version is the live model as of now: its figures so far are the live ones.
            serving = live
            servingCalibrator = liveCalibrator
            sincePromotion = ProgressiveValidation(window: sincePromotion.window)
            configuration.log("version \(version) promoted: \(decision.summary)")
            learner.update { $0.recordPublished(version, promoted: true); $0.servingVersion = version; $0.lastDecision = "version \(version) promoted: \(decision.summary)" }
        }

        func gate(_ l: Progressive, _ s: Progressive) -> (reason: String?, summary: String) {
            if Date() < cooldownUntil { return ("promotions paused after a rollback", "") }
            return OnlineLearner.gate(live: l, serving: servingVersion == nil ? nil : s, configuration: configuration)
        }

        /// `version`'s counts over the last `rollbackBaselineSeconds` (all of them when it served
        /// for less).
        func recentCounts(of version: Int) -> ImpressionLedger.Counts {
            let now = learner.service?.impressions.counts(version: version) ?? ImpressionLedger.Counts()
            guard let start = servingCounts.first?.counts else { return now }
            return ImpressionLedger.Counts(impressions: now.impressions - start.impressions, clicks: now.clicks - start.clicks,
                                           purchases: now.purchases - start.purchases)
        }

        /// Rolls the serving version back when its AUC or online CTR dropped against the one it replaced.
        mutating func checkRollback() throws {
            if let current = servingVersion {
                servingCounts.append((Date(), try service.impressions.counts(version: current)))
                // One snapshot older than the baseline window stays: the window's start.
                let horizon = Date().addingTimeInterval(-configuration.rollbackBaselineSeconds)
                while servingCounts.count > 1 && servingCounts[1].at < horizon { servingCounts.removeFirst() }
            }
            guard let previous, let current = servingVersion, current != previous.version else { return }
            // Both AUCs are over the same events: those since the switch.
            let enough = sincePromotion.count >= configuration.minValidationExamples && previousSince.count >= configuration.minValidationExamples
            guard let reason = OnlineLearner.rollbackReason(previousAUC: enough ? previousSince.auc : nil, currentAUC: enough ? sincePromotion.auc : nil,
                                                            previous: previous.counts,
                                                            current: try service.impressions.counts(version: current),
                                                            configuration: configuration) else { return }
            ownPromotion = nil
            rolledBackTo = previous.version
            try service.promote(previous.version)
            cooldownUntil = Date().addingTimeInterval(configuration.cooldownSeconds)
            let note = "version \(current) rolled back to \(previous.version): \(reason)"
            configuration.log(note)
            self.previous = nil
            learner.update { $0.recordRollback(note) }
        }
    }

    /// The promotion gate: nil (promote) when `live`'s progressive figures are not worse than
    /// `serving`'s beyond the configured tolerances, else why not. Without a serving version
    /// anything passes; with one, both need `minValidationExamples` examples.
    public static func gate(live l: Progressive, serving s: Progressive?, configuration: Configuration) -> (reason: String?, summary: String) {
        func f(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "n/a" }
        guard let s else { return (nil, "no serving version") }
        let summary = "live AUC \(f(l.auc)) log loss \(f(l.logLoss)) vs serving AUC \(f(s.auc)) log loss \(f(s.logLoss))"
        guard l.examples >= configuration.minValidationExamples, s.examples >= configuration.minValidationExamples,
              let la = l.auc, let sa = s.auc, let ll = l.logLoss, let sl = s.logLoss else {
            return ("fewer than \(configuration.minValidationExamples) progressive examples", summary)
        }
        if la < sa - configuration.gateAUCTolerance { return ("AUC worse than serving beyond \(configuration.gateAUCTolerance): \(summary)", summary) }
        if ll > sl + configuration.gateLogLossTolerance { return ("log loss worse than serving beyond \(configuration.gateLogLossTolerance): \(summary)", summary) }
        return (nil, summary)
    }

    /// Why the serving version should be rolled back, or nil: its progressive AUC since it became
    /// active is more than `rollbackAUCDrop` below the previous version's, or its online CTR is
    /// more than `rollbackMinRelativeDrop` (relative) below the previous version's, with a two-sided
    /// two-proportion p-value under `rollbackAlpha`, both having `rollbackMinImpressions` impressions.
    public static func rollbackReason(previousAUC: Double?, currentAUC: Double?, previous p: ImpressionLedger.Counts,
                                      current c: ImpressionLedger.Counts, configuration: Configuration) -> String? {
        if let was = previousAUC, let now = currentAUC, now < was - configuration.rollbackAUCDrop {
            return String(format: "progressive AUC fell from %.4f to %.4f", was, now)
        }
        if c.impressions >= configuration.rollbackMinImpressions, p.impressions >= configuration.rollbackMinImpressions, c.ctr < p.ctr * (1 - configuration.rollbackMinRelativeDrop),
           Experiment.twoProportionP(c.clicks, c.impressions, p.clicks, p.impressions) < configuration.rollbackAlpha {
            return String(format: "online CTR fell from %.4f (%d impressions) to %.4f (%d impressions)", p.ctr, p.impressions, c.ctr, c.impressions)
        }
        return nil
    }
}
