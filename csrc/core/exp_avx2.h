// exp_avx2.h - internal: expf, and the sigmoid and tanh built on it, on 8
// lanes for the AVX2 kernels: Cephes' degree-6 polynomial on the reduced
// argument (as exp_avx512.h). Without vscalefps, 2^n is built in the
// exponent field, so arguments below -87.3 (where expf leaves the normal
// range) give exactly 0 by a compare. About 2 ulp from libm's expf.
// Include only from *_avx2.c files.
#ifndef GABA_CORE_EXP_AVX2_H
#define GABA_CORE_EXP_AVX2_H

#include <immintrin.h>

static inline __m256 gaba_exp256(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-87.3f);
    __m256 underflow = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    // max(c, x) / min(c, x) return x when x is NaN, so NaN propagates.
    x = _mm256_max_ps(lo, x);
    x = _mm256_min_ps(_mm256_set1_ps(88.3f), x);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e =
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_andnot_ps(underflow, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
}

// sigmoid as 1 / (1 + exp(-x)); tanh as 2 / (1 + exp(-2x)) - 1 (absolute
// error a few ulps of 1, so relative error grows for tanh near 0).
static inline __m256 gaba_sigmoid256(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one,
                         _mm256_add_ps(one, gaba_exp256(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

static inline __m256 gaba_tanh256(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 e = gaba_exp256(_mm256_mul_ps(_mm256_set1_ps(-2.0f), x));
    return _mm256_fmsub_ps(_mm256_set1_ps(2.0f), _mm256_div_ps(one, _mm256_add_ps(one, e)), one);
}

#endif
