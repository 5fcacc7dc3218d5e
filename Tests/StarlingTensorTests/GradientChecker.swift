import StarlingTensor
import Testing

/// Compares autograd gradients with central finite differences.
///
/// The checked function may return any shape; it is reduced to a scalar by a fixed random
/// projection `Σ f(x) ⊙ R`, so every output element's gradient path is exercised.
struct GradientChecker {
    var epsilon: Float = 5e-3
    var absoluteTolerance: Float = 3e-3
    var relativeTolerance: Float = 2e-2

    /// Checks the gradient of `f` with respect to every input tensor.
    func check(
        _ inputs: [Tensor], seed: UInt64 = 7,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ f: ([Variable]) -> Variable
    ) {
        // Analytic gradient.
        let tape = Tape(training: false)
        let vars = inputs.map { tape.input($0) }
        let out = f(vars)
        var rng = RandomGenerator(seed: seed)
        let projection = Tensor.uniform(shape: out.shape, low: -1, high: 1, using: &rng)
        let loss = (out * projection).sum()
        let analytic = tape.gradients(of: loss, withRespectTo: vars)

        func numericLoss(_ xs: [Tensor]) -> Double {
            let t = Tape(training: false, recording: false)
            let o = f(xs.map { t.constant($0) }).value
            var s: Double = 0
            for (a, b) in zip(o.scalars, projection.scalars) { s += Double(a) * Double(b) }
            return s
        }

        for (k, x) in inputs.enumerated() {
            let g = analytic[k] ?? Tensor(shape: x.shape)
            #expect(g.shape == x.shape || g.count == x.count,
                    "input \(k): gradient shape \(g.shape) vs input \(x.shape)", sourceLocation: sourceLocation)
            var worst: (index: Int, analytic: Float, numeric: Float)? = nil
            for i in 0..<x.count {
                var plus = inputs, minus = inputs
                plus[k].withUnsafeMutableBufferPointer { $0[i] += epsilon }
                minus[k].withUnsafeMutableBufferPointer { $0[i] -= epsilon }
                let numeric = Float((numericLoss(plus) - numericLoss(minus)) / Double(2 * epsilon))
                let a = g.scalars[i]
                if !(abs(a - numeric) <= absoluteTolerance + relativeTolerance * abs(numeric)) {
                    if worst == nil || abs(a - numeric) > abs(worst!.analytic - worst!.numeric) {
                        worst = (i, a, numeric)
                    }
                }
            }
            #expect(worst == nil,
                    "input \(k) (shape \(x.shape)): element \(worst?.index ?? -1) analytic \(worst?.analytic ?? 0) vs numeric \(worst?.numeric ?? 0)",
                    sourceLocation: sourceLocation)
        }
    }
}

/// Seeded test tensors.
enum Fixture {
    static func random(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return .uniform(shape: shape, low: low, high: high, using: &rng)
    }

    /// Random values kept at least `margin` away from zero (for functions with a kink at 0).
    static func awayFromZero(_ shape: [Int], seed: UInt64, margin: Float = 0.1) -> Tensor {
        random(shape, seed: seed).mapScalars { $0 >= 0 ? $0 + margin : $0 - margin }
    }

    static func positive(_ shape: [Int], seed: UInt64) -> Tensor { random(shape, seed: seed, low: 0.5, high: 2) }
}
