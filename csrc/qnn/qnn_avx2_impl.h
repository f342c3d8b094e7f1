// qnn_avx2_impl.h - internal: the int8 output stage on 8 int32 lanes with
// AVX2, for the files compiled with the AVX2 flags: TFLite's
// MultiplyByQuantizedMultiplier (or, for a channel marked fp32, the fp32
// requantization of qnn.h), bit-exact with the scalar gaba_qnn_mbqm.
// The rounding doubling high multiply of a Q31 multiplier M >= 0 is
// floor((x * M + 2^30) / 2^31) (gemmlowp's nudge and truncation fold into
// that when M >= 0; the saturating case needs M = INT32_MIN), taken from
// 64-bit vpmuldq products.
#ifndef GABA_QNN_AVX2_IMPL_H
#define GABA_QNN_AVX2_IMPL_H

#include "qnn_kernels.h"

#include <immintrin.h>

typedef struct gaba_qnn_v8 {
    __m128i lsh, rsh;
    __m256i vm, nudge, vmask, vthr;
    __m256 fscale; // fp32 requantization (qnn.h) when fp32
    int fp32;
} gaba_qnn_v8;

static inline gaba_qnn_v8 gaba_qnn_v8_init(int32_t mult, int32_t shift) {
    gaba_qnn_v8 c;
    c.fp32 = shift == GABA_QNN_SHIFT_FP32;
    c.fscale = _mm256_set1_ps(c.fp32 ? gaba_qnn_bits_float(mult) : 0.0f);
    if (c.fp32) shift = 0;
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    c.lsh = _mm_cvtsi32_si128(left), c.rsh = _mm_cvtsi32_si128(right);
    c.vm = _mm256_set1_epi32(mult);
    c.nudge = _mm256_set1_epi64x((int64_t)1 << 30);
    c.vmask = _mm256_set1_epi32((int32_t)(((int64_t)1 << right) - 1));
    c.vthr = _mm256_set1_epi32((int32_t)((((int64_t)1 << right) - 1) >> 1));
    return c;
}

// Rounding right shift of h by rsh bits, half away from zero (TFLite's
// RoundingDivideByPOT): vmask = 2^rsh - 1, vthr = vmask >> 1.
static inline __m256i gaba_qnn_v8_rdivpot(__m256i h, __m256i vmask, __m256i vthr, __m128i rsh) {
    __m256i rem = _mm256_and_si256(h, vmask);
    __m256i thr = _mm256_sub_epi32(vthr, _mm256_cmpgt_epi32(_mm256_setzero_si256(), h));
    return _mm256_sub_epi32(_mm256_sra_epi32(h, rsh), _mm256_cmpgt_epi32(rem, thr));
}

// MBQM(x) per lane (or the fp32 requantization, as gaba_qnn_fp32_requant).
static inline __m256i gaba_qnn_v8_mbqm(const gaba_qnn_v8 *c, __m256i x) {
    if (c->fp32) {
        __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(x), c->fscale);
        v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-GABA_QNN_FP32_BOUND)),
                          _mm256_set1_ps(GABA_QNN_FP32_BOUND));
        return _mm256_cvtps_epi32(v); // the default rounding mode: half to even
    }
    x = _mm256_sll_epi32(x, c->lsh);
    __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, c->vm), c->nudge);
    __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), c->vm), c->nudge);
    even = _mm256_srli_epi64(even, 31);                      // low dword of each lane
    odd = _mm256_slli_epi64(_mm256_srli_epi64(odd, 31), 32); // high dword
    return gaba_qnn_v8_rdivpot(_mm256_blend_epi32(even, odd, 0xAA), c->vmask, c->vthr, c->rsh);
}

// clamp(zp + MBQM(acc + bias), lo, hi) as 8 int8 in the low half.
static inline __m128i gaba_qnn_v8_requant(const gaba_qnn_v8 *c, __m256i acc, __m256i bias,
                                          __m256i zp, __m256i lo, __m256i hi) {
    __m256i r = gaba_qnn_v8_mbqm(c, _mm256_add_epi32(acc, bias));
    r = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(r, zp), lo), hi);
    __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    return _mm_packs_epi16(p16, p16);
}

// The sum of the 8 int32 lanes (wrapping).
static inline int32_t gaba_qnn_hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    return _mm_cvtsi128_si32(_mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1)));
}

#endif
