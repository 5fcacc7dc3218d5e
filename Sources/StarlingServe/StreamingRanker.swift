import Foundation
import StarlingEval
import StarlingModels
import StarlingStream
import Synchronization

/// A second-stage ranker that reads streaming features at request time and learns from every
/// shown list as its clicks come in.
///
/// Each served list (the items a known user was shown, in order) is kept with the feature vector
/// of every shown item as it was at serving time (``RankingFeatureLayout``). The list is labelled
/// when the user is served again or `labelWindowMs` after it was served, whichever comes first: a
/// shown item is a positive if the user clicked or bought it meanwhile. The ranker — logistic
/// regression by FTRL-Proximal — then learns from each item, after predicting it (progressive
/// validation). Position is one of the learned features, so that clicks earned by being on top are
/// credited to the position and not to the item; ranking leaves it out (it would add the same
/// number to every candidate at a given place).
///
/// The ranker only orders candidates once it has earned it, judged on exploration lists: a share
/// `explorationRate` of lists (picked by a fixed hash of user and event time) is shown in a random order (the same items), so that there a click
/// says which items were wanted, not which were on top. On those lists, the ranker's relevance
/// score (predicted before learning from the list) and the engine's own order are compared by
/// per-list AUC (the share of clicked–unclicked pairs each orders correctly, pooled over the
/// latest `decisionLists` lists with both). The ranker is switched on when it beats the engine's
/// order by `activationMargin`, with at least `minDecisionLists` such lists, and off again when it
/// no longer beats it. (Comparing on lists ordered by one of the two would credit it with the
/// position bias of its own order.)
public final class StreamingRanker: Sendable {
    public struct Configuration: Sendable {
        public var hyperparameters: FTRLLogisticRegression.Hyperparameters
        /// A list is labelled this long after it was served if the user is not served again first.
        public var labelWindowMs: Int64
        /// Share of lists shown in a random order, to judge the ranker by.
        public var explorationRate: Double
        /// Exploration lists with a click and a non-click needed before the ranker may order anything.
        public var minDecisionLists: Int
        /// How many of the latest such lists the decision covers.
        public var decisionLists: Int
        /// How much higher the ranker's per-list AUC must be than the engine order's.
        public var activationMargin: Double
        /// How many of the latest examples the progressive AUC and log loss cover.
        public var validationWindow: Int
        /// Only the first this many items of a shown list are learned from.
        public var shownLimit: Int

        public init(hyperparameters: FTRLLogisticRegression.Hyperparameters = .init(), labelWindowMs: Int64 = 120_000,
                    explorationRate: Double = 0.05, minDecisionLists: Int = 100, decisionLists: Int = 2_000,
                    activationMargin: Double = 0.01, validationWindow: Int = 20_000, shownLimit: Int = 50) {
            precondition(explorationRate >= 0 && explorationRate <= 1, "StreamingRanker: explorationRate must be in [0, 1]")
            self.hyperparameters = hyperparameters
            self.labelWindowMs = labelWindowMs
            self.explorationRate = explorationRate
            self.minDecisionLists = minDecisionLists
            self.decisionLists = decisionLists
            self.activationMargin = activationMargin
            self.validationWindow = validationWindow
            self.shownLimit = shownLimit
        }
    }

    /// What the ranker has learned and whether it ranks.
    public struct Status: Codable, Sendable, Equatable {
        /// Whether the ranker orders candidates now.
        public var active: Bool
        /// Shown items learned from, lists labelled, and the clicked items among them.
        public var examples: Int
        public var lists: Int
        public var positives: Int
        /// Lists served and not yet labelled.
        public var pendingLists: Int
        /// Progressive AUC and log loss of the ranker's click probability (position included)
        /// over the latest examples.
        public var auc: Double?
        public var logLoss: Double?
        /// Exploration lists labelled, and those in the decision window (with a click and a non-click).
        public var explorationLists: Int
        public var decisionLists: Int
        /// Per-list AUC on exploration lists of the ranker's relevance score and of the engine's order.
        public var rankerListAUC: Double?
        public var engineListAUC: Double?
        /// Times the ranker was switched on and off.
        public var activations: Int
        public var deactivations: Int
        /// The ranker's weights by feature name.
        public var weights: [String: Double]
    }

