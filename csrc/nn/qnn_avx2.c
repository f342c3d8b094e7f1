// qnn_avx2.c - the int8 output stage (qnn.h) with AVX2: 8 accumulators at a
// time through TFLite's MultiplyByQuantizedMultiplier, bit-exact with the
// scalar gaba_qnn_mbqm. The rounding doubling high multiply of a Q31
// multiplier M >= 0 is floor((x * M + 2^30) / 2^31) (gemmlowp's nudge and
// truncation fold into that when M >= 0; the saturating case needs M =
// INT32_MIN), taken from 64-bit vpmuldq products. Also the int8 depthwise
// loop (qnn_impl.h) compiled for AVX2. Used by the AVX-512 level too.
#include "qnn_impl.h"

#include <immintrin.h>

typedef struct vmbqm {
    __m128i lsh, rsh;
    __m256i vm, nudge, vmask, vthr, zero;
} vmbqm;

static inline vmbqm vmbqm_init(int32_t mult, int32_t shift) {
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    vmbqm c;
    c.lsh = _mm_cvtsi32_si128(left), c.rsh = _mm_cvtsi32_si128(right);
    c.vm = _mm256_set1_epi32(mult);
    c.nudge = _mm256_set1_epi64x((int64_t)1 << 30);
    c.vmask = _mm256_set1_epi32((int32_t)(((int64_t)1 << right) - 1));
    c.vthr = _mm256_set1_epi32((int32_t)((((int64_t)1 << right) - 1) >> 1));
    c.zero = _mm256_setzero_si256();
    return c;
}

static inline __m256i vmbqm_apply(const vmbqm *c, __m256i x) {
    x = _mm256_sll_epi32(x, c->lsh);
    __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, c->vm), c->nudge);
    __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), c->vm), c->nudge);
    even = _mm256_srli_epi64(even, 31);                     // low dword of each lane
    odd = _mm256_slli_epi64(_mm256_srli_epi64(odd, 31), 32); // high dword
    __m256i h = _mm256_blend_epi32(even, odd, 0xAA);
    // Rounding right shift, half away from zero.
    __m256i rem = _mm256_and_si256(h, c->vmask);
    __m256i thr = _mm256_sub_epi32(c->vthr, _mm256_cmpgt_epi32(c->zero, h));
    return _mm256_sub_epi32(_mm256_sra_epi32(h, c->rsh), _mm256_cmpgt_epi32(rem, thr));
}

void gaba_qnn_requant_row_avx2(int64_t n, const int32_t *acc, int32_t bias, int32_t mult,
                               int32_t shift, int32_t zp, int32_t lo, int32_t hi, int8_t *y) {
    const vmbqm c = vmbqm_init(mult, shift);
    const __m256i vb = _mm256_set1_epi32(bias), vzp = _mm256_set1_epi32(zp),
                  vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i x = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(acc + i)), vb);
        __m256i r = vmbqm_apply(&c, x);
        r = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(r, vzp), vlo), vhi);
        __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
        _mm_storel_epi64((__m128i *)(y + i), _mm_packs_epi16(p16, p16));
    }
    for (; i < n; i++)
        y[i] = gaba_qnn_clamp((int64_t)gaba_qnn_mbqm((int32_t)((uint32_t)acc[i] + (uint32_t)bias), mult, shift) + zp,
                              lo, hi);
}

// x[i] = MBQM((q[i] - zp) << 20, mult, shift): the first step of the int8 add.
void gaba_qnn_add_input_avx2(int64_t n, const int8_t *q, int32_t zp, int32_t mult, int32_t shift,
                             int32_t *x) {
    const vmbqm c = vmbqm_init(mult, shift);
    const __m256i vzp = _mm256_set1_epi32(zp);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i v = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(q + i)));
        v = _mm256_slli_epi32(_mm256_sub_epi32(v, vzp), 20);
        _mm256_storeu_si256((__m256i *)(x + i), vmbqm_apply(&c, v));
    }
    for (; i < n; i++) x[i] = gaba_qnn_mbqm((q[i] - zp) * (1 << 20), mult, shift);
}

void gaba_qnn_dwconv_s8_avx2(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q,
                             const int8_t *x, int8_t *y, void *ws) {
    gaba_qnn_dwconv_body(g, q, x, y, ws, gaba_qnn_requant_row_avx2);
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
