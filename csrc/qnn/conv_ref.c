// conv_ref.c - the int8 convolution reference (qnn.h), depthwise included:
// plain loops written from TFLite Micro's reference integer kernel with
// per-channel requantization through the library's
// MultiplyByQuantizedMultiplier. The oracle of conv.c and dwconv*.c. The
// other ops' int8 oracles are their own *_ref.c files; no float arithmetic
// in any of them.
#include "qnn_kernels.h"

#include <string.h>

// Padded taps read the input zero point, i.e. a real 0, so (x - zp) is 0 there.
void gaba_qnn_conv_ref(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q, const int8_t *x,
                       int8_t *y) {
    int64_t cig = g->c / g->groups, cog = g->co / g->groups;
    int32_t zx = q->in_zp[0];
    for (int64_t co = 0; co < g->co; co++) {
        int64_t c0 = co / cog * cig;
        for (int64_t oy = 0; oy < g->ho; oy++)
            for (int64_t ox = 0; ox < g->wo; ox++) {
                int32_t acc = q->bias[co];
                for (int64_t ci = 0; ci < cig; ci++)
                    for (int64_t ky = 0; ky < g->kh; ky++) {
                        int64_t iy = oy * g->sh - g->pt + ky * g->dh;
                        for (int64_t kx = 0; kx < g->kw; kx++) {
                            int64_t ix = ox * g->sw - g->pl + kx * g->dw;
                            int32_t xv = iy < 0 || iy >= g->h || ix < 0 || ix >= g->w
                                             ? zx
                                             : x[((c0 + ci) * g->h + iy) * g->w + ix];
                            acc += (xv - zx) * q->w[((co * cig + ci) * g->kh + ky) * g->kw + kx];
                        }
                    }
                y[(co * g->ho + oy) * g->wo + ox] = gaba_qnn_requant(
                    acc, q->mult[co], q->shift[co], q->out_zp, q->act_min, q->act_max);
            }
    }
}
