// layer_norm.c - prepare, eval and backward of the float32 LayerNorm (nn.h's
// GABA_NN_LAYER_NORM), reached through the op table: x (C, ...) normalized
// over C at each position; eval runs the ISA table's kernel (layer_norm_avx2.c,
// layer_norm_avx512.c; the oracle at the ref level), eval_ref the oracle.
#include "ops.h"

float gaba_nn_layer_norm_eps(const gaba_nn_layer *l) {
    return l->p[0] ? (float)l->p[0] * 1e-9f : 1e-5f;
}

gaba_status gaba_nn_layer_norm_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                       gaba_nn_plan *pl) {
    (void)n_in;
    if (l->act != GABA_NN_ACT_NONE || l->p[0] < 0) return GABA_ERR_ARG;
    pl->out = *x;
    gaba_nn_shape c = {1, {x->d[0]}};
    pl->n_weights = 2;
    pl->weight_names[0] = "weight", pl->weight_names[1] = "bias";
    pl->weight_shapes[0] = pl->weight_shapes[1] = c;
    pl->macs = 4 * gaba_nn_numel(x);
    return GABA_OK;
}

static gaba_status run(const gaba_nn_layer *l, const gaba_nn_shape *in, const void *const *x,
                       const float *const *w, void *y, gaba_nn_layer_norm_fn kernel) {
    int64_t c = in[0].d[0];
    kernel(c, gaba_nn_numel(&in[0]) / c, x[0], w[0], w[1], gaba_nn_layer_norm_eps(l), y);
    return GABA_OK;
}

gaba_status gaba_nn_layer_norm_eval(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *in,
                                    const void *const *x, const float *const *w, void *y,
                                    float *ws) {
    (void)n_in, (void)ws;
    return run(l, in, x, w, y, gaba_nn_table.layer_norm);
}

gaba_status gaba_nn_layer_norm_eval_ref(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *in,
                                        const void *const *x, const float *const *w, void *y,
                                        float *ws) {
    (void)n_in, (void)ws;
    return run(l, in, x, w, y, gaba_nn_layer_norm_f32_ref);
}

gaba_status gaba_nn_layer_norm_backward_ref(BWD_ARGS) {
    (void)n_in, (void)y, (void)ws;
    int64_t c = in[0].d[0], s = gaba_nn_numel(&in[0]) / c;
    for (int64_t b = 0; b < nb; b++)
        gaba_nn_layer_norm_backward_f32_ref(c, s, X + b * c * s, w[0], gaba_nn_layer_norm_eps(l),
                                            dy + b * c * s, dx[0] ? dx[0] + b * c * s : NULL, dw[0],
                                            dw[1]);
    return GABA_OK;
}
