import Foundation

/// An A/B experiment: model versions (arms) that share the traffic, with what each arm showed
/// and what users did with it.
public struct Experiment: Codable, Sendable, Equatable {
    /// One arm: a model version and its traffic share, with its counters.
    public struct Arm: Codable, Sendable, Equatable {
        public var name: String
        public var version: Int
        /// Share of users, relative to the other arms' (shares are normalised to sum to 1).
        public var share: Double
        /// Items shown in recommendation lists served by this arm.
        public var impressions: Int
        /// Clicks and purchases on items this arm showed the user (in their latest list from it).
        public var clicks: Int
        public var purchases: Int

        public init(name: String, version: Int, share: Double, impressions: Int = 0, clicks: Int = 0, purchases: Int = 0) {
            self.name = name
            self.version = version
            self.share = share
            self.impressions = impressions
            self.clicks = clicks
            self.purchases = purchases
        }
    }

    public enum Status: String, Codable, Sendable { case running, stopped }

    /// When an experiment ends on its own. At each look — when the smallest arm has reached
    /// `minImpressions · 2^j` impressions, j = 0, 1, … < `maxLooks` — every other arm's CTR is
    /// tested against the control's (two-proportion z-test) at `alpha / (maxLooks · (arms − 1))`,
    /// so that however often anyone looks, the chance of a wrong call stays below `alpha`
    /// (Bonferroni over looks and arms). An arm significantly worse than the control stops the
    /// experiment (and is rolled back if it is the active model); with `promoteWinner`, an arm
    /// significantly better is promoted and the experiment stops.
    public struct Guardrail: Codable, Sendable, Equatable {
        public var minImpressions: Int
        public var alpha: Double
        public var maxLooks: Int
        public var promoteWinner: Bool

        public init(minImpressions: Int = 1000, alpha: Double = 0.01, maxLooks: Int = 20, promoteWinner: Bool = false) {
            self.minImpressions = minImpressions
            self.alpha = alpha
            self.maxLooks = maxLooks
            self.promoteWinner = promoteWinner
        }

        func validate(_ id: String) throws(ServiceError) {
            guard minImpressions >= 1 else { throw .badRequest("experiment '\(id)': guardrail min_impressions must be at least 1") }
            guard alpha > 0 && alpha < 1 else { throw .badRequest("experiment '\(id)': guardrail alpha must be in (0, 1), got \(alpha)") }
            guard (1...60).contains(maxLooks) else { throw .badRequest("experiment '\(id)': guardrail max_looks must be 1–60, got \(maxLooks)") }
        }
    }

    /// What a guardrail look decided about an arm (by index).
    public enum Decision: Sendable, Equatable {
        case worse(arm: Int, pValue: Double)
        case better(arm: Int, pValue: Double)
    }

    public var id: String
    public var name: String
    public var arms: [Arm]
    public var status: Status
    /// Unix milliseconds.
    public var created: Int64
    public var stopped: Int64?
    /// Automatic stopping (nil: the experiment runs until stopped by hand).
    public var guardrail: Guardrail?
    /// Guardrail looks taken so far.
    public var looks: Int?
    /// Why and how the experiment ended, when a guardrail ended it.
    public var conclusion: String?

    public init(id: String, name: String, arms: [Arm], status: Status = .running, created: Int64, stopped: Int64? = nil,
                guardrail: Guardrail? = nil) {
        self.id = id
        self.name = name
        self.arms = arms
        self.status = status
        self.created = created
        self.stopped = stopped
        self.guardrail = guardrail
    }

    /// Takes a guardrail look if the arms have reached the next checkpoint; returns its decision
    /// (nil: carry on). Arms significantly worse than the control come before better ones.
    public mutating func look() -> Decision? {
        guard status == .running, let g = guardrail, arms.count >= 2, let smallest = arms.map(\.impressions).min(),
              smallest >= g.minImpressions else { return nil }
        let taken = looks ?? 0
        let checkpoint = Int(log2(Double(smallest) / Double(g.minImpressions)))
        guard taken < g.maxLooks, checkpoint >= taken else { return nil }
        looks = min(checkpoint + 1, g.maxLooks)
        let threshold = g.alpha / Double(g.maxLooks * (arms.count - 1))
        let control = arms[0]
        let controlRate = Double(control.clicks) / Double(control.impressions)
        var worse: Decision?, better: (arm: Int, p: Double, rate: Double)?
        for i in 1..<arms.count {
            let a = arms[i]
            let p = Self.twoProportionP(a.clicks, a.impressions, control.clicks, control.impressions)
            guard p < threshold else { continue }
            let rate = Double(a.clicks) / Double(a.impressions)
            if rate < controlRate {
                if worse == nil { worse = .worse(arm: i, pValue: p) }
            } else if g.promoteWinner, rate > (better?.rate ?? controlRate) {
                better = (i, p, rate)
            }
        }
        if let worse { return worse }
        return better.map { .better(arm: $0.arm, pValue: $0.p) }
    }

