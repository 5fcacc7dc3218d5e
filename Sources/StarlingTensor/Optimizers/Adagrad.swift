/// Adagrad (Duchi et al. 2011): `G ← G + g²;  p ← p - lr·g / (√G + ε)`, with L2 weight decay
/// added to the gradient. Sparse gradients update only the touched rows of `p` and `G`.
public final class Adagrad: Optimizer {
    public var learningRate: Float
    public var threadCount = Parallel.coreCount
    public let epsilon: Float
    public let weightDecay: Float
    public let initialAccumulator: Float
    private var slots = OptimizerSlots()

    public init(learningRate: Float = 0.01, epsilon: Float = 1e-10, weightDecay: Float = 0, initialAccumulator: Float = 0) {
        precondition(learningRate > 0, "Adagrad: learning rate must be positive")
        self.learningRate = learningRate
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.initialAccumulator = initialAccumulator
    }

    public func step(_ parameters: [Parameter], gradients: Gradients) {
        let lr = learningRate, eps = epsilon, wd = weightDecay
        applySegments(parameters, gradients) { parameter, values, _ in
            let (state, t) = slots.prepare(parameter, count: 1)
            let accumulator = state[0]
            if t == 1 && initialAccumulator != 0 {
                accumulator.base.update(repeating: initialAccumulator, count: parameter.value.count)
            }
            return SegmentKernel(arrays: [values, accumulator]) { off, g, n in
                typealias V = SIMD16<Float>
                let p = values.base + off, a = accumulator.base + off
                let (vwd, vlr, veps) = (V(repeating: wd), V(repeating: lr), V(repeating: eps))
                var i = 0
                while i + 16 <= n {
                    var pv = VectorKernels.load(p + i)
                    let gv = VectorKernels.load(g + i) + vwd * pv
                    let av = VectorKernels.load(a + i) + gv * gv
                    pv = pv - vlr * gv / (VectorKernels.squareRoot(av) + veps)
                    VectorKernels.store(av, a + i); VectorKernels.store(pv, p + i)
                    i += 16
                }
                while i < n {
                    let gi = g[i] + wd * p[i]
                    a[i] += gi * gi
                    p[i] -= lr * gi / (a[i].squareRoot() + eps)
                    i += 1
                }
            }
        }
    }
}
