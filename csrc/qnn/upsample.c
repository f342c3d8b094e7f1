// upsample.c - the int8 nearest and bilinear upsampling evals (ops.c): the
// ISA table's kernel or the reference.
#include "../nn/ops.h"
#include "qnn_kernels.h"

// (C, H, W) or (C, L) as H = 1, and the scales
#define UPSAMPLE_GEOM                                                                              \
    in[0].d[0], in[0].ndim == 3 ? in[0].d[1] : 1, in[0].d[in[0].ndim - 1], q->layer.p[0],          \
        q->layer.p[1]

gaba_status gaba_qnn_upsample_eval(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    if (q->layer.p[2] == 1)
        gaba_nn_table.qbilinear(UPSAMPLE_GEOM, q->in_zp[0], x[0], y);
    else
        gaba_nn_table.qupsample(UPSAMPLE_GEOM, x[0], y);
    return GABA_OK;
}

gaba_status gaba_qnn_upsample_eval_ref(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    if (q->layer.p[2] == 1)
        gaba_qnn_upsample_bilinear_ref(UPSAMPLE_GEOM, q->in_zp[0], x[0], y);
    else
        gaba_qnn_upsample_nearest_ref(UPSAMPLE_GEOM, x[0], y);
    return GABA_OK;
}
