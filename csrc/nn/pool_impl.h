// pool_impl.h - internal: the fast max / average pooling for unpadded
// windows (every model in the zoo pools without padding), a static inline
// body that pool.c (baseline) and pool_avx512.c compile with their own ISA
// flags: no bounds tests, the window's rows reduced with the output row as
// accumulator, max and sum in loops of their own, so the loop over outputs
// vectorises; 2-wide stride-2 windows, the common case, get their own loop.
// Padded pooling uses the reference (pool_ref.c); results are identical.
#ifndef GABA_NN_POOL_IMPL_H
#define GABA_NN_POOL_IMPL_H

#include "nn_kernels.h"

#include <math.h>

static inline float max_nan(float m, float v) { return v > m || v != v ? v : m; }

// One window row of outputs: yr (wo) = op(yr, the row's kw taps); first: yr is not read.
static inline void pool_row_max(const float *restrict xr, int64_t wo, int64_t sw, int64_t kw,
                                int first, float *restrict yr) {
    if (kw == 2 && sw == 2) {
        for (int64_t ox = 0; ox < wo; ox++) {
            float v = max_nan(xr[2 * ox], xr[2 * ox + 1]);
            yr[ox] = first ? v : max_nan(yr[ox], v);
        }
        return;
    }
    for (int64_t kx = 0; kx < kw; kx++)
        for (int64_t ox = 0; ox < wo; ox++) {
            float v = xr[ox * sw + kx];
            yr[ox] = first && kx == 0 ? v : max_nan(yr[ox], v);
        }
}

static inline void pool_row_sum(const float *restrict xr, int64_t wo, int64_t sw, int64_t kw,
                                int first, float *restrict yr) {
    if (kw == 2 && sw == 2) {
        for (int64_t ox = 0; ox < wo; ox++) {
            float v = xr[2 * ox] + xr[2 * ox + 1];
            yr[ox] = first ? v : yr[ox] + v;
        }
        return;
    }
    for (int64_t kx = 0; kx < kw; kx++)
        for (int64_t ox = 0; ox < wo; ox++) {
            float v = xr[ox * sw + kx];
            yr[ox] = first && kx == 0 ? v : yr[ox] + v;
        }
}

// One window over each whole plane of s values (a global pool, or a pool
// whose window covers its input): 16 partial results a channel, so that the
// loop vectorises (one output would leave the row loops above scalar).
static inline void pool_global(int64_t c, int64_t s, const float *x, float *y, int is_max) {
    for (int64_t i = 0; i < c; i++) {
        const float *restrict row = x + i * s;
        float part[16];
        int64_t j = 0;
        if (is_max) {
            for (int l = 0; l < 16; l++) part[l] = -INFINITY;
            for (; j + 16 <= s; j += 16)
                for (int l = 0; l < 16; l++) part[l] = max_nan(part[l], row[j + l]);
            for (int l = 0; j + l < s; l++) part[l] = max_nan(part[l], row[j + l]);
            float m = part[0];
            for (int l = 1; l < 16; l++) m = max_nan(m, part[l]);
            y[i] = m;
        } else {
            for (int l = 0; l < 16; l++) part[l] = 0.0f;
            for (; j + 16 <= s; j += 16)
                for (int l = 0; l < 16; l++) part[l] += row[j + l];
            for (int l = 0; j + l < s; l++) part[l] += row[j + l];
            float acc = 0.0f;
            for (int l = 0; l < 16; l++) acc += part[l];
            y[i] = acc / (float)s;
        }
    }
}

static inline void gaba_nn_pool_body(const gaba_nn_pool_geom *g, const float *x, float *y,
                                     int is_max) {
    if (g->ho == 1 && g->wo == 1 && !g->pt && !g->pl && g->kh == g->h && g->kw == g->w) {
        pool_global(g->c, g->h * g->w, x, y, is_max);
        return;
    }
    if (g->pt || g->pl || (g->ho - 1) * g->sh + g->kh > g->h ||
        (g->wo - 1) * g->sw + g->kw > g->w) {
        if (is_max)
            gaba_nn_maxpool_f32_ref(g, x, y);
        else
            gaba_nn_avgpool_f32_ref(g, x, y);
        return;
    }
    const float inv = 1.0f / (float)(g->kh * g->kw);
    for (int64_t c = 0; c < g->c; c++)
        for (int64_t oy = 0; oy < g->ho; oy++) {
            float *restrict yr = y + (c * g->ho + oy) * g->wo;
            for (int64_t ky = 0; ky < g->kh; ky++) {
                const float *xr = x + (c * g->h + oy * g->sh + ky) * g->w;
                if (is_max)
                    pool_row_max(xr, g->wo, g->sw, g->kw, ky == 0, yr);
                else
                    pool_row_sum(xr, g->wo, g->sw, g->kw, ky == 0, yr);
            }
            if (!is_max)
                for (int64_t ox = 0; ox < g->wo; ox++) yr[ox] *= inv;
        }
}

#endif
