// upsample.c - the fast nearest / bilinear upsampling (same results as
// pool_ref.c's reference): nearest expands each input row once and copies it
// sh times; bilinear interpolates input rows horizontally into a two-row
// cache (column indices and weights computed once per call) and blends the
// cached rows vertically with a vectorisable loop. Rows wider than
// UP_MAX_W fall back to the reference.
#include "nn_kernels.h"

#include <string.h>

#define UP_MAX_W 2048

static void src_index(int64_t o, int64_t n, int64_t s, int32_t *i0, int32_t *i1, float *f) {
    float src = ((float)o + 0.5f) / (float)s - 0.5f;
    if (src < 0.0f) src = 0.0f;
    int64_t lo = (int64_t)src;
    if (lo > n - 1) lo = n - 1;
    *i0 = (int32_t)lo;
    *i1 = (int32_t)(lo + 1 < n ? lo + 1 : n - 1);
    *f = src - (float)lo;
}

static void interp_row(const float *xr, int64_t wo, const int32_t *x0, const int32_t *x1,
                       const float *fx, float *out) {
    for (int64_t ox = 0; ox < wo; ox++) out[ox] = xr[x0[ox]] * (1.0f - fx[ox]) + xr[x1[ox]] * fx[ox];
}

void gaba_nn_upsample_f32(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw, int mode,
                          const float *x, float *y) {
    int64_t ho = h * sh, wo = w * sw;
    if (wo > UP_MAX_W) {
        gaba_nn_upsample_f32_ref(c, h, w, sh, sw, mode, x, y);
        return;
    }
    if (mode == 0) {
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t iy = 0; iy < h; iy++) {
                const float *xr = x + (ch * h + iy) * w;
                float *yr = y + (ch * ho + iy * sh) * wo;
                for (int64_t ix = 0; ix < w; ix++)
                    for (int64_t k = 0; k < sw; k++) yr[ix * sw + k] = xr[ix];
                for (int64_t k = 1; k < sh; k++) memcpy(yr + k * wo, yr, (size_t)wo * sizeof(float));
            }
        return;
    }
    int32_t x0[UP_MAX_W], x1[UP_MAX_W];
    float fx[UP_MAX_W], rows[2][UP_MAX_W];
    for (int64_t ox = 0; ox < wo; ox++) src_index(ox, w, sw, &x0[ox], &x1[ox], &fx[ox]);
    for (int64_t ch = 0; ch < c; ch++) {
        const float *xc = x + ch * h * w;
        float *ra = rows[0], *rb = rows[1]; // horizontally interpolated rows ca and cb
        int64_t ca = -1, cb = -1;
        for (int64_t oy = 0; oy < ho; oy++) {
            int32_t y0, y1;
            float fy;
            src_index(oy, h, sh, &y0, &y1, &fy);
            if (ca != y0) {
                if (cb == y0) { // moving down: the old second row is the new first
                    float *t = ra;
                    ra = rb, rb = t;
                    int64_t tc = ca;
                    ca = cb, cb = tc;
                } else {
                    interp_row(xc + (int64_t)y0 * w, wo, x0, x1, fx, ra);
                    ca = y0;
                }
            }
            if (cb != y1) {
                interp_row(xc + (int64_t)y1 * w, wo, x0, x1, fx, rb);
                cb = y1;
            }
            float *yr = y + (ch * ho + oy) * wo;
            for (int64_t ox = 0; ox < wo; ox++) yr[ox] = ra[ox] * (1.0f - fy) + rb[ox] * fy;
        }
    }
}
