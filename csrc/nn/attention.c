// attention.c - the fast single-head self-attention: four GEMMs (QKV
// projection, scores with the 1/sqrt(d_k) scale as alpha, weighted values,
// output projection written straight into the (D, L) layout through
// strides) around the ISA table's softmax. Same formulas as attention_ref.c.
// Also the op's prepare, evals and backward (ops.c), whose eight products
// are GEMMs too.
#include "ops.h"

#include "gaba/gemm.h"

#include <math.h>

// qkv, the softmax probabilities and ctx into ws (nn_kernels.h's layout).
static gaba_status attend(int64_t d, int64_t l, int64_t dk, const float *x, const float *w_qkv,
                          const float *b_qkv, float *ws) {
    int64_t d3 = 3 * dk;
    float *qkv = ws, *sc = ws + l * d3, *ctx = sc + l * l;
    gaba_status st;
    // qkv (L, 3dk): A(p, i) = x[i*L + p]; B(i, j) = w_qkv[j*D + i].
    st = gaba_gemm_f32(GABA_GEMM_AUTO, l, d3, d, 1.0f, x, 1, l, w_qkv, 1, d, 0.0f, qkv, d3, 1,
                       b_qkv, GABA_ACT_NONE);
    if (st != GABA_OK) return st;
    // scores (L, L) = q k^T / sqrt(dk): B(k, q) = qkv[q*3dk + dk + k].
    st = gaba_gemm_f32(GABA_GEMM_AUTO, l, l, dk, 1.0f / sqrtf((float)dk), qkv, d3, 1, qkv + dk, 1,
                       d3, 0.0f, sc, l, 1, NULL, GABA_ACT_NONE);
    if (st != GABA_OK) return st;
    gaba_nn_table.softmax(l, l, sc, sc);
    return gaba_gemm_f32(GABA_GEMM_AUTO, l, dk, l, 1.0f, sc, l, 1, qkv + 2 * dk, d3, 1, 0.0f, ctx,
                         dk, 1, NULL, GABA_ACT_NONE);
}

gaba_status gaba_nn_attention_f32(int64_t d, int64_t l, int64_t dk, const float *x,
                                  const float *w_qkv, const float *b_qkv, const float *w_o,
                                  const float *b_o, float *y, float *ws) {
    const float *ctx = ws + l * 3 * dk + l * l;
    gaba_status st = attend(d, l, dk, x, w_qkv, b_qkv, ws);
    if (st != GABA_OK) return st;
    // y (D, L) as C(p, o) = y[o*L + p]: A = ctx (L, dk); B(k, o) = w_o[o*dk + k].
    return gaba_gemm_f32(GABA_GEMM_AUTO, l, d, dk, 1.0f, ctx, dk, 1, w_o, 1, dk, 0.0f, y, 1, l, b_o,
                         GABA_ACT_NONE);
}

