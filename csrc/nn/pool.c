// pool.c - the fast max / average pooling for unpadded windows (every model
// in the zoo pools without padding): no bounds tests, the window's rows
// reduced with the output row as accumulator so the loop over outputs
// vectorises; 2-wide stride-2 windows, the common case, get their own loop.
// Padded pooling uses the reference (pool_ref.c); results are identical.
#include "nn_kernels.h"

static inline float max_nan(float m, float v) { return v > m || v != v ? v : m; }

void gaba_nn_pool_f32(const gaba_nn_pool_geom *g, const float *x, float *y, int is_max) {
    if (g->pt || g->pl || (g->ho - 1) * g->sh + g->kh > g->h ||
        (g->wo - 1) * g->sw + g->kw > g->w) {
        if (is_max) gaba_nn_maxpool_f32_ref(g, x, y);
        else gaba_nn_avgpool_f32_ref(g, x, y);
        return;
    }
    const float inv = 1.0f / (float)(g->kh * g->kw);
    for (int64_t c = 0; c < g->c; c++)
        for (int64_t oy = 0; oy < g->ho; oy++) {
            float *restrict yr = y + (c * g->ho + oy) * g->wo;
            for (int64_t ky = 0; ky < g->kh; ky++) {
                const float *restrict xr = x + (c * g->h + oy * g->sh + ky) * g->w;
                if (g->kw == 2 && g->sw == 2) {
                    for (int64_t ox = 0; ox < g->wo; ox++) {
                        float a = xr[2 * ox], b = xr[2 * ox + 1];
                        float v = is_max ? max_nan(a, b) : a + b;
                        yr[ox] = ky == 0 ? v : (is_max ? max_nan(yr[ox], v) : yr[ox] + v);
                    }
                    continue;
                }
                for (int64_t kx = 0; kx < g->kw; kx++)
                    for (int64_t ox = 0; ox < g->wo; ox++) {
                        float v = xr[ox * g->sw + kx];
                        yr[ox] = ky == 0 && kx == 0 ? v : (is_max ? max_nan(yr[ox], v) : yr[ox] + v);
                    }
            }
            if (!is_max)
                for (int64_t ox = 0; ox < g->wo; ox++) yr[ox] *= inv;
        }
}
