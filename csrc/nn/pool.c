// pool.c - the fast pooling entry point (the ISA table's kernel) and its
// baseline build of pool_impl.h; the pooling geometry of a layer and the
// max/avg and global pooling ops' prepare, evals and backward (ops.c).
#include "pool_impl.h"
#include "ops.h"

void gaba_nn_pool_f32_generic(const gaba_nn_pool_geom *g, const float *x, float *y, int is_max) {
    gaba_nn_pool_body(g, x, y, is_max);
}

void gaba_nn_pool_f32(const gaba_nn_pool_geom *g, const float *x, float *y, int is_max) {
    gaba_nn_table.pool(g, x, y, is_max);
}

static gaba_status pool_geom(const gaba_nn_layer *l, const gaba_nn_shape *in,
                             gaba_nn_pool_geom *g) {
    const int32_t *p = l->p;
    if (!gaba_nn_spatial(in, &g->c, &g->h, &g->w)) return GABA_ERR_SHAPE;
    g->kh = p[0], g->kw = p[1], g->sh = p[2], g->sw = p[3], g->pt = p[4], g->pl = p[5];
    if (g->kh <= 0 || g->kw <= 0 || g->sh <= 0 || g->sw <= 0 || g->pt < 0 || g->pl < 0 ||
        p[6] < 0 || p[7] < 0 || g->pt >= g->kh || g->pl >= g->kw)
        return GABA_ERR_ARG;
    int64_t eh = g->h + g->pt + p[6] - g->kh, ew = g->w + g->pl + p[7] - g->kw;
    if (eh < 0 || ew < 0) return GABA_ERR_SHAPE;
    g->ho = eh / g->sh + 1, g->wo = ew / g->sw + 1;
    if (g->ho > INT32_MAX || g->wo > INT32_MAX || g->kh * g->kw > INT32_MAX) return GABA_ERR_ARG;
    return GABA_OK;
}

gaba_status gaba_nn_pool_geom_get(const gaba_nn_layer *l, const gaba_nn_shape *in,
                                  gaba_nn_pool_geom *g) {
    return pool_geom(l, in, g);
}

gaba_status gaba_nn_pool_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                 gaba_nn_plan *pl) {
    (void)n_in;
    gaba_nn_pool_geom g;
    gaba_status st = pool_geom(l, x, &g);
    if (st != GABA_OK) return st;
    if (x->ndim == 2 && (g.kh != 1 || g.sh != 1 || g.pt || l->p[6])) return GABA_ERR_ARG;
    pl->out = x->ndim == 2 ? gaba_nn_shp(2, g.c, g.wo, 0) : gaba_nn_shp(3, g.c, g.ho, g.wo);
    pl->macs = gaba_nn_numel(&pl->out) * g.kh * g.kw;
    return GABA_OK;
}

gaba_status gaba_nn_global_pool_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                        gaba_nn_plan *pl) {
    (void)l, (void)n_in;
    if (x->ndim < 2) return GABA_ERR_SHAPE;
    pl->out = gaba_nn_shp(1, x->d[0], 0, 0);
    pl->macs = gaba_nn_numel(x);
    return GABA_OK;
}

gaba_status gaba_nn_pool_eval(EVAL_ARGS) {
    (void)n_in, (void)w, (void)ws;
    gaba_nn_pool_geom g;
    gaba_status st = pool_geom(l, &in[0], &g);
    if (st == GABA_OK) gaba_nn_pool_f32(&g, X, Y, l->op == GABA_NN_MAXPOOL);
    return st;
}

gaba_status gaba_nn_pool_eval_ref(EVAL_ARGS) {
    (void)n_in, (void)w, (void)ws;
    gaba_nn_pool_geom g;
    gaba_status st = pool_geom(l, &in[0], &g);
    if (st == GABA_OK)
        (l->op == GABA_NN_MAXPOOL ? gaba_nn_maxpool_f32_ref : gaba_nn_avgpool_f32_ref)(&g, X, Y);
    return st;
}

