// lowrank_lapack.c - the LAPACK calls of the low-rank family: thin SVD
// (sgesdd, then sgesvd when divide and conquer does not converge), QR
// (sgeqrf + sorgqr) and LU (sgetrf, returned as P L) of tall panels. Each
// routine asks LAPACK for its optimal workspace first (lwork = -1).
// Sizes must fit OpenBLAS's 32-bit integers; larger ones are GABA_ERR_NO_IMPL.
#include "lowrank_internal.h"
#include "../core/openblas.h"

#include <limits.h>
#include <math.h>
#include <string.h>

// Below this many elements LAPACK runs on one OpenBLAS thread: its many
// small level-2 steps pay a cross-core handoff each, which costs more than
// the second core gains (measured 2-4x slower at 256^2 and 512^2 here).
#define THREADED_MIN_ELEMENTS (1 << 20)

// OpenBLAS for a LAPACK call on `elements` numbers, its thread count set for
// it; lapack_end() gives the count back to gaba's (which the GEMM expects).
static const gaba_openblas_api *lapack_begin(int64_t elements) {
    const gaba_openblas_api *api = gaba_openblas();
    int want = elements < THREADED_MIN_ELEMENTS ? 1 : gaba_threads_get();
    if (api && api->get_num_threads() != want) api->set_num_threads(want);
    return api;
}

static void lapack_end(const gaba_openblas_api *api) {
    if (api->get_num_threads() != gaba_threads_get()) api->set_num_threads(gaba_threads_get());
}

static int fits_int(int64_t rows, int64_t cols) {
    return rows <= INT_MAX && cols <= INT_MAX && rows * cols <= INT_MAX;
}

// Allocates the optimal workspace reported in `query` (at least `least`).
static float *workspace(float query, int64_t least, int *lwork) {
    int64_t size = (int64_t)query + 1;
    if (size < least) size = least;
    if (size > INT_MAX) return NULL;
    *lwork = (int)size;
    return gaba_aligned_alloc((size_t)size * sizeof(float));
}

static void copy_colmajor(int64_t rows, int64_t cols, const float *src, int64_t rs, int64_t cs,
                          float *x) {
    for (int64_t j = 0; j < cols; j++)
        for (int64_t i = 0; i < rows; i++) x[i + j * rows] = src[i * rs + j * cs];
}

// One SVD attempt; returns LAPACK's info (> 0: did not converge) or -1000 on
// allocation failure.
static int svd_once(const gaba_openblas_api *api, int use_gesvd, int rows, int cols, float *x,
                    float *s, float *ux, float *vtx) {
    int k = rows < cols ? rows : cols;
    int vectors = ux != NULL;
    char job = vectors ? 'S' : 'N';
    int ldu = vectors ? rows : 1, ldvt = vectors ? k : 1;
    float dummy_u = 0, dummy_vt = 0, query = 0;
    float *u = vectors ? ux : &dummy_u, *vt = vectors ? vtx : &dummy_vt;
    int lwork = -1, info = 0;
    int *iwork = NULL;
    if (!use_gesvd) {
        iwork = gaba_aligned_alloc((size_t)(8 * (int64_t)k + 1) * sizeof(int));
        if (!iwork) return -1000;
        api->sgesdd(&job, &rows, &cols, x, &rows, s, u, &ldu, vt, &ldvt, &query, &lwork, iwork,
                    &info, 1);
    } else {
        api->sgesvd(&job, &job, &rows, &cols, x, &rows, s, u, &ldu, vt, &ldvt, &query, &lwork,
                    &info, 1, 1);
    }
    float *work = info == 0 ? workspace(query, 1, &lwork) : NULL;
    if (!work) {
        gaba_aligned_free(iwork);
        return info != 0 ? info : -1000;
    }
    if (!use_gesvd)
        api->sgesdd(&job, &rows, &cols, x, &rows, s, u, &ldu, vt, &ldvt, work, &lwork, iwork, &info,
                    1);
    else
        api->sgesvd(&job, &job, &rows, &cols, x, &rows, s, u, &ldu, vt, &ldvt, work, &lwork, &info,
                    1, 1);
    gaba_aligned_free(work);
    gaba_aligned_free(iwork);
    return info;
}

