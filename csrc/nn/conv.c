// conv.c - the fast convolution: depthwise runs the direct kernel of the
// ISA table (dwconv*.c); a 1x1 stride-1 unpadded conv is one GEMM per
// group on the input as it lies; anything else is im2col into the workspace
// and one GEMM per group. The GEMM is Y (co, HoWo) = W (co, K) x col (K,
// HoWo), all row-major: measured 3-9x faster than the transposed form on
// these shapes, because N = HoWo is the long contiguous side. It is the ISA
// table's conv_gemm, which also adds the per-row bias and the activation
// (fused into the stores with AVX-512, a pass over Y otherwise). The
// backward: depthwise a direct loop, else the two GEMMs of the gradients and
// col2im. Also the conv geometry of a layer and the op's prepare, evals and
// backward (ops.c).
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

// Kernel column kx reads input ix = ox * sw + off of a row: inside the row for
// the outputs ox in [lo, hi], the padding for the others.
static void row_span(const gaba_nn_conv_geom *g, int64_t kx, int64_t *off, int64_t *lo,
                     int64_t *hi) {
    *off = kx * g->dw - g->pl;
    *lo = *off >= 0 ? 0 : dw_ceil_div(-*off, g->sw);
    *hi = g->w - 1 - *off < 0 ? -1 : (g->w - 1 - *off) / g->sw;
    if (*hi > g->wo - 1) *hi = g->wo - 1;
    if (*lo > g->wo) *lo = g->wo;
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
                    int64_t off, lo, hi;
                    row_span(g, kx, &off, &lo, &hi);
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

// dx (the channels [c0, c0 + cig)) += the columns dcol (K, HoWo): im2col's adjoint.
static void col2im_add(const gaba_nn_conv_geom *g, const float *dcol, int64_t c0, int64_t cig,
                       float *dx) {
    int64_t hw = g->ho * g->wo;
    for (int64_t ci = 0; ci < cig; ci++)
        for (int64_t ky = 0; ky < g->kh; ky++)
            for (int64_t kx = 0; kx < g->kw; kx++) {
                const float *row = dcol + ((ci * g->kh + ky) * g->kw + kx) * hw;
                int64_t off, lo, hi;
                row_span(g, kx, &off, &lo, &hi);
                for (int64_t oy = 0; oy < g->ho; oy++) {
                    int64_t iy = oy * g->sh - g->pt + ky * g->dh;
                    if (iy < 0 || iy >= g->h) continue;
                    float *xr = dx + ((c0 + ci) * g->h + iy) * g->w + off;
                    const float *r = row + oy * g->wo;
                    for (int64_t ox = lo; ox <= hi; ox++) xr[ox * g->sw] += r[ox];
                }
            }
}

// The sum of n floats in eight running sums, which the compiler vectorises.
static float sum_f32(const float *p, int64_t n) {
    float a[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) a[j] += p[i + j];
    float s = 0.0f;
    for (; i < n; i++) s += p[i];
    for (int j = 0; j < 8; j++) s += a[j];
    return s;
}

// The floats of scratch the depthwise backward needs: du and the taps' acc rows.
static int64_t dwconv_backward_workspace(const gaba_nn_conv_geom *g) {
    return (g->kh * g->kw + 1) * ((g->wo - 1) * g->sw + 1);
}

// Depthwise backward, direct, on contiguous rows whatever the stride: each row
// of dy is spread to the input's pitch (du[j] = dy[ox] at j = ox * sw, zeros
// between), so that each tap is a shifted elementwise pass over an input row:
// dx[j + off] += w * du[j], and du[j] * x[j + off] summed per column into the
// tap's acc row, summed across once per channel into dw. ws:
// dwconv_backward_workspace floats.
static void dwconv_backward(const gaba_nn_conv_geom *g, const float *x, const float *w,
                            const float *dy, float *dx, float *dw, float *ws) {
    int64_t n = (g->wo - 1) * g->sw + 1, taps = g->kh * g->kw;
    float *du = ws, *acc = ws + n;
    memset(du, 0, (size_t)n * sizeof(float));
    for (int64_t c = 0; c < g->c; c++) {
        memset(acc, 0, (size_t)(taps * n) * sizeof(float));
        for (int64_t oy = 0; oy < g->ho; oy++) {
            const float *r = dy + (c * g->ho + oy) * g->wo;
            for (int64_t ox = 0; ox < g->wo; ox++) du[ox * g->sw] = r[ox];
            for (int64_t ky = 0; ky < g->kh; ky++) {
                int64_t iy = oy * g->sh - g->pt + ky * g->dh;
                if (iy < 0 || iy >= g->h) continue;
                int64_t row = (c * g->h + iy) * g->w;
                for (int64_t kx = 0; kx < g->kw; kx++) {
                    int64_t off = kx * g->dw - g->pl; // input column j + off
                    int64_t j0 = off < 0 ? -off : 0, j1 = g->w - off < n ? g->w - off : n;
                    float *a = acc + (ky * g->kw + kx) * n;
                    const float wv = w[(c * g->kh + ky) * g->kw + kx];
                    for (int64_t j = j0; j < j1; j++) a[j] += du[j] * x[row + off + j];
                    if (dx)
                        for (int64_t j = j0; j < j1; j++) dx[row + off + j] += wv * du[j];
                }
            }
        }
        for (int64_t t = 0; t < taps; t++) dw[c * taps + t] += sum_f32(acc + t * n, n);
    }
}

// The bias gradient is dy summed over the positions; depthwise runs the direct
// loop; else per group dW_g += dY_g col^T and dcol = W_g^T dY_g, which col2im
// adds to dx (a pointwise conv: col is x itself, and dcol goes straight to dx).
gaba_status gaba_nn_conv2d_backward_f32(const gaba_nn_conv_geom *g, const float *x, const float *w,
                                        const float *dy, float *dx, float *dw, float *db,
                                        float *ws) {
    int64_t hw = g->ho * g->wo;
    for (int64_t co = 0; co < g->co; co++) db[co] += sum_f32(dy + co * hw, hw);
    if (is_depthwise(g)) {
        dwconv_backward(g, x, w, dy, dx, dw, ws);
        return GABA_OK;
    }
    int64_t cig = g->c / g->groups, cog = g->co / g->groups, k = cig * g->kh * g->kw;
    const int pw = is_pointwise(g);
    for (int64_t grp = 0; grp < g->groups; grp++) {
        const float *col = x + grp * cig * g->h * g->w, *dyg = dy + grp * cog * hw;
        const float *wg = w + grp * cog * k;
        if (!pw) {
            im2col(g, x, grp * cig, cig, ws);
            col = ws;
        }
        // dW_g (cog, K) += dY_g (cog, HoWo) x col^T (HoWo, K)
        gaba_status st = gaba_gemm_f32(GABA_GEMM_AUTO, cog, k, hw, 1.0f, dyg, hw, 1, col, 1, hw,
                                       1.0f, dw + grp * cog * k, k, 1, NULL, GABA_ACT_NONE);
        if (st != GABA_OK) return st;
        if (!dx) continue;
        // dcol (K, HoWo) = W_g^T (K, cog) x dY_g (cog, HoWo), over col (used up)
        float *dxg = dx + grp * cig * g->h * g->w;
        st = gaba_gemm_f32(GABA_GEMM_AUTO, k, hw, cog, 1.0f, wg, 1, k, dyg, hw, 1, pw ? 1.0f : 0.0f,
                           pw ? dxg : ws, hw, 1, NULL, GABA_ACT_NONE);
        if (st != GABA_OK) return st;
        if (!pw) col2im_add(g, ws, grp * cig, cig, dx);
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
    pl->bwd_workspace = is_depthwise(&g) ? dwconv_backward_workspace(&g) : pl->workspace;
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

// The backward of nb samples, one at a time (fast, or the reference).
static gaba_status conv_backward(const gaba_nn_layer *l, const gaba_nn_shape *in, int64_t nb,
                                 const float *x, const float *const *w, const float *dy, float *dx,
                                 float *const *dw, float *ws, int ref) {
    gaba_nn_conv_geom g;
    gaba_status st = conv_geom(l, in, &g);
    int64_t xn = g.c * g.h * g.w, yn = g.co * g.ho * g.wo;
    for (int64_t s = 0; s < nb && st == GABA_OK; s++) {
        const float *xs = x + s * xn, *dys = dy + s * yn;
        float *dxs = dx ? dx + s * xn : NULL;
        if (ref)
            gaba_nn_conv2d_backward_f32_ref(&g, xs, w[0], dys, dxs, dw[0], dw[1]);
        else
            st = gaba_nn_conv2d_backward_f32(&g, xs, w[0], dys, dxs, dw[0], dw[1], ws);
    }
    return st;
}

gaba_status gaba_nn_conv_backward(BWD_ARGS) {
    (void)n_in, (void)y;
    return conv_backward(l, in, nb, X, w, dy, dx[0], dw, ws, 0);
}

gaba_status gaba_nn_conv_backward_ref(BWD_ARGS) {
    (void)n_in, (void)y;
    return conv_backward(l, in, nb, X, w, dy, dx[0], dw, ws, 1);
}
