import Foundation

/// Training losses. Each returns a scalar variable (the mean over examples).
public enum Loss {
    /// Binary cross-entropy on logits, averaged:
    /// `mean(max(x, 0) - x·y + log(1 + e^{-|x|}))`, the stable form of `-(y·log σ(x) + (1-y)·log(1-σ(x)))`.
    /// `targets` has the logits' element count and values in [0, 1].
    public static func binaryCrossEntropy(logits: Variable, targets: Tensor) -> Variable {
        let x = logits.value
        precondition(targets.count == x.count,
                     "binaryCrossEntropy: \(targets.count) targets for logits of shape \(x.shape)")
        let n = x.count
        let px = x.readPointer, py = targets.readPointer
        var total: Double = 0
        for i in 0..<n {
            let v = px[i]
            total += Double(Swift.max(v, 0) - v * py[i] + log1pf(Foundation.exp(-Swift.abs(v))))
        }
        let i = logits.id
        return logits.tape.record(Tensor(scalar: Float(total / Double(Swift.max(n, 1)))), inputs: [logits]) { g, sink in
            let scale = g.scalar / Float(Swift.max(n, 1))
            sink.accumulate(i, x.zip(targets.reshaped(x.shape), Elementwise.SigmoidMinusTarget(scale: scale)))
        }
    }

    /// Bayesian personalised ranking: `mean(-log σ(pos - neg)) = mean(softplus(neg - pos))`.
    public static func bpr(positive: Variable, negative: Variable) -> Variable {
        (negative - positive).softplus().mean()
    }

    /// Mean squared error: `mean((x - y)²)`.
    public static func meanSquaredError(predictions: Variable, targets: Tensor) -> Variable {
        let x = predictions.value
        precondition(targets.count == x.count, "meanSquaredError: \(targets.count) targets for predictions of shape \(x.shape)")
        let diff = x - targets.reshaped(x.shape)
        let n = Float(Swift.max(x.count, 1))
        let i = predictions.id
        return predictions.tape.record(Tensor(scalar: diff.squaredNorm / n), inputs: [predictions]) { g, sink in
            sink.accumulate(i, diff * (2 * g.scalar / n))
        }
    }

    /// Softmax cross-entropy: `mean_i(-log softmax(logits_i)[target_i])` over rows whose target is
    /// not negative (a negative target marks padding and is ignored).
    /// `logits` is `[rows, classes]`; `targets` has one class index per row.
    public static func softmaxCrossEntropy(logits: Variable, targets: [Int32]) -> Variable {
        let x = logits.value
        precondition(x.rank == 2 && x.shape[0] == targets.count,
                     "softmaxCrossEntropy: logits \(x.shape) need [\(targets.count), classes]")
        let rows = x.shape[0], classes = x.shape[1]
        let logp = Softmax.forward(x, axis: 1, log: true)
        let pl = logp.readPointer
        var total: Double = 0
        var valid = 0
        for r in 0..<rows where targets[r] >= 0 {
            precondition(Int(targets[r]) < classes, "softmaxCrossEntropy: target \(targets[r]) out of range 0..<\(classes)")
            total -= Double(pl[r * classes + Int(targets[r])])
            valid += 1
        }
        let i = logits.id
        let denominator = Float(Swift.max(valid, 1))
        return logits.tape.record(Tensor(scalar: Float(total) / denominator), inputs: [logits]) { g, sink in
            let pl = logp.readPointer
            let scale = g.scalar / denominator
            var gx = Tensor(shape: x.shape)
            let po = gx.writePointer()
            for r in 0..<rows where targets[r] >= 0 {
                for c in 0..<classes { po[r * classes + c] = Foundation.exp(pl[r * classes + c]) * scale }
                po[r * classes + Int(targets[r])] -= scale
            }
            sink.accumulate(i, gx)
        }
    }

    /// Sampled softmax cross-entropy with log-q correction (Bengio & Senécal; Yi et al. 2019):
    /// `softmaxCrossEntropy(logits - log q + mask, targets)`.
    ///
    /// - Parameters:
    ///   - logits: `[rows, candidates]`: scores of each row's candidates (its positive and the
    ///     sampled or in-batch negatives).
    ///   - targets: the column of each row's positive.
    ///   - logQ: the log sampling probability of each candidate, `[candidates]` (shared) or
    ///     `[rows, candidates]`; subtracting it removes the sampler's popularity bias.
    ///   - mask: optional `[rows, candidates]` additive mask: `-inf` (or a large negative number)
    ///     where a sampled negative is really a positive of that row (an accidental hit), 0 elsewhere.
    public static func sampledSoftmaxCrossEntropy(
        logits: Variable, targets: [Int32], logQ: Tensor, mask: Tensor? = nil
    ) -> Variable {
        var corrected = logits - logQ
        if let mask { corrected = corrected + mask }
        return softmaxCrossEntropy(logits: corrected, targets: targets)
    }
}
