import Foundation

extension Variable {
    /// Scaled dot-product attention, fused: `softmax(Q·Kᵀ/√d + mask) · V`.
    ///
    /// - Parameters:
    ///   - key: `[batch, heads, keys, d]`; `self` (the queries) is `[batch, heads, queries, d]`.
    ///   - value: `[batch, heads, keys, dv]`.
    ///   - causal: query `i` may only attend keys `j ≤ i + (keys - queries)` (no look-ahead).
    ///   - keyPadding: `batch × keys` flags, `true` where a key is padding and must be ignored.
    /// - Returns: `[batch, heads, queries, dv]`. A query whose keys are all masked gets zeros.
    public func scaledDotProductAttention(
        key: Variable, value: Variable, causal: Bool = false, keyPadding: [Bool]? = nil
    ) -> Variable {
        Variable.checkSameTape(self, key, "attention"); Variable.checkSameTape(self, value, "attention")
        let q = self.value, k = key.value, v = value.value
        precondition(q.rank == 4 && k.rank == 4 && v.rank == 4,
                     "attention: query, key and value must be [batch, heads, length, dim]; got \(q.shape), \(k.shape), \(v.shape)")
        let (b, h, t, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let s = k.shape[2], dv = v.shape[3]
        precondition(k.shape == [b, h, s, d] && v.shape[0..<3] == [b, h, s],
                     "attention: shapes do not fit: query \(q.shape), key \(k.shape), value \(v.shape)")
        precondition(keyPadding == nil || keyPadding!.count == b * s,
                     "attention: keyPadding has \(keyPadding?.count ?? 0) flags, expected batch × keys = \(b * s)")
        let scale = 1 / Float(d).squareRoot()
        var probs = Tensor(uninitializedShape: [b, h, t, s])
        var out = Tensor(uninitializedShape: [b, h, t, dv])
        let pq = q.readPointer, pk = k.readPointer, pv = v.readPointer
        let pp = probs.writePointer(), po = out.writePointer()
        let offset = s - t
        for bi in 0..<b {
            for hi in 0..<h {
                let blk = bi * h + hi
                let P = pp + blk * t * s
                BLAS.gemm(transposeB: true, m: t, n: s, k: d, alpha: scale,
                          a: pq + blk * t * d, lda: d, b: pk + blk * s * d, ldb: d, c: P, ldc: s)
                for i in 0..<t {
                    let row = P + i * s
                    if causal { for j in 0..<s where j > i + offset { row[j] = -.infinity } }
                    if let keyPadding { for j in 0..<s where keyPadding[bi * s + j] { row[j] = -.infinity } }
                    Softmax.row(row, row, s, log: false)
                }
                BLAS.gemm(m: t, n: dv, k: s, a: P, lda: s, b: pv + blk * s * dv, ldb: dv,
                          c: po + blk * t * dv, ldc: dv)
            }
        }
        let (iq, ik, iv) = (id, key.id, value.id)
        return tape.record(out, inputs: [self, key, value]) { g, sink in
            var gq = Tensor(shape: q.shape), gk = Tensor(shape: k.shape), gv = Tensor(shape: v.shape)
            let pg = g.readPointer, P = probs.readPointer
            let pq = q.readPointer, pk = k.readPointer, pv = v.readPointer
            let pgq = gq.writePointer(), pgk = gk.writePointer(), pgv = gv.writePointer()
            var dS = [Float](repeating: 0, count: t * s)
            dS.withUnsafeMutableBufferPointer { dsBuf in
                let dSp = dsBuf.baseAddress!
                for blk in 0..<(b * h) {
                    let Pb = P + blk * t * s, gb = pg + blk * t * dv
                    // dV = Pᵀ·dO
                    BLAS.gemm(transposeA: true, m: s, n: dv, k: t, a: Pb, lda: s, b: gb, ldb: dv,
                              c: pgv + blk * s * dv, ldc: dv)
                    // dP = dO·Vᵀ, then dS = P ⊙ (dP - Σ_j dP⊙P)
                    BLAS.gemm(transposeB: true, m: t, n: s, k: dv, a: gb, lda: dv, b: pv + blk * s * dv, ldb: dv,
                              c: dSp, ldc: s)
                    for i in 0..<t {
                        let pr = Pb + i * s, dr = dSp + i * s
                        let dotp = VectorKernels.dot(pr, dr, s)
                        for j in 0..<s { dr[j] = pr[j] * (dr[j] - dotp) }
                    }
                    // dQ = dS·K·scale, dK = dSᵀ·Q·scale
                    BLAS.gemm(m: t, n: d, k: s, alpha: scale, a: dSp, lda: s, b: pk + blk * s * d, ldb: d,
                              c: pgq + blk * t * d, ldc: d)
                    BLAS.gemm(transposeA: true, m: s, n: d, k: t, alpha: scale, a: dSp, lda: s, b: pq + blk * t * d, ldb: d,
                              c: pgk + blk * s * d, ldc: d)
                }
            }
            sink.accumulate(iq, gq); sink.accumulate(ik, gk); sink.accumulate(iv, gv)
        }
    }
}
