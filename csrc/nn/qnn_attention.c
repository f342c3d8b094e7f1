// qnn_attention.c - the fast int8 attention's entry point (the ISA table's
// kernel) and the baseline build of qnn_attention_impl.h.
#include "qnn_attention_impl.h"

void gaba_qnn_attn_generic(int64_t d, int64_t l, int64_t dk, const gaba_qnn_layer *q,
                           const int8_t *x, int8_t *y, void *ws) {
    gaba_qnn_attn_body(d, l, dk, q, x, y, ws);
}

void gaba_qnn_attn(int64_t d, int64_t l, int64_t dk, const gaba_qnn_layer *q, const int8_t *x,
                   int8_t *y, void *ws) {
    gaba_nn_table.qattn(d, l, dk, q, x, y, ws);
}
