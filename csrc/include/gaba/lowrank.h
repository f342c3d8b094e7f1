// lowrank.h - low-rank factorization of a float32 matrix: A (M, N) is
// approximated by U (M, R) @ V (R, N), the truncated SVD with sqrt(sigma)
// split into both factors, so U @ V is the best rank-R approximation in the
// Frobenius and spectral norms (Eckart-Young) when the SVD is exact.
//
// Two methods:
//   - exact: LAPACK sgesdd from OpenBLAS (divide and conquer), falling back
//     to sgesvd (QR iteration) when sgesdd reports non-convergence;
//   - randomized: Halko, Martinsson & Tropp (2011), Algorithm 4.4: a
//     Gaussian test matrix with R + oversample columns, n_iter power
//     iterations renormalised by LU (or QR) between products, a final QR,
//     then the small SVD of Q^T A. All products run on gaba_gemm_f32.
//
// Signs are made deterministic: in every component the entry of largest
// magnitude of U's column (the first such entry on ties) is positive.
// The randomized method polls for an interrupt (gaba.h) in its iterations
// and products (GABA_ERR_INTERRUPTED); an exact SVD is one LAPACK call,
// which cannot be interrupted.
// A may have any strides; outputs are dense row-major. OpenBLAS's thread
// count follows gaba's (gaba_threads_set).
#ifndef GABA_LOWRANK_H
#define GABA_LOWRANK_H

#include "gaba/gaba.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gaba_lowrank_method {
    GABA_LOWRANK_EXACT = 0,      // sgesdd, sgesvd on non-convergence
    GABA_LOWRANK_RANDOMIZED = 1, // HMT range finder + small exact SVD
} gaba_lowrank_method;

typedef enum gaba_lowrank_normalizer {
    GABA_LOWRANK_NORM_LU = 0,   // P L of an LU factorisation (cheaper, as scikit-learn)
    GABA_LOWRANK_NORM_QR = 1,   // Q of a QR factorisation (most stable)
    GABA_LOWRANK_NORM_NONE = 2, // plain power iterations (loses small components)
} gaba_lowrank_normalizer;

// Upper bounds of the randomized method's options: beyond them the work
// grows without improving the result (GABA_ERR_ARG).
#define GABA_LOWRANK_MAX_OVERSAMPLE 10000
#define GABA_LOWRANK_MAX_N_ITER 100

typedef struct gaba_lowrank_options {
    gaba_lowrank_method method;
    int64_t oversample;                 // randomized: extra test vectors, 0..MAX_OVERSAMPLE
    int64_t n_iter;                     // randomized: power iterations, 0..MAX_N_ITER
    gaba_lowrank_normalizer normalizer; // randomized: between power iterations
    uint64_t seed;                      // randomized: PCG32 seed of the test matrix
} gaba_lowrank_options;

// Singular values of A in descending order (sgesdd without vectors, sgesvd
// on non-convergence). GABA_ERR_NUMERIC when neither converges (NaN/Inf in A).
gaba_status gaba_lowrank_singular_values_f32(int64_t m, int64_t n, const float *a, int64_t rs_a,
                                             int64_t cs_a, // (M, N)
                                             float *s);    // (min(M, N)) descending

// The rank-r truncated SVD A ~ U diag(S) Vt with deterministic signs.
// 0 <= r <= min(M, N). s may be NULL.
gaba_status gaba_lowrank_svd_f32(const gaba_lowrank_options *options, int64_t m, int64_t n,
                                 int64_t r, const float *a, int64_t rs_a, int64_t cs_a, // (M, N)
                                 float *u,   // (M, R) row-major
                                 float *s,   // (R) descending, or NULL
                                 float *vt); // (R, N) row-major

// The factorization: gaba_lowrank_svd_f32, then u *= sqrt(s) by column and
// v = sqrt(s) * vt by row, so that u @ v = U diag(S) Vt.
gaba_status gaba_lowrank_factorize_f32(const gaba_lowrank_options *options, int64_t m, int64_t n,
                                       int64_t r, const float *a, int64_t rs_a,
                                       int64_t cs_a, // (M, N)
                                       float *u,     // (M, R) row-major
                                       float *v,     // (R, N) row-major
                                       float *s);    // (R) singular values, or NULL

#ifdef __cplusplus
}
#endif
#endif // GABA_LOWRANK_H
