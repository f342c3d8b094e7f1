// upsample_impl.h - internal: the fast nearest / bilinear upsampling (same
// results as upsample_ref.c's reference), a static inline body that upsample.c
// (baseline) and upsample_avx512.c compile with their own ISA flags.
// Nearest expands each input row once and copies it sh times; bilinear
// interpolates input rows horizontally into a two-row cache (column indices
// and weights computed once per call) and blends the cached rows vertically
// with a vectorisable loop. Scale 2, the zoo's decoders, interpolates rows
// without the index arrays (the inner columns follow a fixed pattern), so
// the compiler vectorises it too, and small planes go through it as one
// line. Rows wider than UP_MAX_W fall back to the reference.
#ifndef GABA_NN_UPSAMPLE_IMPL_H
#define GABA_NN_UPSAMPLE_IMPL_H

#include "nn_kernels.h"

#include <string.h>

#define UP_MAX_W 2048
#define UP_FLAT 4096 // floats of one channel's row-interpolated plane, on the stack

static inline void up_src_index(int64_t o, int64_t n, int64_t s, int32_t *i0, int32_t *i1,
                                float *f) {
    float src = ((float)o + 0.5f) / (float)s - 0.5f;
    if (src < 0.0f) src = 0.0f;
    int64_t lo = (int64_t)src;
    if (lo > n - 1) lo = n - 1;
    *i0 = (int32_t)lo;
    *i1 = (int32_t)(lo + 1 < n ? lo + 1 : n - 1);
    *f = src - (float)lo;
}

// Output column ox of input row xr from the index arrays.
static inline float up_lerp(const float *xr, const int32_t *x0, const int32_t *x1, const float *fx,
                            int64_t ox) {
    return xr[x0[ox]] * (1.0f - fx[ox]) + xr[x1[ox]] * fx[ox];
}

// Scale 2 over n inputs in a line (a row, or a whole plane of rows): out[2i]
// blends x[i - 1], x[i] and out[2i + 1] x[i], x[i + 1], with the weights of
// columns 2 and 3 (the same for every inner column). Columns 0, 1, wo - 2 and
// wo - 1 of each row are the caller's (up_edges).
static inline void up_inner2(const float *restrict xr, int64_t n, const float *fx,
                             float *restrict out) {
    const float a0 = 1.0f - fx[2], a1 = fx[2], b0 = 1.0f - fx[3], b1 = fx[3];
    for (int64_t i = 1; i < n - 1; i++) {
        out[2 * i] = xr[i - 1] * a0 + xr[i] * a1;
        out[2 * i + 1] = xr[i] * b0 + xr[i + 1] * b1;
    }
}

static inline void up_edges(const float *xr, int64_t wo, const int32_t *x0, const int32_t *x1,
                            const float *fx, float *out) {
    out[0] = up_lerp(xr, x0, x1, fx, 0), out[1] = up_lerp(xr, x0, x1, fx, 1);
    out[wo - 2] = up_lerp(xr, x0, x1, fx, wo - 2);
    out[wo - 1] = up_lerp(xr, x0, x1, fx, wo - 1);
}

static inline void up_interp_row(const float *restrict xr, int64_t w, int64_t sw, int64_t wo,
                                 const int32_t *x0, const int32_t *x1, const float *fx,
                                 float *restrict out) {
    if (sw == 2 && w >= 3) {
        up_inner2(xr, w, fx, out);
        up_edges(xr, wo, x0, x1, fx, out);
        return;
    }
    for (int64_t ox = 0; ox < wo; ox++) out[ox] = up_lerp(xr, x0, x1, fx, ox);
}

// Scale 2 across with a small plane: all rows of a channel are interpolated
// in one line (no per-row loop overhead on the decoders' 8-32 wide maps),
// then blended vertically row by row.
static inline void up_bilinear2_planes(int64_t c, int64_t h, int64_t w, int64_t sh,
                                       const int32_t *x0, const int32_t *x1, const float *fx,
                                       const float *x, float *y) {
    const int64_t ho = h * sh, wo = 2 * w;
    int32_t y0[UP_MAX_W], y1[UP_MAX_W];
    float fy[UP_MAX_W], plane[UP_FLAT];
    for (int64_t oy = 0; oy < ho; oy++) up_src_index(oy, h, sh, &y0[oy], &y1[oy], &fy[oy]);
    for (int64_t ch = 0; ch < c; ch++) {
        const float *xc = x + ch * h * w;
        up_inner2(xc, h * w, fx, plane);
        for (int64_t r = 0; r < h; r++) up_edges(xc + r * w, wo, x0, x1, fx, plane + r * wo);
        for (int64_t oy = 0; oy < ho; oy++) {
            const float *ra = plane + y0[oy] * wo, *rb = plane + y1[oy] * wo;
            float *yr = y + (ch * ho + oy) * wo, f = fy[oy];
            for (int64_t ox = 0; ox < wo; ox++) yr[ox] = ra[ox] * (1.0f - f) + rb[ox] * f;
        }
    }
}

static inline void gaba_nn_upsample_body(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw,
                                         int mode, const float *x, float *y) {
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
                for (int64_t k = 1; k < sh; k++)
                    memcpy(yr + k * wo, yr, (size_t)wo * sizeof(float));
            }
        return;
    }
    int32_t x0[UP_MAX_W], x1[UP_MAX_W];
    float fx[UP_MAX_W], rows[2][UP_MAX_W];
    for (int64_t ox = 0; ox < wo; ox++) up_src_index(ox, w, sw, &x0[ox], &x1[ox], &fx[ox]);
    if (sw == 2 && w >= 3 && h * wo <= UP_FLAT && ho <= UP_MAX_W) {
        up_bilinear2_planes(c, h, w, sh, x0, x1, fx, x, y);
        return;
    }
    for (int64_t ch = 0; ch < c; ch++) {
        const float *xc = x + ch * h * w;
        float *ra = rows[0], *rb = rows[1]; // horizontally interpolated rows ca and cb
        int64_t ca = -1, cb = -1;
        for (int64_t oy = 0; oy < ho; oy++) {
            int32_t y0, y1;
            float fy;
            up_src_index(oy, h, sh, &y0, &y1, &fy);
            if (ca != y0) {
                if (cb == y0) { // moving down: the old second row is the new first
                    float *t = ra;
                    ra = rb, rb = t;
                    int64_t tc = ca;
                    ca = cb, cb = tc;
                } else {
                    up_interp_row(xc + (int64_t)y0 * w, w, sw, wo, x0, x1, fx, ra);
                    ca = y0;
                }
            }
            if (cb != y1) {
                up_interp_row(xc + (int64_t)y1 * w, w, sw, wo, x0, x1, fx, rb);
                cb = y1;
            }
            float *yr = y + (ch * ho + oy) * wo;
            for (int64_t ox = 0; ox < wo; ox++) yr[ox] = ra[ox] * (1.0f - fy) + rb[ox] * fy;
        }
    }
}

#endif
