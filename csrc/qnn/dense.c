// dense.c - the int8 fully connected layer (qnn.h): its prepare and evals
// (ops.c) and its plain kernel, the conv product (conv.c) on one column.
#include "../nn/ops.h"
#include "qnn_impl.h"

// Dense through the conv product with one column (the table's plain and AVX2 levels).
void gaba_qnn_gemv_generic(int64_t n, int64_t f, const gaba_qnn_layer *q, const int8_t *x,
                           int8_t *y, void *ws) {
    gaba_qnn_pack_u8_generic(f, 1, x, 1, ws);
    gaba_nn_table.qgemm(q, 0, n, f, 1, ws, 16, y, 1);
}

gaba_status gaba_qnn_dense(int64_t n, int64_t f, const gaba_qnn_layer *q, const int8_t *x,
                           int8_t *y, void *ws) {
    gaba_nn_table.qgemv(n, f, q, x, y, ws);
    return GABA_OK;
}

gaba_status gaba_qnn_dense_prepare(const gaba_qnn_layer *q, const gaba_nn_shape *in,
                                   int64_t *ws_bytes) {
    (void)q;
    *ws_bytes = gaba_qnn_packed_bytes(gaba_nn_numel(&in[0]), 1);
    return GABA_OK;
}

gaba_status gaba_qnn_dense_eval(QEVAL_ARGS) {
    (void)n_in;
    return gaba_qnn_dense(q->layer.p[0], gaba_nn_numel(&in[0]), q, x[0], y, ws);
}

gaba_status gaba_qnn_dense_eval_ref(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    gaba_qnn_dense_ref(q->layer.p[0], gaba_nn_numel(&in[0]), q, x[0], y);
    return GABA_OK;
}
