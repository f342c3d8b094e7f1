// shape.c - the int8 data-movement evals (ops.c): the copies of reshape and
// flatten, the transpose.
#include "../nn/ops.h"
#include "qnn_kernels.h"

#include <string.h>

gaba_status gaba_qnn_copy_eval(QEVAL_ARGS) {
    (void)q, (void)n_in, (void)ws;
    memcpy(y, x[0], (size_t)gaba_nn_numel(&in[0]));
    return GABA_OK;
}

gaba_status gaba_qnn_transpose_eval(QEVAL_ARGS) {
    (void)q, (void)n_in, (void)ws;
    gaba_qnn_transpose_ref(in[0].d[0], in[0].d[1], x[0], y);
    return GABA_OK;
}
