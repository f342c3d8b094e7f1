// fake_quant_avx2.c - AVX2 span and lanes kernels: fake quantization 8 floats
// at a time and the finite-only min/max reduction; tails of fewer than 8 elements go to
// the reference kernel. Bit-identical to fake_quant_ref.c (round_ps to
// nearest is nearbyint; every other step is one float32 operation in the
// reference's order).
#include "quant_kernels.h"
#include "quant_simd.h"

#include <immintrin.h>

static inline __m256 round_half_away(__m256 v) {
    __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m256 sign = _mm256_and_ps(v, _mm256_set1_ps(-0.0f));
    __m256 f = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(v, t)); // |v - t|, exact
    __m256 up = _mm256_cmp_ps(f, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    __m256 one = _mm256_or_ps(_mm256_set1_ps(1.0f), sign);
    return _mm256_add_ps(t, _mm256_and_ps(up, one));
}

// Eight elements x[0..8) with their parameters as vectors.
static inline __attribute__((always_inline)) void fq_block(const float *x, float *y, uint8_t *mask,
                                                           __m256 scale, __m256 inv, __m256 zp,
                                                           __m256 lo, __m256 hi, const int away,
                                                           const int with_mask) {
    __m256 v = _mm256_loadu_ps(x);
    __m256 r = away ? round_half_away(_mm256_div_ps(v, scale))
                    : _mm256_round_ps(_mm256_mul_ps(v, inv),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 q = _mm256_add_ps(r, zp);
    if (with_mask) {
        __m256 in =
            _mm256_and_ps(_mm256_cmp_ps(q, lo, _CMP_GE_OQ), _mm256_cmp_ps(q, hi, _CMP_LE_OQ));
        __m256i ones = _mm256_and_si256(_mm256_castps_si256(in), _mm256_set1_epi32(1));
        __m128i w =
            _mm_packs_epi32(_mm256_castsi256_si128(ones), _mm256_extracti128_si256(ones, 1));
        _mm_storel_epi64((__m128i *)mask, _mm_packs_epi16(w, w));
    }
    __m256 c = _mm256_min_ps(_mm256_max_ps(q, lo), hi); // NaN becomes lo: restored below
    __m256 out = _mm256_mul_ps(_mm256_sub_ps(c, zp), scale);
    out = _mm256_blendv_ps(out, v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    _mm256_storeu_ps(y, out);
}

static inline __attribute__((always_inline)) void fq_span(int64_t n, const float *x, float *y,
                                                          uint8_t *mask,
                                                          const gaba_quant_span_params *p,
                                                          const int away, const int with_mask) {
    const __m256 scale = _mm256_set1_ps(p->scale), inv = _mm256_set1_ps(p->inv_scale);
    const __m256 zp = _mm256_set1_ps(p->zero_point);
    const __m256 lo = _mm256_set1_ps(p->qmin), hi = _mm256_set1_ps(p->qmax);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        fq_block(x + i, y + i, with_mask ? mask + i : NULL, scale, inv, zp, lo, hi, away,
                 with_mask);
    if (i < n)
        gaba_quant_fake_quantize_span_f32_ref(n - i, x + i, y + i, with_mask ? mask + i : NULL, p);
}

static inline __attribute__((always_inline)) void fq_lanes(int64_t n, const float *x, float *y,
                                                           uint8_t *mask,
                                                           const gaba_quant_lane_params *p,
                                                           const int away, const int with_mask) {
    const __m256 lo = _mm256_set1_ps(p->qmin), hi = _mm256_set1_ps(p->qmax);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        fq_block(x + i, y + i, with_mask ? mask + i : NULL, _mm256_loadu_ps(p->scale + i),
                 _mm256_loadu_ps(p->inv_scale + i), _mm256_loadu_ps(p->zero_point + i), lo, hi,
                 away, with_mask);
    if (i < n) {
        gaba_quant_lane_params rest = *p;
        rest.scale += i, rest.inv_scale += i, rest.zero_point += i;
        gaba_quant_fake_quantize_lanes_f32_ref(n - i, x + i, y + i, with_mask ? mask + i : NULL,
                                               &rest);
    }
}

void gaba_quant_fake_quantize_lanes_f32_avx2(int64_t n, const float *x, float *y, uint8_t *mask,
                                             const gaba_quant_lane_params *p) {
    GABA_QUANT_FQ_SPECIALISE(fq_lanes, n, x, y, mask, p);
}

void gaba_quant_minmax_lanes_f32_avx2(int64_t n, const float *x, float *lo, float *hi) {
    const __m256 inf = _mm256_set1_ps(__builtin_inff()), sign = _mm256_set1_ps(-0.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 finite = _mm256_cmp_ps(_mm256_andnot_ps(sign, v), inf, _CMP_LT_OQ);
        __m256 mn = _mm256_loadu_ps(lo + i), mx = _mm256_loadu_ps(hi + i);
        _mm256_storeu_ps(lo + i, _mm256_blendv_ps(mn, _mm256_min_ps(mn, v), finite));
        _mm256_storeu_ps(hi + i, _mm256_blendv_ps(mx, _mm256_max_ps(mx, v), finite));
    }
    gaba_quant_minmax_lanes_f32_ref(n - i, x + i, lo + i, hi + i);
}

void gaba_quant_fake_quantize_span_f32_avx2(int64_t n, const float *x, float *y, uint8_t *mask,
                                            const gaba_quant_span_params *p) {
    GABA_QUANT_FQ_SPECIALISE(fq_span, n, x, y, mask, p);
}

void gaba_quant_minmax_span_f32_avx2(int64_t n, const float *x, float *lo, float *hi) {
    const __m256 inf = _mm256_set1_ps(__builtin_inff()), sign = _mm256_set1_ps(-0.0f);
    __m256 mn = _mm256_set1_ps(*lo), mx = _mm256_set1_ps(*hi);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 finite = _mm256_cmp_ps(_mm256_andnot_ps(sign, v), inf, _CMP_LT_OQ);
        mn = _mm256_blendv_ps(mn, _mm256_min_ps(mn, v), finite);
        mx = _mm256_blendv_ps(mx, _mm256_max_ps(mx, v), finite);
    }
    float l[8], h[8];
    _mm256_storeu_ps(l, mn);
    _mm256_storeu_ps(h, mx);
    float a = l[0], b = h[0];
    for (int k = 1; k < 8; k++) {
        a = l[k] < a ? l[k] : a;
        b = h[k] > b ? h[k] : b;
    }
    gaba_quant_minmax_span_f32_ref(n - i, x + i, &a, &b);
    *lo = a;
    *hi = b;
}
