// gemm_s8_ukr_avx2.c - AVX2 int8 microkernel without VNNI: a 6 x 16 int32
// tile over the same packed layout. vpmaddubsw would saturate (two u8 x s8
// products reach 64770), so each 4-byte group is split into its even and
// odd bytes widened to int16 (zero-extended for A, sign-extended for B) and
// multiplied with vpmaddwd, whose int16 pair sums are exact in int32: the
// result equals vpdpbusd's bit for bit.
#include "gemm_s8_kernels.h"

#include <immintrin.h>
#include <string.h>

#define MR 6
#define NR 16

#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

void gaba_gemm_s8_ukr_avx2(int64_t kg, const uint8_t *a, const int8_t *b, int32_t *c, int64_t rs_c,
                           int64_t cs_c, int64_t mr, int64_t nr, const int32_t *col_add,
                           int accumulate) {
#define DECL(i) __m256i c##i##a = _mm256_setzero_si256(), c##i##b = _mm256_setzero_si256();
    ROWS(DECL)
    const __m256i low_bytes = _mm256_set1_epi16(0x00ff);
#define DOT(i)                                                                                     \
    {                                                                                              \
        int32_t ai;                                                                                \
        memcpy(&ai, a + 4 * i, 4);                                                                 \
        __m256i av = _mm256_set1_epi32(ai);                                                        \
        __m256i a_even = _mm256_and_si256(av, low_bytes);                                          \
        __m256i a_odd = _mm256_srli_epi16(av, 8);                                                  \
        c##i##a = _mm256_add_epi32(c##i##a, _mm256_add_epi32(_mm256_madd_epi16(a_even, b0e),       \
                                                             _mm256_madd_epi16(a_odd, b0o)));      \
        c##i##b = _mm256_add_epi32(c##i##b, _mm256_add_epi32(_mm256_madd_epi16(a_even, b1e),       \
                                                             _mm256_madd_epi16(a_odd, b1o)));      \
    }
    for (int64_t g = 0; g < kg; g++, a += 4 * MR, b += 4 * NR) {
        __m256i b0 = _mm256_load_si256((const __m256i *)b);
        __m256i b1 = _mm256_load_si256((const __m256i *)(b + 32));
        __m256i b0e = _mm256_srai_epi16(_mm256_slli_epi16(b0, 8), 8),
                b0o = _mm256_srai_epi16(b0, 8);
        __m256i b1e = _mm256_srai_epi16(_mm256_slli_epi16(b1, 8), 8),
                b1o = _mm256_srai_epi16(b1, 8);
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
