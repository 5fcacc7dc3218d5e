import CBLAS

/// A thin layer over the linked CBLAS (OpenBLAS on Debian), so another CBLAS could be linked instead.
///
/// All matrices are row-major. Calls are thread-safe; OpenBLAS's own thread count is process-wide.
public enum BLAS {
    /// The number of threads OpenBLAS uses for one call.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// Sets the number of threads OpenBLAS uses for one call (process-wide).
    ///
    /// Data-parallel training sets this to 1 while its own workers run, so that the two levels of
    /// parallelism do not oversubscribe the cores.
    public static func setThreadCount(_ n: Int) {
        precondition(n >= 1, "BLAS.setThreadCount: need at least one thread, got \(n)")
        openblas_set_num_threads(Int32(n))
    }

    /// `C = alpha * op(A) * op(B) + beta * C` where `op(A)` is `m×k` and `op(B)` is `k×n`.
    @inlinable
    public static func gemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0 && n > 0 else { return }
        if k == 0 {
            if beta == 0 {
                for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) }
            } else if beta != 1 {
                for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
            }
            return
        }
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `y = alpha * op(A) * x + beta * y` where `A` is `m×n` (row-major).
    @inlinable
    public static func gemv(
        transpose: Bool = false, m: Int, n: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>,
        beta: Float = 0, y: UnsafeMutablePointer<Float>
    ) {
        guard m > 0 && n > 0 else { return }
        cblas_sgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }

    /// `y += alpha * x` over `n` elements.
    @inlinable
    public static func axpy(n: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        guard n > 0 else { return }
        cblas_saxpy(Int32(n), alpha, x, 1, y, 1)
    }

    /// The dot product of two `n`-element vectors.
    @inlinable
    public static func dot(n: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>) -> Float {
        guard n > 0 else { return 0 }
        return cblas_sdot(Int32(n), x, 1, y, 1)
    }

    /// `x *= alpha` over `n` elements.
    @inlinable
    public static func scal(n: Int, alpha: Float, x: UnsafeMutablePointer<Float>) {
        guard n > 0 else { return }
        cblas_sscal(Int32(n), alpha, x, 1)
    }
}
