// conv_dw_avx2.c - the depthwise direct kernel (dwconv_impl.h) compiled with
// AVX2 + FMA: 8-wide rows. Same arithmetic as the baseline build.
#include "dwconv_impl.h"

void gaba_nn_dwconv_f32_avx2(const gaba_nn_conv_geom *g, const float *x, const float *w,
                             const float *b, float *y, gaba_nn_act act) {
    gaba_nn_dwconv_body(g, x, w, b, y);
    gaba_nn_bias_act_f32(1, g->co * g->ho * g->wo, y, NULL, act);
}
