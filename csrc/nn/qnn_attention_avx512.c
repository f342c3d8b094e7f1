// qnn_attention_avx512.c - qnn_attention_impl.h compiled with AVX-512 flags:
// the score and context rows vectorise 16 lanes wide. Same integers as the
// baseline build.
#include "qnn_attention_impl.h"

void gaba_qnn_attn_avx512(int64_t d, int64_t l, int64_t dk, const gaba_qnn_layer *q,
                          const int8_t *x, int8_t *y, void *ws) {
    gaba_qnn_attn_body(d, l, dk, q, x, y, ws);
}
