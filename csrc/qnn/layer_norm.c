// layer_norm.c - the int8 LayerNorm (docs/int8.md) through the op table: its
// workspace (none) and bounds, and eval through the ISA table's kernel
// (layer_norm_avx2.c, layer_norm_avx512.c; the reference at the ref level).
#include "../nn/ops.h"
#include "layer_norm_impl.h"

void gaba_qnn_layer_norm_generic(int64_t c, int64_t s, const gaba_qnn_layer *q, const int8_t *x,
                                 int8_t *y) {
    gaba_qnn_layer_norm_ref(c, s, 0, s, q, x, y);
}

gaba_status gaba_qnn_layer_norm_prepare(const gaba_qnn_layer *q, const gaba_nn_shape *in,
                                        int64_t *ws_bytes) {
    (void)q, (void)ws_bytes;
    return in[0].d[0] > GABA_QNN_LAYER_NORM_MAX_C ? GABA_ERR_SHAPE : GABA_OK;
}

gaba_status gaba_qnn_layer_norm_eval(const gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in,
                                     const int8_t *const *x, int8_t *y, void *ws) {
    (void)n_in, (void)ws;
    if (!q->ln_gb) return GABA_ERR_ARG;
    int64_t c = in[0].d[0];
    gaba_nn_table.qlayer_norm(c, gaba_nn_numel(&in[0]) / c, q, x[0], y);
    return GABA_OK;
}

gaba_status gaba_qnn_layer_norm_eval_ref(const gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in,
                                         const int8_t *const *x, int8_t *y, void *ws) {
    (void)n_in, (void)ws;
    if (!q->ln_gb) return GABA_ERR_ARG;
    int64_t c = in[0].d[0], s = gaba_nn_numel(&in[0]) / c;
    gaba_qnn_layer_norm_ref(c, s, 0, s, q, x[0], y);
    return GABA_OK;
}
