// batchnorm.c - folding a batch norm into the conv or dense before it: the
// weights and bias scaled per output channel when a model is built.
#include "nn_kernels.h"

#include <math.h>

void gaba_nn_batchnorm_fold(int64_t c_out, int64_t per_out, float *w, float *b, const float *gamma,
                            const float *beta, const float *mean, const float *var, float eps) {
    for (int64_t o = 0; o < c_out; o++) {
        float s = gamma[o] / sqrtf(var[o] + eps);
        for (int64_t i = 0; i < per_out; i++) w[o * per_out + i] *= s;
        b[o] = (b[o] - mean[o]) * s + beta[o];
    }
}
