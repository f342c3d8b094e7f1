// fake_quant_avx512.c - AVX-512 span and lanes kernels: fake quantization 16
// floats at a time (masked loads/stores for the tail, so no scalar remainder
// loop) and the finite-only min/max reduction. Bit-identical to fake_quant_ref.c:
// roundscale to nearest is nearbyint in the default rounding mode, and every
// other step is one IEEE float32 operation in the same order.
#include "quant_kernels.h"
#include "quant_simd.h"
#include "../core/lanes_avx512.h"

#include <immintrin.h>

// Ties away from zero: truncate, then step away when the dropped fraction
// (exact: v - trunc(v) is representable) is at least one half.
static inline __m512 round_half_away(__m512 v) {
    __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_abs_ps(_mm512_sub_ps(v, t));
    __mmask16 up = _mm512_cmp_ps_mask(f, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    __m512 one = _mm512_or_ps(_mm512_set1_ps(1.0f),
                              _mm512_and_ps(v, _mm512_set1_ps(-0.0f))); // copysign(1, v)
    return _mm512_mask_add_ps(t, up, t, one);
}

// One channel's (span) or one element's (lanes) parameters, as vectors.
typedef struct fq_vecs {
    __m512 scale, inv, zp;
} fq_vecs;

static inline __attribute__((always_inline)) void fq_block(const float *x, float *y, uint8_t *mask,
                                                           __mmask16 lanes, fq_vecs p, __m512 lo,
                                                           __m512 hi, const int away,
                                                           const int with_mask) {
    __m512 v = _mm512_maskz_loadu_ps(lanes, x);
    __m512 r = away ? round_half_away(_mm512_div_ps(v, p.scale))
                    : _mm512_roundscale_ps(_mm512_mul_ps(v, p.inv),
                                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 q = _mm512_add_ps(r, p.zp);
    if (with_mask) {
        __mmask16 in =
            _mm512_cmp_ps_mask(q, lo, _CMP_GE_OQ) & _mm512_cmp_ps_mask(q, hi, _CMP_LE_OQ);
        _mm_mask_storeu_epi8(mask, lanes, _mm_maskz_mov_epi8(in, _mm_set1_epi8(1)));
    }
    // max_ps returns its second operand for a NaN: NaN lanes are restored below.
    __m512 c = _mm512_min_ps(_mm512_max_ps(q, lo), hi);
    __m512 out = _mm512_mul_ps(_mm512_sub_ps(c, p.zp), p.scale);
    out = _mm512_mask_mov_ps(out, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), v);
    _mm512_mask_storeu_ps(y, lanes, out);
}

static inline __attribute__((always_inline)) void fq_span(int64_t n, const float *x, float *y,
                                                          uint8_t *mask,
                                                          const gaba_quant_span_params *p,
                                                          const int away, const int with_mask) {
    const fq_vecs v = {_mm512_set1_ps(p->scale), _mm512_set1_ps(p->inv_scale),
                       _mm512_set1_ps(p->zero_point)};
    const __m512 lo = _mm512_set1_ps(p->qmin), hi = _mm512_set1_ps(p->qmax);
    int64_t i = 0;
    // Two blocks per iteration: enough independent work to hide the
    // roundscale latency while the loop stays load/store bound.
    for (; i + 32 <= n; i += 32) {
        fq_block(x + i, y + i, with_mask ? mask + i : NULL, 0xFFFF, v, lo, hi, away, with_mask);
        fq_block(x + i + 16, y + i + 16, with_mask ? mask + i + 16 : NULL, 0xFFFF, v, lo, hi, away,
                 with_mask);
    }
    for (; i < n; i += 16)
        fq_block(x + i, y + i, with_mask ? mask + i : NULL, gaba_lanes16(n - i), v, lo, hi, away,
                 with_mask);
}

static inline __attribute__((always_inline)) void fq_lanes(int64_t n, const float *x, float *y,
                                                           uint8_t *mask,
                                                           const gaba_quant_lane_params *p,
                                                           const int away, const int with_mask) {
    const __m512 lo = _mm512_set1_ps(p->qmin), hi = _mm512_set1_ps(p->qmax);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 lanes = gaba_lanes16(n - i);
        // Masked-off lanes load 0 as scale: their results are never stored.
        fq_vecs v = {_mm512_maskz_loadu_ps(lanes, p->scale + i),
                     _mm512_maskz_loadu_ps(lanes, p->inv_scale + i),
                     _mm512_maskz_loadu_ps(lanes, p->zero_point + i)};
        fq_block(x + i, y + i, with_mask ? mask + i : NULL, lanes, v, lo, hi, away, with_mask);
    }
}