gaba_status gaba_lowrank_lapack_svd(int64_t rows, int64_t cols, const float *src, int64_t rs,
                                    int64_t cs, float *s, float *ux, float *vtx) {
    if (rows == 0 || cols == 0) return GABA_OK;
    if (!fits_int(rows, cols)) return GABA_ERR_NO_IMPL;
    float *x = gaba_aligned_alloc((size_t)(rows * cols) * sizeof(float));
    if (!x) return GABA_ERR_NOMEM;
    const gaba_openblas_api *api = lapack_begin(rows * cols);
    if (!api) {
        gaba_aligned_free(x);
        return GABA_ERR_NO_IMPL;
    }
    gaba_status status = GABA_OK;
    for (int use_gesvd = 0; use_gesvd < 2; use_gesvd++) {
        copy_colmajor(rows, cols, src, rs, cs, x);
        int info = svd_once(api, use_gesvd, (int)rows, (int)cols, x, s, ux, vtx);
        if (info == 0) {
            status = GABA_OK;
            break;
        }
        status = info == -1000 ? GABA_ERR_NOMEM : info < 0 ? GABA_ERR_INTERNAL : GABA_ERR_NUMERIC;
        if (info < 0) break; // a bad argument or no memory: sgesvd would not help
    }
    lapack_end(api);
    gaba_aligned_free(x);
    return status;
}

gaba_status gaba_lowrank_lapack_qr(int64_t rows, int64_t cols, float *x) {
    if (!fits_int(rows, cols) || rows < cols) return GABA_ERR_NO_IMPL;
    const gaba_openblas_api *api = lapack_begin(rows * cols);
    if (!api) return GABA_ERR_NO_IMPL;
    int m = (int)rows, n = (int)cols, lwork = -1, info = 0;
    float query_f = 0, query_q = 0;
    float *tau = gaba_aligned_alloc((size_t)(cols + 1) * sizeof(float));
    if (!tau) {
        lapack_end(api);
        return GABA_ERR_NOMEM;
    }
    api->sgeqrf(&m, &n, x, &m, tau, &query_f, &lwork, &info);
    api->sorgqr(&m, &n, &n, x, &m, tau, &query_q, &lwork, &info);
    float *work = workspace(query_f > query_q ? query_f : query_q, cols, &lwork);
    if (!work) {
        gaba_aligned_free(tau);
        lapack_end(api);
        return GABA_ERR_NOMEM;
    }
    api->sgeqrf(&m, &n, x, &m, tau, work, &lwork, &info);
    if (info == 0) api->sorgqr(&m, &n, &n, x, &m, tau, work, &lwork, &info);
    lapack_end(api);
    gaba_aligned_free(work);
    gaba_aligned_free(tau);
    return info == 0 ? GABA_OK : GABA_ERR_INTERNAL;
}

gaba_status gaba_lowrank_lapack_lu(int64_t rows, int64_t cols, float *x) {
    if (!fits_int(rows, cols) || rows < cols) return GABA_ERR_NO_IMPL;
    int *ipiv = gaba_aligned_alloc((size_t)(cols + 1) * sizeof(int));
    if (!ipiv) return GABA_ERR_NOMEM;
    const gaba_openblas_api *api = lapack_begin(rows * cols);
    if (!api) {
        gaba_aligned_free(ipiv);
        return GABA_ERR_NO_IMPL;
    }
    int m = (int)rows, n = (int)cols, info = 0;
    api->sgetrf(&m, &n, x, &m, ipiv, &info);
    lapack_end(api);
    // info > 0 flags an exactly singular U; L is still a valid basis.
    if (info < 0) {
        gaba_aligned_free(ipiv);
        return GABA_ERR_INTERNAL;
    }
    // L is unit lower trapezoidal: clear U from the top block.
    for (int64_t j = 0; j < cols; j++) {
        for (int64_t i = 0; i < j; i++) x[i + j * rows] = 0.0f;
        x[j + j * rows] = 1.0f;
    }
    // A = P L U; the interchanges applied in reverse order to L give P L.
    for (int64_t i = cols - 1; i >= 0; i--) {
        int64_t p = ipiv[i] - 1;
        if (p == i) continue;
        for (int64_t j = 0; j < cols; j++) {
            float t = x[i + j * rows];
            x[i + j * rows] = x[p + j * rows];
            x[p + j * rows] = t;
        }
    }
    gaba_aligned_free(ipiv);
    return GABA_OK;
}

float gaba_lowrank_max_abs(int64_t m, int64_t n, const float *a, int64_t rs, int64_t cs) {
    // Magnitudes compare as their bit patterns (NaN's above Inf's); integer
    // max keeps the loop vectorisable.
    uint32_t top = 0;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            uint32_t bits;
            memcpy(&bits, &a[i * rs + j * cs], sizeof bits);
            bits &= 0x7fffffffu;
            top = bits > top ? bits : top;
        }
    float v;
    memcpy(&v, &top, sizeof v);
    return v;
}
