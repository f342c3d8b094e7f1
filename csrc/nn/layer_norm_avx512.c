// layer_norm_avx512.c - the float32 LayerNorm on 16 positions at a time, as
// layer_norm_avx2.c does on 8: mean, biased variance (two passes, float32
// sums, the mean corrected), y = (x - mean) r gamma + beta; the last positions
// under a mask.
#include "nn_kernels.h"

#include <immintrin.h>

void gaba_nn_layer_norm_f32_avx512(int64_t c, int64_t s, const float *x, const float *gamma,
                                   const float *beta, float eps, float *y) {
    const __m512 vc = _mm512_set1_ps((float)c);
    for (int64_t p = 0; p < s; p += 16) {
        __mmask16 k = (__mmask16)(s - p < 16 ? (1u << (s - p)) - 1 : 0xffffu);
        __m512 sum = _mm512_setzero_ps(), sd = _mm512_setzero_ps(), sq = _mm512_setzero_ps();
        for (int64_t j = 0; j < c; j++)
            sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(k, x + j * s + p));
        __m512 mean = _mm512_div_ps(sum, vc);
        for (int64_t j = 0; j < c; j++) {
            __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + j * s + p), mean);
            sd = _mm512_add_ps(sd, d);
            sq = _mm512_fmadd_ps(d, d, sq);
        }
        // the corrected two-pass form: the first mean's rounding taken out again
        __m512 var = _mm512_div_ps(_mm512_sub_ps(sq, _mm512_div_ps(_mm512_mul_ps(sd, sd), vc)), vc);
        mean = _mm512_add_ps(mean, _mm512_div_ps(sd, vc));
        var = _mm512_add_ps(_mm512_max_ps(var, _mm512_setzero_ps()), _mm512_set1_ps(eps));
        __m512 r = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_sqrt_ps(var));
        for (int64_t j = 0; j < c; j++) {
            __m512 d =
                _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + j * s + p), mean), r);
            __m512 v = _mm512_fmadd_ps(d, _mm512_set1_ps(gamma[j]), _mm512_set1_ps(beta[j]));
            _mm512_mask_storeu_ps(y + j * s + p, k, v);
        }
    }
}
