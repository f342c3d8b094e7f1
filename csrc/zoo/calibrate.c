// calibrate.c - the first stage of the zoo's int8 pipeline (qzoo.h): runs the
// float32 model over a batch and records the min/max of every tensor and of
// the ranges inside a node that the quantizer needs (the attention's q, k, v,
// scores and context; a conv/dense output before its table activation).
#include "gaba/qzoo.h"
#include "executor.h"
#include "qgraph.h"

#include <math.h>
#include <stdlib.h>

// q, k, v, scores and ctx from the float attention's workspace (nn_kernels.h);
// the scores are recomputed from q and k, as the softmax overwrote them.
static void attention_ranges(int64_t l, int64_t dk, const float *ws, float *lo, float *hi) {
    const float *qkv = ws, *ctx = ws + l * 3 * dk + l * l;
    float scale = 1.0f / sqrtf((float)dk);
    for (int64_t p = 0; p < l; p++) {
        for (int i = 0; i < 3; i++) gaba_zoo_minmax(qkv + p * 3 * dk + i * dk, dk, &lo[i], &hi[i]);
        for (int64_t j = 0; j < l; j++) {
            float acc = 0.0f;
            for (int64_t k = 0; k < dk; k++) acc += qkv[p * 3 * dk + k] * qkv[j * 3 * dk + dk + k];
            acc *= scale;
            gaba_zoo_minmax(&acc, 1, &lo[3], &hi[3]);
        }
    }
    gaba_zoo_minmax(ctx, l * dk, &lo[4], &hi[4]);
}

typedef struct calib {
    gaba_zoo_model *m;
    float *tmin, *tmax;
} calib;

// Node n of one sample, recording its ranges (gaba_zoo_exec's step).
static gaba_status step(void *ctx, int n, void *const *ptr) {
    const calib *c = ctx;
    gaba_zoo_model *m = c->m;
    float *tmin = c->tmin, *tmax = c->tmax;
    gaba_zoo_node *nd = &m->nodes[n];
    const void *x[GABA_NN_MAX_INPUTS];
    for (int j = 0; j < nd->n_in; j++) x[j] = ptr[nd->in[j]];
    int64_t cnt = gaba_nn_numel(&m->tensors[nd->out].shape);
    gaba_nn_layer l = nd->layer;
    if (gaba_zoo_lut_split(&l)) l.act = GABA_NN_ACT_NONE; // record the range before the table
    gaba_status st = gaba_nn_eval(&l, nd->n_in, nd->in_shape, x, &nd->plan, nd->w, ptr[nd->out],
                                  nd->ws >= 0 ? ptr[nd->ws] : NULL, m->impl);
    float *lo = &tmin[m->n_tensors + GABA_ZOO_NODE_RANGES * n];
    float *hi = &tmax[m->n_tensors + GABA_ZOO_NODE_RANGES * n];
    if (st == GABA_OK && l.op == GABA_NN_ATTENTION)
        attention_ranges(nd->in_shape[0].d[1], l.p[0], ptr[nd->ws], lo, hi);
    if (st == GABA_OK && gaba_zoo_lut_split(&nd->layer)) {
        gaba_zoo_minmax(ptr[nd->out], cnt, lo, hi);
        gaba_nn_layer act = {.op = GABA_NN_ACT, .act = nd->layer.act};
        gaba_nn_plan pl;
        st = gaba_nn_prepare(&act, 1, &m->tensors[nd->out].shape, NULL, &pl);
        const void *y = ptr[nd->out];
        if (st == GABA_OK)
            st = gaba_nn_eval(&act, 1, &m->tensors[nd->out].shape, &y, &pl, NULL, ptr[nd->out],
                              NULL, m->impl);
    }
    if (st == GABA_OK && m->tensors[nd->out].dtype == GABA_NN_F32)
        gaba_zoo_minmax(ptr[nd->out], cnt, &tmin[nd->out], &tmax[nd->out]);
    return st;
}

gaba_status gaba_zoo_calibrate(gaba_zoo_model *m, int64_t batch, const void *const *inputs,
                               float *tmin, float *tmax) {
    if (!m || !m->def || !inputs || !tmin || !tmax || batch < 1) return GABA_ERR_ARG;
    gaba_status st = gaba_zoo_exec_lock(&m->busy);
    if (st != GABA_OK) return st;
    for (int i = 0; i < m->n_tensors + GABA_ZOO_NODE_RANGES * m->n_nodes; i++)
        tmin[i] = INFINITY, tmax[i] = -INFINITY;
    calib c = {m, tmin, tmax};
    gaba_zoo_exec e = GABA_ZOO_EXEC(m, step, NULL, &c);
    e.times = NULL; // calibration is never profiled
    // Sample by sample in slot 0; every sample's outputs go to one scratch block.
    int n_in = m->def->n_inputs, n_out = m->def->n_outputs;
    int64_t out_bytes = 0;
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].kind == 2) out_bytes += ALIGN64(m->tensors[i].bytes);
    unsigned char *outs = gaba_aligned_alloc((size_t)(out_bytes ? out_bytes : 64));
    void **in = malloc((size_t)(n_in + n_out) * sizeof(void *)), **out = in ? in + n_in : NULL;
    if (!outs || !in) st = GABA_ERR_NOMEM;
    int64_t off = 0;
    for (int i = 0; st == GABA_OK && i < m->n_tensors; i++)
        if (m->tensors[i].kind == 2) {
            out[m->tensors[i].io_index] = outs + off;
            off += ALIGN64(m->tensors[i].bytes);
        }
    for (int64_t s = 0; s < batch && st == GABA_OK; s++) {
        for (int i = 0; i < m->n_tensors; i++) {
            const gaba_zoo_tensor *t = &m->tensors[i];
            if (t->kind != 1) continue;
            in[t->io_index] = (char *)inputs[t->io_index] + s * t->bytes;
            if (t->dtype == GABA_NN_F32)
                gaba_zoo_minmax(in[t->io_index], gaba_nn_numel(&t->shape), &tmin[i], &tmax[i]);
        }
        st = gaba_zoo_exec_sample(&e, 0, 0, (const void *const *)in, out);
    }
    free(in);
    gaba_aligned_free(outs);
    gaba_zoo_exec_unlock(&m->busy);
    return st;
}
