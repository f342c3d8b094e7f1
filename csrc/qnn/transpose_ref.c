// transpose_ref.c - the int8 2-D transpose (qnn.h), which is also the fast
// path (a memory-bound loop).
#include "qnn_kernels.h"

void gaba_qnn_transpose_ref(int64_t a, int64_t b, const int8_t *x, int8_t *y) {
    for (int64_t i = 0; i < a; i++)
        for (int64_t j = 0; j < b; j++) y[j * a + i] = x[i * b + j];
}
