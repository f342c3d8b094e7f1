// qnn_avx512_impl.h - internal: the int8 output stage on 16 int32 lanes with
// AVX-512, for the files compiled with the AVX-512 flags. Bit-exact with the
// scalar gaba_qnn_mbqm for multipliers M >= 0 (all the quantizer makes):
// the rounding doubling high multiply is then floor((x * M + 2^30) / 2^31)
// (see qnn_avx2_impl.h), then the rounding right shift, half away from zero.
// A channel marked fp32 (qnn.h) takes the fp32 requantization instead.
//
// The clamped output stage of a right shift r >= 0 (gaba_qnn_v16_requant_biased)
// first takes a float32 estimate: the two roundings fold into one,
//   zp + MBQM(x) = floor(v), v = x M / 2^(31+r) + zp + 1/2 + d, d = +-2^-(r+1)
// by the sign of x (0 when r = 0), since TFLite rounds the high product half
// up and the shift half away from zero. One FMA gives f = v + E + err with
// |err| < 2^-13 and E = 2^-11, so v lies in (f - 2E, f): floor(f) is floor(v)
// unless f - floor(f) < 2E (vreduceps, one compare), and those rare vectors
// take the integer path. f is clamped to [lo + 1/2, hi + 1/2] first, where
// floor(f) is the clamped output and never near the check.
#ifndef GABA_QNN_AVX512_IMPL_H
#define GABA_QNN_AVX512_IMPL_H

#include "qnn_kernels.h"

#include <immintrin.h>

#define GABA_QNN_EST_E 0x1p-11f // the estimate's offset E (above)

// acc += u8 x s8 (vpdpbusd, for the AVX-512 VNNI files) accumulating in place:
// with the intrinsic, GCC copies every accumulator between two registers each
// step (and spills).
static inline __m512i gaba_qnn_dpbusd(__m512i acc, __m512i u8, __m512i s8) {
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u8), "v"(s8));
    return acc;
}

// One output channel's stage as scalars: set up per channel and call in a few
// scalar instructions (the kernels set it up for every row of every slab);
// the vectors are broadcast where they are used, mostly as memory operands.
typedef struct gaba_qnn_v16 {
    int32_t bias, mult, left, right, zp, lo, hi;
    float fscale;                   // fp32 requantization (qnn.h) when fp32
    float em, epos, eneg, elo, ehi; // the float32 estimate f when est
    int fp32, est;
} gaba_qnn_v16;

static inline gaba_qnn_v16 gaba_qnn_v16_init(int32_t bias, int32_t mult, int32_t shift, int32_t zp,
                                             int32_t lo, int32_t hi) {
    gaba_qnn_v16 c;
    c.fp32 = shift == GABA_QNN_SHIFT_FP32;
    c.fscale = c.fp32 ? gaba_qnn_bits_float(mult) : 0.0f;
    if (c.fp32) shift = 0;
    c.left = shift > 0 ? shift : 0, c.right = shift > 0 ? 0 : -shift;
    c.est = !c.fp32 && c.left == 0 && mult >= 0;
    double d = c.right ? (double)gaba_qnn_pow2f(-c.right - 1) : 0.0,
           base = zp + 0.5 + GABA_QNN_EST_E;
    c.em = (float)mult * gaba_qnn_pow2f(-31 - c.right);
    c.epos = (float)(base + d), c.eneg = (float)(base - d);
    c.elo = (float)lo + 0.5f, c.ehi = (float)hi + 0.5f;
    c.bias = bias, c.mult = mult, c.zp = zp, c.lo = lo, c.hi = hi;
    return c;
}

// Rounding right shift of h by the right shift of c, half away from zero (TFLite's
// RoundingDivideByPOT).
static inline __m512i gaba_qnn_v16_rdivpot(const gaba_qnn_v16 *c, __m512i h) {
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i vmask = _mm512_set1_epi32((int32_t)(((int64_t)1 << c->right) - 1));
    const __m512i vthr = _mm512_set1_epi32((int32_t)((((int64_t)1 << c->right) - 1) >> 1));
    __m512i rem = _mm512_and_si512(h, vmask);
    __m512i thr = _mm512_mask_add_epi32(vthr, _mm512_movepi32_mask(h), vthr, one);
    __m512i r = _mm512_sra_epi32(h, _mm_cvtsi32_si128(c->right));
    return _mm512_mask_add_epi32(r, _mm512_cmpgt_epi32_mask(rem, thr), r, one);
}

