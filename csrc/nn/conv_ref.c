// conv_ref.c - reference 2-D convolution (also 1-D as H = 1): seven plain
// loops in the definition's order, zero padding, dilation, groups, bias and
// the fused activation, and its backward on the same loops. The oracle of
// conv.c's im2col/GEMM and depthwise paths; never optimised.
#include "nn_kernels.h"

// The definition's loops over every output and every tap that meets the input.
// Forward (dy NULL): y = b + the sum of w * x. Backward: each output's gradient
// goes to the bias, to the weights (times the input it met) and to the input
// (times the weight; dx NULL: not wanted), all added.
static void conv_loops(const gaba_nn_conv_geom *g, const float *x, const float *w, const float *b,
                       float *y, const float *dy, float *dx, float *dw, float *db) {
    int64_t cig = g->c / g->groups, cog = g->co / g->groups;
    for (int64_t co = 0; co < g->co; co++) {
        int64_t grp = co / cog;
        for (int64_t oy = 0; oy < g->ho; oy++)
            for (int64_t ox = 0; ox < g->wo; ox++) {
                int64_t yi = (co * g->ho + oy) * g->wo + ox;
                float acc = b ? b[co] : 0.0f, gy = dy ? dy[yi] : 0.0f;
                if (dy) db[co] += gy;
                for (int64_t ci = 0; ci < cig; ci++)
                    for (int64_t ky = 0; ky < g->kh; ky++) {
                        int64_t iy = oy * g->sh - g->pt + ky * g->dh;
                        if (iy < 0 || iy >= g->h) continue;
                        for (int64_t kx = 0; kx < g->kw; kx++) {
                            int64_t ix = ox * g->sw - g->pl + kx * g->dw;
                            if (ix < 0 || ix >= g->w) continue;
                            int64_t wi = ((co * cig + ci) * g->kh + ky) * g->kw + kx;
                            int64_t xi = ((grp * cig + ci) * g->h + iy) * g->w + ix;
                            if (!dy) {
                                acc += w[wi] * x[xi];
                                continue;
                            }
                            dw[wi] += gy * x[xi];
                            if (dx) dx[xi] += gy * w[wi];
                        }
                    }
                if (!dy) y[yi] = acc;
            }
    }
}

void gaba_nn_conv2d_f32_ref(const gaba_nn_conv_geom *g, const float *x, const float *w,
                            const float *b, float *y, gaba_nn_act act) {
    conv_loops(g, x, w, b, y, NULL, NULL, NULL, NULL);
    gaba_nn_act_f32_ref(y, g->co * g->ho * g->wo, act);
}

void gaba_nn_conv2d_backward_f32_ref(const gaba_nn_conv_geom *g, const float *x, const float *w,
                                     const float *dy, float *dx, float *dw, float *db) {
    conv_loops(g, x, w, NULL, NULL, dy, dx, dw, db);
}
