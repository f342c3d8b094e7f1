// qgraph.c - the third stage of the zoo's int8 pipeline (qzoo.h): the int8
// executor's step over the quantizer's arena plan, in the executor skeleton
// (executor.c), as TFLite's MicroInterpreter runs a converted model.
#include "gaba/qzoo.h"
#include "executor.h"

// What one forward call's step and bind read.
typedef struct qrun {
    gaba_zoo_qmodel *q;
    const void *const *inputs;
    void *const *outputs;
    int raw;
} qrun;

// raw: the caller's int8 buffers bind the tensors raw_in / raw_out.
static void bind_raw(void *ctx, void **ptr, int64_t s) {
    const qrun *r = ctx;
    const gaba_zoo_qmodel *q = r->q;
    for (int i = 0; i < q->def->n_inputs; i++) {
        int t = q->raw_in[i];
        ptr[t] = (char *)r->inputs[i] + s * q->tensors[t].bytes;
    }
    for (int i = 0; i < q->def->n_outputs; i++) {
        int t = q->raw_out[i];
        ptr[t] = (char *)r->outputs[i] + s * q->tensors[t].bytes;
    }
}

// Node n of one sample (gaba_zoo_exec's step).
static gaba_status step(void *ctx, int n, void *const *ptr) {
    const qrun *r = ctx;
    gaba_zoo_qmodel *q = r->q;
    gaba_zoo_qnode *nd = &q->nodes[n];
    if (r->raw && nd->skip_raw) return GABA_ZOO_EXEC_SKIPPED;
    const void *x[GABA_NN_MAX_INPUTS];
    for (int j = 0; j < nd->n_in; j++) x[j] = ptr[nd->in[j]];
    void *y = ptr[nd->out], *ws = nd->ws >= 0 ? ptr[nd->ws] : NULL;
    int64_t cnt = gaba_nn_numel(&nd->in_shape[0]);
    switch (nd->kind) {
    case GABA_ZOO_Q_INT8:
        return gaba_qnn_eval(&nd->q, nd->n_in, nd->in_shape, (const int8_t *const *)x, y, ws,
                             q->impl);
    case GABA_ZOO_Q_FLOAT:
        // impl selects the int8 kernels only: float layers always run fast, so a
        // reference run differs from the fast one only where the int8 kernels do.
        return gaba_nn_eval(&nd->layer, nd->n_in, nd->in_shape, x, &nd->plan, nd->w, y, ws,
                            GABA_NN_IMPL_FAST);
    case GABA_ZOO_Q_QUANTIZE: gaba_qnn_quantize_f32(cnt, x[0], nd->scale, nd->zp, y); break;
    case GABA_ZOO_Q_DEQUANTIZE: gaba_qnn_dequantize_f32(cnt, x[0], nd->scale, nd->zp, y); break;
    }
    return GABA_OK;
}

static gaba_zoo_exec executor(gaba_zoo_qmodel *q, qrun *r) {
    return GABA_ZOO_EXEC(q, step, r && r->raw ? bind_raw : NULL, r);
}

gaba_status gaba_zoo_qmodel_forward(gaba_zoo_qmodel *q, int64_t batch, const void *const *inputs,
                                    void *const *outputs, int raw, int max_threads) {
    if (!q || !q->def || batch < 0 || !inputs || !outputs) return GABA_ERR_ARG;
    qrun r = {q, inputs, outputs, raw};
    gaba_zoo_exec e = executor(q, &r);
    return gaba_zoo_exec_forward(&e, batch, inputs, raw ? NULL : outputs, max_threads);
}

gaba_status gaba_zoo_qmodel_profile(gaba_zoo_qmodel *q, int on) {
    if (!q || !q->def) return GABA_ERR_ARG;
    gaba_zoo_exec e = executor(q, NULL);
    return gaba_zoo_exec_profile(&e, on);
}
