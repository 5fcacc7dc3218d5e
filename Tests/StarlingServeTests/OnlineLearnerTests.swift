import Foundation
import StarlingData
import StarlingModels
import StarlingServe
import StarlingTensor
import Testing

@Suite("Online learner in the service", .serialized)
struct OnlineLearnerTests {
    static func waitFor(_ seconds: Double, _ what: String, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline else {
                Issue.record("timed out after \(seconds) s waiting for: \(what)")
                throw CancellationError()
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// MovieLens-100K's events in time order as service inputs: `inputs(a..<b)` are the a-th to
    /// b-th oldest.
    static func movieLens100KInTimeOrder() throws -> (Range<Int>) -> [EventInput] {
        let d = try MovieLens100K.load(root: try DataRoot.resolve())
        let log = d.events, times = try #require(log.timestamps)
        let order = (0..<log.count).sorted { times[$0] != times[$1] ? times[$0] < times[$1] : $0 < $1 }
        return { range in
            order[range].map { e in
                EventInput(user: d.users.ids[Int(log.users[e])], item: d.items.ids[Int(log.items[e])], type: "rating",
                           value: log.values[e], timestamp: times[e] * 1000, eventId: "e\(e)")
            }
        }
    }

    /// A service at `dir` with online learning, `events` loaded, iALS (16 factors) trained on them
    /// and promoted, and the learner running from it; returns the service, its learner and that
    /// first version.
    static func startLearning(_ online: OnlineLearner.Configuration, in dir: URL, loading events: [EventInput]) throws
        -> (RecommendationService, OnlineLearner, Int) {
        let service = try RecommendationService(configuration: .init(directory: dir, autoCreateItems: true, online: online))
        _ = try service.ingest(events)
        let first = try service.retrain(configuration: IALS.Configuration(factors: 16, regularization: 5, alpha: 5, iterations: 8, threads: 1), holdOut: 0)
        try service.promote(first)
        let learner = try #require(service.online)
        try waitFor(60, "bootstrap") { learner.current.state == "training" }
        return (service, learner, first)
    }

    /// MovieLens-100K in time order: the oldest 80% loaded and trained, the next 10% posted while
    /// the learner runs, then a deliberately bad model (random factors) is promoted by hand and
    /// the learner must roll it back on its progressive AUC.
    @Test func theLearnerTrainsOnNewEventsPublishesGatedVersionsAndRollsBackABadPromotion() throws {
        let inputs = try Self.movieLens100KInTimeOrder()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("starling-online-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let notes = NoteBook()
        let online = OnlineLearner.Configuration(batchSize: 500, publishIntervalSeconds: 1000, publishEveryEvents: 5000,
                                                 minValidationExamples: 300, rollbackAUCDrop: 0.05, checkIntervalSeconds: 0.2,
                                                 log: { notes.add($0) })
        let (service, learner, _) = try Self.startLearning(online, in: dir, loading: inputs(0..<80_000))
        defer { service.stopOnlineLearning() }
        for k in stride(from: 80_000, to: 90_000, by: 500) { _ = try service.ingest(inputs(k..<(k + 500))) }
        try Self.waitFor(120, "10,000 events trained") { learner.current.eventsTrained >= 10_000 && learner.current.published.count >= 2 }
        var status = learner.current
        #expect(status.live.examples >= 300 && status.serving.examples >= 300)
        #expect((status.live.auc ?? 0) > 0.65 && (status.serving.auc ?? 0) > 0.65, "live \(status.live), serving \(status.serving)")
        // Every published version was either promoted or kept back by the gate, with its figures.
        #expect(Set(status.promoted + status.rejected) == Set(status.published))
        let published = try service.registry.versions().first { $0.version == status.published[0] }
        #expect(published?.metadata["trained_on"] == "online" && published?.metadata["progressive_auc"] != nil)
        let good = try #require(service.registry.activeVersion)

        // A bad model goes live by hand: random factors over the same items.
        let active = try #require(service.activeModel)
        let bad = try IALS(configuration: IALS.Configuration(factors: 16, seed: 9), userCount: 1, itemCount: active.itemIds.count)
        let file = dir.appendingPathComponent("bad.safetensors")
        try bad.save(to: file)
        let badVersion = try service.publish(checkpoint: file, itemIds: active.itemIds, metadata: ["trained_on": "noise"])
        try service.promote(badVersion)
        for k in stride(from: 90_000, to: 93_000, by: 500) { _ = try service.ingest(inputs(k..<(k + 500))) }
        try Self.waitFor(60, "rollback") { !learner.current.rollbacks.isEmpty }
        status = learner.current
        #expect(service.registry.activeVersion == good && status.rollbacks[0].contains("version \(badVersion) rolled back to \(good)"))
        #expect(status.rollbacks[0].contains("progressive AUC fell"))
        #expect(notes.lines.contains { $0.contains("rolled back") })
        // The restored version is not judged against the one it replaced: no rollback back.
        for k in stride(from: 93_000, to: 96_000, by: 500) { _ = try service.ingest(inputs(k..<(k + 500))) }
        try Self.waitFor(60, "the new events trained") { learner.eventsTrained >= 16_000 }
        Thread.sleep(forTimeInterval: 0.5)
        #expect(learner.current.rollbackCount == 1 && service.registry.activeVersion == good)
    }

    /// Online CTR rollback end to end: users click version A's lists at 20% per shown item; a
    /// version B (A's own factors, so its AUC is A's and only CTR can tell) is promoted by hand and
    /// its lists are clicked at 5%. Once both have 2,000 impressions the learner must restore A
    /// and say it was for CTR.
    @Test func aPromotedVersionWhoseOnlineCTRDropsIsRolledBack() throws {
        let inputs = try Self.movieLens100KInTimeOrder()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("starling-online-ctr-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let online = OnlineLearner.Configuration(batchSize: 500, publishIntervalSeconds: 1000, publishEveryEvents: 1_000_000,
                                                 rollbackAUCDrop: 1, rollbackMinImpressions: 2000, checkIntervalSeconds: 0.2)
        let (service, learner, a) = try Self.startLearning(online, in: dir, loading: inputs(0..<80_000))
        defer { service.stopOnlineLearning() }
        var rng = RandomGenerator(seed: 3)
        let users = Array(Set(inputs(0..<80_000).map(\.user))).sorted()
        /// `requests` lists of 10 for users in turn, each shown item clicked with probability `rate`.
        func play(_ requests: Int, clickRate rate: Float, from start: Int) throws {
            for r in 0..<requests {
                let user = users[(start + r) % users.count]
                let shown = try service.recommend(RecommendationQuery(user: user, count: 10)).items
                let clicks = shown.filter { _ in rng.nextFloat() < rate }.map { EventInput(user: user, item: $0.item, type: "click") }
                if !clicks.isEmpty { _ = try service.ingest(clicks) }
            }
        }
        try play(300, clickRate: 0.2, from: 0)
        #expect(service.impressions.counts(version: a).impressions == 3000)
        // B: A's checkpoint published again.
        let active = try #require(service.activeModel)
        let b = try service.publish(checkpoint: service.registry.checkpointURL(version: a), itemIds: active.itemIds,
                                    metadata: ["trained_on": "copy of \(a)"])
        try service.promote(b)
        try Self.waitFor(30, "the learner follows the promotion") { learner.current.servingVersion == b }
        try play(300, clickRate: 0.05, from: 300)
        try Self.waitFor(30, "rollback") { !learner.current.rollbacks.isEmpty }
        let status = learner.current
        #expect(service.registry.activeVersion == a)
        #expect(status.rollbacks[0].contains("version \(b) rolled back to \(a)") && status.rollbacks[0].contains("online CTR fell"),
                "\(status.rollbacks)")
        let ctrA = service.impressions.counts(version: a).ctr, ctrB = service.impressions.counts(version: b).ctr
        #expect(ctrA > 0.15 && ctrB < 0.08, "CTR A \(ctrA), B \(ctrB)")
    }

    /// A service released while its learner is mid-stream (no stopOnlineLearning) stops the
    /// learner from its deinitialiser: the learner must neither trap on the vanishing service nor
    /// keep it alive.
    @Test func releasingTheServiceWhileTheLearnerTrainsStopsItCleanly() throws {
        let inputs = try Self.movieLens100KInTimeOrder()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("starling-online-release-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        weak var released: RecommendationService?
        var learners: [OnlineLearner] = []
        /// Starts a learning service, keeps it busy and lets go of it.
        func busyServiceLetGo(_ round: Int) throws {
            do {
                let online = OnlineLearner.Configuration(batchSize: 200, publishIntervalSeconds: 0.05, minValidationExamples: 10,
                                                         checkIntervalSeconds: 0.01)
                let (service, learner, _) = try Self.startLearning(online, in: dir.appendingPathComponent("\(round)"),
                                                                   loading: inputs(0..<20_000))
                released = service
                learners.append(learner)
                for k in stride(from: 20_000, to: 24_000, by: 500) { _ = try service.ingest(inputs(k..<(k + 500))) }
                try Self.waitFor(60, "training under way") { learner.eventsTrained > 0 }
            }
        }
        for round in 0..<3 {
            try busyServiceLetGo(round)
            // (The worker may hold it for the rest of a step, and then release it last itself.)
            try Self.waitFor(30, "the service released") { released == nil }
            // Its learner's thread has ended (it did not wait for itself, nor trap).
            try Self.waitFor(30, "the learner stopped") { learners[round].current.state == "stopped" }
        }
    }

    /// Drift is measured against the reference window and, past the configured PSI, a full
    /// retrain runs beside the learner and replaces its model (the threshold here is set so low
    /// that any measured drift triggers it).
    @Test func driftIsMeasuredAndCanTriggerAFullRetrainThatTheLearnerRebasesOn() throws {
        let inputs = try Self.movieLens100KInTimeOrder()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("starling-drift-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let notes = NoteBook()
        let online = OnlineLearner.Configuration(batchSize: 500, publishIntervalSeconds: 1000, publishEveryEvents: 1_000_000,
                                                 checkIntervalSeconds: 0.2, retrainOnDriftPSI: 1e-9, log: { notes.add($0) })
        let (service, learner, first) = try Self.startLearning(online, in: dir, loading: inputs(0..<60_000))
        defer { service.stopOnlineLearning() }
        for k in stride(from: 60_000, to: 80_000, by: 500) { _ = try service.ingest(inputs(k..<(k + 500))) }
        try Self.waitFor(120, "a drift retrain") { learner.current.retrainsTriggered >= 1 && (service.registry.activeVersion ?? 0) > first }
        let status = learner.current
        #expect(Set(status.drift.keys).isSubset(of: Set(OnlineLearner.driftSignals)) && !status.drift.isEmpty)
        #expect(status.drift.values.allSatisfy { $0.psi >= 0 && $0.kl.isFinite })
        let active = try #require(service.registry.activeVersion)
        let retrained = try #require(try service.registry.versions().first { $0.version == active })
        #expect(retrained.metadata["trained_on"] == "event-log")
        try Self.waitFor(30, "the rebase") { notes.lines.contains { $0.contains("rebased on version \(active)") } }
        #expect(notes.lines.contains { $0.contains("full retrain started") })
    }
}

/// Lines the learner logged.
final class NoteBook: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func add(_ line: String) { lock.withLock { stored.append(line) } }
    var lines: [String] { lock.withLock { stored } }
}
