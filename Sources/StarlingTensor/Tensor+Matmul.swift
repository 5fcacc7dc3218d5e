extension Tensor {
    /// The matrix product `op(self) · op(other)` through BLAS sgemm.
    ///
    /// Rank-2 operands give a rank-2 result. Rank-3 operands (`[batch, m, k] · [batch, k, n]`)
    /// multiply batch by batch; a rank-3 left operand with a rank-2 right operand multiplies every
    /// batch by the same matrix. The transpose flags apply to the last two dimensions.
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) -> Tensor {
        Tensor.matmul(self, other, transposeA: transposeSelf, transposeB: transposeOther)
    }

    /// `op(a) · op(b)`; see ``matmul(_:transposeSelf:transposeOther:)``.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank >= 2 && b.rank >= 2 && a.rank <= 3 && b.rank <= 3,
                     "matmul: needs rank-2 or rank-3 operands, got \(a.shape) and \(b.shape)")
        let (ra, ca) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (rb, cb) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let m = transposeA ? ca : ra, k = transposeA ? ra : ca
        let kb = transposeB ? cb : rb, n = transposeB ? rb : cb
        precondition(k == kb, "matmul: inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
        if a.rank == 2 && b.rank == 2 {
            var out = Tensor(uninitializedShape: [m, n])
            BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                      a: a.readPointer, lda: ca, b: b.readPointer, ldb: cb, c: out.writePointer(), ldc: n)
            return out
        }
        let batch = a.rank == 3 ? a.shape[0] : b.shape[0]
        if a.rank == 3 && b.rank == 3 {
            precondition(a.shape[0] == b.shape[0], "matmul: batch sizes differ: \(a.shape) · \(b.shape)")
        }
        if a.rank == 3 && b.rank == 2 && !transposeA {
            // One big GEMM: stack the batches as rows.
            var out = Tensor(uninitializedShape: [batch, m, n])
            BLAS.gemm(transposeA: false, transposeB: transposeB, m: batch * m, n: n, k: k,
                      a: a.readPointer, lda: ca, b: b.readPointer, ldb: cb, c: out.writePointer(), ldc: n)
            return out
        }
        var out = Tensor(uninitializedShape: [batch, m, n])
        let pa = a.readPointer, pb = b.readPointer, po = out.writePointer()
        let strideA = a.rank == 3 ? ra * ca : 0, strideB = b.rank == 3 ? rb * cb : 0
        for i in 0..<batch {
            BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                      a: pa + i * strideA, lda: ca, b: pb + i * strideB, ldb: cb, c: po + i * m * n, ldc: n)
        }
        return out
    }
}