    /// The arm of `user`: a stable hash of the experiment and user ids mapped onto the shares, so a
    /// user sees the same arm on every request and on every replica.
    public func armIndex(for user: String) -> Int {
        let u = Double(Self.fnv1a("\(id)\u{1F}\(user)") >> 11) / Double(1 << 53)
        let total = arms.reduce(0) { $0 + $1.share }
        var cumulative = 0.0
        for (i, arm) in arms.enumerated() {
            cumulative += arm.share / total
            if u < cumulative { return i }
        }
        return arms.count - 1
    }

    /// FNV-1a, 64 bits, with a final avalanche (splitmix64's) so nearby ids spread evenly.
    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
        return h ^ (h >> 31)
    }

    /// Checks a new experiment's arms: at least two, positive shares, distinct names.
    public func validate() throws(ServiceError) {
        guard arms.count >= 2 else { throw .badRequest("experiment '\(id)': needs at least two arms, has \(arms.count)") }
        for arm in arms where !(arm.share > 0 && arm.share.isFinite) {
            throw .badRequest("experiment '\(id)': arm '\(arm.name)' has share \(arm.share); shares must be positive")
        }
        guard Set(arms.map(\.name)).count == arms.count else { throw .badRequest("experiment '\(id)': arm names must be distinct") }
        guard !id.isEmpty else { throw .badRequest("experiment: field 'id' must not be empty") }
        try guardrail?.validate(id)
    }
}

/// What an arm achieved: click-through rate with a 95% Wilson interval, purchase rate, and the
/// comparison with the first arm (the control).
public struct ArmResult: Codable, Sendable, Equatable {
    public var name: String
    public var version: Int
    public var impressions: Int
    public var clicks: Int
    public var purchases: Int
    public var ctr: Double
    public var ctrLow: Double
    public var ctrHigh: Double
    public var purchaseRate: Double
    /// CTR relative to the control's, minus 1 (nil for the control, or when the control has no clicks).
    public var liftVsControl: Double?
    /// Two-sided p-value of a two-proportion z-test of CTR against the control.
    public var pValueVsControl: Double?
}

extension Experiment {
    /// Per-arm results, control first.
    public var results: [ArmResult] {
        let control = arms.first
        return arms.enumerated().map { i, arm in
            let (ctr, low, high) = Self.wilson(successes: arm.clicks, trials: arm.impressions)
            var lift: Double?, p: Double?
            if i > 0, let control, control.impressions > 0, arm.impressions > 0 {
                let c = Double(control.clicks) / Double(control.impressions)
                if c > 0 { lift = ctr / c - 1 }
                p = Self.twoProportionP(arm.clicks, arm.impressions, control.clicks, control.impressions)
            }
            return ArmResult(name: arm.name, version: arm.version, impressions: arm.impressions, clicks: arm.clicks,
                             purchases: arm.purchases, ctr: ctr, ctrLow: low, ctrHigh: high,
                             purchaseRate: arm.impressions > 0 ? Double(arm.purchases) / Double(arm.impressions) : 0,
                             liftVsControl: lift, pValueVsControl: p)
        }
    }

    /// The Wilson score interval at 95% (z = 1.96): rate, low, high.
    static func wilson(successes: Int, trials: Int) -> (Double, Double, Double) {
        guard trials > 0 else { return (0, 0, 0) }
        let n = Double(trials), p = Double(successes) / n, z = 1.959964
        let denominator = 1 + z * z / n
        let centre = (p + z * z / (2 * n)) / denominator
        let half = z * ((p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()) / denominator
        return (p, max(0, centre - half), min(1, centre + half))
    }

    /// Two-sided p-value of the pooled two-proportion z-test.
    static func twoProportionP(_ x1: Int, _ n1: Int, _ x2: Int, _ n2: Int) -> Double {
        let p1 = Double(x1) / Double(n1), p2 = Double(x2) / Double(n2)
        let pooled = Double(x1 + x2) / Double(n1 + n2)
        let se = (pooled * (1 - pooled) * (1 / Double(n1) + 1 / Double(n2))).squareRoot()
        guard se > 0 else { return 1 }
        let z = abs(p1 - p2) / se
        return erfc(z / 2.0.squareRoot())
    }
}
