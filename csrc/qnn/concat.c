// concat.c - the int8 concatenation (qnn.h): inputs with the output's scale
// and zero point are copied, the others go through a 256-entry rescale table
// built from the reference; its multipliers and evals (ops.c).
#include "../nn/ops.h"
#include "qnn_kernels.h"

#include <string.h>

int gaba_qnn_concat_rescales(const gaba_qnn_layer *q, int n_in) {
    for (int i = 0; i < n_in; i++)
        if (!gaba_qnn_concat_copies(q, i)) return 1;
    return 0;
}

// Each input's 256 codes through the reference concat, as a one-input concat.
void gaba_qnn_build_concat_luts(const gaba_qnn_layer *q, int n_in, int8_t *luts) {
    int8_t codes[256];
    for (int v = 0; v < 256; v++) codes[v] = (int8_t)(v - 128);
    const int8_t *x[1] = {codes};
    const int64_t count = 256;
    for (int i = 0; i < n_in; i++) {
        gaba_qnn_layer one = *q;
        one.in_scale[0] = q->in_scale[i], one.in_zp[0] = q->in_zp[i];
        one.q_mult[0] = q->q_mult[i], one.q_shift[0] = q->q_shift[i];
        gaba_qnn_concat_ref(1, &count, &one, x, luts + 256 * i);
    }
}

gaba_status gaba_qnn_concat_eval_ref(QEVAL_ARGS) {
    (void)ws;
    int64_t counts[GABA_NN_MAX_INPUTS];
    for (int i = 0; i < n_in; i++) counts[i] = gaba_nn_numel(&in[i]);
    gaba_qnn_concat_ref(n_in, counts, q, x, y);
    return GABA_OK;
}

// inputs whose parameters differ from the output's go through their rescale table
gaba_status gaba_qnn_concat_eval(QEVAL_ARGS) {
    if (!q->lut) return gaba_qnn_concat_eval_ref(q, n_in, in, x, y, ws);
    for (int i = 0; i < n_in; i++) {
        int64_t count = gaba_nn_numel(&in[i]);
        if (gaba_qnn_concat_copies(q, i))
            memcpy(y, x[i], (size_t)count);
        else
            gaba_nn_table.qlut(count, x[i], q->lut + 256 * i, y);
        y += count;
    }
    return GABA_OK;
}

// inputs shifted left by 20 bits, as add's: one fine rounding
gaba_status gaba_qnn_concat_rescale(gaba_qnn_layer *q, int n_in) {
    gaba_status st = GABA_OK;
    for (int i = 0; i < n_in && st == GABA_OK; i++)
        st = gaba_gemm_quantize_multiplier((double)q->in_scale[i] /
                                               ((double)(1 << 20) * q->out_scale),
                                           &q->q_mult[i], &q->q_shift[i]);
    return st;
}
