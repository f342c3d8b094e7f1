// gemm_openblas.c - the OpenBLAS backend: cblas_sgemm from the
// scipy-openblas32 wheel (symbols prefixed scipy_, 32-bit blasint).
//
// cblas wants each operand with one unit stride and a leading dimension, in
// the major order of C. This adapter picks the order C already has, maps A
// and B onto (trans, ld) when their strides allow, and otherwise packs the
// operand (or C) into a contiguous copy: strided views, negative strides and
// broadcast (zero) strides all work, at the cost of that copy. OpenBLAS's
// thread count follows gaba's pool size.
#include "gemm_kernels.h"
#include "../core/openblas.h"

#include <limits.h>
#include <stdatomic.h>
#include <string.h>

static atomic_int openblas_threads_set;

// Gives OpenBLAS gaba's thread count when it changed since the last call.
static void sync_threads(const gaba_openblas_api *blas) {
    int want = gaba_threads_get();
    if (atomic_exchange(&openblas_threads_set, want) != want) blas->set_num_threads(want);
}

// Expresses a (rows, cols) matrix with strides (rs, cs) as a BLAS operand in
// the given order. A column-major matrix is the row-major view of its
// transpose, so the column-major case swaps roles and reuses the test.
static int as_operand(int col_major, int64_t rows, int64_t cols, int64_t rs, int64_t cs,
                      enum CBLAS_TRANSPOSE *trans, blasint *ld) {
    if (col_major) {
        int64_t t = rows;
        rows = cols;
        cols = t;
        t = rs;
        rs = cs;
        cs = t;
    }
    int64_t need = cols > 1 ? cols : 1;
    int64_t lead = rows <= 1 ? need : rs;
    if ((cols <= 1 || cs == 1) && lead >= need && lead <= INT_MAX) {
        *trans = CblasNoTrans;
        *ld = (blasint)lead;
        return 1;
    }
    need = rows > 1 ? rows : 1;
    lead = cols <= 1 ? need : cs;
    if ((rows <= 1 || rs == 1) && lead >= need && lead <= INT_MAX) {
        *trans = CblasTrans;
        *ld = (blasint)lead;
        return 1;
    }
    return 0;
}

// Copies a strided (rows, cols) matrix into a dense one in the given order.
static float *pack(int col_major, int64_t rows, int64_t cols, const float *src, int64_t rs,
                   int64_t cs) {
    float *dst = gaba_aligned_alloc((size_t)rows * (size_t)cols * sizeof(float));
    if (!dst) return NULL;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            dst[col_major ? i + j * rows : i * cols + j] = src[i * rs + j * cs];
    return dst;
}

gaba_status gaba_gemm_f32_openblas(int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                                   int64_t rs_a, int64_t cs_a, const float *b, int64_t rs_b,
                                   int64_t cs_b, float beta, float *c, int64_t rs_c, int64_t cs_c,
                                   const float *bias, gaba_act act) {
    if (m > INT_MAX || n > INT_MAX || k > INT_MAX) return GABA_ERR_NO_IMPL;
    const gaba_openblas_api *blas = gaba_openblas();
    if (!blas) return GABA_ERR_NO_IMPL;
    enum CBLAS_TRANSPOSE trans_c;
    blasint ldc;
    int col_major = 0;
    float *c_copy = NULL;
    float *cc = c;
    if (as_operand(0, m, n, rs_c, cs_c, &trans_c, &ldc) && trans_c == CblasNoTrans) {
        col_major = 0;
    } else if (as_operand(1, m, n, rs_c, cs_c, &trans_c, &ldc) && trans_c == CblasNoTrans) {
        col_major = 1;
    } else {
        // beta == 0 must not read C, so only copy it in when it is used.
        c_copy = beta == 0.0f ? gaba_aligned_alloc((size_t)m * (size_t)n * sizeof(float))
                              : pack(0, m, n, c, rs_c, cs_c);
        if (!c_copy) return GABA_ERR_NOMEM;
        cc = c_copy;
        ldc = (blasint)n;
    }

    gaba_status status = GABA_OK;
    enum CBLAS_TRANSPOSE trans_a, trans_b;
    blasint lda, ldb;
    float *a_copy = NULL, *b_copy = NULL;
    if (!as_operand(col_major, m, k, rs_a, cs_a, &trans_a, &lda)) {
        a_copy = pack(col_major, m, k, a, rs_a, cs_a);
        if (!a_copy) {
            status = GABA_ERR_NOMEM;
            goto done;
        }
        a = a_copy;
        trans_a = CblasNoTrans;
        lda = (blasint)(col_major ? m : k);
    }
    if (!as_operand(col_major, k, n, rs_b, cs_b, &trans_b, &ldb)) {
        b_copy = pack(col_major, k, n, b, rs_b, cs_b);
        if (!b_copy) {
            status = GABA_ERR_NOMEM;
            goto done;
        }
        b = b_copy;
        trans_b = CblasNoTrans;
        ldb = (blasint)(col_major ? k : n);
    }

    sync_threads(blas);
    blas->cblas_sgemm(col_major ? CblasColMajor : CblasRowMajor, trans_a, trans_b, (blasint)m,
                      (blasint)n, (blasint)k, alpha, a, lda, b, ldb, beta, cc, ldc);
    if (c_copy) {
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) c[i * rs_c + j * cs_c] = c_copy[i * n + j];
    }
    gaba_gemm_epilogue_f32(m, n, c, rs_c, cs_c, bias, act);
done:
    gaba_aligned_free(a_copy);
    gaba_aligned_free(b_copy);
    gaba_aligned_free(c_copy);
    return status;
}

const char *gaba_gemm_openblas_config(void) {
    const gaba_openblas_api *blas = gaba_openblas();
    return blas ? blas->get_config() : gaba_openblas_error();
}

const char *gaba_gemm_openblas_corename(void) {
    const gaba_openblas_api *blas = gaba_openblas();
    return blas ? blas->get_corename() : "unavailable";
}

int gaba_gemm_openblas_threads(void) {
    const gaba_openblas_api *blas = gaba_openblas();
    if (!blas) return 0;
    sync_threads(blas);
    return blas->get_num_threads();
}
