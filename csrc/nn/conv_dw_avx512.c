// conv_dw_avx512.c - the depthwise direct kernel (dwconv_impl.h) compiled
// with AVX-512: 16-wide rows with masked tails.
#include "dwconv_impl.h"

void gaba_nn_dwconv_f32_avx512(const gaba_nn_conv_geom *g, const float *x, const float *w,
                               const float *b, float *y) {
    gaba_nn_dwconv_body(g, x, w, b, y);
}
