// dense_ref.c - reference fully connected layer y = act(W x + b), W stored
// (n_out, f) as PyTorch's Linear. The oracle of dense.c.
#include "nn_kernels.h"

void gaba_nn_dense_f32_ref(int64_t n, int64_t f, const float *x, const float *w, const float *b,
                           float *y, gaba_nn_act act) {
    for (int64_t j = 0; j < n; j++) {
        float acc = b ? b[j] : 0.0f;
        for (int64_t i = 0; i < f; i++) acc += w[j * f + i] * x[i];
        y[j] = acc;
    }
    gaba_nn_act_f32_ref(y, n, act);
}

// The backward of one sample: db += dy, dW += dy x^T, dx += W^T dy.
void gaba_nn_dense_backward_f32_ref(int64_t n, int64_t f, const float *x, const float *w,
                                    const float *dy, float *dx, float *dw, float *db) {
    for (int64_t j = 0; j < n; j++) {
        db[j] += dy[j];
        for (int64_t i = 0; i < f; i++) {
            dw[j * f + i] += dy[j] * x[i];
            if (dx) dx[i] += dy[j] * w[j * f + i];
        }
    }
}
