// pool_avx2.c - pool_impl.h compiled with AVX2 + FMA flags: the loops over
// outputs vectorise 8 lanes wide. Same results as the baseline build.
#include "pool_impl.h"

void gaba_nn_pool_f32_avx2(const gaba_nn_pool_geom *g, const float *x, float *y, int is_max) {
    gaba_nn_pool_body(g, x, y, is_max);
}
