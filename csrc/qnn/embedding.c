// embedding.c - the int8 embedding's eval (ops.c): the reference gather,
// which is also the fast path (memory-bound).
#include "../nn/ops.h"
#include "qnn_kernels.h"

gaba_status gaba_qnn_embedding_eval(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    return gaba_qnn_embedding_ref(gaba_nn_numel(&in[0]), q->layer.p[0], q->layer.p[1],
                                  (const int32_t *)x[0], q->w, y);
}
