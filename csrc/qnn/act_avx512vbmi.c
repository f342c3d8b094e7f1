// act_avx512vbmi.c - the int8 table activations (sigmoid, tanh, hard-swish:
// y = lut[x + 128], gaba_qnn_lut_ref), 64 bytes at a time. The index x + 128
// is x with its top bit flipped; vpermi2b picks by its low 7 bits from a
// 128-byte half of the table, and the top bit chooses the half.
#include "qnn_kernels.h"

#include <immintrin.h>

void gaba_qnn_lut_avx512vbmi(int64_t n, const int8_t *x, const int8_t *lut, int8_t *y) {
    const __m512i t0 = _mm512_loadu_si512(lut), t1 = _mm512_loadu_si512(lut + 64),
                  t2 = _mm512_loadu_si512(lut + 128), t3 = _mm512_loadu_si512(lut + 192);
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    for (int64_t i = 0; i < n; i += 64) {
        __mmask64 m = n - i >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << (n - i)) - 1;
        __m512i idx = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x + i), flip);
        __m512i lo = _mm512_permutex2var_epi8(t0, idx, t1);
        __m512i hi = _mm512_permutex2var_epi8(t2, idx, t3);
        _mm512_mask_storeu_epi8(y + i, m, _mm512_mask_blend_epi8(_mm512_movepi8_mask(idx), lo, hi));
    }
}
