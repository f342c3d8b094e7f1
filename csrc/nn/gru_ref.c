// gru_ref.c - reference GRU over a sequence, PyTorch's gate order and
// formulas (r, z, n; n uses r * (W_hn h + b_hn)), h0 = 0, and its
// backpropagation through time. The oracle of gru.c, which batches the input
// projections of all steps into one GEMM.
#include "nn_kernels.h"

#include <math.h>
#include <string.h>

static float sigm(float v) { return 1.0f / (1.0f + expf(-v)); }

// One step: hn (H) from h (H) and x's column s; when g is not NULL, each unit's
// r, z, n and W_hn h + b_hn into g (4, H), for the backward.
static void step_ref(int64_t f, int64_t t, int64_t hd, int64_t s, const float *x, const float *w_ih,
                     const float *w_hh, const float *b_ih, const float *b_hh, const float *h,
                     float *hn, float *g) {
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
        if (g) g[j] = r, g[hd + j] = z, g[2 * hd + j] = n, g[3 * hd + j] = gh[2];
    }
}

void gaba_nn_gru_f32_ref(int64_t f, int64_t t, int64_t hd, int seq, const float *x,
                         const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh,
                         float *y, float *ws) {
    float *h = ws, *hn = ws + hd;
    memset(h, 0, (size_t)hd * sizeof(float));
    for (int64_t s = 0; s < t; s++) {
        step_ref(f, t, hd, s, x, w_ih, w_hh, b_ih, b_hh, h, hn, NULL);
        memcpy(h, hn, (size_t)hd * sizeof(float));
        if (seq)
            for (int64_t j = 0; j < hd; j++) y[j * t + s] = h[j];
    }
    if (!seq) memcpy(y, h, (size_t)hd * sizeof(float));
}

// The states h_0 = 0 .. h_T (T + 1, H), the gates (T, 4, H), then dh, dh_prev (H) and the
// gradients of the input and recurrent projections (3H each).
int64_t gaba_nn_gru_backward_ref_workspace(int64_t t, int64_t hd) {
    return hd * (t + 1) + 4 * hd * t + 2 * hd + 6 * hd;
}

void gaba_nn_gru_backward_f32_ref(int64_t f, int64_t t, int64_t hd, int seq, const float *x,
                                  const float *w_ih, const float *w_hh, const float *b_ih,
                                  const float *b_hh, const float *dy, float *dx, float *dw_ih,
                                  float *dw_hh, float *db_ih, float *db_hh, float *ws) {
    int64_t g3 = 3 * hd;
    float *hs = ws, *gs = hs + hd * (t + 1), *dh = gs + 4 * hd * t, *dp = dh + hd, *dgi = dp + hd,
          *dgh = dgi + g3;
    memset(hs, 0, (size_t)hd * sizeof(float));
    for (int64_t s = 0; s < t; s++)
        step_ref(f, t, hd, s, x, w_ih, w_hh, b_ih, b_hh, hs + s * hd, hs + (s + 1) * hd,
                 gs + s * 4 * hd);
    memset(dh, 0, (size_t)hd * sizeof(float));
    for (int64_t s = t - 1; s >= 0; s--) {
        const float *h = hs + s * hd, *g = gs + s * 4 * hd;
        for (int64_t j = 0; j < hd; j++) {
            if (seq || s == t - 1) dh[j] += dy[seq ? j * t + s : j];
            float r = g[j], z = g[hd + j], n = g[2 * hd + j], hn = g[3 * hd + j];
            float dn = dh[j] * (1.0f - z) * (1.0f - n * n); // through tanh
            float dz = dh[j] * (h[j] - n) * z * (1.0f - z);
            float dr = dn * hn * r * (1.0f - r);
            dgi[j] = dgh[j] = dr;
            dgi[hd + j] = dgh[hd + j] = dz;
            dgi[2 * hd + j] = dn;
            dgh[2 * hd + j] = dn * r;
            dp[j] = dh[j] * z;
        }
        for (int64_t row = 0; row < g3; row++) {
            db_ih[row] += dgi[row];
            db_hh[row] += dgh[row];
            for (int64_t i = 0; i < f; i++) dw_ih[row * f + i] += dgi[row] * x[i * t + s];
            for (int64_t i = 0; i < hd; i++) dw_hh[row * hd + i] += dgh[row] * h[i];
        }
        for (int64_t i = 0; dx && i < f; i++) {
            float acc = 0.0f;
            for (int64_t row = 0; row < g3; row++) acc += w_ih[row * f + i] * dgi[row];
            dx[i * t + s] += acc;
        }
        for (int64_t i = 0; i < hd; i++) {
            float acc = dp[i];
            for (int64_t row = 0; row < g3; row++) acc += w_hh[row * hd + i] * dgh[row];
            dh[i] = acc;
        }
    }
}
