// batchnorm_ref.c - a batch norm run alone, y = x * scale[c] + shift[c]
// per channel: a memory-bound loop, also the fast path.
#include "nn_kernels.h"

void gaba_nn_batchnorm_f32_ref(int64_t c, int64_t s, const float *x, const float *scale,
                               const float *shift, float *y, gaba_nn_act act) {
    for (int64_t i = 0; i < c; i++)
        for (int64_t j = 0; j < s; j++) y[i * s + j] = x[i * s + j] * scale[i] + shift[i];
    gaba_nn_act_f32_ref(y, c * s, act);
}
