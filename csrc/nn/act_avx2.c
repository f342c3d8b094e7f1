// act_avx2.c - the activation pass in place on 8 lanes (the ISA
// table's act_pass): sigmoid and tanh through core/exp_avx2.h's expf, a
// few ulps from libm's (absolute error, for tanh near 0); the others as
// act_avx2.h. Tails through maskload/maskstore.
#include "act_avx2.h"
#include "../core/exp_avx2.h"

static inline __m256 act8(__m256 v, gaba_nn_act act) {
    if (act == GABA_NN_ACT_SIGMOID) return gaba_sigmoid256(v);
    if (act == GABA_NN_ACT_TANH) return gaba_tanh256(v);
    return gaba_nn_act_avx2(v, act);
}

void gaba_nn_act_pass_f32_avx2(float *y, int64_t n, gaba_nn_act act) {
    if (act == GABA_NN_ACT_NONE) return;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, act8(_mm256_loadu_ps(y + i), act));
    if (i < n) {
        __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)),
                                       _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        _mm256_maskstore_ps(y + i, m, act8(_mm256_maskload_ps(y + i, m), act));
    }
}
