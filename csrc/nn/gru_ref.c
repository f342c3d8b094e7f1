// gru_ref.c - reference GRU over a sequence, PyTorch's gate order and
// formulas (r, z, n; n uses r * (W_hn h + b_hn)), h0 = 0. The oracle of
// gru.c, which batches the input projections of all steps into one GEMM.
#include "nn_kernels.h"

#include <math.h>
#include <string.h>

static float sigm(float v) { return 1.0f / (1.0f + expf(-v)); }

void gaba_nn_gru_f32_ref(int64_t f, int64_t t, int64_t hd, int seq, const float *x,
                         const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh,
                         float *y, float *ws) {
    float *h = ws, *hn = ws + hd;
    memset(h, 0, (size_t)hd * sizeof(float));
    for (int64_t s = 0; s < t; s++) {
        for (int64_t j = 0; j < hd; j++) {
            float gi[3], gh[3];
            for (int q = 0; q < 3; q++) {
                int64_t row = q * hd + j;
                float ai = b_ih[row], ah = b_hh[row];
                for (int64_t i = 0; i < f; i++) ai += w_ih[row * f + i] * x[i * t + s];
                for (int64_t i = 0; i < hd; i++) ah += w_hh[row * hd + i] * h[i];
                gi[q] = ai;
                gh[q] = ah;
            }
            float r = sigm(gi[0] + gh[0]), z = sigm(gi[1] + gh[1]);
            float n = tanhf(gi[2] + r * gh[2]);
            hn[j] = (1.0f - z) * n + z * h[j];
        }
        memcpy(h, hn, (size_t)hd * sizeof(float));
        if (seq)
            for (int64_t j = 0; j < hd; j++) y[j * t + s] = h[j];
    }
    if (!seq) memcpy(y, h, (size_t)hd * sizeof(float));
}
