// dwconv.c - the float32 depthwise conv's plain kernel: dwconv_impl.h's
// loop built without ISA flags, then the bias and activation pass (the ISA
// table's dwconv at the ref level; conv.c routes depthwise layers to it).
#include "dwconv_impl.h"

void gaba_nn_dwconv_f32_generic(const gaba_nn_conv_geom *g, const float *x, const float *w,
                                const float *b, float *y, gaba_nn_act act) {
    gaba_nn_dwconv_body(g, x, w, b, y);
    gaba_nn_bias_act_f32(1, g->co * g->ho * g->wo, y, NULL, act);
}
