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
    pl->bwd_workspace = p[2] ? h * w * p[1] : 0; // bilinear: one plane reduced down its columns
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

// The fast backward, the forward's passes transposed: nearest sums each input cell's
// sh x sw block; bilinear blends the output rows into the (H, Wo) plane t (ws) down the
// columns, a loop that vectorises, then scatters t's rows across with the column indices and
// weights computed once (the reference recomputes both for every output).
static void upsample_backward_f32(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw, int mode,
                                  const float *dy, float *dx, float *ws) {
    int64_t ho = h * sh, wo = w * sw;
    if (wo > UP_MAX_W) {
        gaba_nn_upsample_backward_f32_ref(c, h, w, sh, sw, mode, dy, dx);
        return;
    }
    int32_t x0[UP_MAX_W], x1[UP_MAX_W];
    float fx[UP_MAX_W];
    for (int64_t ox = 0; ox < wo && mode; ox++) up_src_index(ox, w, sw, &x0[ox], &x1[ox], &fx[ox]);
    for (int64_t ch = 0; ch < c; ch++) {
        const float *gc = dy + ch * ho * wo;
        float *dc = dx + ch * h * w;
        if (mode == 0) {
            for (int64_t oy = 0; oy < ho; oy++)
                for (int64_t ix = 0; ix < w; ix++) {
                    float s = 0.0f;
                    for (int64_t k = 0; k < sw; k++) s += gc[oy * wo + ix * sw + k];
                    dc[(oy / sh) * w + ix] += s;
                }
            continue;
        }
        float *restrict t = ws;
        memset(t, 0, (size_t)(h * wo) * sizeof(float));
        for (int64_t oy = 0; oy < ho; oy++) {
            int32_t y0, y1;
            float fy;
            up_src_index(oy, h, sh, &y0, &y1, &fy);
            const float *restrict gr = gc + oy * wo;
            float *restrict ta = t + (int64_t)y0 * wo, *restrict tb = t + (int64_t)y1 * wo;
            for (int64_t ox = 0; ox < wo; ox++) ta[ox] += gr[ox] * (1.0f - fy);
            for (int64_t ox = 0; ox < wo; ox++) tb[ox] += gr[ox] * fy;
        }
        for (int64_t iy = 0; iy < h; iy++) {
            const float *tr = t + iy * wo;
            float *dr = dc + iy * w;
            for (int64_t ox = 0; ox < wo; ox++) {
                dr[x0[ox]] += tr[ox] * (1.0f - fx[ox]);
                dr[x1[ox]] += tr[ox] * fx[ox];
            }
        }
    }
}

// nb samples' planes as nb * C planes of one sample
gaba_status gaba_nn_upsample_backward(BWD_ARGS) {
    (void)n_in, (void)x, (void)w, (void)y, (void)dw;
    if (dx[0])
        upsample_backward_f32(nb * in[0].d[0], UPSAMPLE_HW, l->p[0], l->p[1], l->p[2], dy, dx[0],
                              ws);
    return GABA_OK;
}

gaba_status gaba_nn_upsample_backward_ref(BWD_ARGS) {
    (void)n_in, (void)x, (void)w, (void)y, (void)dw, (void)ws;
    if (dx[0])
        gaba_nn_upsample_backward_f32_ref(nb * in[0].d[0], UPSAMPLE_HW, l->p[0], l->p[1], l->p[2],
                                          dy, dx[0]);
    return GABA_OK;
}
