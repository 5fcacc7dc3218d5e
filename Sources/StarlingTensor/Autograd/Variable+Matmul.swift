extension Variable {
    /// The matrix product `op(self) · op(other)` (rank 2, or batched rank 3; see ``Tensor/matmul(_:_:transposeA:transposeB:)``).
    public func matmul(_ other: Variable, transposeSelf: Bool = false, transposeOther: Bool = false) -> Variable {
        Variable.checkSameTape(self, other, "matmul")
        let a = value, b = other.value
        let (ta, tb) = (transposeSelf, transposeOther)
        let (ia, ib) = (id, other.id)
        let out = Tensor.matmul(a, b, transposeA: ta, transposeB: tb)
        return tape.record(out, inputs: [self, other]) { g, sink in
            // For C = op(A)·op(B): dop(A) = dC·op(B)ᵀ and dop(B) = op(A)ᵀ·dC, then undo each op.
            if sink.needs(ia) {
                var ga = ta ? Tensor.matmul(b, g, transposeA: tb, transposeB: true)
                            : Tensor.matmul(g, b, transposeA: false, transposeB: !tb)
                if a.rank == 2 && ga.rank == 3 { ga = ga.sum(alongAxis: 0) }
                sink.accumulate(ia, ga)
            }
            if sink.needs(ib) {
                var gb: Tensor
                if b.rank == 2 && a.rank == 3 && !ta {
                    // Shared right operand: flatten the batch into rows.
                    let a2 = a.reshaped([-1, a.shape[2]]), g2 = g.reshaped([-1, g.shape[2]])
                    gb = tb ? Tensor.matmul(g2, a2, transposeA: true) : Tensor.matmul(a2, g2, transposeA: true)
                } else {
                    gb = tb ? Tensor.matmul(g, a, transposeA: true, transposeB: ta)
                            : Tensor.matmul(a, g, transposeA: !ta, transposeB: false)
                    if b.rank == 2 && gb.rank == 3 { gb = gb.sum(alongAxis: 0) }
                }
                sink.accumulate(ib, gb)
            }
        }
    }

    /// A fully connected layer: `self · weightᵀ + bias`, with `weight` of shape `[out, in]`
    /// (PyTorch's layout) and `bias` of shape `[out]`. Leading dimensions of `self` are kept.
    public func linear(weight: Variable, bias: Variable?) -> Variable {
        Variable.checkSameTape(self, weight, "linear")
        let x = value, w = weight.value
        precondition(w.rank == 2 && x.rank >= 1 && x.shape[x.rank - 1] == w.shape[1],
                     "linear: input of shape \(x.shape) does not fit weight of shape \(w.shape) ([out, in])")
        let inF = w.shape[1], outF = w.shape[0]
        let rows = x.count / inF
        var outShape = x.shape
        outShape[outShape.count - 1] = outF
        var y = Tensor(uninitializedShape: outShape)
        let py = y.writePointer()
        var beta: Float = 0
        if let bias {
            precondition(bias.shape == [outF], "linear: bias of shape \(bias.shape), expected [\(outF)]")
            let pb = bias.value.readPointer
            for r in 0..<rows { (py + r * outF).update(from: pb, count: outF) }
            beta = 1
        }
        BLAS.gemm(transposeA: false, transposeB: true, m: rows, n: outF, k: inF,
                  a: x.readPointer, lda: inF, b: w.readPointer, ldb: inF, beta: beta, c: py, ldc: outF)
        let (ix, iw, ib) = (id, weight.id, bias?.id)
        let inputs = bias.map { [self, weight, $0] } ?? [self, weight]
        return tape.record(y, inputs: inputs) { g, sink in
            let pg = g.readPointer
            if sink.needs(ix) {
                var gx = Tensor(uninitializedShape: x.shape)
                BLAS.gemm(m: rows, n: inF, k: outF, a: pg, lda: outF, b: w.readPointer, ldb: inF,
                          c: gx.writePointer(), ldc: inF)
                sink.accumulate(ix, gx)
            }
            if sink.needs(iw) {
                var gw = Tensor(uninitializedShape: [outF, inF])
                BLAS.gemm(transposeA: true, m: outF, n: inF, k: rows, a: pg, lda: outF,
                          b: x.readPointer, ldb: inF, c: gw.writePointer(), ldc: inF)
                sink.accumulate(iw, gw)
            }
            if let ib, sink.needs(ib) {
                sink.accumulate(ib, g.reshaped([rows, outF]).sum(alongAxis: 0))
            }
        }
    }
}
