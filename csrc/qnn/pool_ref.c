// pool_ref.c - the int8 pooling reference (qnn.h): max and rounded-average
// pooling with padding (TFLite Micro's), global pooling. The oracle of
// pool.c, and what it runs for padded windows.
#include "qnn_kernels.h"

// Padded cells are skipped (max) and not counted (average), as the float ops.
static void pool(const gaba_nn_pool_geom *g, const int8_t *x, int8_t *y, int is_max) {
    for (int64_t c = 0; c < g->c; c++)
        for (int64_t oy = 0; oy < g->ho; oy++)
            for (int64_t ox = 0; ox < g->wo; ox++) {
                int32_t m = -128, s = 0, count = 0;
                for (int64_t ky = 0; ky < g->kh; ky++) {
                    int64_t iy = oy * g->sh - g->pt + ky;
                    if (iy < 0 || iy >= g->h) continue;
                    for (int64_t kx = 0; kx < g->kw; kx++) {
                        int64_t ix = ox * g->sw - g->pl + kx;
                        if (ix < 0 || ix >= g->w) continue;
                        int32_t v = x[(c * g->h + iy) * g->w + ix];
                        m = v > m ? v : m;
                        s += v;
                        count++;
                    }
                }
                int8_t avg = count ? gaba_qnn_round_mean(s, count) : 0;
                y[(c * g->ho + oy) * g->wo + ox] = is_max ? (int8_t)m : avg;
            }
}

void gaba_qnn_maxpool_ref(const gaba_nn_pool_geom *g, const int8_t *x, int8_t *y) {
    pool(g, x, y, 1);
}

void gaba_qnn_avgpool_ref(const gaba_nn_pool_geom *g, const int8_t *x, int8_t *y) {
    pool(g, x, y, 0);
}

void gaba_qnn_global_pool_ref(int64_t c, int64_t s, const int8_t *x, int8_t *y, int is_max) {
    for (int64_t i = 0; i < c; i++) {
        int32_t m = -128;
        int64_t sum = 0;
        for (int64_t j = 0; j < s; j++) {
            int32_t v = x[i * s + j];
            m = v > m ? v : m;
            sum += v;
        }
        y[i] = is_max ? (int8_t)m : gaba_qnn_round_mean(sum, s);
    }
}
