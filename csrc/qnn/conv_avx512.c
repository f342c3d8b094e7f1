// conv_avx512.c - the pointwise conv's packed activations
// (gaba_qnn_pack_fn) with AVX-512: per group of 4 rows and 64 pixels, four
// loads flipped to x + 128, two rounds of byte/word unpacking (each 128-bit
// lane then holds the quadruples of its 16 pixels in four parts) and a 4x4
// transpose of 128-bit blocks, so each store is 16 pixels' quadruples in order.
#include "qnn_impl.h"

#include <immintrin.h>

void gaba_qnn_pack_u8_avx512(int64_t k, int64_t n, const int8_t *src, int64_t rs, uint8_t *xp) {
    const int64_t np = gaba_qnn_round16(n);
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    for (int64_t g = 0; g < (k + 3) / 4; g++) {
        uint8_t *d = xp + g * np * 4;
        for (int64_t j = 0; j < n; j += 64) {
            const __mmask64 m = n - j >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (n - j)) - 1);
            const __m512i flip_m = _mm512_maskz_mov_epi8(m, flip);
            __m512i r[4]; // rows past k and pixels past n are 0 (not x + 128)
            for (int b = 0; b < 4; b++)
                r[b] = 4 * g + b < k
                           ? _mm512_xor_si512(
                                 _mm512_maskz_loadu_epi8(m, src + (4 * g + b) * rs + j), flip_m)
                           : _mm512_setzero_si512();
            // lane L: pixels 16 L + (0..7 | 8..15) as byte pairs of rows 0, 1 and 2, 3
            __m512i lo01 = _mm512_unpacklo_epi8(r[0], r[1]),
                    hi01 = _mm512_unpackhi_epi8(r[0], r[1]);
            __m512i lo23 = _mm512_unpacklo_epi8(r[2], r[3]),
                    hi23 = _mm512_unpackhi_epi8(r[2], r[3]);
            // q[t] lane L: the quadruples of pixels 16 L + 4 t .. 16 L + 4 t + 3
            __m512i q0 = _mm512_unpacklo_epi16(lo01, lo23), q1 = _mm512_unpackhi_epi16(lo01, lo23);
            __m512i q2 = _mm512_unpacklo_epi16(hi01, hi23), q3 = _mm512_unpackhi_epi16(hi01, hi23);
            __m512i a01 = _mm512_shuffle_i32x4(q0, q1, 0x44),
                    b01 = _mm512_shuffle_i32x4(q0, q1, 0xEE);
            __m512i a23 = _mm512_shuffle_i32x4(q2, q3, 0x44),
                    b23 = _mm512_shuffle_i32x4(q2, q3, 0xEE);
            __m512i out[4] = {
                _mm512_shuffle_i32x4(a01, a23, 0x88), _mm512_shuffle_i32x4(a01, a23, 0xDD),
                _mm512_shuffle_i32x4(b01, b23, 0x88), _mm512_shuffle_i32x4(b01, b23, 0xDD)};
            for (int t = 0; t < 4 && j + 16 * t < n; t++)
                _mm512_storeu_si512(d + 4 * (j + 16 * t), out[t]);
        }
    }
}