    /// A shown list waiting for its labels.
    struct PendingList {
        var atMs: Int64
        var items: [String]
        /// Ranker vectors without position, in shown order, and the engine's rank of each item.
        var vectors: [[Float]]
        var baselineRanks: [Int]
        var clicked: [Bool]
        var exploration: Bool
    }

    /// Clicked–unclicked pairs of one exploration list, and how many each order got right (ties half).
    struct PairCounts {
        var pairs: Double
        var ranker: Double
        var engine: Double
    }

    private struct Learning {
        var ranker: FTRLLogisticRegression
        var validation: ProgressiveValidation
        var decisions: [PairCounts] = []
        var nextDecision = 0
        var active = false
        var examples = 0, lists = 0, positives = 0, explorationLists = 0
        var activations = 0, deactivations = 0
    }

    public let configuration: Configuration
    let layout: RankingFeatureLayout
    private let learning: Mutex<Learning>
    /// The weights requests rank with, republished after each list learned (requests never wait on learning).
    private let published: Mutex<(active: Bool, weights: FTRLLogisticRegression)>
    private let pending = ShardedDictionary<PendingList>(shardCount: 16)

    /// A ranker over the streaming features `definitions`.
    public init(definitions: [FeatureDefinition], configuration: Configuration = Configuration()) {
        self.configuration = configuration
        layout = RankingFeatureLayout(definitions: definitions)
        let ranker = FTRLLogisticRegression(dimension: layout.dimension, hyperparameters: configuration.hyperparameters)
        learning = Mutex(Learning(ranker: ranker, validation: ProgressiveValidation(window: configuration.validationWindow)))
        published = Mutex((false, ranker))
    }

    /// The feature names of the ranker, in vector order.
    public var featureNames: [String] { layout.names }

    /// A per-request re-ranker for `user` reading `store` at event time `featureAtMs`, serving at
    /// wall time `nowMs`; `recentCategories`: the categories of the user's recent items.
    public func request(user: String?, store: any FeatureStore, recentCategories: [[String]], featureAtMs: Int64,
                        nowMs: Int64) -> RankingRequest {
        let (active, model) = published.withLock { $0 }
        return RankingRequest(ranker: self, model: active ? model : nil, user: user, store: store,
                              recentCategories: recentCategories, featureAtMs: featureAtMs, nowMs: nowMs,
                              exploration: user.flatMap { Self.explorationSeed(user: $0, featureAtMs: featureAtMs, rate: configuration.explorationRate) })
    }

    /// The seed of the list's random order if `user`'s list at event time `featureAtMs` is an
    /// exploration list: a fixed hash of the two (FNV-1a of the user, mixed with the time by
    /// SplitMix64's finaliser) below `explorationRate` of its range. The same user at the same
    /// event time gets the same answer however often they ask (a replayed stream explores the
    /// same lists), and across users and times the share is the rate.
    static func explorationSeed(user: String, featureAtMs: Int64, rate: Double) -> UInt64? {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in user.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        var z = h ^ (UInt64(bitPattern: featureAtMs) &* 0x9e37_79b9_7f4a_7c15)
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        z ^= z >> 31
        return Double(z >> 11) * 0x1p-53 < rate ? z : nil
    }

    /// Keeps `user`'s newly shown list (vectors in shown order, without position); labels the one it replaces.
    func served(user: String, items: [String], vectors: [[Float]], baselineRanks: [Int], exploration: Bool, nowMs: Int64) {
        let n = min(items.count, configuration.shownLimit)
        guard n > 0 else { return }
        let list = PendingList(atMs: nowMs, items: Array(items.prefix(n)), vectors: Array(vectors.prefix(n)),
                               baselineRanks: Array(baselineRanks.prefix(n)), clicked: Array(repeating: false, count: n),
                               exploration: exploration)
        let previous = pending.withLock(user) { lists in
            let old = lists[user]
            lists[user] = list
            return old
        }
        if let previous { learn(from: previous) }
    }

    /// A click or purchase by `user` on `item`: a positive if the item is on the user's pending list.
    public func clicked(user: String, item: String, nowMs: Int64) {
        pending.withLock(user) { lists in
            guard var list = lists[user], nowMs - list.atMs <= configuration.labelWindowMs,
                  let k = list.items.firstIndex(of: item), !list.clicked[k] else { return }
            list.clicked[k] = true
            lists[user] = list
        }
    }

