// qnn_avx512.c - the int8 output stage and the first step of the int8 add
// (qnn_kernels.h) 16 lanes at a time with AVX-512, the tail masked;
// bit-exact with the scalar versions (qnn_avx512_impl.h).
#include "qnn_avx512_impl.h"

static inline __mmask16 tail_mask(int64_t left) {
    return left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
}

void gaba_qnn_requant_row_avx512(int64_t n, const int32_t *acc, int32_t bias, int32_t mult,
                                 int32_t shift, int32_t zp, int32_t lo, int32_t hi, int8_t *y) {
    const gaba_qnn_v16 c = gaba_qnn_v16_init(bias, mult, shift, zp, lo, hi);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m512i r = gaba_qnn_v16_requant(&c, _mm512_maskz_loadu_epi32(m, acc + i));
        _mm512_mask_cvtsepi32_storeu_epi8(y + i, m, r);
    }
}

// x[i] = MBQM((q[i] - zp) << 20, mult, shift).
void gaba_qnn_add_input_avx512(int64_t n, const int8_t *q, int32_t zp, int32_t mult,
                               int32_t shift, int32_t *x) {
    const gaba_qnn_v16 c = gaba_qnn_v16_init(0, mult, shift, 0, 0, 0);
    const __m512i vzp = _mm512_set1_epi32(zp);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m512i v = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, q + i));
        v = _mm512_slli_epi32(_mm512_sub_epi32(v, vzp), 20);
        _mm512_mask_storeu_epi32(x + i, m, gaba_qnn_v16_mbqm(&c, v));
    }
}
