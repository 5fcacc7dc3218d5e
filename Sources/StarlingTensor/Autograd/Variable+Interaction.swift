extension Variable {
    /// The pairwise interaction term of a factorisation machine (Rendle 2010) over field
    /// embeddings of shape `[batch, fields, width]`:
    /// `Σ_{i<j} ⟨e_i, e_j⟩ = ½ Σ_k ((Σ_i e_ik)² − Σ_i e_ik²)`, shape `[batch]`.
    ///
    /// One fused operation: the backward pass is `∂/∂e_ik = Σ_j e_jk − e_ik`.
    public func factorizationMachineInteraction() -> Variable {
        precondition(rank == 3, "factorizationMachineInteraction: expected [batch, fields, width], got \(shape)")
        let (b, f, w) = (shape[0], shape[1], shape[2])
        let e = value
        var fieldSums = Tensor(shape: [b, w])
        var out = Tensor(uninitializedShape: [b])
        let pe = e.readPointer, ps = fieldSums.writePointer(), po = out.writePointer()
        for r in 0..<b {
            let s = ps + r * w
            var squares: Float = 0
            for j in 0..<f {
                let row = pe + (r * f + j) * w
                VectorKernels.add(row, into: s, w)
                squares += VectorKernels.dot(row, row, w)
            }
            po[r] = 0.5 * (VectorKernels.dot(s, s, w) - squares)
        }
        let i = id
        return unary(out) { g, sink in
            var grad = Tensor(uninitializedShape: [b, f, w])
            let pg = g.readPointer, pd = grad.writePointer(), ps = fieldSums.readPointer
            for r in 0..<b {
                let scale = pg[r], s = ps + r * w
                for j in 0..<f {
                    let o = (r * f + j) * w
                    for k in 0..<w { pd[o + k] = scale * (s[k] - pe[o + k]) }
                }
            }
            sink.accumulate(i, grad)
        }
    }
}
