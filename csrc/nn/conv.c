// conv.c - the fast convolution: depthwise runs the direct kernel of the
// ISA table (dwconv*.c); a 1x1 stride-1 unpadded conv is one GEMM per
// group on the input as it lies; anything else is im2col into the workspace
// and one GEMM per group. The GEMM is Y (co, HoWo) = W (co, K) x col (K,
// HoWo), all row-major: measured 3-9x faster than the transposed form on
// these shapes, because N = HoWo is the long contiguous side. It is the ISA
// table's conv_gemm, which also adds the per-row bias and the activation
// (fused into the stores with AVX-512, a pass over Y otherwise). Also the
// conv geometry of a layer and the op's prepare and evals (ops.c).
#include "dwconv_impl.h"
#include "ops.h"

#include "gaba/gemm.h"

#include <string.h>

gaba_status gaba_nn_conv_gemm_f32_generic(int64_t m, int64_t n, int64_t k, const float *w,
                                          const float *x, const float *b, float *y,
                                          gaba_nn_act act) {
    gaba_status st = gaba_gemm_f32(GABA_GEMM_AUTO, m, n, k, 1.0f, w, k, 1, x, n, 1, 0.0f, y, n, 1,
                                   NULL, GABA_ACT_NONE);
    if (st == GABA_OK) gaba_nn_bias_act_f32(m, n, y, b, act);
    return st;
}

static int is_depthwise(const gaba_nn_conv_geom *g) {
    return g->groups > 1 && g->groups == g->c && g->co == g->c;
}

static int is_pointwise(const gaba_nn_conv_geom *g) {
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 &&
           g->ho == g->h && g->wo == g->w;
}

// The direct kernel pays off where the reduction is short and im2col's copy
// would dominate (measured on the zoo's stems); it handles strides 1, 2 and 4.
// Grouped convs run it once per group.
static int use_direct(const gaba_nn_conv_geom *g) {
    return gaba_nn_table.conv_direct && !is_pointwise(g) && (g->sw <= 2 || g->sw == 4) &&
           g->kw <= GABA_NN_DIRECT_MAX_KW && g->w <= GABA_NN_DIRECT_MAX_W &&
           g->c / g->groups * g->kh * g->kw <= GABA_NN_DIRECT_MAX_K;
}

// The workspace does not depend on the ISA level, so a model's memory plan is
// the same on every machine: the im2col columns, which a direct conv leaves
// unused.
int64_t gaba_nn_conv2d_workspace(const gaba_nn_conv_geom *g) {
    if (is_depthwise(g) || is_pointwise(g)) return 0;
    return (g->c / g->groups) * g->kh * g->kw * g->ho * g->wo;
}

// col (K, HoWo) for the channels [c0, c0 + cig) of x.
static void im2col(const gaba_nn_conv_geom *g, const float *x, int64_t c0, int64_t cig,
                   float *col) {
    int64_t hw = g->ho * g->wo;
    for (int64_t ci = 0; ci < cig; ci++) {
        const float *xc = x + (c0 + ci) * g->h * g->w;
        for (int64_t ky = 0; ky < g->kh; ky++)
            for (int64_t kx = 0; kx < g->kw; kx++) {
                float *row = col + ((ci * g->kh + ky) * g->kw + kx) * hw;
                for (int64_t oy = 0; oy < g->ho; oy++) {
                    int64_t iy = oy * g->sh - g->pt + ky * g->dh;
                    float *r = row + oy * g->wo;
                    if (iy < 0 || iy >= g->h) {
                        for (int64_t ox = 0; ox < g->wo; ox++) r[ox] = 0.0f;
                        continue;
                    }
                    const float *xr = xc + iy * g->w;
                    int64_t off = kx * g->dw - g->pl; // ix = ox * sw + off
                    int64_t lo = off >= 0 ? 0 : dw_ceil_div(-off, g->sw);
                    int64_t hi = g->w - 1 - off < 0 ? -1 : (g->w - 1 - off) / g->sw;
                    if (hi > g->wo - 1) hi = g->wo - 1;
                    if (lo > g->wo) lo = g->wo;
                    for (int64_t ox = 0; ox < lo; ox++) r[ox] = 0.0f;
                    if (g->sw == 1) {
                        if (hi >= lo)
                            memcpy(r + lo, xr + lo + off, (size_t)(hi - lo + 1) * sizeof(float));
                    } else {
                        for (int64_t ox = lo; ox <= hi; ox++) r[ox] = xr[ox * g->sw + off];
                    }
                    for (int64_t ox = (hi + 1 > lo ? hi + 1 : lo); ox < g->wo; ox++) r[ox] = 0.0f;
                }
            }
    }
}

