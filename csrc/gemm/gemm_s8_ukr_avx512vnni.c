// gemm_s8_ukr_avx512vnni.c - AVX-512-VNNI int8 microkernel: a 12 x 32 int32
// tile in 24 zmm accumulators; per group of 4 k steps, two B vectors (32
// columns x 4 signed bytes) and one vpdpbusd per row and vector with A's 4
// unsigned bytes broadcast. Same shape and reasoning as the float32 kernel
// (gemm_ukr_avx512.c); signed A is handled by the driver (A + 128, minus
// 128 * column sums of B, passed in as col_add).
#include "gemm_s8_kernels.h"

#include <immintrin.h>
#include <string.h>

#define MR 12
#define NR 32

#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

void gaba_gemm_s8_ukr_avx512vnni(int64_t kg, const uint8_t *a, const int8_t *b, int32_t *c,
                                 int64_t rs_c, int64_t cs_c, int64_t mr, int64_t nr,
                                 const int32_t *col_add, int accumulate) {
#define DECL(i) __m512i c##i##a = _mm512_setzero_si512(), c##i##b = _mm512_setzero_si512();
    ROWS(DECL)
#define DOT(i)                                                                                     \
    {                                                                                              \
        int32_t ai;                                                                                \
        memcpy(&ai, a + 4 * i, 4);                                                                 \
        __m512i av = _mm512_set1_epi32(ai);                                                        \
        c##i##a = _mm512_dpbusd_epi32(c##i##a, av, b0);                                            \
        c##i##b = _mm512_dpbusd_epi32(c##i##b, av, b1);                                            \
    }
    for (int64_t g = 0; g < kg; g++, a += 4 * MR, b += 4 * NR) {
        __m512i b0 = _mm512_load_si512((const void *)b),
                b1 = _mm512_load_si512((const void *)(b + 64));
        ROWS(DOT)
    }
    __mmask16 m0 = nr >= 16 ? 0xffff : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? 0xffff : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
    __m512i add0 = col_add ? _mm512_maskz_loadu_epi32(m0, col_add) : _mm512_setzero_si512();
    __m512i add1 =
        col_add && m1 ? _mm512_maskz_loadu_epi32(m1, col_add + 16) : _mm512_setzero_si512();
#define STORE(i)                                                                                   \
    if (i < mr) {                                                                                  \
        int32_t *row = c + i * rs_c;                                                               \
        __m512i v0 = _mm512_add_epi32(c##i##a, add0), v1 = _mm512_add_epi32(c##i##b, add1);        \
        if (cs_c == 1) {                                                                           \
            if (accumulate) {                                                                      \
                v0 = _mm512_add_epi32(v0, _mm512_maskz_loadu_epi32(m0, row));                      \
                if (m1) v1 = _mm512_add_epi32(v1, _mm512_maskz_loadu_epi32(m1, row + 16));         \
            }                                                                                      \
            _mm512_mask_storeu_epi32(row, m0, v0);                                                 \
            if (m1) _mm512_mask_storeu_epi32(row + 16, m1, v1);                                    \
        } else {                                                                                   \
            int32_t t[NR];                                                                         \
            _mm512_storeu_si512((void *)t, v0);                                                    \
            _mm512_storeu_si512((void *)(t + 16), v1);                                             \
            gaba_gemm_s8_store_row(row, cs_c, nr, t, NULL, accumulate);                            \
        }                                                                                          \
    }
    ROWS(STORE)
}
