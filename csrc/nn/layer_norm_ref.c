// layer_norm_ref.c - the float32 LayerNorm oracle: plain loops over the
// channels of each position, mean and biased variance accumulated in double
// (two passes), the output computed in double and rounded once.
#include "nn_kernels.h"

#include <math.h>

void gaba_nn_layer_norm_f32_ref(int64_t c, int64_t s, const float *x, const float *gamma,
                                const float *beta, float eps, float *y) {
    for (int64_t p = 0; p < s; p++) {
        double sum = 0.0, sq = 0.0;
        for (int64_t k = 0; k < c; k++) sum += x[k * s + p];
        double mean = sum / (double)c;
        for (int64_t k = 0; k < c; k++) {
            double d = x[k * s + p] - mean;
            sq += d * d;
        }
        double r = 1.0 / sqrt(sq / (double)c + (double)eps);
        for (int64_t k = 0; k < c; k++)
            y[k * s + p] = (float)((x[k * s + p] - mean) * r * gamma[k] + beta[k]);
    }
}
