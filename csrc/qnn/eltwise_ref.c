// eltwise_ref.c - the int8 add/sub/mul reference (qnn.h): TFLite's add with
// the 20-bit left shift, mul, with the inlined MultiplyByQuantizedMultiplier.
// The oracle of eltwise.c.
#include "qnn_kernels.h"

void gaba_qnn_binary_ref(int op, int64_t c, int64_t s, const gaba_qnn_layer *q, const int8_t *a,
                         const int8_t *b, int b_per_channel, int8_t *y) {
    for (int64_t i = 0; i < c; i++)
        for (int64_t j = 0; j < s; j++) {
            int32_t va = a[i * s + j] - q->in_zp[0];
            int32_t vb = b[b_per_channel ? i : i * s + j] - q->in_zp[1];
            int32_t r;
            if (op != 2 && q->q_shift[0] == GABA_QNN_SHIFT_FP32) {
                y[i * s + j] =
                    gaba_qnn_fp32_addsub(op, (float)va * gaba_qnn_bits_float(q->q_mult[0]),
                                         (float)vb * gaba_qnn_bits_float(q->q_mult[1]), q->out_zp,
                                         q->act_min, q->act_max);
                continue;
            }
            if (op == 2) {
                r = gaba_qnn_mbqm(va * vb, q->q_mult[0], q->q_shift[0]);
            } else {
                int32_t sa = gaba_qnn_mbqm(va * (1 << 20), q->q_mult[0], q->q_shift[0]);
                int32_t sb = gaba_qnn_mbqm(vb * (1 << 20), q->q_mult[1], q->q_shift[1]);
                r = gaba_qnn_mbqm(op == 0 ? sa + sb : sa - sb, q->q_mult[2], q->q_shift[2]);
            }
            y[i * s + j] = gaba_qnn_clamp((int64_t)r + q->out_zp, q->act_min, q->act_max);
        }
}
