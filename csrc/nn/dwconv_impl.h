// dwconv_impl.h - internal: the depthwise direct kernel body, a static
// inline that conv.c (baseline), dwconv_avx2.c and dwconv_avx512.c (its
// fallback) each compile with their own ISA flags. The inner loop runs
// along an output row with the tap's weight held in a register and no
// bounds test (the valid column range is computed per tap), so the
// compiler vectorises it.
#ifndef GABA_NN_DWCONV_IMPL_H
#define GABA_NN_DWCONV_IMPL_H

#include "nn_kernels.h"

static inline int64_t dw_ceil_div(int64_t a, int64_t b) {
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

// A kernel over the whole input (gaba_nn_dw_is_global): its dot product per
// channel with 16 partial sums, so that the loop vectorises (one output lane
// would leave the row loop below scalar).
static inline void dw_global(const gaba_nn_conv_geom *g, const float *x, const float *w,
                             const float *b, float *y) {
    const int64_t n = g->kh * g->kw;
    for (int64_t c = 0; c < g->c; c++) {
        const float *restrict xc = x + c * n, *restrict wc = w + c * n;
        float part[16] = {0};
        int64_t j = 0;
        for (; j + 16 <= n; j += 16)
            for (int l = 0; l < 16; l++) part[l] += xc[j + l] * wc[j + l];
        for (int l = 0; j + l < n; l++) part[l] += xc[j + l] * wc[j + l];
        float acc = b ? b[c] : 0.0f;
        for (int l = 0; l < 16; l++) acc += part[l];
        y[c] = acc;
    }
}

static inline void gaba_nn_dwconv_body(const gaba_nn_conv_geom *g, const float *x, const float *w,
                                       const float *b, float *y) {
    if (gaba_nn_dw_is_global(g)) {
        dw_global(g, x, w, b, y);
        return;
    }
    const int64_t ho = g->ho, wo = g->wo, sw = g->sw;
    for (int64_t c = 0; c < g->c; c++) {
        const float *xc = x + c * g->h * g->w;
        const float *wc = w + c * g->kh * g->kw;
        float *yc = y + c * ho * wo;
        float bias = b ? b[c] : 0.0f;
        for (int64_t oy = 0; oy < ho; oy++) {
            float *restrict yr = yc + oy * wo;
            for (int64_t ox = 0; ox < wo; ox++) yr[ox] = bias;
            for (int64_t ky = 0; ky < g->kh; ky++) {
                int64_t iy = oy * g->sh - g->pt + ky * g->dh;
                if (iy < 0 || iy >= g->h) continue;
                const float *restrict xr = xc + iy * g->w;
                for (int64_t kx = 0; kx < g->kw; kx++) {
                    int64_t off = kx * g->dw - g->pl; // ix = ox * sw + off
                    int64_t lo = off >= 0 ? 0 : dw_ceil_div(-off, sw);
                    int64_t hi = (g->w - 1 - off) < 0 ? -1 : (g->w - 1 - off) / sw;
                    if (hi > wo - 1) hi = wo - 1;
                    float wv = wc[ky * g->kw + kx];
                    if (sw == 1) {
                        const float *restrict xs = xr + off;
                        for (int64_t ox = lo; ox <= hi; ox++) yr[ox] += wv * xs[ox];
                    } else {
                        for (int64_t ox = lo; ox <= hi; ox++) yr[ox] += wv * xr[ox * sw + off];
                    }
                }
            }
        }
    }
}

#endif
