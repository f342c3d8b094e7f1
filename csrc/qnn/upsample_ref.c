// upsample_ref.c - the int8 nearest upsample reference (qnn.h): each value
// repeated sh x sw times. The oracle of upsample_avx2.c, and the kernel
// where the CPU has no vector one.
#include "qnn_kernels.h"

#include <string.h>

void gaba_qnn_upsample_nearest_ref(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw,
                                   const int8_t *x, int8_t *y) {
    int64_t wo = w * sw;
    for (int64_t i = 0; i < c * h; i++) { // one input row -> sh output rows
        int8_t *row = y + i * sh * wo;
        for (int64_t ix = 0; ix < w; ix++) memset(row + ix * sw, x[i * w + ix], (size_t)sw);
        for (int64_t r = 1; r < sh; r++) memcpy(row + r * wo, row, (size_t)wo);
    }
}