// Global pooling as one window over each of the c planes (of nb samples), seen as a 1 x s row.
static gaba_nn_pool_geom global_geom(const gaba_nn_shape *in, int64_t nb) {
    int64_t c = in->d[0], s = gaba_nn_numel(in) / c;
    return (gaba_nn_pool_geom){
        .c = nb * c, .h = 1, .w = s, .ho = 1, .wo = 1, .kh = 1, .kw = s, .sh = 1, .sw = s};
}

gaba_status gaba_nn_global_pool_eval(EVAL_ARGS) {
    (void)n_in, (void)w, (void)ws;
    gaba_nn_pool_geom g = global_geom(&in[0], 1);
    gaba_nn_pool_f32(&g, X, Y, l->op == GABA_NN_GLOBAL_MAXPOOL);
    return GABA_OK;
}

gaba_status gaba_nn_global_pool_eval_ref(EVAL_ARGS) {
    (void)n_in, (void)w, (void)ws;
    int64_t c = in[0].d[0];
    gaba_nn_global_pool_f32_ref(c, gaba_nn_numel(&in[0]) / c, X, Y,
                                l->op == GABA_NN_GLOBAL_MAXPOOL);
    return GABA_OK;
}

// The fast backward: average pooling over unpadded windows (the forward's fast case) spreads
// an output row's gradients one window cell at a time, in loops along the outputs without
// bounds or a division a window. Max pooling and padded windows take the reference (a
// branch-free max over unpadded windows measured no faster).
static void pool_backward_f32(const gaba_nn_pool_geom *g, const float *x, const float *dy,
                              float *dx, int is_max) {
    if (is_max || g->pt || g->pl || (g->ho - 1) * g->sh + g->kh > g->h ||
        (g->wo - 1) * g->sw + g->kw > g->w) {
        gaba_nn_pool_backward_f32_ref(g, x, dy, dx, is_max);
        return;
    }
    const float inv = 1.0f / (float)(g->kh * g->kw);
    for (int64_t c = 0; c < g->c; c++)
        for (int64_t oy = 0; oy < g->ho; oy++) {
            const float *gr = dy + (c * g->ho + oy) * g->wo;
            float *dr = dx + (c * g->h + oy * g->sh) * g->w;
            for (int64_t ky = 0; ky < g->kh; ky++)
                for (int64_t kx = 0; kx < g->kw; kx++)
                    for (int64_t ox = 0; ox < g->wo; ox++)
                        dr[ky * g->w + ox * g->sw + kx] += gr[ox] * inv;
        }
}

// The samples' planes pooled as nb * C planes of one sample.
static gaba_status pool_backward(BWD_ARGS, int ref) {
    (void)n_in, (void)w, (void)y, (void)dw, (void)ws;
    gaba_nn_pool_geom g;
    gaba_status st = pool_geom(l, &in[0], &g);
    if (st != GABA_OK || !dx[0]) return st;
    g.c *= nb;
    (ref ? gaba_nn_pool_backward_f32_ref : pool_backward_f32)(&g, X, dy, dx[0],
                                                              l->op == GABA_NN_MAXPOOL);
    return GABA_OK;
}

gaba_status gaba_nn_pool_backward(BWD_ARGS) {
    return pool_backward(l, n_in, in, nb, x, w, y, dy, dx, dw, ws, 0);
}

gaba_status gaba_nn_pool_backward_ref(BWD_ARGS) {
    return pool_backward(l, n_in, in, nb, x, w, y, dy, dx, dw, ws, 1);
}

gaba_status gaba_nn_global_pool_backward(BWD_ARGS) {
    (void)n_in, (void)w, (void)y, (void)dw, (void)ws;
    gaba_nn_pool_geom g = global_geom(&in[0], nb);
    if (dx[0]) gaba_nn_pool_backward_f32_ref(&g, X, dy, dx[0], l->op == GABA_NN_GLOBAL_MAXPOOL);
    return GABA_OK;
}

// Max pooling finds its window's maximum in x again; average pooling reads nothing.
int gaba_nn_pool_reads(const gaba_nn_layer *l) {
    return l->op == GABA_NN_MAXPOOL || l->op == GABA_NN_GLOBAL_MAXPOOL ? GABA_NN_READS_X : 0;
}