void gaba_quant_fake_quantize_span_f32_avx512(int64_t n, const float *x, float *y, uint8_t *mask,
                                              const gaba_quant_span_params *p) {
    GABA_QUANT_FQ_SPECIALISE(fq_span, n, x, y, mask, p);
}

void gaba_quant_fake_quantize_lanes_f32_avx512(int64_t n, const float *x, float *y, uint8_t *mask,
                                               const gaba_quant_lane_params *p) {
    GABA_QUANT_FQ_SPECIALISE(fq_lanes, n, x, y, mask, p);
}

void gaba_quant_minmax_lanes_f32_avx512(int64_t n, const float *x, float *lo, float *hi) {
    const __m512 inf = _mm512_set1_ps(__builtin_inff());
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 lanes = gaba_lanes16(n - i);
        __m512 a = _mm512_maskz_loadu_ps(lanes, x + i);
        __mmask16 fa = lanes & _mm512_cmp_ps_mask(_mm512_abs_ps(a), inf, _CMP_LT_OQ);
        __m512 mn = _mm512_maskz_loadu_ps(lanes, lo + i), mx = _mm512_maskz_loadu_ps(lanes, hi + i);
        _mm512_mask_storeu_ps(lo + i, fa, _mm512_min_ps(mn, a));
        _mm512_mask_storeu_ps(hi + i, fa, _mm512_max_ps(mx, a));
    }
}

void gaba_quant_minmax_span_f32_avx512(int64_t n, const float *x, float *lo, float *hi) {
    const __m512 inf = _mm512_set1_ps(__builtin_inff());
    __m512 mn0 = _mm512_set1_ps(*lo), mx0 = _mm512_set1_ps(*hi), mn1 = mn0, mx1 = mx0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
        // Finite lanes only: |v| < inf is false for NaN and +-Inf.
        __mmask16 fa = _mm512_cmp_ps_mask(_mm512_abs_ps(a), inf, _CMP_LT_OQ);
        __mmask16 fb = _mm512_cmp_ps_mask(_mm512_abs_ps(b), inf, _CMP_LT_OQ);
        mn0 = _mm512_mask_min_ps(mn0, fa, mn0, a);
        mx0 = _mm512_mask_max_ps(mx0, fa, mx0, a);
        mn1 = _mm512_mask_min_ps(mn1, fb, mn1, b);
        mx1 = _mm512_mask_max_ps(mx1, fb, mx1, b);
    }
    for (; i < n; i += 16) {
        __mmask16 lanes = gaba_lanes16(n - i);
        __m512 a = _mm512_maskz_loadu_ps(lanes, x + i);
        __mmask16 fa = lanes & _mm512_cmp_ps_mask(_mm512_abs_ps(a), inf, _CMP_LT_OQ);
        mn0 = _mm512_mask_min_ps(mn0, fa, mn0, a);
        mx0 = _mm512_mask_max_ps(mx0, fa, mx0, a);
    }
    *lo = _mm512_reduce_min_ps(_mm512_min_ps(mn0, mn1));
    *hi = _mm512_reduce_max_ps(_mm512_max_ps(mx0, mx1));
}
