import Foundation
import StarlingLoopbackClient
import StarlingSimulation

/// What one seed's simulation is run with.
struct SimulationSettings: Sendable {
    var world: SimulationConfiguration
    /// Rounds played against the model-less service before the first model is trained.
    var warmUpRounds: Int
    /// Rounds played against both arms after that.
    var rounds: Int
    /// List length asked for.
    var k: Int
    /// Rounds per point of the CTR curves.
    var window: Int
    /// The iALS model trained after the warm-up (POST /models/retrain).
    var factors: Int
    var iterations: Int
    var regularization: Double
    var alpha: Double
    /// Probe freshness every this many rounds (0: never).
    var probeEvery: Int
    var probing: SimulationArm.Probing
    /// Least wall time per round in milliseconds (0: as fast as the services answer).
    var roundMs: Double
    /// Least wall time between a round's events and the next round's requests (see ``SimulationArm``).
    var settleMs: Double
    /// Retrain and promote the online arm's model through the API every this many rounds (0:
    /// never). A stand-in for a learner, to check that the simulation can see the benefit of a
    /// fresher model; it is not online learning and is reported as what it is.
    var retrainOnlineEvery: Int
    /// Whether the online arm also re-ranks with the streaming-feature ranker.
    var onlineRanker: Bool
}

/// What one arm did over the main phase.
struct ArmOutcome: Sendable {
    var tally: EngagementTally
    var probes: [SimulationArm.ProbeResult]
    /// The active model version after each window.
    var activeVersions: [Int?]
    /// The active version and the published versions listed at the end (GET /models).
    var finalActive: Int?
    var versions: [Int]
    /// The streaming-feature ranker's figures at the end (see ``SimulationArm/rankerFigures()``).
    var ranker: [String: Double]?
}

/// Everything one seed's simulation measured.
struct SimulationOutcome: Sendable {
    var settings: SimulationSettings
    /// The model-less service during the warm-up (popular and recent items).
    var warmUp: EngagementTally
    var frozen: ArmOutcome
    var online: ArmOutcome
    /// The version trained after the warm-up and its metadata (held-out metrics among them).
    var warmUpModel: Int
    var warmUpModelMetadata: [String: String]
    /// Items at the end (initial catalogue plus arrivals).
    var itemsAtEnd: Int
    /// Mean cosine between each user's taste at round 0 and at the end.
    var tasteCosine: Double
    /// Share of users whose target taste shifted at least once.
    var usersShifted: Double
    /// Whether the two arms' service configurations differ at all (false until the online
    /// learner is wired into ``Simulate/serviceConfiguration(directory:online:)``).
    var armsDiffer: Bool
    /// Wall seconds of the phases: warm-up rounds, training, main rounds, and all of it.
    var seconds: [String: Double]
}

/// One seed's simulation, end to end, over HTTP only:
///
/// 1. Warm-up: a fresh service (its own temporary folder) gets the initial catalogue through
///    POST /items; `warmUpRounds` rounds are played against it while it has no model (it serves
///    popular and recent items); then an iALS model is trained (POST /models/retrain) and
///    promoted (POST /models/{version}/promote), and the server is stopped.
/// 2. The folder is copied twice, and two services are opened on the copies, each with its own
///    server: "frozen" (online learning off) and "online" (on). The same world (same seed, same
///    drift, arrivals, trends, visitors and organic views) is played against both for `rounds`
///    rounds, both arms of a round at once on two threads; clicks are decided by keyed draws, so
///    a visitor shown the same item by both arms decides the same way.
///
/// The folders are removed at the end.
struct SimulationRun {
    let settings: SimulationSettings

