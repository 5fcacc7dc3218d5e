import Foundation
import StarlingModels
import StarlingTensor
import Testing

@Suite("FTRL-Proximal logistic regression")
struct FTRLLogisticRegressionTests {
    @Test func theFirstUpdateMatchesTheClosedFormByHand() {
        var m = FTRLLogisticRegression(dimension: 2, hyperparameters: .init(alpha: 0.1, beta: 1, l1: 0, l2: 0))
        let p = m.learn([1, 2], label: true)
        #expect(p == 0.5)
        // g = p − y = −0.5 per unit of x: g = (−0.5, −1); n = g²; z = g (w was 0);
        // w = −z / ((β + √n) / α): 0.5 / 15 and 1 / 20.
        #expect(abs(m.weights[0] - 0.5 / 15) < 1e-12)
        #expect(abs(m.weights[1] - 1.0 / 20) < 1e-12)
        #expect(m.updates == 1)
    }

    /// Examples of a known logistic model: 3 signals and a feature of pure noise.
    static func examples(_ count: Int, seed: UInt64) -> [([Float], Bool)] {
        var rng = RandomGenerator(seed: seed)
        let truth: [Float] = [-1, 2, -3, 0]
        return (0..<count).map { _ in
            let x: [Float] = [1, rng.nextNormal(), rng.nextNormal(), rng.nextNormal()]
            let logit = zip(truth, x).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            return (x, rng.nextFloat() < 1 / (1 + exp(-logit)))
        }
    }

    @Test func itRecoversAKnownModelAndPredictsHeldOutExamplesWell() {
        var m = FTRLLogisticRegression(dimension: 4, hyperparameters: .init(alpha: 0.1, beta: 1, l1: 0, l2: 0))
        for (x, y) in Self.examples(30_000, seed: 7) { m.learn(x, label: y) }
        let w = m.weights
        #expect(abs(w[0] + 1) < 0.2 && abs(w[1] - 2) < 0.3 && abs(w[2] + 3) < 0.4, "weights \(w)")
        #expect(abs(w[3]) < 0.1, "noise weight \(w[3])")
        // Held-out log loss: near the true model's, far below the base rate's.
        let test = Self.examples(5_000, seed: 8)
        let logLoss = test.reduce(0.0) { s, e in let p = m.probability(e.0); return s - (e.1 ? log(p) : log(1 - p)) } / Double(test.count)
        let rate = Double(test.filter(\.1).count) / Double(test.count)
        let baseRate = -(rate * log(rate) + (1 - rate) * log(1 - rate))
        #expect(logLoss < 0.7 * baseRate, "log loss \(logLoss) vs base rate \(baseRate)")
    }

    @Test func l1KeepsTheWeightOfAFeatureThatDoesNotHelpAtExactlyZero() {
        var sparse = FTRLLogisticRegression(dimension: 4, hyperparameters: .init(alpha: 0.1, beta: 1, l1: 150, l2: 0))
        var dense = FTRLLogisticRegression(dimension: 4, hyperparameters: .init(alpha: 0.1, beta: 1, l1: 0, l2: 0))
        for (x, y) in Self.examples(20_000, seed: 9) { sparse.learn(x, label: y); dense.learn(x, label: y) }
        #expect(sparse.weights[3] == 0)
        #expect(dense.weights[3] != 0)
        #expect(sparse.weights[2] < -2, "a useful feature survives L1: \(sparse.weights)")
    }
}
