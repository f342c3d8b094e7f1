// pool_ref.c - max / average pooling with padding (padded cells are -inf for
// max and not counted by average, as Keras and TFLite do), global pooling,
// and nearest / bilinear upsampling (half-pixel centres, PyTorch's
// align_corners=False). These are memory-bound loops: they are the fast path
// too.
#include "nn_kernels.h"

#include <math.h>

void gaba_nn_maxpool_f32_ref(const gaba_nn_pool_geom *g, const float *x, float *y) {
    for (int64_t c = 0; c < g->c; c++)
        for (int64_t oy = 0; oy < g->ho; oy++)
            for (int64_t ox = 0; ox < g->wo; ox++) {
                float m = -INFINITY;
                for (int64_t ky = 0; ky < g->kh; ky++) {
                    int64_t iy = oy * g->sh - g->pt + ky;
                    if (iy < 0 || iy >= g->h) continue;
                    for (int64_t kx = 0; kx < g->kw; kx++) {
                        int64_t ix = ox * g->sw - g->pl + kx;
                        if (ix < 0 || ix >= g->w) continue;
                        float v = x[(c * g->h + iy) * g->w + ix];
                        m = v > m || v != v ? v : m;
                    }
                }
                y[(c * g->ho + oy) * g->wo + ox] = m;
            }
}

void gaba_nn_avgpool_f32_ref(const gaba_nn_pool_geom *g, const float *x, float *y) {
    for (int64_t c = 0; c < g->c; c++)
        for (int64_t oy = 0; oy < g->ho; oy++)
            for (int64_t ox = 0; ox < g->wo; ox++) {
                float s = 0.0f;
                int64_t count = 0;
                for (int64_t ky = 0; ky < g->kh; ky++) {
                    int64_t iy = oy * g->sh - g->pt + ky;
                    if (iy < 0 || iy >= g->h) continue;
                    for (int64_t kx = 0; kx < g->kw; kx++) {
                        int64_t ix = ox * g->sw - g->pl + kx;
                        if (ix < 0 || ix >= g->w) continue;
                        s += x[(c * g->h + iy) * g->w + ix];
                        count++;
                    }
                }
                y[(c * g->ho + oy) * g->wo + ox] = count ? s / (float)count : 0.0f;
            }
}

void gaba_nn_global_pool_f32_ref(int64_t c, int64_t s, const float *x, float *y, int is_max) {
    for (int64_t i = 0; i < c; i++) {
        const float *row = x + i * s;
        if (is_max) {
            float m = -INFINITY;
            for (int64_t j = 0; j < s; j++) m = row[j] > m || row[j] != row[j] ? row[j] : m;
            y[i] = m;
        } else {
            float acc = 0.0f;
            for (int64_t j = 0; j < s; j++) acc += row[j];
            y[i] = acc / (float)s;
        }
    }
}

// Source coordinate and weight of output index o along an axis scaled by s.
static void bilinear_src(int64_t o, int64_t n, int64_t s, int64_t *i0, int64_t *i1, float *f) {
    float src = ((float)o + 0.5f) / (float)s - 0.5f;
    if (src < 0.0f) src = 0.0f;
    int64_t lo = (int64_t)src;
    if (lo > n - 1) lo = n - 1;
    *i0 = lo;
    *i1 = lo + 1 < n ? lo + 1 : n - 1;
    *f = src - (float)lo;
}

void gaba_nn_upsample_f32_ref(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw, int mode,
                              const float *x, float *y) {
    int64_t ho = h * sh, wo = w * sw;
    for (int64_t ch = 0; ch < c; ch++) {
        const float *xc = x + ch * h * w;
        float *yc = y + ch * ho * wo;
        for (int64_t oy = 0; oy < ho; oy++)
            for (int64_t ox = 0; ox < wo; ox++) {
                if (mode == 0) {
                    yc[oy * wo + ox] = xc[(oy / sh) * w + ox / sw];
                    continue;
                }
                int64_t y0, y1, x0, x1;
                float fy, fx;
                bilinear_src(oy, h, sh, &y0, &y1, &fy);
                bilinear_src(ox, w, sw, &x0, &x1, &fx);
                float top = xc[y0 * w + x0] * (1.0f - fx) + xc[y0 * w + x1] * fx;
                float bot = xc[y1 * w + x0] * (1.0f - fx) + xc[y1 * w + x1] * fx;
                yc[oy * wo + ox] = top * (1.0f - fy) + bot * fy;
            }
    }
}
