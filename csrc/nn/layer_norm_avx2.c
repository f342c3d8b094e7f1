// layer_norm_avx2.c - the float32 LayerNorm on 8 positions at a time (the
// channels of a position are a column of x (C, S), so the lanes run along
// the rows): the mean, the biased variance around it (two passes, float32
// sums, the mean corrected by the mean of the deviations), then
// y = (x - mean) r gamma + beta with r = 1 / sqrt(var + eps).
// The last positions through vmaskmovps.
#include "nn_kernels.h"

#include <immintrin.h>

void gaba_nn_layer_norm_f32_avx2(int64_t c, int64_t s, const float *x, const float *gamma,
                                 const float *beta, float eps, float *y) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 vc = _mm256_set1_ps((float)c);
    for (int64_t p = 0; p < s; p += 8) {
        __m256i k = _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)(s - p < 8 ? s - p : 8)), lane);
        __m256 sum = _mm256_setzero_ps(), sd = _mm256_setzero_ps(), sq = _mm256_setzero_ps();
        for (int64_t j = 0; j < c; j++)
            sum = _mm256_add_ps(sum, _mm256_maskload_ps(x + j * s + p, k));
        __m256 mean = _mm256_div_ps(sum, vc);
        for (int64_t j = 0; j < c; j++) {
            __m256 d = _mm256_sub_ps(_mm256_maskload_ps(x + j * s + p, k), mean);
            sd = _mm256_add_ps(sd, d);
            sq = _mm256_fmadd_ps(d, d, sq);
        }
        // the corrected two-pass form: the first mean's rounding taken out again
        __m256 var = _mm256_div_ps(_mm256_sub_ps(sq, _mm256_div_ps(_mm256_mul_ps(sd, sd), vc)), vc);
        mean = _mm256_add_ps(mean, _mm256_div_ps(sd, vc));
        var = _mm256_add_ps(_mm256_max_ps(var, _mm256_setzero_ps()), _mm256_set1_ps(eps));
        __m256 r = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_sqrt_ps(var));
        for (int64_t j = 0; j < c; j++) {
            __m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_maskload_ps(x + j * s + p, k), mean), r);
            __m256 v = _mm256_fmadd_ps(d, _mm256_set1_ps(gamma[j]), _mm256_set1_ps(beta[j]));
            _mm256_maskstore_ps(y + j * s + p, k, v);
        }
    }
}
