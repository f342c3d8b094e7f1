// batchnorm_ref.c - a batch norm run alone, y = x * scale[c] + shift[c]
// per channel, and its backward: memory-bound loops, also the fast path.
#include "nn_kernels.h"

void gaba_nn_batchnorm_f32_ref(int64_t c, int64_t s, const float *x, const float *scale,
                               const float *shift, float *y, gaba_nn_act act) {
    for (int64_t i = 0; i < c; i++)
        for (int64_t j = 0; j < s; j++) y[i * s + j] = x[i * s + j] * scale[i] + shift[i];
    gaba_nn_act_f32_ref(y, c * s, act);
}

void gaba_nn_batchnorm_backward_f32_ref(int64_t c, int64_t s, const float *x, const float *scale,
                                        const float *dy, float *dx, float *dscale, float *dshift) {
    for (int64_t i = 0; i < c; i++) {
        float ds = 0.0f, db = 0.0f;
        for (int64_t j = 0; j < s; j++) {
            float g = dy[i * s + j];
            if (dx) dx[i * s + j] += g * scale[i];
            ds += g * x[i * s + j];
            db += g;
        }
        dscale[i] += ds, dshift[i] += db;
    }
}
