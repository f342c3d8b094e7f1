// attention_ref.c - reference single-head self-attention over the positions
// of x (D, L): projections, scaled dot-product scores, max-subtracted
// softmax, weighted values, output projection. No mask, no residual (a
// model adds one with an ADD layer). Its backward, recomputing the forward's
// intermediates. The oracle of attention.c.
#include "nn_kernels.h"

#include <math.h>

int64_t gaba_nn_attention_workspace(int64_t d, int64_t l, int64_t dk) {
    return l * 3 * dk + l * l + l * dk;
}

// The forward's qkv, probabilities and ctx, then the gradients of ctx, the scores and qkv.
int64_t gaba_nn_attention_backward_workspace(int64_t l, int64_t dk) {
    return 2 * (l * 3 * dk + l * l + l * dk);
}

void gaba_nn_attention_softmax_backward(int64_t l, const float *p, float *dp) {
    for (int64_t r = 0; r < l; r++) {
        float dot = 0.0f;
        for (int64_t q = 0; q < l; q++) dot += dp[r * l + q] * p[r * l + q];
        for (int64_t q = 0; q < l; q++) dp[r * l + q] = p[r * l + q] * (dp[r * l + q] - dot);
    }
}

// The forward before the output projection: qkv, the softmax probabilities and ctx into ws.
static void attend_ref(int64_t d, int64_t l, int64_t dk, const float *x, const float *w_qkv,
                       const float *b_qkv, float *ws) {
    float *qkv = ws, *sc = ws + l * 3 * dk, *ctx = sc + l * l;
    for (int64_t p = 0; p < l; p++)
        for (int64_t j = 0; j < 3 * dk; j++) {
            float acc = b_qkv[j];
            for (int64_t i = 0; i < d; i++) acc += w_qkv[j * d + i] * x[i * l + p];
            qkv[p * 3 * dk + j] = acc;
        }
    float scale = 1.0f / sqrtf((float)dk);
    for (int64_t p = 0; p < l; p++)
        for (int64_t q = 0; q < l; q++) {
            float acc = 0.0f;
            for (int64_t k = 0; k < dk; k++) acc += qkv[p * 3 * dk + k] * qkv[q * 3 * dk + dk + k];
            sc[p * l + q] = acc * scale;
        }
    gaba_nn_softmax_f32_ref(l, l, sc, sc);
    for (int64_t p = 0; p < l; p++)
        for (int64_t k = 0; k < dk; k++) {
            float acc = 0.0f;
            for (int64_t q = 0; q < l; q++) acc += sc[p * l + q] * qkv[q * 3 * dk + 2 * dk + k];
            ctx[p * dk + k] = acc;
        }
}

void gaba_nn_attention_f32_ref(int64_t d, int64_t l, int64_t dk, const float *x, const float *w_qkv,
                               const float *b_qkv, const float *w_o, const float *b_o, float *y,
                               float *ws) {
    const float *ctx = ws + l * 3 * dk + l * l;
    attend_ref(d, l, dk, x, w_qkv, b_qkv, ws);
    for (int64_t o = 0; o < d; o++)
        for (int64_t p = 0; p < l; p++) {
            float acc = b_o[o];
            for (int64_t k = 0; k < dk; k++) acc += w_o[o * dk + k] * ctx[p * dk + k];
            y[o * l + p] = acc;
        }
}

void gaba_nn_attention_backward_f32_ref(int64_t d, int64_t l, int64_t dk, const float *x,
                                        const float *w_qkv, const float *b_qkv, const float *w_o,
                                        const float *dy, float *dx, float *dw_qkv, float *db_qkv,
                                        float *dw_o, float *db_o, float *ws) {
    int64_t d3 = 3 * dk;
    float *qkv = ws, *p = qkv + l * d3, *ctx = p + l * l, *dctx = ctx + l * dk, *dp = dctx + l * dk,
          *dqkv = dp + l * l;
    attend_ref(d, l, dk, x, w_qkv, b_qkv, ws);
    for (int64_t o = 0; o < d; o++)
        for (int64_t q = 0; q < l; q++) {
            db_o[o] += dy[o * l + q];
            for (int64_t k = 0; k < dk; k++) dw_o[o * dk + k] += dy[o * l + q] * ctx[q * dk + k];
        }
    for (int64_t q = 0; q < l; q++)
        for (int64_t k = 0; k < dk; k++) {
            float acc = 0.0f;
            for (int64_t o = 0; o < d; o++) acc += dy[o * l + q] * w_o[o * dk + k];
            dctx[q * dk + k] = acc;
        }
    // through the weighted values: dp = dctx v^T, dv = p^T dctx.
    for (int64_t r = 0; r < l; r++)
        for (int64_t q = 0; q < l; q++) {
            float acc = 0.0f;
            for (int64_t k = 0; k < dk; k++) acc += dctx[r * dk + k] * qkv[q * d3 + 2 * dk + k];
            dp[r * l + q] = acc;
        }
    for (int64_t q = 0; q < l; q++)
        for (int64_t k = 0; k < dk; k++) {
            float acc = 0.0f;
            for (int64_t r = 0; r < l; r++) acc += p[r * l + q] * dctx[r * dk + k];
            dqkv[q * d3 + 2 * dk + k] = acc;
        }
    gaba_nn_attention_softmax_backward(l, p, dp);
    // through the scaled scores: dq = scale ds k, dk = scale ds^T q.
    float scale = 1.0f / sqrtf((float)dk);
    for (int64_t r = 0; r < l; r++)
        for (int64_t k = 0; k < dk; k++) {
            float aq = 0.0f, ak = 0.0f;
            for (int64_t q = 0; q < l; q++) {
                aq += dp[r * l + q] * qkv[q * d3 + dk + k];
                ak += dp[q * l + r] * qkv[q * d3 + k];
            }
            dqkv[r * d3 + k] = aq * scale;
            dqkv[r * d3 + dk + k] = ak * scale;
        }
    // through the projection.
    for (int64_t j = 0; j < d3; j++)
        for (int64_t q = 0; q < l; q++) {
            db_qkv[j] += dqkv[q * d3 + j];
            for (int64_t i = 0; i < d; i++) dw_qkv[j * d + i] += dqkv[q * d3 + j] * x[i * l + q];
        }
    for (int64_t i = 0; dx && i < d; i++)
        for (int64_t q = 0; q < l; q++) {
            float acc = 0.0f;
            for (int64_t j = 0; j < d3; j++) acc += w_qkv[j * d + i] * dqkv[q * d3 + j];
            dx[i * l + q] += acc;
        }
}
