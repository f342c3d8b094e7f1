// upsample_ref.c - nearest and bilinear upsampling (half-pixel centres,
// PyTorch's align_corners=False). The oracle of upsample.c and its ISA
// builds (upsample_impl.h); the backward, a memory-bound scatter (also the
// fast path).
#include "nn_kernels.h"

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

// Each output's gradient back to the input cells it was made of, with the forward's weights.
void gaba_nn_upsample_backward_f32_ref(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw,
                                       int mode, const float *dy, float *dx) {
    int64_t ho = h * sh, wo = w * sw;
    for (int64_t ch = 0; ch < c; ch++) {
        const float *gc = dy + ch * ho * wo;
        float *dc = dx + ch * h * w;
        if (mode == 0) {
            for (int64_t oy = 0; oy < ho; oy++)
                for (int64_t ox = 0; ox < wo; ox++) dc[(oy / sh) * w + ox / sw] += gc[oy * wo + ox];
            continue;
        }
        for (int64_t oy = 0; oy < ho; oy++) {
            int64_t y0, y1;
            float fy;
            bilinear_src(oy, h, sh, &y0, &y1, &fy);
            for (int64_t ox = 0; ox < wo; ox++) {
                int64_t x0, x1;
                float fx, g = gc[oy * wo + ox];
                bilinear_src(ox, w, sw, &x0, &x1, &fx);
                float top = g * (1.0f - fy), bot = g * fy;
                dc[y0 * w + x0] += top * (1.0f - fx);
                dc[y0 * w + x1] += top * fx;
                dc[y1 * w + x0] += bot * (1.0f - fx);
                dc[y1 * w + x1] += bot * fx;
            }
        }
    }
}
