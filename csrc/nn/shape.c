// shape.c - the float32 ops that only move data (ops.c): reshape and flatten
// (copies), transpose, their backward, and the prepare of the ops whose
// output has their input's shape.
#include "ops.h"

#include <string.h>

gaba_status gaba_nn_same_shape_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                       gaba_nn_plan *pl) {
    (void)l, (void)n_in;
    pl->out = *x;
    return GABA_OK;
}

gaba_status gaba_nn_reshape_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                    gaba_nn_plan *pl) {
    (void)n_in;
    const int32_t *p = l->p;
    int64_t numel = gaba_nn_numel(x);
    if (p[0] < 1 || p[0] > GABA_NN_MAX_DIMS) return GABA_ERR_ARG;
    gaba_nn_shape s = {p[0], {0}};
    int64_t known = 1;
    int free_axis = -1;
    for (int i = 0; i < p[0]; i++) {
        s.d[i] = p[1 + i];
        if (s.d[i] == -1 && free_axis < 0)
            free_axis = i;
        else if (s.d[i] <= 0)
            return GABA_ERR_ARG;
        else
            known *= s.d[i];
    }
    if (free_axis >= 0) {
        if (numel % known) return GABA_ERR_SHAPE;
        s.d[free_axis] = (int32_t)(numel / known);
    }
    if (gaba_nn_numel(&s) != numel) return GABA_ERR_SHAPE;
    pl->out = s;
    return GABA_OK;
}

gaba_status gaba_nn_flatten_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                    gaba_nn_plan *pl) {
    (void)l, (void)n_in;
    pl->out = gaba_nn_shp(1, (int32_t)gaba_nn_numel(x), 0, 0);
    return GABA_OK;
}

gaba_status gaba_nn_transpose_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                      gaba_nn_plan *pl) {
    (void)l, (void)n_in;
    if (x->ndim != 2) return GABA_ERR_SHAPE;
    pl->out = gaba_nn_shp(2, x->d[1], x->d[0], 0);
    return GABA_OK;
}

gaba_status gaba_nn_copy_eval(EVAL_ARGS) {
    (void)l, (void)n_in, (void)w, (void)ws;
    memcpy(y, x[0], (size_t)gaba_nn_numel(&in[0]) * sizeof(float));
    return GABA_OK;
}

gaba_status gaba_nn_transpose_eval(EVAL_ARGS) {
    (void)l, (void)n_in, (void)w, (void)ws;
    gaba_nn_transpose_f32_ref(in[0].d[0], in[0].d[1], X, Y);
    return GABA_OK;
}

gaba_status gaba_nn_copy_backward(BWD_ARGS) {
    (void)l, (void)n_in, (void)x, (void)w, (void)y, (void)dw, (void)ws;
    int64_t n = nb * gaba_nn_numel(&in[0]);
    if (dx[0])
        for (int64_t i = 0; i < n; i++) dx[0][i] += dy[i];
    return GABA_OK;
}

gaba_status gaba_nn_transpose_backward(BWD_ARGS) {
    (void)l, (void)n_in, (void)x, (void)w, (void)y, (void)dw, (void)ws;
    int64_t a = in[0].d[0], b = in[0].d[1];
    if (dx[0])
        for (int64_t s = 0; s < nb; s++)
            gaba_nn_transpose_add_f32_ref(b, a, dy + s * a * b, dx[0] + s * a * b);
    return GABA_OK;
}
