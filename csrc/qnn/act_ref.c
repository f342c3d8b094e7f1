// act_ref.c - the int8 activation references (qnn.h): the clamp of
// ReLU/ReLU6 and the 256-entry table lookup. The oracles of act.c (the clamp
// is also what it runs, a memory-bound loop).
#include "qnn_kernels.h"

void gaba_qnn_clamp_ref(int64_t n, const int8_t *x, int32_t lo, int32_t hi, int8_t *y) {
    for (int64_t i = 0; i < n; i++) y[i] = gaba_qnn_clamp(x[i], lo, hi);
}

void gaba_qnn_lut_ref(int64_t n, const int8_t *x, const int8_t *lut, int8_t *y) {
    for (int64_t i = 0; i < n; i++) y[i] = lut[x[i] + 128];
}