gaba_status gaba_nn_conv2d_f32(const gaba_nn_conv_geom *g, const float *x, const float *w,
                               const float *b, float *y, float *ws, gaba_nn_act act) {
    int64_t hw = g->ho * g->wo;
    if (is_depthwise(g)) {
        gaba_nn_table.dwconv(g, x, w, b, y, act);
        return GABA_OK;
    }
    int64_t cig = g->c / g->groups, cog = g->co / g->groups, k = cig * g->kh * g->kw;
    if (use_direct(g)) {
        gaba_nn_conv_geom gg = *g; // one group
        gg.c = cig, gg.co = cog, gg.groups = 1;
        for (int64_t grp = 0; grp < g->groups; grp++)
            gaba_nn_table.conv_direct(&gg, x + grp * cig * g->h * g->w, w + grp * cog * k,
                                      b ? b + grp * cog : NULL, y + grp * cog * hw, act);
        return GABA_OK;
    }
    for (int64_t grp = 0; grp < g->groups; grp++) {
        const float *a = x + grp * cig * g->h * g->w;
        if (!is_pointwise(g)) {
            im2col(g, x, grp * cig, cig, ws);
            a = ws;
        }
        // Y_g (cog, HoWo) = act(W_g (cog, K) x col (K, HoWo) + b_g), row-major.
        gaba_status st = gaba_nn_table.conv_gemm(cog, hw, k, w + grp * cog * k, a,
                                                 b ? b + grp * cog : NULL, y + grp * cog * hw, act);
        if (st != GABA_OK) return st;
    }
    return GABA_OK;
}

static gaba_status conv_geom(const gaba_nn_layer *l, const gaba_nn_shape *in,
                             gaba_nn_conv_geom *g) {
    const int32_t *p = l->p;
    if (!gaba_nn_spatial(in, &g->c, &g->h, &g->w)) return GABA_ERR_SHAPE;
    if ((l->op == GABA_NN_CONV1D) != (in->ndim == 2)) return GABA_ERR_SHAPE;
    g->co = p[0], g->kh = p[1], g->kw = p[2], g->sh = p[3], g->sw = p[4];
    g->pt = p[5], g->pl = p[6], g->dh = p[9] ? p[9] : 1, g->dw = p[10] ? p[10] : 1;
    g->groups = p[11] ? p[11] : 1;
    if (g->co <= 0 || g->kh <= 0 || g->kw <= 0 || g->sh <= 0 || g->sw <= 0 || g->pt < 0 ||
        g->pl < 0 || p[7] < 0 || p[8] < 0 || g->dh <= 0 || g->dw <= 0 || g->groups <= 0)
        return GABA_ERR_ARG;
    if (g->c % g->groups || g->co % g->groups) return GABA_ERR_SHAPE;
    int64_t eh = g->h + g->pt + p[7] - g->dh * (g->kh - 1) - 1;
    int64_t ew = g->w + g->pl + p[8] - g->dw * (g->kw - 1) - 1;
    if (eh < 0 || ew < 0) return GABA_ERR_SHAPE;
    g->ho = eh / g->sh + 1, g->wo = ew / g->sw + 1;
    // the output and a weight row fit int32 shapes (so the MACs and workspaces fit int64)
    if (g->ho > INT32_MAX || g->wo > INT32_MAX || g->ho * g->wo > INT32_MAX / g->co ||
        g->kh * g->kw > INT32_MAX / (g->c / g->groups))
        return GABA_ERR_ARG;
    return GABA_OK;
}

gaba_status gaba_nn_conv_geom_get(const gaba_nn_layer *l, const gaba_nn_shape *in,
                                  gaba_nn_conv_geom *g) {
    return conv_geom(l, in, g);
}

gaba_status gaba_nn_conv_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                 gaba_nn_plan *pl) {
    (void)n_in;
    const int32_t *p = l->p;
    gaba_nn_conv_geom g;
    gaba_status st = conv_geom(l, x, &g);
    if (st != GABA_OK) return st;
    if (l->op == GABA_NN_CONV1D && (g.kh != 1 || g.sh != 1 || g.pt || p[7])) return GABA_ERR_ARG;
    pl->out =
        l->op == GABA_NN_CONV1D ? gaba_nn_shp(2, g.co, g.wo, 0) : gaba_nn_shp(3, g.co, g.ho, g.wo);
    int32_t fan = (int32_t)(g.c / g.groups * g.kh * g.kw);
    gaba_nn_add_weight(pl, "weight",
                       l->op == GABA_NN_CONV1D
                           ? gaba_nn_shp(3, g.co, g.c / g.groups, g.kw)
                           : (gaba_nn_shape){4, {g.co, g.c / g.groups, g.kh, g.kw}},
                       fan);
    gaba_nn_add_weight(pl, "bias", gaba_nn_shp(1, g.co, 0, 0), 0);
    pl->workspace = gaba_nn_conv2d_workspace(&g);
    pl->macs = g.co * g.ho * g.wo * (int64_t)fan;
    return GABA_OK;
}

gaba_status gaba_nn_conv_eval(EVAL_ARGS) {
    (void)n_in;
    gaba_nn_conv_geom g;
    gaba_status st = conv_geom(l, &in[0], &g);
    return st != GABA_OK ? st : gaba_nn_conv2d_f32(&g, X, w[0], w[1], Y, ws, l->act);
}

gaba_status gaba_nn_conv_eval_ref(EVAL_ARGS) {
    (void)n_in, (void)ws;
    gaba_nn_conv_geom g;
    gaba_status st = conv_geom(l, &in[0], &g);
    if (st == GABA_OK) gaba_nn_conv2d_f32_ref(&g, X, w[0], w[1], Y, l->act);
    return st;
}
