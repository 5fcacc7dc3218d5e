/// Stochastic gradient descent with optional momentum (heavy-ball or Nesterov) and L2 weight decay,
/// following PyTorch's `torch.optim.SGD`:
/// `g ← g + λ·p;  v ← μ·v + g;  p ← p - lr·(nesterov ? g + μ·v : v)`.
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    private var slots = OptimizerSlots()

    public init(learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        precondition(learningRate > 0 && momentum >= 0 && weightDecay >= 0, "SGD: learning rate must be positive, momentum and weight decay non-negative")
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public func step(_ parameters: [Parameter], gradients: Gradients) {
        let lr = learningRate, mu = momentum, wd = weightDecay, nest = nesterov
        for parameter in parameters where parameter.hasGradient(in: gradients) {
            if mu == 0 {
                forEachSegment(parameter, gradients) { p, g, off, n in
                    for i in 0..<n {
                        let gi = g[i] + wd * p[off + i]
                        p[off + i] -= lr * gi
                    }
                }
                continue
            }
            let first = slots.prepare(parameter, count: 1) == 1
            let v = slots.pointers(parameter)[0]
            forEachSegment(parameter, gradients) { p, g, off, n in
                for i in 0..<n {
                    let gi = g[i] + wd * p[off + i]
                    let vi = first ? gi : mu * v[off + i] + gi
                    v[off + i] = vi
                    p[off + i] -= lr * (nest ? gi + mu * vi : vi)
                }
            }
        }
    }
}
