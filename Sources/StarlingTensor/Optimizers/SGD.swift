/// Stochastic gradient descent with optional momentum (heavy-ball or Nesterov) and L2 weight decay,
/// following PyTorch's `torch.optim.SGD`:
/// `g ← g + λ·p;  v ← μ·v + g;  p ← p - lr·(nesterov ? g + μ·v : v)`.
public final class SGD: Optimizer {
    public var learningRate: Float
    public var threadCount = Parallel.coreCount
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    private var slots = OptimizerSlots()

    public init(learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        precondition(learningRate > 0 && momentum >= 0 && weightDecay >= 0,
                     "SGD: learning rate must be positive, momentum and weight decay non-negative")
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public func step(_ parameters: [Parameter], gradients: Gradients) {
        let lr = learningRate, mu = momentum, wd = weightDecay, nest = nesterov
        applySegments(parameters, gradients) { parameter, values, _ in
            if mu == 0 {
                return SegmentKernel(arrays: [values]) { off, g, n in
                    let p = values.base + off
                    for i in 0..<n { p[i] -= lr * (g[i] + wd * p[i]) }
                }
            }
            let (state, t) = slots.prepare(parameter, count: 1)
            let first = t == 1, velocity = state[0]
            return SegmentKernel(arrays: [values, velocity]) { off, g, n in
                let p = values.base + off, v = velocity.base + off
                for i in 0..<n {
                    let gi = g[i] + wd * p[i]
                    let vi = first ? gi : mu * v[i] + gi
                    v[i] = vi
                    p[i] -= lr * (nest ? gi + mu * vi : vi)
                }
            }
        }
    }
}
