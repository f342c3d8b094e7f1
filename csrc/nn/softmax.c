// softmax.c - the float32 softmax's evals (ops.c): over the last axis, the
// ISA table's kernel (softmax_avx2.c, softmax_avx512.c) or the reference;
// its backward from the output forward gave.
#include "ops.h"

gaba_status gaba_nn_softmax_eval(EVAL_ARGS) {
    (void)l, (void)n_in, (void)w, (void)ws;
    int64_t n = in[0].d[in[0].ndim - 1];
    gaba_nn_table.softmax(gaba_nn_numel(&in[0]) / n, n, X, Y);
    return GABA_OK;
}

gaba_status gaba_nn_softmax_eval_ref(EVAL_ARGS) {
    (void)l, (void)n_in, (void)w, (void)ws;
    int64_t n = in[0].d[in[0].ndim - 1];
    gaba_nn_softmax_f32_ref(gaba_nn_numel(&in[0]) / n, n, X, Y);
    return GABA_OK;
}

gaba_status gaba_nn_softmax_backward(BWD_ARGS) {
    (void)l, (void)n_in, (void)x, (void)w, (void)dw, (void)ws;
    int64_t n = in[0].d[in[0].ndim - 1];
    if (dx[0]) gaba_nn_softmax_backward_f32_ref(nb * gaba_nn_numel(&in[0]) / n, n, y, dy, dx[0]);
    return GABA_OK;
}
