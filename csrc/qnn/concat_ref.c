// concat_ref.c - the int8 concatenation reference (qnn.h): each input
// rescaled as add's (shifted left by 20 bits). The oracle of concat.c, which
// also builds its rescale tables from it.
#include "qnn_kernels.h"

#include <string.h>

void gaba_qnn_concat_ref(int n_in, const int64_t *numel, const gaba_qnn_layer *q,
                         const int8_t *const *x, int8_t *y) {
    for (int i = 0; i < n_in; i++) {
        if (gaba_qnn_concat_copies(q, i)) {
            memcpy(y, x[i], (size_t)numel[i]);
        } else { // rescaled: (x - zp_i) << 20 through the row output stage, in chunks
            int32_t buf[256];
            for (int64_t j = 0; j < numel[i]; j += 256) {
                int64_t m = numel[i] - j < 256 ? numel[i] - j : 256;
                for (int64_t k = 0; k < m; k++) buf[k] = x[i][j + k] * (1 << 20);
                gaba_nn_table.qrequant_row(m, buf, -q->in_zp[i] * (1 << 20), q->q_mult[i],
                                           q->q_shift[i], q->out_zp, -128, 127, y + j);
            }
        }
        y += numel[i];
    }
}
