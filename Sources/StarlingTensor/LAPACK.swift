import CBLAS

/// LAPACK routines from the linked OpenBLAS, wrapped with typed errors.
public enum LAPACK {
    /// A LAPACK routine reported failure.
    public enum Failure: Error, CustomStringConvertible {
        /// The matrix is not positive definite: the leading minor of this order is not positive.
        case notPositiveDefinite(order: Int)
        /// An argument was invalid (LAPACK's negative `info`).
        case invalidArgument(routine: String, position: Int)

        public var description: String {
            switch self {
            case let .notPositiveDefinite(order):
                return "matrix is not positive definite (leading minor of order \(order) is not positive)"
            case let .invalidArgument(routine, position):
                return "\(routine): argument \(position) is invalid"
            }
        }
    }

    /// Factorises the symmetric positive-definite `n×n` matrix `a` (row-major) in place as
    /// `A = Lᵀ-style Cholesky` so that ``solveCholesky(factor:n:rhs:count:)`` can solve with it.
    ///
    /// The row-major lower triangle of the result holds `L` with `A = L·Lᵀ`.
    public static func choleskyFactor(_ a: UnsafeMutablePointer<Float>, n: Int) throws(Failure) {
        // Row-major lower == column-major upper, so ask LAPACK for 'U'.
        var uplo: CChar = 85 // "U"
        var n32 = Int32(n), lda = Int32(n), info: Int32 = 0
        spotrf_(&uplo, &n32, a, &lda, &info)
        if info > 0 { throw .notPositiveDefinite(order: Int(info)) }
        if info < 0 { throw .invalidArgument(routine: "spotrf", position: Int(-info)) }
    }

    /// Solves `A·X = B` for `count` right-hand sides stored as the rows of `rhs` (`count×n`,
    /// row-major), in place, given the factor from ``choleskyFactor(_:n:)``.
    public static func solveCholesky(
        factor: UnsafePointer<Float>, n: Int, rhs: UnsafeMutablePointer<Float>, count: Int
    ) throws(Failure) {
        // Rows of a row-major count×n block are the columns of a column-major n×count block.
        var uplo: CChar = 85
        var n32 = Int32(n), nrhs = Int32(count), lda = Int32(n), ldb = Int32(n), info: Int32 = 0
        spotrs_(&uplo, &n32, &nrhs, factor, &lda, rhs, &ldb, &info)
        if info < 0 { throw .invalidArgument(routine: "spotrs", position: Int(-info)) }
    }

    /// Replaces the symmetric positive-definite `n×n` matrix `a` by its inverse (full matrix).
    public static func invertSymmetricPositiveDefinite(_ a: UnsafeMutablePointer<Float>, n: Int) throws(Failure) {
        try choleskyFactor(a, n: n)
        var uplo: CChar = 85
        var n32 = Int32(n), lda = Int32(n), info: Int32 = 0
        spotri_(&uplo, &n32, a, &lda, &info)
        if info > 0 { throw .notPositiveDefinite(order: Int(info)) }
        if info < 0 { throw .invalidArgument(routine: "spotri", position: Int(-info)) }
        // spotri fills one triangle (row-major lower); mirror it.
        for i in 0..<n { for j in 0..<i { a[j * n + i] = a[i * n + j] } }
    }
}