// MBQM(x) per lane (or the fp32 requantization, as gaba_qnn_fp32_requant).
static inline __m512i gaba_qnn_v16_mbqm(const gaba_qnn_v16 *c, __m512i x) {
    if (c->fp32) {
        __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(x), _mm512_set1_ps(c->fscale));
        v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-GABA_QNN_FP32_BOUND)),
                          _mm512_set1_ps(GABA_QNN_FP32_BOUND));
        return _mm512_cvtps_epi32(v); // the default rounding mode: half to even
    }
    const __m512i vm = _mm512_set1_epi32(c->mult), nudge = _mm512_set1_epi64((int64_t)1 << 30);
    x = _mm512_sll_epi32(x, _mm_cvtsi32_si128(c->left));
    __m512i even = _mm512_add_epi64(_mm512_mul_epi32(x, vm), nudge);
    __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), vm), nudge);
    even = _mm512_srli_epi64(even, 31);
    odd = _mm512_slli_epi64(_mm512_srli_epi64(odd, 31), 32);
    return gaba_qnn_v16_rdivpot(c, _mm512_mask_blend_epi32(0xAAAA, even, odd));
}

// clamp(zp + MBQM(acc)), the integer path, out of line: it is rare after the
// estimate, and inlined it would double the kernels' loops in size.
static __attribute__((noinline, cold)) __m512i gaba_qnn_v16_requant_exact(const gaba_qnn_v16 *c,
                                                                          __m512i acc) {
    __m512i r = _mm512_add_epi32(gaba_qnn_v16_mbqm(c, acc), _mm512_set1_epi32(c->zp));
    return _mm512_min_epi32(_mm512_max_epi32(r, _mm512_set1_epi32(c->lo)),
                            _mm512_set1_epi32(c->hi));
}

// The estimate's vectors, for a kernel that keeps them in registers over a
// channel's outputs.
typedef struct gaba_qnn_v16_est {
    __m512 em, epos, eneg, elo, ehi;
} gaba_qnn_v16_est;

static inline __attribute__((always_inline)) gaba_qnn_v16_est
gaba_qnn_v16_est_init(const gaba_qnn_v16 *c) {
    return (gaba_qnn_v16_est){_mm512_set1_ps(c->em), _mm512_set1_ps(c->epos),
                              _mm512_set1_ps(c->eneg), _mm512_set1_ps(c->elo),
                              _mm512_set1_ps(c->ehi)};
}

// Whether the estimate of c may skip its clamp (gaba_qnn_v16_requant_est's
// `clamp` 0): the clamp is int8's whole range, which the saturating int8
// stores apply, and with a right shift f stays below 2^30 + 128 (M / 2^(31+r)
// < 1/2), inside int32. Far out of range (|f| beyond 2^9) the estimate's
// error may pass E, but the output saturates either way; from 2^13 on f may
// land on the check and take the integer path, which clamps.
static inline int gaba_qnn_v16_unclamped_ok(const gaba_qnn_v16 *c) {
    return c->lo == -128 && c->hi == 127 && c->right >= 1;
}

// The output of an estimate f (f = v + E + err above, per lane): clamped to
// [lo + 1/2, hi + 1/2] of e (`clamp`, a constant) and floored; *near the lanes
// less than 2E above an integer, which need the integer path.
static inline __attribute__((always_inline)) __m512i gaba_qnn_est_floor(const gaba_qnn_v16_est *e,
                                                                        __m512 f, const int clamp,
                                                                        __mmask16 *near) {
    if (clamp) f = _mm512_min_ps(_mm512_max_ps(f, e->elo), e->ehi);
    __m512 frac = _mm512_reduce_ps(f, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    *near = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(2 * GABA_QNN_EST_E), _CMP_LT_OQ);
    return _mm512_cvt_roundps_epi32(f, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
}

// clamp(zp + MBQM(acc)) of accumulators that started at the bias, still in
// int32 lanes, with the estimate's vectors e of c; with `clamp` 0 (a constant,
// where gaba_qnn_v16_unclamped_ok) the lanes are not clamped to [-128, 127]
// and the caller's store saturates them.
static inline __attribute__((always_inline)) __m512i gaba_qnn_v16_requant_est(
    const gaba_qnn_v16 *c, const gaba_qnn_v16_est *e, __m512i acc, const int clamp) {
    if (c->est) {
        __m512 add = _mm512_mask_blend_ps(_mm512_movepi32_mask(acc), e->epos, e->eneg);
        __mmask16 near;
        __m512i r = gaba_qnn_est_floor(e, _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), e->em, add),
                                       clamp, &near);
        if (__builtin_expect(near == 0, 1)) return r;
    }
    return gaba_qnn_v16_requant_exact(c, acc);
}

// The same, broadcasting the estimate's vectors where they are used.
static inline __attribute__((always_inline)) __m512i
gaba_qnn_v16_requant_biased(const gaba_qnn_v16 *c, __m512i acc, const int clamp) {
    const gaba_qnn_v16_est e = gaba_qnn_v16_est_init(c);
    return gaba_qnn_v16_requant_est(c, &e, acc, clamp);
}

// clamp(zp + MBQM(acc + bias)), still in int32 lanes.
static inline __m512i gaba_qnn_v16_requant(const gaba_qnn_v16 *c, __m512i acc) {
    return gaba_qnn_v16_requant_biased(c, _mm512_add_epi32(acc, _mm512_set1_epi32(c->bias)), 1);
}

#endif
