// softmax_avx2.c - the softmax over rows (the ISA table's softmax) on 8
// lanes: the row's max, exp(x - max) through core/exp_avx2.h's expf (about 2
// ulp from libm's), the sum, then one multiply by its reciprocal, as the
// reference does. Tails through vmaskmovps; y may be x.
#include "nn_kernels.h"
#include "../core/exp_avx2.h"

#include <math.h>

// Lanes below `left` (at most 8) set.
static inline __m256i tail8(int64_t left) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)(left < 8 ? left : 8)), lane);
}

static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

static inline float hmax8(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
}

void gaba_nn_softmax_f32_avx2(int64_t rows, int64_t n, const float *x, float *y) {
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        __m256 vmax = ninf, vsum = _mm256_setzero_ps();
        for (int64_t i = 0; i < n; i += 8) {
            __m256i k = tail8(n - i);
            __m256 v =
                _mm256_blendv_ps(ninf, _mm256_maskload_ps(xr + i, k), _mm256_castsi256_ps(k));
            vmax = _mm256_max_ps(vmax, v);
        }
        const __m256 m = _mm256_set1_ps(hmax8(vmax));
        for (int64_t i = 0; i < n; i += 8) {
            __m256i k = tail8(n - i);
            __m256 e = gaba_exp256(_mm256_sub_ps(_mm256_maskload_ps(xr + i, k), m));
            e = _mm256_and_ps(e, _mm256_castsi256_ps(k));
            vsum = _mm256_add_ps(vsum, e);
            _mm256_maskstore_ps(yr + i, k, e);
        }
        const __m256 inv = _mm256_set1_ps(1.0f / hsum8(vsum));
        for (int64_t i = 0; i < n; i += 8) {
            __m256i k = tail8(n - i);
            _mm256_maskstore_ps(yr + i, k, _mm256_mul_ps(_mm256_maskload_ps(yr + i, k), inv));
        }
    }
}
