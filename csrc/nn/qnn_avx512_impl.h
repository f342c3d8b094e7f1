// qnn_avx512_impl.h - internal: the int8 output stage on 16 int32 lanes with
// AVX-512, for the files compiled with the AVX-512 flags. Bit-exact with the
// scalar gaba_qnn_mbqm for multipliers M >= 0 (all the quantizer makes):
// the rounding doubling high multiply is then floor((x * M + 2^30) / 2^31)
// (see qnn_avx2_impl.h), then the rounding right shift, half away from zero.
// A channel marked fp32 (qnn.h) takes the fp32 requantization instead.
//
// The clamped output stage of a right shift r >= 0 (gaba_qnn_v16_requant_biased)
// first takes a float32 estimate: the two roundings fold into one,
//   zp + MBQM(x) = floor(x M / 2^(31+r) + zp + 1/2 + d), d = +-2^-(r+1) by the
// sign of x (0 when r = 0), since TFLite rounds the high product half up and
// the shift half away from zero. One FMA gives that sum within 2^-13 (clamped
// first to [lo - 1/4, hi + 1/4], where the output is still exact), and
// rounding it to nearest is exact unless it lies within 2^-11 of a half
// integer; those rare vectors take the integer path.
#ifndef GABA_QNN_AVX512_IMPL_H
#define GABA_QNN_AVX512_IMPL_H

#include "qnn_kernels.h"

#include <immintrin.h>

typedef struct gaba_qnn_v16 {
    __m128i lsh, rsh;
    __m512i bias, vm, nudge, vmask, vthr, one, zp, lo, hi;
    __m512 fscale, flo, fhi; // fp32 requantization (qnn.h) when fp32
    __m512 em, epos, eneg, elo, ehi; // the float32 estimate when est
    int fp32, est;
} gaba_qnn_v16;

static inline gaba_qnn_v16 gaba_qnn_v16_init(int32_t bias, int32_t mult, int32_t shift,
                                             int32_t zp, int32_t lo, int32_t hi) {
    gaba_qnn_v16 c;
    c.fp32 = shift == GABA_QNN_SHIFT_FP32;
    c.fscale = _mm512_set1_ps(c.fp32 ? gaba_qnn_bits_float(mult) : 0.0f);
    c.flo = _mm512_set1_ps(-GABA_QNN_FP32_BOUND), c.fhi = _mm512_set1_ps(GABA_QNN_FP32_BOUND);
    if (c.fp32) shift = 0;
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    c.est = !c.fp32 && left == 0 && mult >= 0;
    float d = right ? gaba_qnn_pow2f(-right - 1) : 0.0f;
    c.em = _mm512_set1_ps((float)mult * gaba_qnn_pow2f(-31 - right));
    c.epos = _mm512_set1_ps((float)zp + d), c.eneg = _mm512_set1_ps((float)zp - d);
    c.elo = _mm512_set1_ps((float)lo - 0.25f), c.ehi = _mm512_set1_ps((float)hi + 0.25f);
    c.lsh = _mm_cvtsi32_si128(left), c.rsh = _mm_cvtsi32_si128(right);
    c.bias = _mm512_set1_epi32(bias);
    c.vm = _mm512_set1_epi32(mult);
    c.nudge = _mm512_set1_epi64((int64_t)1 << 30);
    c.vmask = _mm512_set1_epi32((int32_t)(((int64_t)1 << right) - 1));
    c.vthr = _mm512_set1_epi32((int32_t)((((int64_t)1 << right) - 1) >> 1));
    c.one = _mm512_set1_epi32(1);
    c.zp = _mm512_set1_epi32(zp), c.lo = _mm512_set1_epi32(lo), c.hi = _mm512_set1_epi32(hi);
    return c;
}

// Rounding right shift of h by the right shift of c, half away from zero (TFLite's
// RoundingDivideByPOT).
static inline __m512i gaba_qnn_v16_rdivpot(const gaba_qnn_v16 *c, __m512i h) {
    __m512i rem = _mm512_and_si512(h, c->vmask);
    __m512i thr = _mm512_mask_add_epi32(c->vthr, _mm512_movepi32_mask(h), c->vthr, c->one);
    __m512i r = _mm512_sra_epi32(h, c->rsh);
    return _mm512_mask_add_epi32(r, _mm512_cmpgt_epi32_mask(rem, thr), r, c->one);
}

// MBQM(x) per lane (or the fp32 requantization, as gaba_qnn_fp32_requant).
static inline __m512i gaba_qnn_v16_mbqm(const gaba_qnn_v16 *c, __m512i x) {
    if (c->fp32) {
        __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(x), c->fscale);
        v = _mm512_min_ps(_mm512_max_ps(v, c->flo), c->fhi);
        return _mm512_cvtps_epi32(v); // the default rounding mode: half to even
    }
    x = _mm512_sll_epi32(x, c->lsh);
    __m512i even = _mm512_add_epi64(_mm512_mul_epi32(x, c->vm), c->nudge);
    __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), c->vm), c->nudge);
    even = _mm512_srli_epi64(even, 31);
    odd = _mm512_slli_epi64(_mm512_srli_epi64(odd, 31), 32);
    return gaba_qnn_v16_rdivpot(c, _mm512_mask_blend_epi32(0xAAAA, even, odd));
}

// clamp(zp + MBQM(acc)) of accumulators that started at the bias, still in int32 lanes.
static inline __attribute__((always_inline)) __m512i
gaba_qnn_v16_requant_biased(const gaba_qnn_v16 *c, __m512i acc) {
    if (c->est) {
        __m512 add = _mm512_mask_blend_ps(_mm512_movepi32_mask(acc), c->epos, c->eneg);
        __m512 e = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), c->em, add);
        e = _mm512_min_ps(_mm512_max_ps(e, c->elo), c->ehi);
        __m512 n = _mm512_roundscale_ps(e, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __mmask16 near_half = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(e, n)),
                                                 _mm512_set1_ps(0.5f - 0x1p-11f), _CMP_GT_OQ);
        if (__builtin_expect(near_half == 0, 1)) return _mm512_cvtps_epi32(n);
    }
    __m512i r = _mm512_add_epi32(gaba_qnn_v16_mbqm(c, acc), c->zp);
    return _mm512_min_epi32(_mm512_max_epi32(r, c->lo), c->hi);
}

// clamp(zp + MBQM(acc + bias)), still in int32 lanes.
static inline __m512i gaba_qnn_v16_requant(const gaba_qnn_v16 *c, __m512i acc) {
    return gaba_qnn_v16_requant_biased(c, _mm512_add_epi32(acc, c->bias));
}

#endif
