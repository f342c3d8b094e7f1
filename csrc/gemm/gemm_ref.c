// gemm_ref.c - the reference GEMM: plain loops over any strides, float
// accumulation in k order, then the reference epilogue. It is the oracle the
// fast backends are tested against and the "ref" backend; it is never
// optimised in place.
#include "gemm_kernels.h"

gaba_status gaba_gemm_f32_ref(int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                              int64_t rs_a, int64_t cs_a, const float *b, int64_t rs_b,
                              int64_t cs_b, float beta, float *c, int64_t rs_c, int64_t cs_c,
                              const float *bias, gaba_act act) {
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) {
            float acc = 0.0f;
            for (int64_t p = 0; p < k; p++) acc += a[i * rs_a + p * cs_a] * b[p * rs_b + j * cs_b];
            float *cij = &c[i * rs_c + j * cs_c];
            *cij = beta == 0.0f ? alpha * acc : alpha * acc + beta * *cij;
        }
    }
    gaba_gemm_epilogue_f32_ref(m, n, c, rs_c, cs_c, bias, act);
    return GABA_OK;
}
