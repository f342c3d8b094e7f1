// upsample_bilinear_ref.c - the int8 bilinear upsample, reference kernel:
// the float op's half-pixel taps (nn/upsample_ref.c, PyTorch align_corners=False,
// taps clamped to the border) with exact integer weights. With integer
// factors an axis' weights are multiples of 1 / (2s), so the output is the
// integer sum of wy wx (q - zp) over 4 sh sw, rounded half away from zero:
// the rounding of the real value, as quantizing the float op's output would
// do. The output keeps the input's scale and zero point (TFLite's
// RESIZE_BILINEAR); the weights sum to 1, so the zero point passes through.
#include "qnn_kernels.h"

// Taps i0, i1 of output o along an axis of n scaled by s, and i1's weight in
// units of 1 / (2s) (i0 has the rest): 2s (src - floor(src)) for the float
// op's src = (o + 1/2) / s - 1/2.
static void taps(int64_t o, int64_t n, int64_t s, int64_t *i0, int64_t *i1, int64_t *w1) {
    int64_t i = o / s, num = 2 * (o % s) + 1 - s; // 2s (src - i), in (-s, s)
    *i0 = num < 0 ? i - 1 : i;
    *w1 = num < 0 ? 2 * s + num : num;
    *i1 = *i0 + 1 < n ? *i0 + 1 : n - 1;
    if (*i0 < 0) *i0 = 0; // src < 0: the float op clamps it to 0, i.e. both taps are x[0]
}

void gaba_qnn_upsample_bilinear_ref(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw,
                                    int32_t zp, const int8_t *x, int8_t *y) {
    int64_t ho = h * sh, wo = w * sw, d = 4 * sh * sw;
    for (int64_t ch = 0; ch < c; ch++) {
        const int8_t *xc = x + ch * h * w;
        for (int64_t oy = 0; oy < ho; oy++)
            for (int64_t ox = 0; ox < wo; ox++) {
                int64_t y0, y1, wy, x0, x1, wx;
                taps(oy, h, sh, &y0, &y1, &wy);
                taps(ox, w, sw, &x0, &x1, &wx);
                int64_t top = (2 * sw - wx) * (xc[y0 * w + x0] - zp) + wx * (xc[y0 * w + x1] - zp);
                int64_t bot = (2 * sw - wx) * (xc[y1 * w + x0] - zp) + wx * (xc[y1 * w + x1] - zp);
                int64_t v = (2 * sh - wy) * top + wy * bot;
                int64_t r = v >= 0 ? (v + d / 2) / d : (v - d / 2) / d; // half away from zero
                y[(ch * ho + oy) * wo + ox] = (int8_t)(zp + r);
            }
    }
}
