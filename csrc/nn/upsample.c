// upsample.c - the fast upsampling entry point (the ISA table's kernel) and
// its baseline build of upsample_impl.h; the op's prepare, evals and
// backward (ops.c).
#include "upsample_impl.h"
#include "ops.h"

void gaba_nn_upsample_f32_generic(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw, int mode,
                                  const float *x, float *y) {
    gaba_nn_upsample_body(c, h, w, sh, sw, mode, x, y);
}

void gaba_nn_upsample_f32(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw, int mode,
                          const float *x, float *y) {
    gaba_nn_table.upsample(c, h, w, sh, sw, mode, x, y);
}

gaba_status gaba_nn_upsample_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                     gaba_nn_plan *pl) {
    (void)n_in;
    const int32_t *p = l->p;
    int64_t c, h, w;
    if (!gaba_nn_spatial(x, &c, &h, &w)) return GABA_ERR_SHAPE;
    if (p[0] <= 0 || p[1] <= 0 || p[2] < 0 || p[2] > 1 || (x->ndim == 2 && p[0] != 1) ||
        h * p[0] > INT32_MAX || w * p[1] > INT32_MAX)
        return GABA_ERR_ARG;
    pl->out = x->ndim == 2 ? gaba_nn_shp(2, (int32_t)c, (int32_t)(w * p[1]), 0)
                           : gaba_nn_shp(3, (int32_t)c, (int32_t)(h * p[0]), (int32_t)(w * p[1]));
    return GABA_OK;
}

// (C, H, W) or (C, L) as H = 1
#define UPSAMPLE_HW in[0].ndim == 3 ? in[0].d[1] : 1, in[0].d[in[0].ndim - 1]
#define UPSAMPLE_GEOM in[0].d[0], UPSAMPLE_HW

gaba_status gaba_nn_upsample_eval(EVAL_ARGS) {
    (void)n_in, (void)w, (void)ws;
    gaba_nn_upsample_f32(UPSAMPLE_GEOM, l->p[0], l->p[1], l->p[2], X, Y);
    return GABA_OK;
}

gaba_status gaba_nn_upsample_eval_ref(EVAL_ARGS) {
    (void)n_in, (void)w, (void)ws;
    gaba_nn_upsample_f32_ref(UPSAMPLE_GEOM, l->p[0], l->p[1], l->p[2], X, Y);
    return GABA_OK;
}

// nb samples' planes as nb * C planes of one sample
gaba_status gaba_nn_upsample_backward(BWD_ARGS) {
    (void)n_in, (void)x, (void)w, (void)y, (void)dw, (void)ws;
    if (dx[0])
        gaba_nn_upsample_backward_f32_ref(nb * in[0].d[0], UPSAMPLE_HW, l->p[0], l->p[1], l->p[2],
                                          dy, dx[0]);
    return GABA_OK;
}
