// act.c - the int8 activations (qnn.h): ReLU/ReLU6 are clamps, sigmoid, tanh
// and hard-swish a 256-entry table built from the scales (TFLite's int8
// lookup-table activations); the op's evals (ops.c).
#include "../nn/ops.h"
#include "qnn_kernels.h"

#include <math.h>

int gaba_qnn_is_lut_act(gaba_nn_act a) {
    return a == GABA_NN_ACT_SIGMOID || a == GABA_NN_ACT_TANH || a == GABA_NN_ACT_HSWISH;
}

void gaba_qnn_build_lut(gaba_nn_act act, float in_scale, int32_t in_zp, float out_scale,
                        int32_t out_zp, int8_t *lut) {
    for (int32_t q = -128; q < 128; q++) {
        double x = (double)in_scale * (q - in_zp), f;
        if (act == GABA_NN_ACT_SIGMOID)
            f = 1.0 / (1.0 + exp(-x));
        else if (act == GABA_NN_ACT_TANH)
            f = tanh(x);
        else
            f = x * (x + 3.0 < 0.0 ? 0.0 : x + 3.0 > 6.0 ? 6.0 : x + 3.0) / 6.0;
        double v = round(f / (double)out_scale) + out_zp;
        lut[q + 128] = (int8_t)(v < -128.0 ? -128 : v > 127.0 ? 127 : v);
    }
}

gaba_status gaba_qnn_act_eval(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    int64_t numel = gaba_nn_numel(&in[0]);
    if (gaba_qnn_is_lut_act(q->layer.act))
        gaba_nn_table.qlut(numel, x[0], q->lut, y);
    else
        gaba_qnn_clamp_ref(numel, x[0], q->act_min, q->act_max, y);
    return GABA_OK;
}

gaba_status gaba_qnn_act_eval_ref(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    int64_t numel = gaba_nn_numel(&in[0]);
    if (gaba_qnn_is_lut_act(q->layer.act))
        gaba_qnn_lut_ref(numel, x[0], q->lut, y);
    else
        gaba_qnn_clamp_ref(numel, x[0], q->act_min, q->act_max, y);
    return GABA_OK;
}
