// eltwise.c - the float32 add/sub/mul with per-channel broadcast: a
// memory-bound loop the compiler vectorises, the fast path at every level;
// the ops' prepare, evals and backward (ops.c).
#include "ops.h"

// The fast binary op: one branch-free loop per (op, broadcast) case so the
// compiler vectorises it, then the vectorised activation pass.
void gaba_nn_binary_f32(int op, int64_t c, int64_t s, const float *a, const float *b,
                        int b_per_channel, float *y, gaba_nn_act act) {
    for (int64_t i = 0; i < c; i++) {
        const float *ar = a + i * s;
        float *yr = y + i * s;
        if (b_per_channel) {
            float bv = b[i];
            if (op == 0)
                for (int64_t j = 0; j < s; j++) yr[j] = ar[j] + bv;
            else if (op == 1)
                for (int64_t j = 0; j < s; j++) yr[j] = ar[j] - bv;
            else
                for (int64_t j = 0; j < s; j++) yr[j] = ar[j] * bv;
        } else {
            const float *br = b + i * s;
            if (op == 0)
                for (int64_t j = 0; j < s; j++) yr[j] = ar[j] + br[j];
            else if (op == 1)
                for (int64_t j = 0; j < s; j++) yr[j] = ar[j] - br[j];
            else
                for (int64_t j = 0; j < s; j++) yr[j] = ar[j] * br[j];
        }
    }
    gaba_nn_bias_act_f32(1, c * s, y, NULL, act);
}

static int same_shape(const gaba_nn_shape *a, const gaba_nn_shape *b) {
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->d[i] != b->d[i]) return 0;
    return 1;
}

// b broadcasts per channel over a: b is (C) or (C, 1, ...).
static int per_channel(const gaba_nn_shape *a, const gaba_nn_shape *b) {
    if (a->ndim < 1 || b->ndim < 1 || b->d[0] != a->d[0]) return 0;
    return gaba_nn_numel(b) == b->d[0];
}

gaba_status gaba_nn_binary_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *in,
                                   gaba_nn_plan *pl) {
    (void)l, (void)n_in;
    if (!same_shape(&in[0], &in[1]) && !per_channel(&in[0], &in[1])) return GABA_ERR_SHAPE;
    pl->out = in[0];
    return GABA_OK;
}

// add, sub, mul: the op's offset from add; b per channel when its size differs
#define BINARY_ARGS                                                                                \
    l->op - GABA_NN_ADD, in[0].d[0], gaba_nn_numel(&in[0]) / in[0].d[0], X, (const float *)x[1],   \
        gaba_nn_numel(&in[1]) != gaba_nn_numel(&in[0]), Y, l->act

gaba_status gaba_nn_binary_eval(EVAL_ARGS) {
    (void)n_in, (void)w, (void)ws;
    gaba_nn_binary_f32(BINARY_ARGS);
    return GABA_OK;
}

gaba_status gaba_nn_binary_eval_ref(EVAL_ARGS) {
    (void)n_in, (void)w, (void)ws;
    gaba_nn_binary_f32_ref(BINARY_ARGS);
    return GABA_OK;
}

// nb samples as nb * C channels of one (b per channel holds C values a sample)
gaba_status gaba_nn_binary_backward(BWD_ARGS) {
    (void)n_in, (void)w, (void)y, (void)dw, (void)ws;
    int64_t c = in[0].d[0], s = gaba_nn_numel(&in[0]) / c;
    gaba_nn_binary_backward_f32_ref(l->op - GABA_NN_ADD, nb * c, s, X, (const float *)x[1],
                                    gaba_nn_numel(&in[1]) != gaba_nn_numel(&in[0]), dy, dx[0],
                                    dx[1]);
    return GABA_OK;
}

// A product's gradient needs the other factor; a sum's and a difference's nothing.
int gaba_nn_binary_reads(const gaba_nn_layer *l) {
    return l->op == GABA_NN_MUL ? GABA_NN_READS_X : 0;
}
