// transpose_ref.c - the float32 2-D transpose, and its accumulating form
// (the backward): memory-bound loops, also the fast path.
#include "nn_kernels.h"

void gaba_nn_transpose_f32_ref(int64_t a, int64_t b, const float *x, float *y) {
    for (int64_t i = 0; i < a; i++)
        for (int64_t j = 0; j < b; j++) y[j * a + i] = x[i * b + j];
}

void gaba_nn_transpose_add_f32_ref(int64_t a, int64_t b, const float *x, float *y) {
    for (int64_t i = 0; i < a; i++)
        for (int64_t j = 0; j < b; j++) y[j * a + i] += x[i * b + j];
}
