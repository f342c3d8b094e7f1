// layer_norm_ref.c - the int8 LayerNorm oracle (docs/int8.md): per position,
// the integer sums of x - zp and of its square over the channels, then each
// output through layer_norm_impl.h's two steps. Positions [p0, p1) of x (C, S).
#include "layer_norm_impl.h"

void gaba_qnn_layer_norm_ref(int64_t c, int64_t s, int64_t p0, int64_t p1, const gaba_qnn_layer *q,
                             const int8_t *x, int8_t *y) {
    const int32_t zx = q->in_zp[0];
    for (int64_t p = p0; p < p1; p++) {
        int32_t sum = 0, sq = 0;
        for (int64_t k = 0; k < c; k++) {
            int32_t v = x[k * s + p] - zx;
            sum += v, sq += v * v;
        }
        float r = gaba_qnn_layer_norm_rsqrt(c, sum, sq, q->ln_eps);
        for (int64_t k = 0; k < c; k++) {
            int32_t d = (int32_t)c * (x[k * s + p] - zx) - sum;
            y[k * s + p] = gaba_qnn_layer_norm_out(d, r, q->ln_gb[k], q->ln_gb[c + k], q->out_zp);
        }
    }
}
