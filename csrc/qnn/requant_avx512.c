// requant_avx512.c - the int8 output stage and the float edge's quantization
// 16 lanes at a time with AVX-512, the tail masked; bit-exact with the scalar
// versions (qnn_avx512_impl.h).
#include "qnn_avx512_impl.h"
#include "../core/lanes_avx512.h"

#include <math.h>

void gaba_qnn_requant_row_avx512(int64_t n, const int32_t *acc, int32_t bias, int32_t mult,
                                 int32_t shift, int32_t zp, int32_t lo, int32_t hi, int8_t *y) {
    const gaba_qnn_v16 c = gaba_qnn_v16_init(bias, mult, shift, zp, lo, hi);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = gaba_lanes16(n - i);
        __m512i r = gaba_qnn_v16_requant(&c, _mm512_maskz_loadu_epi32(m, acc + i));
        _mm512_mask_cvtsepi32_storeu_epi8(y + i, m, r);
    }
}

// gaba_qnn_quantize_f32: the same division, round half away from zero, zero
// point, clamp; NaN -> the zero point.
void gaba_qnn_quantize_f32_avx512(int64_t n, const float *x, float scale, int32_t zp, int8_t *q) {
    const __m512 vs = _mm512_set1_ps(scale), half = _mm512_set1_ps(0.5f),
                 one = _mm512_set1_ps(1.0f), sign = _mm512_set1_ps(-0.0f),
                 vzp = _mm512_set1_ps((float)zp), lo = _mm512_set1_ps(-128.0f),
                 hi = _mm512_set1_ps(127.0f);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = gaba_lanes16(n - i);
        __m512 v = _mm512_div_ps(_mm512_maskz_loadu_ps(m, x + i), vs);
        __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __mmask16 away = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(v, t)), half, _CMP_GE_OQ);
        t = _mm512_mask_add_ps(t, away, t, _mm512_or_ps(one, _mm512_and_ps(sign, v)));
        t = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(t, vzp), lo), hi);
        t = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), vzp, t);
        _mm512_mask_cvtepi32_storeu_epi8(q + i, m, _mm512_cvttps_epi32(t));
    }
}
