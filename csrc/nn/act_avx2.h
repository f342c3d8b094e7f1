// act_avx2.h - internal: the fused activations of the AVX2 conv kernels,
// 8 lanes, the same arithmetic as gaba_nn_bias_act_f32 (sigmoid and tanh
// are not fused: the kernels run them as a pass after the stores). Include
// only from *_avx2.c files.
#ifndef GABA_NN_ACT_AVX2_H
#define GABA_NN_ACT_AVX2_H

#include "nn_kernels.h"

#include <immintrin.h>

static inline __attribute__((always_inline)) __m256 gaba_nn_act_avx2(__m256 v, gaba_nn_act act) {
    const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6.0f);
    switch (act) {
    // max/min return their second operand on NaN: NaN passes, as in the reference.
    case GABA_NN_ACT_RELU: return _mm256_max_ps(zero, v);
    case GABA_NN_ACT_RELU6: return _mm256_min_ps(six, _mm256_max_ps(zero, v));
    case GABA_NN_ACT_HSWISH: {
        __m256 r = _mm256_min_ps(six, _mm256_max_ps(zero, _mm256_add_ps(v, _mm256_set1_ps(3.0f))));
        return _mm256_mul_ps(_mm256_mul_ps(v, r), _mm256_set1_ps(1.0f / 6.0f));
    }
    default: return v;
    }
}

#endif
