// pool_avx512.c - pool_impl.h compiled with AVX-512 flags: the loops over
// outputs vectorise 16 lanes wide (stride-2 windows with permutes). Same
// results as the baseline build.
#include "pool_impl.h"

void gaba_nn_pool_f32_avx512(const gaba_nn_pool_geom *g, const float *x, float *y, int is_max) {
    gaba_nn_pool_body(g, x, y, is_max);
}
