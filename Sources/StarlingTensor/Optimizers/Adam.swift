import Foundation

/// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019).
///
/// `m ← β₁m + (1-β₁)g;  v ← β₂v + (1-β₂)g²;  p ← p - lr·(m/(1-β₁ᵗ)) / (√(v/(1-β₂ᵗ)) + ε)`.
/// Weight decay is L2 (added to `g`) for Adam, decoupled (`p ← p - lr·λ·p`) for AdamW.
///
/// Row-sparse gradients get "lazy" updates as in PyTorch's `SparseAdam`: only touched rows of
/// `p`, `m` and `v` change, and `t` counts the steps in which the parameter had a gradient.
public final class Adam: Optimizer {
    public var learningRate: Float
    public var threadCount = Parallel.coreCount
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    /// Decoupled weight decay (AdamW) instead of L2 regularisation.
    public let decoupledWeightDecay: Bool
    private var slots = OptimizerSlots()

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        precondition(learningRate > 0, "Adam: learning rate must be positive")
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "Adam: betas must be in [0, 1)")
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// AdamW: Adam with decoupled weight decay (default λ = 0.01, as in PyTorch).
    public static func adamW(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                             epsilon: Float = 1e-8, weightDecay: Float = 0.01) -> Adam {
        Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
             weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    public func step(_ parameters: [Parameter], gradients: Gradients) {
        let b1 = beta1, b2 = beta2, eps = epsilon, wd = weightDecay, lr = learningRate
        let decoupled = decoupledWeightDecay
        applySegments(parameters, gradients) { parameter, values in
            let (state, t) = slots.prepare(parameter, count: 2)
            let (m, v) = (state[0], state[1])
            let c1 = 1 - Float(Foundation.pow(Double(b1), Double(t)))
            let c2 = 1 - Float(Foundation.pow(Double(b2), Double(t)))
            let coefficients = Coefficients(b1: b1, b2: b2, eps: eps, l2: decoupled ? 0 : wd,
                                            shrink: decoupled ? 1 - lr * wd : 1, stepSize: lr / c1, rc2: 1 / c2.squareRoot())
            return { off, g, n in
                Adam.update(values.base + off, g, m.base + off, v.base + off, n, coefficients)
            }
        }
    }

    struct Coefficients: Sendable {
        let b1, b2, eps, l2, shrink, stepSize, rc2: Float
    }

    /// The fused element-wise update of `n` elements (SIMD body, scalar tail).
    @inline(__always)
    static func update(
        _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
        _ v: UnsafeMutablePointer<Float>, _ n: Int, _ c: Coefficients
    ) {
        typealias V = SIMD16<Float>
        var i = 0
        while i + 16 <= n {
            var pv = VectorKernels.load(p + i)
            let gv = VectorKernels.load(g + i) + V(repeating: c.l2) * pv
            let mv = V(repeating: c.b1) * VectorKernels.load(m + i) + V(repeating: 1 - c.b1) * gv
            let vv = V(repeating: c.b2) * VectorKernels.load(v + i) + V(repeating: 1 - c.b2) * (gv * gv)
            let denominator = VectorKernels.squareRoot(vv) * V(repeating: c.rc2) + V(repeating: c.eps)
            pv = pv * V(repeating: c.shrink) - V(repeating: c.stepSize) * mv / denominator
            VectorKernels.store(mv, m + i); VectorKernels.store(vv, v + i); VectorKernels.store(pv, p + i)
            i += 16
        }
        while i < n {
            let gi = g[i] + c.l2 * p[i]
            m[i] = c.b1 * m[i] + (1 - c.b1) * gi
            v[i] = c.b2 * v[i] + (1 - c.b2) * gi * gi
            p[i] = p[i] * c.shrink - c.stepSize * m[i] / (v[i].squareRoot() * c.rc2 + c.eps)
            i += 1
        }
    }
}
