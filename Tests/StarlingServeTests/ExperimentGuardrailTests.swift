import Foundation
import StarlingServe
import Testing

@Suite("Experiment guardrails: sequential looks with a bounded error rate")
struct ExperimentGuardrailTests {
    static func experiment(_ counts: [(impressions: Int, clicks: Int)], guardrail: Experiment.Guardrail) -> Experiment {
        Experiment(id: "e", name: "e", arms: counts.enumerated().map { i, c in
            Experiment.Arm(name: "arm\(i)", version: i + 1, share: 1, impressions: c.impressions, clicks: c.clicks)
        }, created: 0, guardrail: guardrail)
    }

    @Test("no look before min_impressions; a clearly worse arm is stopped at the first look; looks advance by doublings")
    func looks() {
        let g = Experiment.Guardrail(minImpressions: 1000, alpha: 0.01, maxLooks: 20)
        var early = Self.experiment([(999, 300), (5000, 10)], guardrail: g)
        #expect(early.look() == nil && early.looks == nil)

        var worse = Self.experiment([(1000, 300), (1000, 100)], guardrail: g)
        guard case let .worse(arm, p)? = worse.look() else { Issue.record("expected the worse arm to be stopped"); return }
        #expect(arm == 1 && p < 0.01 / 20)
        #expect(worse.looks == 1)

        // Equal rates: a look happens, nothing is decided, and the next look waits for 2,000.
        var same = Self.experiment([(1000, 100), (1000, 100)], guardrail: g)
        #expect(same.look() == nil && same.looks == 1)
        #expect(same.look() == nil && same.looks == 1)
        same.arms[0].impressions = 1999; same.arms[1].impressions = 2500
        #expect(same.look() == nil && same.looks == 1)
        same.arms[0].impressions = 4100
        same.arms[1].impressions = 4100
        #expect(same.look() == nil && same.looks == 3)
    }

    @Test("a difference significant at 0.05 but not at alpha / (looks × arms) does not stop the experiment")
    func bonferroni() {
        // 10% vs 8% over 2,000 each: p ≈ 0.027.
        var e = Self.experiment([(2000, 200), (2000, 160)], guardrail: Experiment.Guardrail(minImpressions: 1000, alpha: 0.05, maxLooks: 10))
        #expect(e.look() == nil)
        var single = Self.experiment([(2000, 200), (2000, 160)], guardrail: Experiment.Guardrail(minImpressions: 1000, alpha: 0.05, maxLooks: 1))
        #expect(single.look() != nil)
    }

    @Test("promote_winner picks the best significantly better arm; without it better arms keep running")
    func winner() {
        let counts = [(3000, 150), (3000, 300), (3000, 400)]
        var keep = Self.experiment(counts, guardrail: Experiment.Guardrail(minImpressions: 1000))
        #expect(keep.look() == nil)
        var promote = Self.experiment(counts, guardrail: Experiment.Guardrail(minImpressions: 1000, promoteWinner: true))
        guard case let .better(arm, _)? = promote.look() else { Issue.record("expected a winner"); return }
        #expect(arm == 2)
    }

    @Test("A/A: over 2,000 seeded simulated experiments with equal CTRs, well under alpha end early")
    func falseStops() {
        var state: UInt64 = 0x5eed
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        var stopped = 0
        let runs = 2000
        for _ in 0..<runs {
            var e = Self.experiment([(0, 0), (0, 0)], guardrail: Experiment.Guardrail(minImpressions: 200, alpha: 0.05, maxLooks: 8))
            // 25,600 impressions per arm in steps of 100, looking after every step (as the server does).
            for _ in 0..<256 {
                for a in 0..<2 {
                    e.arms[a].impressions += 100
                    for _ in 0..<100 where uniform() < 0.05 { e.arms[a].clicks += 1 }
                }
                if e.look() != nil { stopped += 1; break }
            }
        }
        print("guardrail A/A: \(stopped) of \(runs) experiments stopped (alpha 0.05, up to 8 looks)")
        #expect(Double(stopped) / Double(runs) < 0.05, "\(stopped) of \(runs) A/A experiments stopped")
    }
}
