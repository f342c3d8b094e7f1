// act_avx512.h - internal: the fused activations of the AVX-512 conv
// kernels, 16 lanes, the same arithmetic as gaba_nn_bias_act_f32 (sigmoid
// and tanh are not fused: the kernels run them as a pass after the stores).
// Include only from *_avx512.c files.
#ifndef GABA_NN_ACT_AVX512_H
#define GABA_NN_ACT_AVX512_H

#include "nn_kernels.h"

#include <immintrin.h>

static inline __attribute__((always_inline)) __m512 gaba_nn_act_avx512(__m512 v, gaba_nn_act act) {
    const __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6.0f);
    switch (act) {
    // max/min return their second operand on NaN: NaN passes, as in the reference.
    case GABA_NN_ACT_RELU: return _mm512_max_ps(zero, v);
    case GABA_NN_ACT_RELU6: return _mm512_min_ps(six, _mm512_max_ps(zero, v));
    case GABA_NN_ACT_HSWISH: {
        __m512 r = _mm512_min_ps(six, _mm512_max_ps(zero, _mm512_add_ps(v, _mm512_set1_ps(3.0f))));
        return _mm512_mul_ps(_mm512_mul_ps(v, r), _mm512_set1_ps(1.0f / 6.0f));
    }
    default: return v;
    }
}

#endif
