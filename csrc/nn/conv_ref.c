// conv_ref.c - reference 2-D convolution (also 1-D as H = 1): seven plain
// loops in the definition's order, zero padding, dilation, groups, bias and
// the fused activation. The oracle of conv.c's im2col/GEMM and depthwise
// paths; never optimised.
#include "nn_kernels.h"

void gaba_nn_conv2d_f32_ref(const gaba_nn_conv_geom *g, const float *x, const float *w,
                            const float *b, float *y, gaba_nn_act act) {
    int64_t cig = g->c / g->groups, cog = g->co / g->groups;
    for (int64_t co = 0; co < g->co; co++) {
        int64_t grp = co / cog;
        for (int64_t oy = 0; oy < g->ho; oy++)
            for (int64_t ox = 0; ox < g->wo; ox++) {
                float acc = b ? b[co] : 0.0f;
                for (int64_t ci = 0; ci < cig; ci++)
                    for (int64_t ky = 0; ky < g->kh; ky++) {
                        int64_t iy = oy * g->sh - g->pt + ky * g->dh;
                        if (iy < 0 || iy >= g->h) continue;
                        for (int64_t kx = 0; kx < g->kw; kx++) {
                            int64_t ix = ox * g->sw - g->pl + kx * g->dw;
                            if (ix < 0 || ix >= g->w) continue;
                            acc += w[((co * cig + ci) * g->kh + ky) * g->kw + kx] *
                                   x[((grp * cig + ci) * g->h + iy) * g->w + ix];
                        }
                    }
                y[(co * g->ho + oy) * g->wo + ox] = acc;
            }
    }
    gaba_nn_act_f32_ref(y, g->co * g->ho * g->wo, act);
}
