// attention.c - the fast single-head self-attention: four GEMMs (QKV
// projection, scores with the 1/sqrt(d_k) scale as alpha, weighted values,
// output projection written straight into the (D, L) layout through
// strides) around the ISA table's softmax. Same formulas as attention_ref.c.
#include "nn_kernels.h"

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
