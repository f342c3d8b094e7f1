// nn_ops.c - gaba_nn_prepare and gaba_nn_eval (nn.h), which reach each
// float32 op's functions through the op table (ops.c), and the helpers
// those share. An op's prepare (in its own file: conv.c, pool.c, ...)
// checks a layer's parameters against its input shapes and says what eval
// needs (output shape, weights, workspace, MACs); eval maps the parameters
// onto the kernel geometry and calls the fast kernel, eval_ref the
// reference one. Mirrors TFLite Micro's Prepare/Eval split; nothing here
// allocates.
#include "ops.h"

#include <string.h>

int64_t gaba_nn_numel(const gaba_nn_shape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++) n *= s->d[i];
    return n;
}

gaba_nn_shape gaba_nn_shp(int ndim, int32_t d0, int32_t d1, int32_t d2) {
    gaba_nn_shape s = {ndim, {d0, d1, d2, 0}};
    return s;
}

void gaba_nn_add_weight(gaba_nn_plan *pl, const char *name, gaba_nn_shape s, int32_t fan_in) {
    int i = pl->n_weights++;
    pl->weight_names[i] = name;
    pl->weight_shapes[i] = s;
    pl->fan_in[i] = fan_in;
}

// Spatial dims of a 2-D op input: (C, H, W) or (C, L) as H = 1.
int gaba_nn_spatial(const gaba_nn_shape *s, int64_t *c, int64_t *h, int64_t *w) {
    if (s->ndim == 3) {
        *c = s->d[0], *h = s->d[1], *w = s->d[2];
        return 1;
    }
    if (s->ndim == 2) {
        *c = s->d[0], *h = 1, *w = s->d[1];
        return 1;
    }
    return 0;
}

gaba_status gaba_nn_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *in,
                            const gaba_nn_dtype *in_dtype, gaba_nn_plan *pl) {
    memset(pl, 0, sizeof *pl);
    if (!l || !in || n_in < 1 || n_in > GABA_NN_MAX_INPUTS) return GABA_ERR_ARG;
    if ((unsigned)l->act >= GABA_NN_ACT_COUNT) return GABA_ERR_ARG;
    for (int i = 0; i < n_in; i++) {
        if (in[i].ndim < 1 || in[i].ndim > GABA_NN_MAX_DIMS) return GABA_ERR_SHAPE;
        for (int j = 0; j < in[i].ndim; j++)
            if (in[i].d[j] <= 0) return GABA_ERR_SHAPE;
    }
    if ((unsigned)l->op >= GABA_NN_OP_COUNT) return GABA_ERR_ARG;
    const gaba_nn_op_def *op = &gaba_nn_ops[l->op];
    for (int i = 0; i < n_in; i++)
        if ((in_dtype ? in_dtype[i] : GABA_NN_F32) != op->in_dtype) return GABA_ERR_ARG;
    if (op->n_in ? n_in != op->n_in : n_in < 2) return GABA_ERR_ARG;
    pl->out_dtype = GABA_NN_F32;
    return op->prepare(l, n_in, in, pl);
}

gaba_status gaba_nn_eval(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *in,
                         const void *const *x, const gaba_nn_plan *pl, const float *const *w,
                         void *y, float *ws, gaba_nn_impl impl) {
    (void)pl;
    if ((unsigned)l->op >= GABA_NN_OP_COUNT) return GABA_ERR_ARG;
    const gaba_nn_op_def *op = &gaba_nn_ops[l->op];
    return (impl == GABA_NN_IMPL_REF ? op->eval_ref : op->eval)(l, n_in, in, x, w, y, ws);
}

gaba_status gaba_nn_backward(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *in, int64_t nb,
                             const void *const *x, const gaba_nn_plan *pl, const float *const *w,
                             const float *y, const float *dy, float *const *dx, float *const *dw,
                             float *ws, gaba_nn_impl impl) {
    (void)pl;
    if ((unsigned)l->op >= GABA_NN_OP_COUNT || nb < 0) return GABA_ERR_ARG;
    const gaba_nn_op_def *op = &gaba_nn_ops[l->op];
    gaba_nn_backward_fn *fn = impl == GABA_NN_IMPL_REF ? op->backward_ref : op->backward;
    if (!fn || (l->act != GABA_NN_ACT_NONE && l->op != GABA_NN_ACT)) return GABA_ERR_NO_IMPL;
    return fn(l, n_in, in, nb, x, w, y, dy, dx, dw, ws);
}

int gaba_nn_has_backward(gaba_nn_op op) {
    return (unsigned)op < GABA_NN_OP_COUNT && gaba_nn_ops[op].backward != NULL;
}

int gaba_nn_reads_x(const gaba_nn_layer *l) { return (void)l, GABA_NN_READS_X; }
int gaba_nn_reads_y(const gaba_nn_layer *l) { return (void)l, GABA_NN_READS_Y; }
int gaba_nn_reads_nothing(const gaba_nn_layer *l) { return (void)l, 0; }

int gaba_nn_backward_reads(const gaba_nn_layer *l) {
    if ((unsigned)l->op >= GABA_NN_OP_COUNT) return GABA_NN_READS_X | GABA_NN_READS_Y;
    gaba_nn_reads_fn *fn = gaba_nn_ops[l->op].bwd_reads;
    return fn ? fn(l) : GABA_NN_READS_X | GABA_NN_READS_Y;
}
