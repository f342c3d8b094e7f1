// requant_avx2.c - the int8 output stage (qnn.h) with AVX2: 8 accumulators at a
// time (qnn_avx2_impl.h), and the float edge's quantization. Used by the
// AVX-512 level too.
#include "qnn_avx2_impl.h"

void gaba_qnn_requant_row_avx2(int64_t n, const int32_t *acc, int32_t bias, int32_t mult,
                               int32_t shift, int32_t zp, int32_t lo, int32_t hi, int8_t *y) {
    const gaba_qnn_v8 c = gaba_qnn_v8_init(mult, shift);
    const __m256i vb = _mm256_set1_epi32(bias), vzp = _mm256_set1_epi32(zp),
                  vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storel_epi64((__m128i *)(y + i),
                         gaba_qnn_v8_requant(&c, _mm256_loadu_si256((const __m256i *)(acc + i)), vb,
                                             vzp, vlo, vhi));
    for (; i < n; i++)
        y[i] = gaba_qnn_clamp(
            (int64_t)gaba_qnn_mbqm((int32_t)((uint32_t)acc[i] + (uint32_t)bias), mult, shift) + zp,
            lo, hi);
}

// gaba_qnn_quantize_f32 8 at a time: the same division, round half away from
// zero, zero point, clamp; NaN -> the zero point.
void gaba_qnn_quantize_f32_avx2(int64_t n, const float *x, float scale, int32_t zp, int8_t *q) {
    const __m256 vs = _mm256_set1_ps(scale), half = _mm256_set1_ps(0.5f),
                 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f),
                 vzp = _mm256_set1_ps((float)zp), lo = _mm256_set1_ps(-128.0f),
                 hi = _mm256_set1_ps(127.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_div_ps(_mm256_loadu_ps(x + i), vs);
        __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __m256 away = _mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_sub_ps(v, t)), half, _CMP_GE_OQ);
        t = _mm256_add_ps(t, _mm256_and_ps(away, _mm256_or_ps(one, _mm256_and_ps(sign, v))));
        t = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(t, vzp), lo), hi);
        t = _mm256_blendv_ps(vzp, t, _mm256_cmp_ps(v, v, _CMP_ORD_Q));
        __m256i r = _mm256_cvttps_epi32(t);
        __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
        _mm_storel_epi64((__m128i *)(q + i), _mm_packs_epi16(p16, p16));
    }
    gaba_qnn_quantize_f32_generic(n - i, x + i, scale, zp, q + i);
}
