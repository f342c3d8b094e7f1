// lowrank_internal.h - internal: the LAPACK helpers shared by the exact and
// the randomized SVD (lowrank_lapack.c). Column-major, as LAPACK wants.
#ifndef GABA_LOWRANK_INTERNAL_H
#define GABA_LOWRANK_INTERNAL_H

#include "gaba/lowrank.h"

// SVD of the (rows, cols) matrix X(i, j) = src[i * rs + j * cs], copied first
// (LAPACK destroys its input). k = min(rows, cols). With vectors (ux and vtx
// not NULL): ux (rows, k) column-major with ld = rows, vtx (k, cols)
// column-major with ld = k ("thin" SVD, jobz = 'S'). sgesdd first, sgesvd on
// non-convergence; GABA_ERR_NUMERIC when both fail.
gaba_status gaba_lowrank_lapack_svd(int64_t rows, int64_t cols, const float *src, int64_t rs,
                                    int64_t cs, float *s, float *ux, float *vtx);

// In place: x (rows, cols) column-major, ld = rows, rows >= cols, becomes the
// Q of its QR factorisation (sgeqrf + sorgqr) or the P L of its LU
// factorisation (sgetrf).
gaba_status gaba_lowrank_lapack_qr(int64_t rows, int64_t cols, float *x);
gaba_status gaba_lowrank_lapack_lu(int64_t rows, int64_t cols, float *x);

// The largest magnitude in the strided (m, n) matrix: +Inf when it holds an
// Inf, NaN when it holds a NaN (so `max_abs <= FLT_MAX` means all finite).
float gaba_lowrank_max_abs(int64_t m, int64_t n, const float *a, int64_t rs, int64_t cs);

#endif
