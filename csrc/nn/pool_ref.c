// pool_ref.c - max / average pooling with padding (padded cells are -inf for
// max and not counted by average, as Keras and TFLite do) and global
// pooling. The oracles of pool.c; memory-bound loops, so they are the fast
// path of padded windows too. Their backward, the fast path as well.
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

// The input cells [*lo, *hi) of output o's window along an axis of n cells.
static void window(int64_t o, int64_t s, int64_t pad, int64_t k, int64_t n, int64_t *lo,
                   int64_t *hi) {
    int64_t a = o * s - pad;
    *lo = a < 0 ? 0 : a;
    *hi = a + k < n ? a + k : n;
}

void gaba_nn_pool_backward_f32_ref(const gaba_nn_pool_geom *g, const float *x, const float *dy,
                                   float *dx, int is_max) {
    for (int64_t c = 0; c < g->c; c++) {
        const float *xc = x + c * g->h * g->w;
        float *dc = dx + c * g->h * g->w;
        for (int64_t oy = 0; oy < g->ho; oy++)
            for (int64_t ox = 0; ox < g->wo; ox++) {
                int64_t y0, y1, x0, x1;
                window(oy, g->sh, g->pt, g->kh, g->h, &y0, &y1);
                window(ox, g->sw, g->pl, g->kw, g->w, &x0, &x1);
                if (y0 >= y1 || x0 >= x1) continue; // all padding: no input read
                float d = dy[(c * g->ho + oy) * g->wo + ox];
                if (!is_max) {
                    d /= (float)((y1 - y0) * (x1 - x0));
                    for (int64_t iy = y0; iy < y1; iy++)
                        for (int64_t ix = x0; ix < x1; ix++) dc[iy * g->w + ix] += d;
                    continue;
                }
                // the forward's comparison: the first maximum, or the NaN it returned
                float m = -INFINITY;
                int64_t at = y0 * g->w + x0;
                for (int64_t iy = y0; iy < y1; iy++)
                    for (int64_t ix = x0; ix < x1; ix++) {
                        float v = xc[iy * g->w + ix];
                        if (v > m || v != v) m = v, at = iy * g->w + ix;
                    }
                dc[at] += d;
            }
    }
}
