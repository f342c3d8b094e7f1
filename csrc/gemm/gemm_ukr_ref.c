// gemm_ukr_ref.c - the portable microkernels: the packed MR x NR tile (4 x 8),
// the direct (unpacked) tile and the GEMV dot products, in plain C. They
// define the contract of gemm_kernels.h that the AVX2 and AVX-512 files
// implement with registers; the blocked driver (gemm_native.c) is shared.
// No intrinsics here: this file builds for baseline x86-64 or any CPU.
#include "gemm_kernels.h"

#define MR GABA_GEMM_MR_REF
#define NR GABA_GEMM_NR_REF

static void store_tile(const float acc[MR][NR], float *c, int64_t rs_c, int64_t cs_c, int64_t mr,
                       int64_t nr, const gaba_gemm_epi *epi) {
    for (int64_t i = 0; i < mr; i++)
        for (int64_t j = 0; j < nr; j++) {
            float *cij = &c[i * rs_c + j * cs_c];
            *cij = gaba_gemm_finish1(acc[i][j], cij, epi, epi->bias ? epi->bias + j : NULL);
        }
}

void gaba_gemm_ukr_f32_ref(int64_t k, const float *a, const float *b, float *c, int64_t rs_c,
                           int64_t cs_c, int64_t mr, int64_t nr, const gaba_gemm_epi *epi) {
    float acc[MR][NR] = {{0}};
    for (int64_t p = 0; p < k; p++, a += MR, b += NR)
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) acc[i][j] += a[i] * b[j];
    store_tile(acc, c, rs_c, cs_c, mr, nr, epi);
}

void gaba_gemm_ukr_direct_f32_ref(int64_t k, const float *a, int64_t rs_a, int64_t cs_a,
                                  const float *b, int64_t rs_b, float *c, int64_t rs_c,
                                  int64_t cs_c, int64_t mr, int64_t nr, const gaba_gemm_epi *epi) {
    float acc[MR][NR] = {{0}};
    for (int64_t p = 0; p < k; p++)
        for (int64_t i = 0; i < mr; i++)
            for (int64_t j = 0; j < nr; j++) acc[i][j] += a[i * rs_a + p * cs_a] * b[p * rs_b + j];
    store_tile(acc, c, rs_c, cs_c, mr, nr, epi);
}

void gaba_gemm_gemv_f32_ref(int64_t n, int64_t k, const float *x, int64_t inc_x, const float *b,
                            int64_t rs_b, int64_t cs_b, float *t) {
    for (int64_t j = 0; j < n; j++) t[j] = 0.0f;
    for (int64_t p = 0; p < k; p++) {
        float xp = x[p * inc_x];
        for (int64_t j = 0; j < n; j++) t[j] += xp * b[p * rs_b + j * cs_b];
    }
}
