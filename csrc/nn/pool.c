// pool.c - the fast pooling entry point (the ISA table's kernel) and its
// baseline build of pool_impl.h.
#include "pool_impl.h"

void gaba_nn_pool_f32_generic(const gaba_nn_pool_geom *g, const float *x, float *y, int is_max) {
    gaba_nn_pool_body(g, x, y, is_max);
}

void gaba_nn_pool_f32(const gaba_nn_pool_geom *g, const float *x, float *y, int is_max) {
    gaba_nn_table.pool(g, x, y, is_max);
}
