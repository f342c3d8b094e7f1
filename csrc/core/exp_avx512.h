// exp_avx512.h - internal: expf, and the sigmoid and tanh built on it, on
// 16 lanes for the AVX-512 kernels: Cephes' degree-6 polynomial on the
// reduced argument with the power of two applied by vscalefps (which also
// flushes large negative arguments to 0 without a special case); about 2 ulp
// from libm's expf. Include only from *_avx512.c files.
#ifndef GABA_CORE_EXP_AVX512_H
#define GABA_CORE_EXP_AVX512_H

#include <immintrin.h>

static inline __m512 gaba_exp512(__m512 x) {
    // Below -104, exp underflows to 0 anyway; the clamp keeps n in scalef's
    // useful range. max(c, x) returns x when x is NaN, so NaN propagates.
    x = _mm512_max_ps(_mm512_set1_ps(-104.0f), x);
    x = _mm512_min_ps(_mm512_set1_ps(88.7f), x);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

// sigmoid as 1 / (1 + exp(-x)); tanh as 2 / (1 + exp(-2x)) - 1 (absolute
// error a few ulps of 1, so relative error grows for tanh near 0).
static inline __m512 gaba_sigmoid512(__m512 x) {
    const __m512 one = _mm512_set1_ps(1.0f);
    return _mm512_div_ps(one,
                         _mm512_add_ps(one, gaba_exp512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

static inline __m512 gaba_tanh512(__m512 x) {
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 e = gaba_exp512(_mm512_mul_ps(_mm512_set1_ps(-2.0f), x));
    return _mm512_fmsub_ps(_mm512_set1_ps(2.0f), _mm512_div_ps(one, _mm512_add_ps(one, e)), one);
}

#endif
