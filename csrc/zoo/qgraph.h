// qgraph.h - internal: what the first two stages of the zoo's int8
// pipeline share, calibration (calibrate.c) and the quantizer (quantizer.c).
#ifndef GABA_ZOO_QGRAPH_H
#define GABA_ZOO_QGRAPH_H

#include "gaba/qzoo.h"

#define ALIGN64(v) (((v) + 63) / 64 * 64)

static inline int gaba_zoo_is_weighted(gaba_nn_op op) {
    return op == GABA_NN_CONV2D || op == GABA_NN_CONV1D || op == GABA_NN_DENSE;
}

// A conv/dense with a sigmoid, tanh or hard-swish: an int8 conv without the
// activation, then the activation as an int8 table (TFLite's LUT ops).
static inline int gaba_zoo_lut_split(const gaba_nn_layer *l) {
    return gaba_zoo_is_weighted(l->op) && gaba_qnn_is_lut_act(l->act);
}

// Widens [*lo, *hi] to hold x[0..n).
static inline void gaba_zoo_minmax(const float *x, int64_t n, float *lo, float *hi) {
    for (int64_t i = 0; i < n; i++) {
        if (x[i] < *lo) *lo = x[i];
        if (x[i] > *hi) *hi = x[i];
    }
}

#endif // GABA_ZOO_QGRAPH_H