// One sample, as gaba_nn_attention_backward_f32_ref. ws: the forward's qkv, p (L, L), ctx,
// then dctx (L, dk), dp (L, L) (becomes the scores' gradient), dqkv (L, 3dk).
static gaba_status backward_one(int64_t d, int64_t l, int64_t dk, const float *x,
                                const float *const *w, const float *dy, float *dx, float *const *dw,
                                float *ws) {
    int64_t d3 = 3 * dk;
    float *qkv = ws, *p = qkv + l * d3, *ctx = p + l * l, *dctx = ctx + l * dk, *dp = dctx + l * dk,
          *dqkv = dp + l * l;
    float scale = 1.0f / sqrtf((float)dk);
    gaba_status st = attend(d, l, dk, x, w[0], w[1], ws);
    for (int64_t o = 0; o < d; o++)
        for (int64_t q = 0; q < l; q++) dw[3][o] += dy[o * l + q];
    // dW_o (D, dk) += dy ctx; dctx (L, dk) = dy^T W_o.
    if (st == GABA_OK)
        st = gaba_gemm_f32(GABA_GEMM_AUTO, d, dk, l, 1.0f, dy, l, 1, ctx, dk, 1, 1.0f, dw[2], dk, 1,
                           NULL, GABA_ACT_NONE);
    if (st == GABA_OK)
        st = gaba_gemm_f32(GABA_GEMM_AUTO, l, dk, d, 1.0f, dy, 1, l, w[2], dk, 1, 0.0f, dctx, dk, 1,
                           NULL, GABA_ACT_NONE);
    // dp (L, L) = dctx v^T; dv (L, dk) = p^T dctx.
    if (st == GABA_OK)
        st = gaba_gemm_f32(GABA_GEMM_AUTO, l, l, dk, 1.0f, dctx, dk, 1, qkv + 2 * dk, 1, d3, 0.0f,
                           dp, l, 1, NULL, GABA_ACT_NONE);
    if (st == GABA_OK)
        st = gaba_gemm_f32(GABA_GEMM_AUTO, l, dk, l, 1.0f, p, 1, l, dctx, dk, 1, 0.0f,
                           dqkv + 2 * dk, d3, 1, NULL, GABA_ACT_NONE);
    if (st != GABA_OK) return st;
    gaba_nn_attention_softmax_backward(l, p, dp);
    // dq = scale ds k; dk = scale ds^T q.
    st = gaba_gemm_f32(GABA_GEMM_AUTO, l, dk, l, scale, dp, l, 1, qkv + dk, d3, 1, 0.0f, dqkv, d3,
                       1, NULL, GABA_ACT_NONE);
    if (st == GABA_OK)
        st = gaba_gemm_f32(GABA_GEMM_AUTO, l, dk, l, scale, dp, 1, l, qkv, d3, 1, 0.0f, dqkv + dk,
                           d3, 1, NULL, GABA_ACT_NONE);
    if (st != GABA_OK) return st;
    for (int64_t q = 0; q < l; q++)
        for (int64_t j = 0; j < d3; j++) dw[1][j] += dqkv[q * d3 + j];
    // dW_qkv (3dk, D) += dqkv^T x^T; dx (D, L) += W_qkv^T dqkv^T.
    st = gaba_gemm_f32(GABA_GEMM_AUTO, d3, d, l, 1.0f, dqkv, 1, d3, x, 1, l, 1.0f, dw[0], d, 1,
                       NULL, GABA_ACT_NONE);
    if (st == GABA_OK && dx)
        st = gaba_gemm_f32(GABA_GEMM_AUTO, d, l, d3, 1.0f, w[0], 1, d, dqkv, 1, d3, 1.0f, dx, l, 1,
                           NULL, GABA_ACT_NONE);
    return st;
}

gaba_status gaba_nn_attention_backward(BWD_ARGS) {
    (void)n_in, (void)y;
    int64_t d = in[0].d[0], len = in[0].d[1], dk = l->p[0];
    gaba_status st = GABA_OK;
    for (int64_t b = 0; b < nb && st == GABA_OK; b++)
        st = backward_one(d, len, dk, X + b * d * len, w, dy + b * d * len,
                          dx[0] ? dx[0] + b * d * len : NULL, dw, ws);
    return st;
}

gaba_status gaba_nn_attention_backward_ref(BWD_ARGS) {
    (void)n_in, (void)y;
    int64_t d = in[0].d[0], len = in[0].d[1], dk = l->p[0];
    for (int64_t b = 0; b < nb; b++)
        gaba_nn_attention_backward_f32_ref(d, len, dk, X + b * d * len, w[0], w[1], w[2],
                                           dy + b * d * len, dx[0] ? dx[0] + b * d * len : NULL,
                                           dw[0], dw[1], dw[2], dw[3], ws);
    return GABA_OK;
}

gaba_status gaba_nn_attention_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                      gaba_nn_plan *pl) {
    (void)n_in;
    if (x->ndim != 2 || l->p[0] <= 0 || l->p[0] > INT32_MAX / 3) return GABA_ERR_ARG;
    int32_t d = x->d[0], len = x->d[1], dk = l->p[0];
    pl->out = *x;
    gaba_nn_add_weight(pl, "w_qkv", gaba_nn_shp(2, 3 * dk, d, 0), -d);
    gaba_nn_add_weight(pl, "b_qkv", gaba_nn_shp(1, 3 * dk, 0, 0), 0);
    gaba_nn_add_weight(pl, "w_o", gaba_nn_shp(2, d, dk, 0), -dk);
    gaba_nn_add_weight(pl, "b_o", gaba_nn_shp(1, d, 0, 0), 0);
    pl->workspace = gaba_nn_attention_workspace(d, len, dk);
    pl->bwd_workspace = gaba_nn_attention_backward_workspace(len, dk);
    pl->macs = (int64_t)len * 3 * dk * d + 2 * (int64_t)len * len * dk + (int64_t)len * dk * d;
    return GABA_OK;
}

#define ATTENTION_ARGS in[0].d[0], in[0].d[1], l->p[0], X, w[0], w[1], w[2], w[3], Y, ws

gaba_status gaba_nn_attention_eval(EVAL_ARGS) {
    (void)n_in;
    return gaba_nn_attention_f32(ATTENTION_ARGS);
}

gaba_status gaba_nn_attention_eval_ref(EVAL_ARGS) {
    (void)n_in;
    gaba_nn_attention_f32_ref(ATTENTION_ARGS);
    return GABA_OK;
}
