// softmax_avx512.c - the softmax over rows (the ISA table's softmax) on 16
// lanes: the row's max, exp(x - max) through core/exp_avx512.h's expf (about
// 2 ulp from libm's), the sum, then one multiply by its reciprocal, as the
// reference does. Tails through masked loads and stores; y may be x.
#include "nn_kernels.h"
#include "../core/exp_avx512.h"
#include "../core/lanes_avx512.h"

#include <math.h>

void gaba_nn_softmax_f32_avx512(int64_t rows, int64_t n, const float *x, float *y) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        __m512 vmax = _mm512_set1_ps(-INFINITY), vsum = _mm512_setzero_ps();
        for (int64_t i = 0; i < n; i += 16) {
            __mmask16 k = gaba_lanes16(n - i);
            vmax = _mm512_mask_max_ps(vmax, k, vmax, _mm512_maskz_loadu_ps(k, xr + i));
        }
        const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
        for (int64_t i = 0; i < n; i += 16) {
            __mmask16 k = gaba_lanes16(n - i);
            __m512 e = gaba_exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, xr + i), m));
            vsum = _mm512_mask_add_ps(vsum, k, vsum, e);
            _mm512_mask_storeu_ps(yr + i, k, e);
        }
        const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vsum));
        for (int64_t i = 0; i < n; i += 16) {
            __mmask16 k = gaba_lanes16(n - i);
            _mm512_mask_storeu_ps(yr + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, yr + i), inv));
        }
    }
}
