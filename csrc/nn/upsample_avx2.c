// upsample_avx2.c - upsample_impl.h compiled with AVX2 + FMA flags: the row
// interpolation and the vertical blend vectorise 8 lanes wide. Same
// arithmetic as the baseline build.
#include "upsample_impl.h"

void gaba_nn_upsample_f32_avx2(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw, int mode,
                               const float *x, float *y) {
    gaba_nn_upsample_body(c, h, w, sh, sw, mode, x, y);
}
