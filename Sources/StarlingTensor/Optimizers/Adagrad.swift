/// Adagrad (Duchi et al. 2011): `G ← G + g²;  p ← p - lr·g / (√G + ε)`, with L2 weight decay
/// added to the gradient. Sparse gradients update only the touched rows of `p` and `G`.
public final class Adagrad: Optimizer {
    public var learningRate: Float
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
        for parameter in parameters where parameter.hasGradient(in: gradients) {
            if slots.prepare(parameter, count: 1) == 1 && initialAccumulator != 0 {
                let a = slots.pointers(parameter)[0]
                a.update(repeating: initialAccumulator, count: parameter.value.count)
            }
            let acc = slots.pointers(parameter)[0]
            forEachSegment(parameter, gradients) { p, g, off, n in
                for i in 0..<n {
                    let gi = g[i] + wd * p[off + i]
                    acc[off + i] += gi * gi
                    p[off + i] -= lr * gi / (acc[off + i].squareRoot() + eps)
                }
            }
        }
    }
}
