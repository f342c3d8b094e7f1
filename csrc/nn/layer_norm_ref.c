// layer_norm_ref.c - the float32 LayerNorm oracle: plain loops over the
// channels of each position, mean and biased variance accumulated in double
// (two passes), the output computed in double and rounded once; its
// backward the same way.
#include "nn_kernels.h"

#include <math.h>

// The mean and 1 / sqrt(var + eps) of position p's c channels, s apart.
static double stats(int64_t c, int64_t s, const float *x, int64_t p, float eps, double *r) {
    double sum = 0.0, sq = 0.0;
    for (int64_t k = 0; k < c; k++) sum += x[k * s + p];
    double mean = sum / (double)c;
    for (int64_t k = 0; k < c; k++) {
        double d = x[k * s + p] - mean;
        sq += d * d;
    }
    *r = 1.0 / sqrt(sq / (double)c + (double)eps);
    return mean;
}

void gaba_nn_layer_norm_f32_ref(int64_t c, int64_t s, const float *x, const float *gamma,
                                const float *beta, float eps, float *y) {
    for (int64_t p = 0; p < s; p++) {
        double r, mean = stats(c, s, x, p, eps, &r);
        for (int64_t k = 0; k < c; k++)
            y[k * s + p] = (float)((x[k * s + p] - mean) * r * gamma[k] + beta[k]);
    }
}

// With xh = (x - mean) * r and g = dy * gamma at a position:
// dx = r * (g - mean(g) - xh * mean(g * xh)); dgamma += dy * xh, dbeta += dy.
void gaba_nn_layer_norm_backward_f32_ref(int64_t c, int64_t s, const float *x, const float *gamma,
                                         float eps, const float *dy, float *dx, float *dgamma,
                                         float *dbeta) {
    for (int64_t p = 0; p < s; p++) {
        double r, mean = stats(c, s, x, p, eps, &r), sg = 0.0, sgx = 0.0;
        for (int64_t k = 0; k < c; k++) {
            double xh = (x[k * s + p] - mean) * r, g = (double)dy[k * s + p] * gamma[k];
            sg += g, sgx += g * xh;
            dgamma[k] += (float)(dy[k * s + p] * xh);
            dbeta[k] += dy[k * s + p];
        }
        if (!dx) continue;
        for (int64_t k = 0; k < c; k++) {
            double xh = (x[k * s + p] - mean) * r, g = (double)dy[k * s + p] * gamma[k];
            dx[k * s + p] += (float)(r * (g - sg / (double)c - xh * sgx / (double)c));
        }
    }
}
