// qgraph.c - the third stage of the zoo's int8 pipeline (qzoo.h): the int8
// executor over the quantizer's arena plan, as TFLite's MicroInterpreter
// runs a converted model.
#define _POSIX_C_SOURCE 200809L // clock_gettime for the profiler
#include "gaba/qzoo.h"
#include "qgraph.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static gaba_status run_qsample(gaba_zoo_qmodel *q, int slot, int64_t s, const void *const *inputs,
                               void *const *outputs, int raw) {
    void **ptr = q->ptrs[slot];
    for (int i = 0; i < q->n_tensors; i++) {
        gaba_zoo_tensor *t = &q->tensors[i];
        if (t->kind == 1)
            ptr[i] = (char *)inputs[t->io_index] + s * t->bytes;
        else if (t->kind == 2)
            ptr[i] = raw ? NULL : (char *)outputs[t->io_index] + s * t->bytes;
        else
            ptr[i] = q->arenas[slot] + t->offset;
    }
    if (raw) {
        for (int i = 0; i < q->def->n_inputs; i++) {
            int t = q->raw_in[i];
            ptr[t] = (char *)inputs[i] + s * q->tensors[t].bytes;
        }
        for (int i = 0; i < q->def->n_outputs; i++) {
            int t = q->raw_out[i];
            ptr[t] = (char *)outputs[i] + s * q->tensors[t].bytes;
        }
    }
    double *times = q->node_seconds; // profiling: forward then runs on slot 0 only
    struct timespec t0, t1;
    for (int n = 0; n < q->n_nodes; n++) {
        gaba_zoo_qnode *nd = &q->nodes[n];
        if (times) times[n] = 0.0;
        if (raw && nd->skip_raw) continue;
        if (times) clock_gettime(CLOCK_MONOTONIC, &t0);
        const void *x[GABA_NN_MAX_INPUTS];
        for (int j = 0; j < nd->n_in; j++) x[j] = ptr[nd->in[j]];
        void *y = ptr[nd->out], *ws = nd->ws >= 0 ? ptr[nd->ws] : NULL;
        int64_t cnt = gaba_nn_numel(&nd->in_shape[0]);
        gaba_status st = GABA_OK;
        switch (nd->kind) {
        case GABA_ZOO_Q_INT8:
            st = gaba_qnn_eval(&nd->q, nd->n_in, nd->in_shape, (const int8_t *const *)x, y, ws,
                               q->impl);
            break;
        case GABA_ZOO_Q_FLOAT:
            // impl selects the int8 kernels only: float layers always run fast, so a
            // reference run differs from the fast one only where the int8 kernels do.
            st = gaba_nn_eval(&nd->layer, nd->n_in, nd->in_shape, x, &nd->plan, nd->w, y, ws,
                              GABA_NN_IMPL_FAST);
            break;
        case GABA_ZOO_Q_QUANTIZE: gaba_qnn_quantize_f32(cnt, x[0], nd->scale, nd->zp, y); break;
        case GABA_ZOO_Q_DEQUANTIZE: gaba_qnn_dequantize_f32(cnt, x[0], nd->scale, nd->zp, y); break;
        }
        if (st != GABA_OK) return st;
        if (times) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            times[n] = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        }
    }
    return GABA_OK;
}

typedef struct qforward_ctx {
    gaba_zoo_qmodel *q;
    int64_t batch;
    const void *const *inputs;
    void *const *outputs;
    int raw;
    volatile gaba_status status;
} qforward_ctx;

static void qforward_task(void *vctx, int64_t task, int64_t n_tasks) {
    qforward_ctx *c = vctx;
    int64_t lo = c->batch * task / n_tasks, hi = c->batch * (task + 1) / n_tasks;
    for (int64_t s = lo; s < hi; s++) {
        gaba_status st = run_qsample(c->q, (int)task, s, c->inputs, c->outputs, c->raw);
        if (st != GABA_OK) {
            c->status = st;
            return;
        }
    }
}

gaba_status gaba_zoo_qmodel_forward(gaba_zoo_qmodel *q, int64_t batch, const void *const *inputs,
                                    void *const *outputs, int raw, int max_threads) {
    if (!q || !q->def || batch < 0 || !inputs || !outputs) return GABA_ERR_ARG;
    if (__atomic_exchange_n(&q->busy, 1, __ATOMIC_ACQUIRE)) return GABA_ERR_BUSY;
    int threads = max_threads > 0 ? max_threads : gaba_threads_get();
    if (threads > q->n_arenas) threads = q->n_arenas;
    if (q->node_seconds) threads = 1;
    if (threads > batch) threads = (int)batch;
    gaba_status st = GABA_OK;
    if (threads <= 1) {
        for (int64_t s = 0; s < batch && st == GABA_OK; s++)
            st = run_qsample(q, 0, s, inputs, outputs, raw);
    } else {
        qforward_ctx ctx = {q, batch, inputs, outputs, raw, GABA_OK};
        st = gaba_parallel_for(threads, threads, qforward_task, &ctx);
        if (st == GABA_OK) st = ctx.status;
    }
    __atomic_store_n(&q->busy, 0, __ATOMIC_RELEASE);
    return st;
}

gaba_status gaba_zoo_qmodel_profile(gaba_zoo_qmodel *q, int on) {
    if (!q || !q->def) return GABA_ERR_ARG;
    if (__atomic_exchange_n(&q->busy, 1, __ATOMIC_ACQUIRE)) return GABA_ERR_BUSY;
    gaba_status st = GABA_OK;
    if (on && !q->node_seconds) {
        q->node_seconds = calloc((size_t)(q->n_nodes ? q->n_nodes : 1), sizeof(double));
        if (!q->node_seconds) st = GABA_ERR_NOMEM;
    } else if (!on) {
        free(q->node_seconds);
        q->node_seconds = NULL;
    }
    __atomic_store_n(&q->busy, 0, __ATOMIC_RELEASE);
    return st;
}
