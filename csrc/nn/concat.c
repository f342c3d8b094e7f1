// concat.c - the float32 concatenation along the first axis (ops.c): the
// output shape, then one copy per input; the backward adds each input's
// slice of the output's gradient.
#include "ops.h"

#include <string.h>

gaba_status gaba_nn_concat_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *in,
                                   gaba_nn_plan *pl) {
    (void)l;
    const gaba_nn_shape *x = &in[0];
    pl->out = *x;
    for (int i = 1; i < n_in; i++) {
        if (in[i].ndim != x->ndim) return GABA_ERR_SHAPE;
        for (int j = 1; j < x->ndim; j++)
            if (in[i].d[j] != x->d[j]) return GABA_ERR_SHAPE;
        pl->out.d[0] += in[i].d[0];
    }
    return GABA_OK;
}

gaba_status gaba_nn_concat_eval(EVAL_ARGS) {
    (void)l, (void)w, (void)ws;
    size_t off = 0;
    for (int i = 0; i < n_in; i++) {
        size_t bytes = (size_t)gaba_nn_numel(&in[i]) * sizeof(float);
        memcpy((char *)y + off, x[i], bytes);
        off += bytes;
    }
    return GABA_OK;
}

gaba_status gaba_nn_concat_backward(BWD_ARGS) {
    (void)l, (void)x, (void)w, (void)y, (void)dw, (void)ws;
    const float *g = dy; // sample s's slice of input i, then of input i + 1, ...
    for (int64_t s = 0; s < nb; s++)
        for (int i = 0; i < n_in; i++) {
            int64_t n = gaba_nn_numel(&in[i]);
            if (dx[i])
                for (int64_t k = 0; k < n; k++) dx[i][s * n + k] += g[k];
            g += n;
        }
    return GABA_OK;
}
