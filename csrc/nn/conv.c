// conv.c - the fast convolution: depthwise runs the direct kernel of the
// ISA table (dwconv_impl.h); a 1x1 stride-1 unpadded conv is one GEMM on the
// input as it lies; anything else is im2col into the workspace and one GEMM
// per group. The GEMM computes y^T = col^T W^T, so bias is per column and
// fuses with ReLU/ReLU6 into its epilogue; the CHW output and the (K, HW)
// im2col matrix are read/written through strides, never transposed.
#include "dwconv_impl.h"

#include "gaba/gemm.h"

void gaba_nn_dwconv_f32_generic(const gaba_nn_conv_geom *g, const float *x, const float *w,
                                const float *b, float *y) {
    gaba_nn_dwconv_body(g, x, w, b, y);
}

static int is_depthwise(const gaba_nn_conv_geom *g) {
    return g->groups > 1 && g->groups == g->c && g->co == g->c;
}

static int is_pointwise(const gaba_nn_conv_geom *g) {
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 &&
           g->ho == g->h && g->wo == g->w;
}

int64_t gaba_nn_conv2d_workspace(const gaba_nn_conv_geom *g) {
    if (is_depthwise(g) || (is_pointwise(g) && g->groups == 1)) return 0;
    return (g->c / g->groups) * g->kh * g->kw * g->ho * g->wo;
}

static gaba_act gemm_act(gaba_nn_act act) {
    return act == GABA_NN_ACT_RELU ? GABA_ACT_RELU
                                   : (act == GABA_NN_ACT_RELU6 ? GABA_ACT_RELU6 : GABA_ACT_NONE);
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
                    int64_t off = kx * g->dw - g->pl;
                    for (int64_t ox = 0; ox < g->wo; ox++) {
                        int64_t ix = ox * g->sw + off;
                        r[ox] = ix >= 0 && ix < g->w ? xr[ix] : 0.0f;
                    }
                }
            }
    }
}

gaba_status gaba_nn_conv2d_f32(const gaba_nn_conv_geom *g, const float *x, const float *w,
                               const float *b, float *y, float *ws, gaba_nn_act act) {
    int64_t hw = g->ho * g->wo;
    gaba_act fused = gemm_act(act);
    gaba_nn_act rest = fused == GABA_ACT_NONE ? act : GABA_NN_ACT_NONE;
    if (is_depthwise(g)) {
        gaba_nn_table.dwconv(g, x, w, b, y);
        gaba_nn_act_f32_ref(y, g->co * hw, act);
        return GABA_OK;
    }
    int64_t cig = g->c / g->groups, cog = g->co / g->groups, k = cig * g->kh * g->kw;
    for (int64_t grp = 0; grp < g->groups; grp++) {
        const float *a = x + grp * cig * g->h * g->w;
        if (!(is_pointwise(g) && g->groups == 1)) {
            im2col(g, x, grp * cig, cig, ws);
            a = ws;
        }
        // C (HoWo, cog) at y + grp*cog*hw with rs 1, cs hw; A (HoWo, K): rs 1, cs hw;
        // B (K, cog) = W_g^T: rs 1, cs K.
        gaba_status st = gaba_gemm_f32(GABA_GEMM_AUTO, hw, cog, k, 1.0f, a, 1, hw,
                                       w + grp * cog * k, 1, k, 0.0f, y + grp * cog * hw, 1,
                                       hw, b ? b + grp * cog : NULL, fused);
        if (st != GABA_OK) return st;
    }
    gaba_nn_act_f32_ref(y, g->co * hw, rest);
    return GABA_OK;
}
