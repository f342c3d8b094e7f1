// dense_ref.c - the int8 fully connected reference (qnn.h): plain loops from
// TFLite Micro's reference kernel, per-channel requantization through the
// library's MultiplyByQuantizedMultiplier. The oracle of dense.c.
#include "qnn_kernels.h"

void gaba_qnn_dense_ref(int64_t n, int64_t f, const gaba_qnn_layer *q, const int8_t *x, int8_t *y) {
    for (int64_t j = 0; j < n; j++) {
        int32_t acc = q->bias[j];
        for (int64_t k = 0; k < f; k++) acc += (x[k] - q->in_zp[0]) * q->w[j * f + k];
        y[j] = gaba_qnn_requant(acc, q->mult[j], q->shift[j], q->out_zp, q->act_min, q->act_max);
    }
}
