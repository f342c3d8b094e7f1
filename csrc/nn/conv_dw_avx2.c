// conv_dw_avx2.c - the depthwise direct kernel (dwconv_impl.h) compiled with
// AVX2 + FMA: 8-wide rows. Same arithmetic as the baseline build.
#include "dwconv_impl.h"

void gaba_nn_dwconv_f32_avx2(const gaba_nn_conv_geom *g, const float *x, const float *w,
                             const float *b, float *y, float *ws) {
    gaba_nn_dwconv_body(g, x, w, b, y);
}
