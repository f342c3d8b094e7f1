// upsample.c - the fast upsampling entry point (the ISA table's kernel) and
// its baseline build of upsample_impl.h.
#include "upsample_impl.h"

void gaba_nn_upsample_f32_generic(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw, int mode,
                                  const float *x, float *y) {
    gaba_nn_upsample_body(c, h, w, sh, sw, mode, x, y);
}

void gaba_nn_upsample_f32(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw, int mode,
                          const float *x, float *y) {
    gaba_nn_table.upsample(c, h, w, sh, sw, mode, x, y);
}