    /// Labels and learns from every list served more than `labelWindowMs` before `nowMs`; returns how many.
    @discardableResult
    public func labelExpired(nowMs: Int64) -> Int {
        let window = configuration.labelWindowMs
        let due = pending.removeAll { nowMs - $1.atMs > window }
        for list in due { learn(from: list) }
        return due.count
    }

    /// Progressive validation, then learning, for each item of `list`; an exploration list with a
    /// click and a non-click also enters the activation decision.
    private func learn(from list: PendingList) {
        let layout = self.layout, configuration = self.configuration
        let snapshot: (Bool, FTRLLogisticRegression) = learning.withLock { l in
            var relevance: [Double] = []
            for k in list.items.indices {
                let label = list.clicked[k]
                let r = l.ranker.logit(list.vectors[k])
                relevance.append(r)
                // The position's one-hot adds its weight: the logit with the position known.
                let logit = Float(r + l.ranker.weights[layout.positionOffset + RankingFeatureLayout.positionBucket(k)])
                let x = layout.placed(list.vectors[k], at: k)
                let p = l.ranker.learn(x, label: label)
                l.validation.add(score: logit, probability: Float(p), label: label)
                if label { l.positives += 1 }
            }
            l.examples += list.items.count
            l.lists += 1
            guard list.exploration else { return (l.active, l.ranker) }
            l.explorationLists += 1
            guard let pairs = Self.pairCounts(clicked: list.clicked, ranker: relevance, engine: list.baselineRanks.map { -Double($0) }) else {
                return (l.active, l.ranker)
            }
            if l.decisions.count < configuration.decisionLists { l.decisions.append(pairs) } else { l.decisions[l.nextDecision] = pairs }
            l.nextDecision = (l.nextDecision + 1) % configuration.decisionLists
            let wasActive = l.active
            if l.decisions.count >= configuration.minDecisionLists, let (ranker, engine) = Self.listAUCs(l.decisions) {
                l.active = wasActive ? ranker > engine : ranker > engine + configuration.activationMargin
            }
            if l.active && !wasActive { l.activations += 1 }
            if !l.active && wasActive { l.deactivations += 1 }
            return (l.active, l.ranker)
        }
        published.withLock { $0 = snapshot }
    }

    /// The clicked–unclicked pairs of one list and how many of them each score orders correctly
    /// (ties count half); nil without both a click and a non-click.
    static func pairCounts(clicked: [Bool], ranker: [Double], engine: [Double]) -> PairCounts? {
        var out = PairCounts(pairs: 0, ranker: 0, engine: 0)
        for i in clicked.indices where clicked[i] {
            for j in clicked.indices where !clicked[j] {
                out.pairs += 1
                out.ranker += ranker[i] > ranker[j] ? 1 : ranker[i] == ranker[j] ? 0.5 : 0
                out.engine += engine[i] > engine[j] ? 1 : engine[i] == engine[j] ? 0.5 : 0
            }
        }
        return out.pairs > 0 ? out : nil
    }

    /// Pooled per-list AUC of the ranker and the engine order over `decisions`.
    static func listAUCs(_ decisions: [PairCounts]) -> (ranker: Double, engine: Double)? {
        let pairs = decisions.reduce(0) { $0 + $1.pairs }
        guard pairs > 0 else { return nil }
        return (decisions.reduce(0) { $0 + $1.ranker } / pairs, decisions.reduce(0) { $0 + $1.engine } / pairs)
    }

    /// Lists served and not yet labelled.
    public var pendingLists: Int { pending.count }

    /// Whether the ranker orders candidates now.
    public var isActive: Bool { published.withLock { $0.active } }

    /// The current figures (computes the window AUC: call it for a report, not per request).
    public var status: Status {
        let pending = pendingLists
        return learning.withLock { l in
            let lists = Self.listAUCs(l.decisions)
            return Status(active: l.active, examples: l.examples, lists: l.lists, positives: l.positives, pendingLists: pending,
                          auc: l.validation.auc, logLoss: l.validation.logLoss, explorationLists: l.explorationLists,
                          decisionLists: l.decisions.count, rankerListAUC: lists?.ranker, engineListAUC: lists?.engine,
                          activations: l.activations, deactivations: l.deactivations,
                          weights: Dictionary(uniqueKeysWithValues: zip(layout.names, l.ranker.weights)))
        }
    }
}
