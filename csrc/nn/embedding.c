// embedding.c - the float32 embedding's prepare, eval and backward (ops.c):
// the reference gather and scatter (embedding_ref.c) are also the fast path.
#include "ops.h"

gaba_status gaba_nn_embedding_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                      gaba_nn_plan *pl) {
    (void)n_in;
    if (l->p[0] <= 0 || l->p[1] <= 0) return GABA_ERR_ARG;
    if (x->ndim != 1) return GABA_ERR_SHAPE;
    pl->out = gaba_nn_shp(2, l->p[0], x->d[0], 0);
    gaba_nn_add_weight(pl, "table", gaba_nn_shp(2, l->p[1], l->p[0], 0), 1);
    return GABA_OK;
}

gaba_status gaba_nn_embedding_eval(EVAL_ARGS) {
    (void)n_in, (void)ws;
    return gaba_nn_embedding_f32_ref(in[0].d[0], l->p[0], l->p[1], (const int32_t *)x[0], w[0], Y);
}

// ids have no gradient: only the table's rows at them get one
gaba_status gaba_nn_embedding_backward(BWD_ARGS) {
    (void)n_in, (void)w, (void)y, (void)dx, (void)ws;
    int64_t len = in[0].d[0], dim = l->p[0];
    gaba_status st = GABA_OK;
    for (int64_t s = 0; s < nb && st == GABA_OK; s++)
        st = gaba_nn_embedding_backward_f32_ref(len, dim, l->p[1], (const int32_t *)x[0] + s * len,
                                                dy + s * dim * len, dw[0]);
    return st;
}
