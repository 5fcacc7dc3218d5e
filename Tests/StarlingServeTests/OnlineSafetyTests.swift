import Foundation
import StarlingServe
import Testing

@Suite("Online safety: impression ledger, promotion gate, rollback rule")
struct OnlineSafetyTests {
    @Test func clicksCountForTheVersionThatServedTheListOncePerItemWithinTheWindow() {
        let ledger = ImpressionLedger(windowMs: 1000)
        ledger.served(user: "a", items: ["x", "y", "z"], version: 1, nowMs: 0)
        ledger.served(user: "b", items: ["x", "y"], version: 2, nowMs: 0)
        #expect(ledger.clicked(user: "a", item: "y", isPurchase: false, nowMs: 10) == 1)
        #expect(ledger.clicked(user: "a", item: "y", isPurchase: false, nowMs: 20) == nil)  // once per shown item
        #expect(ledger.clicked(user: "a", item: "q", isPurchase: false, nowMs: 20) == nil)  // not shown
        #expect(ledger.clicked(user: "b", item: "x", isPurchase: false, nowMs: 2000) == nil)  // too late
        #expect(ledger.clicked(user: "b", item: "x", isPurchase: true, nowMs: 500) == 2)
        #expect(ledger.counts(version: 1) == .init(impressions: 3, clicks: 1, purchases: 0))
        #expect(ledger.counts(version: 2) == .init(impressions: 2, clicks: 0, purchases: 1))
        // A newer list replaces the older one.
        ledger.served(user: "a", items: ["w"], version: 2, nowMs: 30)
        #expect(ledger.clicked(user: "a", item: "x", isPurchase: false, nowMs: 40) == nil)
        #expect(ledger.expire(nowMs: 1100) == 2)
    }

    static func figures(_ auc: Double, _ logLoss: Double, _ examples: Int = 1000) -> OnlineLearner.Progressive {
        OnlineLearner.Progressive(auc: auc, logLoss: logLoss, examples: examples)
    }

    @Test func theGatePromotesOnlyWhenTheLiveModelIsNotWorseBeyondTheTolerance() {
        let c = OnlineLearner.Configuration(minValidationExamples: 500, gateAUCTolerance: 0.01, gateLogLossTolerance: 0.02)
        #expect(OnlineLearner.gate(live: Self.figures(0.80, 0.5), serving: nil, configuration: c).reason == nil)
        #expect(OnlineLearner.gate(live: Self.figures(0.795, 0.51), serving: Self.figures(0.80, 0.5), configuration: c).reason == nil)
        #expect(OnlineLearner.gate(live: Self.figures(0.78, 0.5), serving: Self.figures(0.80, 0.5), configuration: c).reason?.contains("AUC worse") == true)
        #expect(OnlineLearner.gate(live: Self.figures(0.80, 0.55), serving: Self.figures(0.80, 0.5), configuration: c).reason?.contains("log loss worse") == true)
        #expect(OnlineLearner.gate(live: Self.figures(0.9, 0.1, 100), serving: Self.figures(0.80, 0.5), configuration: c).reason?.contains("fewer than") == true)
    }

    @Test func rollbackOnAnAUCDropOrASignificantCTRDropOnly() {
        let c = OnlineLearner.Configuration(rollbackAUCDrop: 0.03, rollbackMinImpressions: 2000, rollbackAlpha: 0.001)
        let none = ImpressionLedger.Counts()
        #expect(OnlineLearner.rollbackReason(previousAUC: 0.85, currentAUC: 0.80, previous: none, current: none, configuration: c)?.contains("AUC fell") == true)
        #expect(OnlineLearner.rollbackReason(previousAUC: 0.85, currentAUC: 0.83, previous: none, current: none, configuration: c) == nil)
        let before = ImpressionLedger.Counts(impressions: 10_000, clicks: 1000, purchases: 0)
        let clearlyWorse = ImpressionLedger.Counts(impressions: 10_000, clicks: 700, purchases: 0)
        let slightlyWorse = ImpressionLedger.Counts(impressions: 10_000, clicks: 980, purchases: 0)
        let tooFew = ImpressionLedger.Counts(impressions: 500, clicks: 10, purchases: 0)
        #expect(OnlineLearner.rollbackReason(previousAUC: nil, currentAUC: nil, previous: before, current: clearlyWorse, configuration: c)?.contains("CTR fell") == true)
        #expect(OnlineLearner.rollbackReason(previousAUC: nil, currentAUC: nil, previous: before, current: slightlyWorse, configuration: c) == nil)
        #expect(OnlineLearner.rollbackReason(previousAUC: nil, currentAUC: nil, previous: before, current: tooFew, configuration: c) == nil)
        // Significant in a huge sample, but only 5% lower: a drifting world does that on its own.
        let big = ImpressionLedger.Counts(impressions: 1_000_000, clicks: 100_000, purchases: 0)
        let fivePercentLower = ImpressionLedger.Counts(impressions: 1_000_000, clicks: 95_000, purchases: 0)
        #expect(OnlineLearner.rollbackReason(previousAUC: nil, currentAUC: nil, previous: big, current: fivePercentLower, configuration: c) == nil)
    }
}
