import Foundation
import StarlingEval
import StarlingTensor
import Testing

@Suite("Progressive validation and drift")
struct OnlineMetricTests {
    @Test func progressiveValidationCoversTheLatestWindowOnly() {
        var v = ProgressiveValidation(window: 4)
        #expect(v.auc == nil && v.logLoss == nil)
        // Four perfectly ranked predictions, then four inverted ones that push them out.
        for (s, y) in [(0.9, true), (0.1, false), (0.8, true), (0.2, false)] { v.add(score: Float(s), probability: Float(s), label: y) }
        #expect(v.auc == 1 && v.count == 4)
        for (s, y) in [(0.1, true), (0.9, false), (0.2, true), (0.8, false)] { v.add(score: Float(s), probability: Float(s), label: y) }
        #expect(v.auc == 0 && v.count == 4 && v.total == 8)
        let expected = ClassificationMetrics.logLoss(probabilities: [0.1, 0.9, 0.2, 0.8], labels: [true, false, true, false])
        #expect(abs(v.logLoss! - expected) < 1e-9)
    }

    @Test func plattCalibrationLearnsPrequentiallyAndLowersTheLogLoss() {
        // Scores s ~ N(±1, 1) for the two labels: a calibrated σ(a·s + b) must beat σ(s·0).
        var rng = RandomGenerator(seed: 5)
        var calibrator = PlattCalibrator(a: 0, b: 0)
        var early = ProgressiveValidation(window: 500), late = ProgressiveValidation(window: 500)
        for n in 0..<6000 {
            let label = rng.next() % 2 == 0
            let u1 = max(rng.nextFloat(), 1e-7), u2 = rng.nextFloat()
            let s = (label ? 2 : -2) + (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            let p = calibrator.probability(s)
            if n < 500 { early.add(score: s, probability: p, label: label) } else { late.add(score: s, probability: p, label: label) }
            calibrator.learn(score: s, label: label)
        }
        #expect(late.logLoss! < early.logLoss! - 0.1 && calibrator.a > 0.5)
    }

    @Test func driftIsNearZeroForTheSameDistributionAndLargeForAShiftedOne() throws {
        var rng = RandomGenerator(seed: 11)
        func normal(_ mean: Float, _ n: Int) -> [Float] {
            (0..<n).map { _ in
                let u1 = max(rng.nextFloat(), 1e-7), u2 = rng.nextFloat()
                return mean + (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            }
        }
        let reference = normal(0, 5000)
        let same = try #require(DistributionDrift(reference: reference, current: normal(0, 5000)))
        let shifted = try #require(DistributionDrift(reference: reference, current: normal(1, 5000)))
        #expect(same.psi < 0.02 && same.kl < 0.02)
        #expect(shifted.psi > 0.5 && shifted.kl > 0.2)
        #expect(DistributionDrift(reference: [1, 2], current: [1, 2, 3]) == nil)
        // Two bins split at the reference median; everything moves to the upper bin: shares
        // (0.5, 0.5) → (1e-4 floor, 1): PSI = (1e-4 − 0.5)·ln(1e-4/0.5) + (1 − 0.5)·ln(1/0.5).
        let all = try #require(DistributionDrift(reference: [0, 0, 1, 1], current: [5, 5, 5, 5], bins: 2))
        let expected = (1e-4 - 0.5) * log(1e-4 / 0.5) + 0.5 * log(2.0)
        #expect(abs(all.psi - expected) < 1e-9)
    }
}