    func execute() async throws -> SimulationOutcome {
        let s = settings, seed = s.world.seed
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("starling-simulate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let started = DispatchTime.now().uptimeNanoseconds
        let initial = try SimulatedWorld(configuration: s.world)
        let clickModel = ClickModel(configuration: s.world)

        // Phase 1: warm-up against the model-less service, then the first model.
        let warmDirectory = root.appendingPathComponent("warm-up")
        let warmServer = try await SimulationServer.start(directory: warmDirectory, online: false, ranker: false)
        Console.status("[seed \(seed)] warm-up: \(s.world.items) items, \(s.world.users) users, \(s.warmUpRounds) rounds against the model-less service")
        let warm: (world: SimulatedWorld, tally: EngagementTally, version: Int, metadata: [String: String], warmUpSeconds: Double, trainSeconds: Double)
        do {
            warm = try await Threads.offThread {
                let phase = DispatchTime.now().uptimeNanoseconds
                var world = initial
                let arm = try SimulationArm(name: "warm-up", port: warmServer.port, k: s.k, settleMs: s.settleMs)
                try arm.createItems(0..<world.items.count, of: world)
                for _ in 0..<s.warmUpRounds {
                    try arm.play(world.plan(), world: world, clickModel: clickModel, probing: nil)
                    world.advance()
                }
                let warmUpSeconds = Self.since(phase)
                let training = DispatchTime.now().uptimeNanoseconds
                let body = #"{"factors":\#(s.factors),"iterations":\#(s.iterations),"regularization":\#(s.regularization),"alpha":\#(s.alpha)}"#
                let admin = try LoopbackHTTPClient(port: warmServer.port)
                let trained = try SimulationArm.call(admin, "POST", "/models/retrain", body: Data(body.utf8), expect: 201)
                guard let version = trained.json?["version"] as? Int else {
                    throw SimulationFailure.unexpectedResponse(path: "/models/retrain", reason: "no version")
                }
                try SimulationArm.call(admin, "POST", "/models/\(version)/promote")
                let listed = try SimulationArm.call(admin, "GET", "/models")
                let versions = listed.json?["versions"] as? [[String: Any]] ?? []
                let metadata = versions.first { $0["version"] as? Int == version }?["metadata"] as? [String: String] ?? [:]
                return (world: world, tally: arm.tally, version: version, metadata: metadata,
                        warmUpSeconds: warmUpSeconds, trainSeconds: Self.since(training))
            }
        } catch {
            await warmServer.stop()
            throw error
        }
        // The copies below need the warm-up service's files closed, not just its server stopped.
        try await warmServer.stopAndClose()
        Console.status("[seed \(seed)] warm-up CTR \(Self.format(warm.tally.total.ctr)) (no model); iALS version \(warm.version) trained and promoted "
            + "(\(String(format: "%.1f", warm.trainSeconds)) s; held-out Recall@20 \(warm.metadata["holdout_recall@20"] ?? "?"))")

        // Phase 2: the same world against a frozen and an online copy of that service.
        let directories = [root.appendingPathComponent("frozen"), root.appendingPathComponent("online")]
        for d in directories { try await Self.copyFolder(warmDirectory, to: d) }
        let frozenServer = try await SimulationServer.start(directory: directories[0], online: false, ranker: false)
        let onlineServer: SimulationServer
        do { onlineServer = try await SimulationServer.start(directory: directories[1], online: true, ranker: s.onlineRanker) } catch {
            await frozenServer.stop()
            throw error
        }
        let main: (world: SimulatedWorld, arms: [ArmOutcome], seconds: Double)
        do {
            main = try await Threads.offThread {
                let phase = DispatchTime.now().uptimeNanoseconds
                var world = warm.world
                let arms = [try SimulationArm(name: "frozen", port: frozenServer.port, k: s.k, settleMs: s.settleMs),
                            try SimulationArm(name: "online", port: onlineServer.port, k: s.k, settleMs: s.settleMs)]
                for r in 0..<s.rounds {
                    let roundStart = DispatchTime.now().uptimeNanoseconds
                    let plan = world.plan(), current = world
                    let probing = s.probeEvery > 0 && r % s.probeEvery == s.probeEvery / 2 ? s.probing : nil
                    let retrain = s.retrainOnlineEvery > 0 && (r + 1) % s.retrainOnlineEvery == 0
                    let results = Threads.run(arms.count) { j in
                        Result {
                            try arms[j].play(plan, world: current, clickModel: clickModel, probing: probing)
                            if retrain && j == 1 { try arms[j].retrainAndPromote(s) }
                        }
                    }
                    for result in results { try result.get() }
                    world.advance()
                    if (r + 1) % s.window == 0 || r == s.rounds - 1 {
                        for arm in arms { try arm.noteActiveVersion() }
                        let w = arms.map { $0.tally.windows(of: s.window).last?.ctr }
                        Console.status("[seed \(seed)] round \(r + 1)/\(s.rounds): window CTR frozen \(Self.format(w[0])), online \(Self.format(w[1])); "
                            + "overall frozen \(Self.format(arms[0].tally.total.ctr)), online \(Self.format(arms[1].tally.total.ctr)); "
                            + "model versions \(arms.map { $0.activeVersions.last.flatMap { $0 }.map(String.init) ?? "none" }.joined(separator: "/")); "
                            + "\(String(format: "%.0f", Self.since(phase))) s")
                    }
                    let elapsedMs = Double(DispatchTime.now().uptimeNanoseconds - roundStart) / 1e6
                    if s.roundMs > elapsedMs { usleep(UInt32((s.roundMs - elapsedMs) * 1000)) }
                }
                let outcomes = try arms.map { arm in
                    let listed = try arm.models()
                    return ArmOutcome(tally: arm.tally, probes: arm.probes, activeVersions: arm.activeVersions,
                                      finalActive: listed.active, versions: listed.versions, ranker: try arm.rankerFigures())
                }
                return (world: world, arms: outcomes, seconds: Self.since(phase))
            }
        } catch {
            await frozenServer.stop()
            await onlineServer.stop()
            throw error
        }
        // Closed before the folders are removed (at the end of this function).
        try await frozenServer.stopAndClose()
        try await onlineServer.stopAndClose()

        let end = main.world
        let cosines = zip(initial.users, end.users).map { Double(Latent.cosine($0.taste, $1.taste)) }
        return SimulationOutcome(
            settings: s, warmUp: warm.tally, frozen: main.arms[0], online: main.arms[1], warmUpModel: warm.version,
            warmUpModelMetadata: warm.metadata, itemsAtEnd: end.items.count,
            tasteCosine: SampleStatistics.mean(cosines) ?? .nan,
            usersShifted: Double(end.users.filter { $0.shifts > 0 }.count) / Double(max(1, end.users.count)),
            armsDiffer: Simulate.armsDiffer,
            seconds: ["warm_up": warm.warmUpSeconds, "train": warm.trainSeconds, "main": main.seconds, "total": Self.since(started)])
    }

    /// Copies a closed service's folder. The weak reference that tells the service is gone turns
    /// nil as its deinitialiser starts, so SQLite may still be checkpointing and deleting its
    /// -wal/-shm files for a moment: a copy that fails because a file vanished is retried.
    static func copyFolder(_ source: URL, to destination: URL) async throws {
        var attempt = 0
        while true {
            do {
                try FileManager.default.copyItem(at: source, to: destination)
                return
            } catch {
                attempt += 1
                try? FileManager.default.removeItem(at: destination)
                if attempt >= 20 { throw error }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Seconds since `t` (a `DispatchTime` uptime in nanoseconds).
    static func since(_ t: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9 }

    static func format(_ rate: Double?) -> String { rate.map { String(format: "%.4f", $0) } ?? "–" }
}
