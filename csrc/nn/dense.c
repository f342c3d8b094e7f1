// dense.c - the fast fully connected layer: one GEMM (1, F) x (F, N) with
// W^T read through strides and bias + ReLU/ReLU6 in the epilogue; its backward
// over a batch as two GEMMs; the op's prepare, evals and backward (ops.c).
#include "ops.h"

#include "gaba/gemm.h"

gaba_status gaba_nn_dense_f32(int64_t n, int64_t f, const float *x, const float *w, const float *b,
                              float *y, gaba_nn_act act) {
    gaba_act fused = act == GABA_NN_ACT_RELU
                         ? GABA_ACT_RELU
                         : (act == GABA_NN_ACT_RELU6 ? GABA_ACT_RELU6 : GABA_ACT_NONE);
    gaba_status st =
        gaba_gemm_f32(GABA_GEMM_AUTO, 1, n, f, 1.0f, x, f, 1, w, 1, f, 0.0f, y, n, 1, b, fused);
    if (st == GABA_OK && fused == GABA_ACT_NONE) gaba_nn_bias_act_f32(1, n, y, NULL, act);
    return st;
}

gaba_status gaba_nn_dense_backward_f32(int64_t nb, int64_t n, int64_t f, const float *x,
                                       const float *w, const float *dy, float *dx, float *dw,
                                       float *db) {
    if (nb == 0) return GABA_OK;
    for (int64_t s = 0; s < nb; s++)
        for (int64_t j = 0; j < n; j++) db[j] += dy[s * n + j];
    // dW (n, f) += dY^T (n, nb) x X (nb, f)
    gaba_status st = gaba_gemm_f32(GABA_GEMM_AUTO, n, f, nb, 1.0f, dy, 1, n, x, f, 1, 1.0f, dw, f,
                                   1, NULL, GABA_ACT_NONE);
    // dX (nb, f) += dY (nb, n) x W (n, f)
    if (st == GABA_OK && dx)
        st = gaba_gemm_f32(GABA_GEMM_AUTO, nb, f, n, 1.0f, dy, n, 1, w, f, 1, 1.0f, dx, f, 1, NULL,
                           GABA_ACT_NONE);
    return st;
}

gaba_status gaba_nn_dense_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                  gaba_nn_plan *pl) {
    (void)n_in;
    int64_t numel = gaba_nn_numel(x);
    if (l->p[0] <= 0 || numel > INT32_MAX) return GABA_ERR_ARG;
    pl->out = gaba_nn_shp(1, l->p[0], 0, 0);
    gaba_nn_add_weight(pl, "weight", gaba_nn_shp(2, l->p[0], (int32_t)numel, 0), (int32_t)numel);
    gaba_nn_add_weight(pl, "bias", gaba_nn_shp(1, l->p[0], 0, 0), 0);
    pl->macs = l->p[0] * numel;
    return GABA_OK;
}

gaba_status gaba_nn_dense_eval(EVAL_ARGS) {
    (void)n_in, (void)ws;
    return gaba_nn_dense_f32(l->p[0], gaba_nn_numel(&in[0]), X, w[0], w[1], Y, l->act);
}

gaba_status gaba_nn_dense_eval_ref(EVAL_ARGS) {
    (void)n_in, (void)ws;
    gaba_nn_dense_f32_ref(l->p[0], gaba_nn_numel(&in[0]), X, w[0], w[1], Y, l->act);
    return GABA_OK;
}

gaba_status gaba_nn_dense_backward(BWD_ARGS) {
    (void)n_in, (void)y, (void)ws;
    return gaba_nn_dense_backward_f32(nb, l->p[0], gaba_nn_numel(&in[0]), X, w[0], dy, dx[0], dw[0],
                                      dw[1]);
}

gaba_status gaba_nn_dense_backward_ref(BWD_ARGS) {
    (void)n_in, (void)y, (void)ws;
    int64_t n = l->p[0], f = gaba_nn_numel(&in[0]);
    for (int64_t s = 0; s < nb; s++)
        gaba_nn_dense_backward_f32_ref(n, f, X + s * f, w[0], dy + s * n,
                                       dx[0] ? dx[0] + s * f : NULL, dw[0], dw[1]);
    return GABA_OK;
}
