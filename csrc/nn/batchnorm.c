// batchnorm.c - folding a batch norm into the conv or dense before it: the
// weights and bias scaled per output channel when a model is built; a
// batch norm run alone, its prepare, eval and backward (ops.c).
#include "ops.h"

#include <math.h>

void gaba_nn_batchnorm_fold(int64_t c_out, int64_t per_out, float *w, float *b, const float *gamma,
                            const float *beta, const float *mean, const float *var, float eps) {
    for (int64_t o = 0; o < c_out; o++) {
        float s = gamma[o] / sqrtf(var[o] + eps);
        for (int64_t i = 0; i < per_out; i++) w[o * per_out + i] *= s;
        b[o] = (b[o] - mean[o]) * s + beta[o];
    }
}

gaba_status gaba_nn_batchnorm_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                      gaba_nn_plan *pl) {
    (void)l, (void)n_in;
    pl->out = *x;
    gaba_nn_add_weight(pl, "scale", gaba_nn_shp(1, x->d[0], 0, 0), 0);
    gaba_nn_add_weight(pl, "shift", gaba_nn_shp(1, x->d[0], 0, 0), 0);
    pl->macs = gaba_nn_numel(x);
    return GABA_OK;
}

gaba_status gaba_nn_batchnorm_eval(EVAL_ARGS) {
    (void)n_in, (void)ws;
    int64_t c = in[0].d[0];
    gaba_nn_batchnorm_f32_ref(c, gaba_nn_numel(&in[0]) / c, X, w[0], w[1], Y, l->act);
    return GABA_OK;
}

// the eval-mode op: scale and shift are weights, the statistics are folded into them
gaba_status gaba_nn_batchnorm_backward(BWD_ARGS) {
    (void)l, (void)n_in, (void)y, (void)ws;
    int64_t c = in[0].d[0], s = gaba_nn_numel(&in[0]) / c;
    for (int64_t b = 0; b < nb; b++)
        gaba_nn_batchnorm_backward_f32_ref(c, s, X + b * c * s, w[0], dy + b * c * s,
                                           dx[0] ? dx[0] + b * c * s : NULL, dw[0], dw[1]);
    return GABA_OK;
}
