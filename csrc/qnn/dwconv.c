// dwconv.c - the int8 depthwise conv's plain kernel: the padded loop of
// qnn_impl.h with the plain output stage (the AVX2 and VNNI kernels read the
// input in place). conv.c routes depthwise layers here.
#include "qnn_impl.h"

void gaba_qnn_dwconv_generic(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q, const int8_t *x,
                             int8_t *y, void *ws) {
    gaba_qnn_dwconv_body(g, q, x, y, ws, gaba_qnn_requant_row_generic);
}
