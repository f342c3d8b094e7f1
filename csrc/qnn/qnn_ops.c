// qnn_ops.c - the int8 side of the op table (ops.c): whether a layer runs in
// int8 (gaba_qnn_supported and the rows' predicates), its workspace
// (gaba_qnn_prepare), its multipliers (gaba_qnn_set_rescale, _fp32) and one
// sample (gaba_qnn_eval), each read from the layer's row.
#include "../nn/ops.h"
#include "qnn_kernels.h"

static int act_ok(gaba_nn_act a) {
    return a == GABA_NN_ACT_NONE || a == GABA_NN_ACT_RELU || a == GABA_NN_ACT_RELU6;
}

void gaba_qnn_set_rescale_fp32(gaba_qnn_layer *q) {
    gaba_nn_op op = q->layer.op;
    if ((unsigned)op < GABA_NN_OP_COUNT && gaba_nn_ops[op].q_rescale_fp32)
        gaba_nn_ops[op].q_rescale_fp32(q);
}

int gaba_qnn_supported(const gaba_nn_layer *l) {
    return (unsigned)l->op < GABA_NN_OP_COUNT && gaba_nn_ops[l->op].q_supported &&
           gaba_nn_ops[l->op].q_supported(l);
}

// conv, dense, add/sub/mul: a clamp after the requantization
int gaba_qnn_fused_act_supported(const gaba_nn_layer *l) { return act_ok(l->act); }

int gaba_qnn_act_supported(const gaba_nn_layer *l) {
    return act_ok(l->act) || gaba_qnn_is_lut_act(l->act);
}

int gaba_qnn_always_supported(const gaba_nn_layer *l) {
    (void)l;
    return 1;
}

int gaba_qnn_no_act_supported(const gaba_nn_layer *l) { return l->act == GABA_NN_ACT_NONE; }

gaba_status gaba_qnn_prepare(const gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in,
                             gaba_nn_shape *out, int64_t *ws_bytes) {
    if (!q || !gaba_qnn_supported(&q->layer)) return GABA_ERR_NO_IMPL;
    const gaba_nn_op_def *op = &gaba_nn_ops[q->layer.op];
    gaba_nn_dtype in_dtype[GABA_NN_MAX_INPUTS];
    for (int i = 0; i < GABA_NN_MAX_INPUTS; i++) in_dtype[i] = op->in_dtype;
    gaba_nn_plan pl;
    gaba_status st = gaba_nn_prepare(&q->layer, n_in, in, in_dtype, &pl);
    if (st != GABA_OK) return st;
    *out = pl.out;
    *ws_bytes = 0;
    return op->q_prepare ? op->q_prepare(q, in, ws_bytes) : GABA_OK;
}

gaba_status gaba_qnn_eval(const gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in,
                          const int8_t *const *x, int8_t *y, void *ws, gaba_nn_impl impl) {
    if ((unsigned)q->layer.op >= GABA_NN_OP_COUNT || !gaba_nn_ops[q->layer.op].q_eval)
        return GABA_ERR_NO_IMPL;
    const gaba_nn_op_def *op = &gaba_nn_ops[q->layer.op];
    return (impl == GABA_NN_IMPL_REF ? op->q_eval_ref : op->q_eval)(q, n_in, in, x, y, ws);
}

gaba_status gaba_qnn_set_rescale(gaba_qnn_layer *q, int n_in) {
    gaba_nn_op op = q->layer.op;
    return (unsigned)op < GABA_NN_OP_COUNT && gaba_nn_ops[op].q_rescale
               ? gaba_nn_ops[op].q_rescale(q, n_in)
               : GABA_OK;
}
