// pool_ref.c - max / average pooling with padding (padded cells are -inf for
// max and not counted by average, as Keras and TFLite do) and global
// pooling. The oracles of pool.c; memory-bound loops, so they are the fast
// path of padded windows too.
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
