// attention.c - the fast single-head self-attention: four GEMMs (QKV
// projection, scores with the 1/sqrt(d_k) scale as alpha, weighted values,
// output projection written straight into the (D, L) layout through
// strides) around the ISA table's softmax. Same formulas as attention_ref.c.
// Also the op's prepare and evals (ops.c).
#include "ops.h"

#include "gaba/gemm.h"

#include <math.h>

gaba_status gaba_nn_attention_f32(int64_t d, int64_t l, int64_t dk, const float *x,
                                  const float *w_qkv, const float *b_qkv, const float *w_o,
                                  const float *b_o, float *y, float *ws) {
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
    st = gaba_gemm_f32(GABA_GEMM_AUTO, l, dk, l, 1.0f, sc, l, 1, qkv + 2 * dk, d3, 1, 0.0f, ctx, dk,
                       1, NULL, GABA_ACT_NONE);
    if (st != GABA_OK) return st;
    // y (D, L) as C(p, o) = y[o*L + p]: A = ctx (L, dk); B(k, o) = w_o[o*dk + k].
    return gaba_gemm_f32(GABA_GEMM_AUTO, l, d, dk, 1.0f, ctx, dk, 1, w_o, 1, dk, 0.0f, y, 1, l, b_o,
                         GABA_ACT_NONE);
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
