// act_avx2.c - the int8 table activations (sigmoid, tanh, hard-swish:
// y = lut[x + 128], gaba_qnn_lut_ref) 32 bytes at a time with AVX2, for CPUs
// without VBMI. x < 0 reads the table's first half at x + 128, x >= 0 its
// second half at x: each half is 8 slices of 16 bytes, and 8 vpshufb rounds
// on an index lowered by 16 per round XOR together the differences of
// consecutive slices (round r: slice r ^ slice r - 1). vpshufb gives 0 where
// the index byte is negative, so the byte of index i sees the rounds up to
// i / 16, whose differences telescope to slice i / 16, at i % 16. The sign of
// x picks the half.
#include "qnn_kernels.h"

#include <immintrin.h>

// The lookup in one 128-byte half (index in [0, 128); other bytes are don't-cares).
static inline __m256i half_lookup(const __m256i *diff, __m256i idx) {
    const __m256i step = _mm256_set1_epi8(16);
    __m256i r = _mm256_shuffle_epi8(diff[0], idx);
    for (int s = 1; s < 8; s++) {
        idx = _mm256_sub_epi8(idx, step);
        r = _mm256_xor_si256(r, _mm256_shuffle_epi8(diff[s], idx));
    }
    return r;
}

void gaba_qnn_lut_avx2(int64_t n, const int8_t *x, const int8_t *lut, int8_t *y) {
    __m256i lo[8], hi[8]; // slice differences, the 16 bytes in both 128-bit lanes
    for (int s = 0; s < 8; s++) {
        __m128i a = _mm_loadu_si128((const __m128i *)(lut + 16 * s));
        __m128i b = _mm_loadu_si128((const __m128i *)(lut + 128 + 16 * s));
        if (s) {
            a = _mm_xor_si128(a, _mm_loadu_si128((const __m128i *)(lut + 16 * s - 16)));
            b = _mm_xor_si128(b, _mm_loadu_si128((const __m128i *)(lut + 112 + 16 * s)));
        }
        lo[s] = _mm256_broadcastsi128_si256(a), hi[s] = _mm256_broadcastsi128_si256(b);
    }
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(x + i));
        __m256i neg = half_lookup(lo, _mm256_xor_si256(v, flip)), pos = half_lookup(hi, v);
        _mm256_storeu_si256((__m256i *)(y + i), _mm256_blendv_epi8(pos, neg, v));
    }
    gaba_qnn_lut_ref(n - i, x + i, lut, y + i);
}
