// gemm_s8_ukr_avxvnni.c - AVX-VNNI (VEX-encoded vpdpbusd, 256-bit) int8
// microkernel: a 6 x 16 int32 tile in 12 ymm accumulators, the AVX2 float
// kernel's shape. For CPUs with AVX-VNNI but no AVX-512 (and for the avx2
// dispatch level on CPUs that have both). Same packed layout and contract
// as gemm_s8_ukr_ref.c.
#include "gemm_s8_kernels.h"

#include <immintrin.h>
#include <string.h>

#define MR 6
#define NR 16

#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

void gaba_gemm_s8_ukr_avxvnni(int64_t kg, const uint8_t *a, const int8_t *b, int32_t *c,
                              int64_t rs_c, int64_t cs_c, int64_t mr, int64_t nr,
                              const int32_t *col_add, int accumulate) {
#define DECL(i) __m256i c##i##a = _mm256_setzero_si256(), c##i##b = _mm256_setzero_si256();
    ROWS(DECL)
#define DOT(i)                                                                                     \
    {                                                                                              \
        int32_t ai;                                                                                \
        memcpy(&ai, a + 4 * i, 4);                                                                 \
        __m256i av = _mm256_set1_epi32(ai);                                                        \
        c##i##a = _mm256_dpbusd_avx_epi32(c##i##a, av, b0);                                        \
        c##i##b = _mm256_dpbusd_avx_epi32(c##i##b, av, b1);                                        \
    }
    for (int64_t g = 0; g < kg; g++, a += 4 * MR, b += 4 * NR) {
        __m256i b0 = _mm256_load_si256((const __m256i *)b);
        __m256i b1 = _mm256_load_si256((const __m256i *)(b + 32));
        ROWS(DOT)
    }
#define STORE(i)                                                                                   \
    if (i < mr) {                                                                                  \
        int32_t t[NR];                                                                             \
        _mm256_storeu_si256((__m256i *)t, c##i##a);                                                \
        _mm256_storeu_si256((__m256i *)(t + 8), c##i##b);                                          \
        gaba_gemm_s8_store_row(c + i * rs_c, cs_c, nr, t, col_add, accumulate);                    \
    }
    ROWS(STORE)
}
