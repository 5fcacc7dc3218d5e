/// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019).
///
/// `m ← β₁m + (1-β₁)g;  v ← β₂v + (1-β₂)g²;  p ← p - lr·(m/(1-β₁ᵗ)) / (√(v/(1-β₂ᵗ)) + ε)`.
/// Weight decay is L2 (added to `g`) for Adam, decoupled (`p ← p - lr·λ·p`) for AdamW.
///
/// Row-sparse gradients get "lazy" updates as in PyTorch's `SparseAdam`: only touched rows of
/// `p`, `m` and `v` change, and `t` counts the steps in which the parameter had a gradient.
public final class Adam: Optimizer {
    public var learningRate: Float
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
        for parameter in parameters where parameter.hasGradient(in: gradients) {
            let t = slots.prepare(parameter, count: 2)
            let ptrs = slots.pointers(parameter)
            let m = ptrs[0], v = ptrs[1]
            let c1 = 1 - Float(Double(b1).power(t)), c2 = 1 - Float(Double(b2).power(t))
            let stepSize = lr / c1
            let rc2 = 1 / c2.squareRoot()
            let l2: Float = decoupled ? 0 : wd
            let shrink: Float = decoupled ? 1 - lr * wd : 1
            forEachSegment(parameter, gradients) { p, g, off, n in
                Adam.update(p + off, g, m + off, v + off, n, b1: b1, b2: b2, eps: eps, l2: l2,
                            shrink: shrink, stepSize: stepSize, rc2: rc2)
            }
        }
    }

    /// The fused element-wise update of `n` elements (SIMD body, scalar tail).
    @inline(__always)
    static func update(
        _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
        _ v: UnsafeMutablePointer<Float>, _ n: Int,
        b1: Float, b2: Float, eps: Float, l2: Float, shrink: Float, stepSize: Float, rc2: Float
    ) {
        typealias V = SIMD16<Float>
        var i = 0
        let vb1 = V(repeating: b1), vb2 = V(repeating: b2), one = V(repeating: 1)
        let vl2 = V(repeating: l2), vshrink = V(repeating: shrink), vstep = V(repeating: stepSize)
        let vrc2 = V(repeating: rc2), veps = V(repeating: eps)
        while i + 16 <= n {
            var pv = VectorKernels.load(p + i)
            let gv = VectorKernels.load(g + i) + vl2 * pv
            let mv = vb1 * VectorKernels.load(m + i) + (one - vb1) * gv
            let vv = vb2 * VectorKernels.load(v + i) + (one - vb2) * gv * gv
            pv = pv * vshrink - vstep * mv / ((vv.squareRoot() * vrc2) + veps)
            VectorKernels.store(mv, m + i); VectorKernels.store(vv, v + i); VectorKernels.store(pv, p + i)
            i += 16
        }
        while i < n {
            let gi = g[i] + l2 * p[i]
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi * gi
            p[i] = p[i] * shrink - stepSize * m[i] / (v[i].squareRoot() * rc2 + eps)
            i += 1
        }
    }
}

extension Double {
    func power(_ n: Int) -> Double { Foundation.pow(self, Double(n)) }
}

import Foundation
