extension Variable {
    /// Layer normalisation over the last dimension: `(x - μ) / √(σ² + ε) · gamma + beta`, with
    /// `gamma` and `beta` of shape `[lastDimension]`. σ² is the biased variance, as in PyTorch.
    public func layerNorm(gamma: Variable, beta: Variable, epsilon: Float = 1e-5) -> Variable {
        Variable.checkSameTape(self, gamma, "layerNorm")
        let x = value
        let d = x.shape[x.rank - 1]
        precondition(gamma.shape == [d] && beta.shape == [d],
                     "layerNorm: gamma \(gamma.shape) and beta \(beta.shape) must both be [\(d)] for input \(x.shape)")
        let rows = x.count / d
        var xhat = Tensor(uninitializedShape: x.shape)
        var y = Tensor(uninitializedShape: x.shape)
        var rstd = [Float](repeating: 0, count: rows)
        let px = x.readPointer, ph = xhat.writePointer(), py = y.writePointer()
        let pgam = gamma.value.readPointer, pbet = beta.value.readPointer
        for r in 0..<rows {
            let row = px + r * d
            let mean = VectorKernels.sum(row, d) / Float(d)
            var variance: Float = 0
            for k in 0..<d { let c = row[k] - mean; variance += c * c }
            variance /= Float(d)
            let s = 1 / (variance + epsilon).squareRoot()
            rstd[r] = s
            for k in 0..<d {
                let h = (row[k] - mean) * s
                ph[r * d + k] = h
                py[r * d + k] = h * pgam[k] + pbet[k]
            }
        }
        let (ix, ig, ib) = (id, gamma.id, beta.id)
        let gammaValue = gamma.value
        return tape.record(y, inputs: [self, gamma, beta]) { g, sink in
            let pg = g.readPointer, ph = xhat.readPointer, pgam = gammaValue.readPointer
            if sink.needs(ix) {
                var gx = Tensor(uninitializedShape: x.shape)
                let po = gx.writePointer()
                for r in 0..<rows {
                    // dx = rstd · (dxhat - mean(dxhat) - xhat · mean(dxhat ⊙ xhat)), dxhat = g ⊙ gamma
                    var m1: Float = 0, m2: Float = 0
                    for k in 0..<d {
                        let dh = pg[r * d + k] * pgam[k]
                        m1 += dh; m2 += dh * ph[r * d + k]
                    }
                    m1 /= Float(d); m2 /= Float(d)
                    for k in 0..<d {
                        let dh = pg[r * d + k] * pgam[k]
                        po[r * d + k] = rstd[r] * (dh - m1 - ph[r * d + k] * m2)
                    }
                }
                sink.accumulate(ix, gx)
            }
            if sink.needs(ig) { sink.accumulate(ig, (g * xhat).reshaped([rows, d]).sum(alongAxis: 0)) }
            if sink.needs(ib) { sink.accumulate(ib, g.reshaped([rows, d]).sum(alongAxis: 0)) }
        }
    }

    /// Inverted dropout: in training mode each element is zeroed with probability `rate` and the
    /// survivors are scaled by `1 / (1 - rate)`; in evaluation mode it is the identity. The mask is
    /// drawn from the tape's seeded random stream.
    public func dropout(rate: Float) -> Variable {
        precondition(rate >= 0 && rate < 1, "dropout: rate must be in [0, 1), got \(rate)")
        guard tape.isTraining && rate > 0 else { return self }
        var mask = Tensor(uninitializedShape: shape)
        let pm = mask.writePointer()
        let keep = 1 / (1 - rate)
        for k in 0..<mask.count { pm[k] = tape.rng.nextFloat() < rate ? 0 : keep }
        let i = id
        return unary(value * mask) { g, sink in sink.accumulate(i, g * mask) }
    }
}
