// act_avx512.c - the activation pass in place on 16 lanes (the ISA
// table's act_pass): sigmoid and tanh through core/exp_avx512.h's expf, a
// few ulps from libm's (absolute error, for tanh near 0); the others as
// act_avx512.h. Tails through masked loads and stores.
#include "act_avx512.h"
#include "../core/exp_avx512.h"

static inline __m512 act16(__m512 v, gaba_nn_act act) {
    if (act == GABA_NN_ACT_SIGMOID) return gaba_sigmoid512(v);
    if (act == GABA_NN_ACT_TANH) return gaba_tanh512(v);
    return gaba_nn_act_avx512(v, act);
}

void gaba_nn_act_pass_f32_avx512(float *y, int64_t n, gaba_nn_act act) {
    if (act == GABA_NN_ACT_NONE) return;
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, m, act16(_mm512_maskz_loadu_ps(m, y + i), act));
    }
}
