// dense.c - the fast fully connected layer: one GEMM (1, F) x (F, N) with
// W^T read through strides and bias + ReLU/ReLU6 in the epilogue.
#include "nn_kernels.h"

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
