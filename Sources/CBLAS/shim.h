#ifndef STARLING_CBLAS_SHIM_H
#define STARLING_CBLAS_SHIM_H

// OpenBLAS's CBLAS interface (Debian: libopenblas-dev). Its cblas.h also declares
// openblas_set_num_threads / openblas_get_num_threads.
#include <cblas.h>

// LAPACK routines exported by OpenBLAS (Fortran calling convention: every argument by pointer).
// Cholesky factorisation of a symmetric positive-definite matrix.
void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info);
// Solve A X = B with the Cholesky factor from spotrf_.
void spotrs_(const char *uplo, const int *n, const int *nrhs, const float *a, const int *lda,
             float *b, const int *ldb, int *info);
// Inverse from the Cholesky factor (used by EASE).
void spotri_(const char *uplo, const int *n, float *a, const int *lda, int *info);
// Symmetric eigen-decomposition.
void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w,
             float *work, const int *lwork, int *iwork, const int *liwork, int *info);

#endif
