// train.c - the trainer of a zoo model (trainer.h): its graph (batch norms
// unfolded, fused activations split off), the parameter, gradient and
// running-statistics blocks, the training arena planned by plan.c over a
// timeline of forward then backward, and the layer-by-layer forward and
// backward over a batch cut into one part per thread (llm.c's per-layer
// backward, in reverse order).
#include "gaba/trainer.h"
#include "executor.h"
#include "plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W_ALIGN 16 // floats: every parameter starts on a 64-byte boundary

static int64_t align_floats(int64_t n) { return (n + W_ALIGN - 1) / W_ALIGN * W_ALIGN; }

void gaba_zoo_trainer_free(gaba_zoo_trainer *t) {
    if (!t) return;
    free(t->nodes);
    free(t->tensors);
    gaba_aligned_free(t->params);
    gaba_aligned_free(t->grads);
    gaba_aligned_free(t->stats);
    gaba_aligned_free(t->arena);
    const char *unsupported = t->unsupported;
    memset(t, 0, sizeof *t);
    t->unsupported = unsupported;
}

static int add_tensor(gaba_zoo_trainer *t, const char *name, gaba_nn_shape shape,
                      gaba_nn_dtype dtype) {
    gaba_zoo_ttensor *tt = &t->tensors[t->n_tensors];
    memset(tt, 0, sizeof *tt);
    tt->name = name;
    tt->shape = shape;
    tt->dtype = dtype;
    tt->bytes = gaba_nn_numel(&shape) * 4;
    tt->input = tt->output = tt->writer = tt->reader = -1;
    tt->grad = 1;
    return t->n_tensors++;
}

// A node reading `in` (n_in trainer tensors) into a new tensor, or into `out` when >= 0.
static gaba_status add_node(gaba_zoo_trainer *t, const char *name, gaba_zoo_tnode_kind kind,
                            gaba_nn_layer layer, int n_in, const int *in, int out, int model_node) {
    gaba_zoo_tnode *nd = &t->nodes[t->n_nodes];
    memset(nd, 0, sizeof *nd);
    nd->name = name;
    nd->kind = kind;
    nd->layer = layer;
    nd->n_in = n_in;
    nd->model_node = model_node;
    nd->bn = -1;
    nd->owner = 1;
    gaba_nn_dtype dt[GABA_NN_MAX_INPUTS];
    for (int j = 0; j < n_in; j++) {
        nd->in[j] = in[j];
        nd->in_shape[j] = t->tensors[in[j]].shape;
        dt[j] = t->tensors[in[j]].dtype;
    }
    gaba_status st = gaba_nn_prepare(&nd->layer, n_in, nd->in_shape, dt, &nd->plan);
    if (st != GABA_OK) return st;
    if (kind == GABA_ZOO_TNODE_OP && !gaba_nn_has_backward(layer.op)) {
        t->unsupported = name;
        return GABA_ERR_NO_IMPL;
    }
    nd->out = out >= 0 ? out : add_tensor(t, name, nd->plan.out, nd->plan.out_dtype);
    t->tensors[nd->out].writer = t->n_nodes;
    t->n_nodes++;
    return GABA_OK;
}

// The model's batch-norm layer folded into node n: the BN row that writes n's output.
static const gaba_zoo_layer_def *folded_bn(const gaba_zoo_model *m, int n) {
    const char *out = m->tensors[m->nodes[n].out].name;
    for (int i = 0; i < m->def->n_layers; i++) {
        const gaba_zoo_layer_def *l = &m->def->layers[i];
        if (l->op == GABA_NN_BATCHNORM && strcmp(l->out, out) == 0) return l;
    }
    return NULL;
}

static float bn_eps(int32_t eps_e9) { return eps_e9 ? (float)eps_e9 * 1e-9f : 1e-5f; }

// The node whose weights shared node n uses: the op node of the model node it shares.
static const gaba_zoo_tnode *weight_owner(const gaba_zoo_trainer *t, int n) {
    int src = t->model->nodes[t->nodes[n].model_node].shared - 1;
    for (int i = 0; i < n; i++)
        if (t->nodes[i].model_node == src && t->nodes[i].kind == GABA_ZOO_TNODE_OP)
            return &t->nodes[i];
    return NULL;
}

// The nodes of model node n: its op (act NONE), the batch norm folded into it,
// its activation; each writing a new tensor but the last, which writes `final`.
static gaba_status add_model_node(gaba_zoo_trainer *t, int n, const int *tmap, int final) {
    const gaba_zoo_model *m = t->model;
    const gaba_zoo_node *mn = &m->nodes[n];
    int in[GABA_NN_MAX_INPUTS];
    for (int j = 0; j < mn->n_in; j++) in[j] = tmap[mn->in[j]];
    gaba_nn_layer layer = mn->layer;
    // the act op keeps its activation; any other op's runs as an act node after it
    const gaba_nn_act act = layer.op == GABA_NN_ACT ? GABA_NN_ACT_NONE : layer.act;
    if (layer.op != GABA_NN_ACT) layer.act = GABA_NN_ACT_NONE;
    const int alone_bn = layer.op == GABA_NN_BATCHNORM;
    const gaba_zoo_layer_def *bn = mn->folded_bn ? folded_bn(m, n) : NULL;
    if (mn->folded_bn && !bn) return GABA_ERR_INTERNAL;
    const int tail = bn || act != GABA_NN_ACT_NONE; // nodes after the op
    gaba_status st = add_node(t, mn->name, alone_bn ? GABA_ZOO_TNODE_BATCHNORM : GABA_ZOO_TNODE_OP,
                              layer, mn->n_in, in, tail ? -1 : final, n);
    if (st != GABA_OK) return st;
    int op_node = t->n_nodes - 1;
    if (alone_bn) t->nodes[op_node].eps = bn_eps(layer.p[0]);
    if (mn->shared) { // the weights (and gradients) of the node that owns them
        if (!weight_owner(t, op_node)) return GABA_ERR_INTERNAL;
        t->nodes[op_node].owner = 0; // its offsets are the owner's, once placed
    }
    if (bn) {
        gaba_nn_layer bl = {.op = GABA_NN_BATCHNORM, .act = GABA_NN_ACT_NONE};
        int x = t->nodes[op_node].out;
        st = add_node(t, bn->name, GABA_ZOO_TNODE_BATCHNORM, bl, 1, &x,
                      act != GABA_NN_ACT_NONE ? -1 : final, n);
        if (st != GABA_OK) return st;
        t->nodes[op_node].bn = t->n_nodes - 1;
        t->nodes[t->n_nodes - 1].eps = bn_eps(bn->p[0]);
    }
    if (act != GABA_NN_ACT_NONE) {
        gaba_nn_layer al = {.op = GABA_NN_ACT, .act = act};
        int x = t->nodes[t->n_nodes - 1].out;
        st = add_node(t, mn->name, GABA_ZOO_TNODE_OP, al, 1, &x, final, -1);
    }
    return st;
}

// Offsets of every owned parameter and running statistic; the blocks.
static gaba_status place_params(gaba_zoo_trainer *t) {
    for (int n = 0; n < t->n_nodes; n++) {
        gaba_zoo_tnode *nd = &t->nodes[n];
        if (!nd->owner) continue;
        for (int w = 0; w < nd->plan.n_weights; w++) {
            nd->w_offset[w] = t->param_floats;
            t->param_floats += align_floats(gaba_nn_numel(&nd->plan.weight_shapes[w]));
        }
        if (nd->kind == GABA_ZOO_TNODE_BATCHNORM) {
            nd->stats = t->stat_floats;
            t->stat_floats += 2 * align_floats(nd->plan.weight_shapes[0].d[0]);
        }
    }
    for (int n = 0; n < t->n_nodes; n++) // shared weights: after their owners are placed
        if (!t->nodes[n].owner)
            memcpy(t->nodes[n].w_offset, weight_owner(t, n)->w_offset, sizeof t->nodes[n].w_offset);
    size_t p = (size_t)(t->param_floats ? t->param_floats : 1) * sizeof(float);
    t->params = gaba_aligned_alloc(p);
    t->grads = gaba_aligned_alloc(p * (size_t)t->n_slots);
    t->stats = gaba_aligned_alloc((size_t)(t->stat_floats ? t->stat_floats : 1) * sizeof(float));
    if (!t->params || !t->grads || !t->stats) return GABA_ERR_NOMEM;
    memset(t->params, 0, p);
    memset(t->grads, 0, p * (size_t)t->n_slots);
    memset(t->stats, 0, (size_t)t->stat_floats * sizeof(float));
    return GABA_OK;
}

static gaba_status build(gaba_zoo_trainer *t) {
    const gaba_zoo_model *m = t->model;
    int *tmap = malloc((size_t)(m->n_tensors ? m->n_tensors : 1) * sizeof(int));
    if (!tmap) return GABA_ERR_NOMEM;
    gaba_status st = GABA_OK;
    for (int i = 0; i < m->n_tensors; i++) {
        const gaba_zoo_tensor *mt = &m->tensors[i];
        tmap[i] = -1;
        if (mt->kind != 1) continue;
        tmap[i] = add_tensor(t, mt->name, mt->shape, mt->dtype);
        t->tensors[tmap[i]].input = mt->io_index;
        t->tensors[tmap[i]].grad = 0;
    }
    for (int n = 0; n < m->n_nodes && st == GABA_OK; n++) {
        const gaba_zoo_tensor *mt = &m->tensors[m->nodes[n].out];
        int final = add_tensor(t, mt->name, mt->shape, mt->dtype);
        if (mt->kind == 2) t->tensors[final].output = mt->io_index;
        tmap[m->nodes[n].out] = final;
        st = add_model_node(t, n, tmap, final);
    }
    free(tmap);
    if (st != GABA_OK) return st;
    for (int n = 0; n < t->n_nodes; n++)
        for (int j = 0; j < t->nodes[n].n_in; j++) t->tensors[t->nodes[n].in[j]].reader = n;
    return place_params(t);
}

gaba_status gaba_zoo_trainer_init(gaba_zoo_trainer *t, gaba_zoo_model *m, int n_threads) {
    if (!t || !m || !m->def) return GABA_ERR_ARG;
    memset(t, 0, sizeof *t);
    t->model = m;
    t->n_slots = n_threads < 1 ? 1 : n_threads;
    t->bn_momentum = 0.1f;
    // each model node becomes at most three (op, batch norm, activation), each
    // writing one tensor
    t->nodes = calloc((size_t)(3 * m->n_nodes + 1), sizeof *t->nodes);
    t->tensors = calloc((size_t)(m->n_tensors + 3 * m->n_nodes + 1), sizeof *t->tensors);
    gaba_status st = t->nodes && t->tensors ? build(t) : GABA_ERR_NOMEM;
    if (st == GABA_OK) st = gaba_zoo_trainer_load(t);
    if (st != GABA_OK) gaba_zoo_trainer_free(t);
    return st;
}

static void set_running(gaba_zoo_trainer *t, const gaba_zoo_tnode *bn) {
    int64_t c = bn->plan.weight_shapes[0].d[0];
    float *mean = gaba_zoo_trainer_running(t, bn, 0), *var = gaba_zoo_trainer_running(t, bn, 1);
    for (int64_t i = 0; i < c; i++) mean[i] = 0.0f, var[i] = 1.0f;
}

gaba_status gaba_zoo_trainer_load(gaba_zoo_trainer *t) {
    gaba_status st = gaba_zoo_exec_lock(&t->busy);
    if (st != GABA_OK) return st;
    if ((st = gaba_zoo_exec_lock(&t->model->busy)) != GABA_OK) {
        gaba_zoo_exec_unlock(&t->busy);
        return st;
    }
    const gaba_zoo_model *m = t->model;
    for (int n = 0; n < t->n_nodes; n++) {
        const gaba_zoo_tnode *nd = &t->nodes[n];
        if (!nd->owner || nd->model_node < 0) continue;
        const gaba_zoo_node *mn = &m->nodes[nd->model_node];
        float *p = t->params;
        int64_t c = nd->plan.weight_shapes[0].d[0];
        float unit = sqrtf(1.0f + nd->eps); // gamma of a batch norm that scales by 1
        if (nd->kind == GABA_ZOO_TNODE_OP) {
            for (int w = 0; w < nd->plan.n_weights; w++)
                memcpy(p + nd->w_offset[w], m->weights + mn->w_offset[w],
                       (size_t)gaba_nn_numel(&nd->plan.weight_shapes[w]) * sizeof(float));
        } else if (mn->layer.op == GABA_NN_BATCHNORM) { // a batch norm run alone
            for (int64_t i = 0; i < c; i++) {
                p[nd->w_offset[0] + i] = m->weights[mn->w_offset[0] + i] * unit;
                p[nd->w_offset[1] + i] = m->weights[mn->w_offset[1] + i];
            }
            set_running(t, nd);
        } else { // folded into the op before it
            for (int64_t i = 0; i < c; i++)
                p[nd->w_offset[0] + i] = unit, p[nd->w_offset[1] + i] = 0;
            set_running(t, nd);
        }
    }
    gaba_zoo_exec_unlock(&t->model->busy);
    gaba_zoo_exec_unlock(&t->busy);
    return GABA_OK;
}

gaba_status gaba_zoo_trainer_sync(gaba_zoo_trainer *t) {
    gaba_status st = gaba_zoo_exec_lock(&t->model->busy);
    if (st != GABA_OK) return st;
    gaba_zoo_model *m = t->model;
    for (int n = 0; n < t->n_nodes; n++) {
        const gaba_zoo_tnode *nd = &t->nodes[n];
        if (!nd->owner || nd->model_node < 0) continue;
        const gaba_zoo_node *mn = &m->nodes[nd->model_node];
        const float *p = t->params;
        if (nd->kind == GABA_ZOO_TNODE_OP) {
            for (int w = 0; w < nd->plan.n_weights; w++)
                memcpy(m->weights + mn->w_offset[w], p + nd->w_offset[w],
                       (size_t)gaba_nn_numel(&nd->plan.weight_shapes[w]) * sizeof(float));
            if (nd->bn < 0) continue;
            const gaba_zoo_tnode *bn = &t->nodes[nd->bn];
            int64_t co = bn->plan.weight_shapes[0].d[0];
            const float *mean = gaba_zoo_trainer_running(t, bn, 0);
            gaba_nn_batchnorm_fold(co, gaba_nn_numel(&nd->plan.weight_shapes[0]) / co,
                                   m->weights + mn->w_offset[0], m->weights + mn->w_offset[1],
                                   p + bn->w_offset[0], p + bn->w_offset[1], mean,
                                   gaba_zoo_trainer_running(t, bn, 1), bn->eps);
        } else if (mn->layer.op == GABA_NN_BATCHNORM) { // run alone: scale and shift
            int64_t c = nd->plan.weight_shapes[0].d[0];
            const float *mean = gaba_zoo_trainer_running(t, nd, 0),
                        *var = gaba_zoo_trainer_running(t, nd, 1);
            for (int64_t i = 0; i < c; i++) {
                float s = p[nd->w_offset[0] + i] / sqrtf(var[i] + nd->eps);
                m->weights[mn->w_offset[0] + i] = s;
                m->weights[mn->w_offset[1] + i] = p[nd->w_offset[1] + i] - mean[i] * s;
            }
        }
    }
    gaba_zoo_exec_unlock(&m->busy);
    return GABA_OK;
}

float *gaba_zoo_trainer_running(const gaba_zoo_trainer *t, const gaba_zoo_tnode *bn, int var) {
    return t->stats + bn->stats + (var ? align_floats(bn->plan.weight_shapes[0].d[0]) : 0);
}

// ---- memory -----------------------------------------------------------------------

// Floats of one thread's share of a workspace (64-byte aligned shares).
static int64_t share(int64_t floats) { return align_floats(floats); }

gaba_status gaba_zoo_trainer_reserve(gaba_zoo_trainer *t, int64_t batch) {
    if (!t || batch < 1) return GABA_ERR_ARG;
    if (batch <= t->batch_cap) return GABA_OK;
    gaba_status st = gaba_zoo_exec_lock(&t->busy);
    if (st != GABA_OK) return st;
    // Time line: node n's forward at n, the loss at N, node n's backward at 2N - n.
    const int N = t->n_nodes;
    gaba_zoo_tensor *items = calloc((size_t)(2 * t->n_tensors + 3 * N + 1), sizeof *items);
    if (!items) {
        gaba_zoo_exec_unlock(&t->busy);
        return GABA_ERR_NOMEM;
    }
    // An activation lives until its last reader's forward, and on to the backward of the
    // nodes that read it there: its readers that read their inputs, its writer if it reads
    // its output; a model output until the loss.
    int *until = malloc((size_t)(t->n_tensors ? t->n_tensors : 1) * sizeof(int));
    if (!until) {
        free(items);
        gaba_zoo_exec_unlock(&t->busy);
        return GABA_ERR_NOMEM;
    }
    for (int i = 0; i < t->n_tensors; i++) {
        const gaba_zoo_ttensor *tt = &t->tensors[i];
        until[i] = tt->output >= 0 ? N : tt->reader > tt->writer ? tt->reader : tt->writer;
    }
    for (int n = 0; n < N; n++) {
        const gaba_zoo_tnode *nd = &t->nodes[n];
        int reads = nd->kind == GABA_ZOO_TNODE_BATCHNORM ? GABA_NN_READS_X
                                                         : gaba_nn_backward_reads(&nd->layer);
        if (reads & GABA_NN_READS_Y && until[nd->out] < 2 * N - n) until[nd->out] = 2 * N - n;
        for (int j = 0; j < nd->n_in && reads & GABA_NN_READS_X; j++)
            if (until[nd->in[j]] < 2 * N - n) until[nd->in[j]] = 2 * N - n;
    }
    int count = 0;
#define ITEM(b, f, l)                                                                              \
    (items[count] = (gaba_zoo_tensor){.bytes = (b), .first = (f), .last = (l)}, count++)
    for (int i = 0; i < t->n_tensors; i++) {
        const gaba_zoo_ttensor *tt = &t->tensors[i];
        if (tt->input >= 0) continue;
        ITEM(batch * tt->bytes, tt->writer, until[i]);
        if (tt->grad) {
            int from = tt->output >= 0   ? N
                       : tt->reader >= 0 ? 2 * N - tt->reader
                                         : 2 * N - tt->writer;
            ITEM(batch * tt->bytes, from, 2 * N - tt->writer);
        }
    }
    for (int n = 0; n < N; n++) {
        const gaba_zoo_tnode *nd = &t->nodes[n];
        if (nd->plan.workspace > 0) ITEM(t->n_slots * share(nd->plan.workspace) * 4, n, n);
        if (nd->plan.bwd_workspace > 0)
            ITEM(t->n_slots * share(nd->plan.bwd_workspace) * 4, 2 * N - n, 2 * N - n);
        if (nd->kind == GABA_ZOO_TNODE_BATCHNORM)
            ITEM(2 * align_floats(nd->plan.weight_shapes[0].d[0]) * 4, n, 2 * N - n);
    }
#undef ITEM
    free(until);
    int64_t bytes = 0;
    st = gaba_zoo_plan(items, count, &bytes);
    unsigned char *arena = st == GABA_OK ? gaba_aligned_alloc((size_t)(bytes ? bytes : 64)) : NULL;
    if (st == GABA_OK && !arena) st = GABA_ERR_NOMEM;
    if (st == GABA_OK) { // read the offsets back in the order they were listed
        int k = 0;
        for (int i = 0; i < t->n_tensors; i++) {
            gaba_zoo_ttensor *tt = &t->tensors[i];
            if (tt->input >= 0) continue;
            tt->value = items[k++].offset;
            if (tt->grad) tt->dval = items[k++].offset;
        }
        for (int n = 0; n < N; n++) {
            gaba_zoo_tnode *nd = &t->nodes[n];
            if (nd->plan.workspace > 0) nd->ws = items[k++].offset;
            if (nd->plan.bwd_workspace > 0) nd->bws = items[k++].offset;
            if (nd->kind == GABA_ZOO_TNODE_BATCHNORM) nd->saved = items[k++].offset;
        }
        gaba_aligned_free(t->arena);
        t->arena = arena;
        t->arena_bytes = bytes;
        t->batch_cap = batch;
    }
    free(items);
    gaba_zoo_exec_unlock(&t->busy);
    return st;
}

float *gaba_zoo_trainer_value(const gaba_zoo_trainer *t, int i) {
    return t->arena && t->tensors[i].input < 0 ? (float *)(t->arena + t->tensors[i].value) : NULL;
}

float *gaba_zoo_trainer_dval(const gaba_zoo_trainer *t, int i) {
    return t->arena && t->tensors[i].grad ? (float *)(t->arena + t->tensors[i].dval) : NULL;
}

// ---- forward and backward ---------------------------------------------------------

typedef struct pass {
    gaba_zoo_trainer *t;
    const void *const *inputs;
    int64_t batch;
    int n, threads;
    volatile gaba_status status;
} pass;

// Sample s of tensor i.
static void *at(const pass *p, int i, int64_t s) {
    const gaba_zoo_ttensor *tt = &p->t->tensors[i];
    const char *base = tt->input >= 0 ? (const char *)p->inputs[tt->input]
                                      : (const char *)(p->t->arena + tt->value);
    return (void *)(base + s * tt->bytes);
}

static float *grad_at(const pass *p, int i, int64_t s) {
    const gaba_zoo_ttensor *tt = &p->t->tensors[i];
    return tt->grad ? (float *)(p->t->arena + tt->dval + s * tt->bytes) : NULL;
}

static void forward_part(void *ctx, int64_t part, int64_t parts) {
    pass *p = ctx;
    const gaba_zoo_trainer *t = p->t;
    const gaba_zoo_tnode *nd = &t->nodes[p->n];
    const float *w[GABA_NN_MAX_WEIGHTS];
    for (int k = 0; k < nd->plan.n_weights; k++) w[k] = t->params + nd->w_offset[k];
    float *ws = (float *)(t->arena + nd->ws) + part * share(nd->plan.workspace);
    for (int64_t s = p->batch * part / parts; s < p->batch * (part + 1) / parts; s++) {
        const void *x[GABA_NN_MAX_INPUTS];
        for (int j = 0; j < nd->n_in; j++) x[j] = at(p, nd->in[j], s);
        gaba_status st = gaba_nn_eval(&nd->layer, nd->n_in, nd->in_shape, x, &nd->plan, w,
                                      at(p, nd->out, s), ws, t->model->impl);
        if (st != GABA_OK) {
            p->status = st;
            return;
        }
    }
}

static void backward_part(void *ctx, int64_t part, int64_t parts) {
    pass *p = ctx;
    const gaba_zoo_trainer *t = p->t;
    const gaba_zoo_tnode *nd = &t->nodes[p->n];
    int64_t lo = p->batch * part / parts, hi = p->batch * (part + 1) / parts;
    const float *w[GABA_NN_MAX_WEIGHTS];
    float *dw[GABA_NN_MAX_WEIGHTS];
    float *grads = t->grads + part * t->param_floats;
    for (int k = 0; k < nd->plan.n_weights; k++) {
        w[k] = t->params + nd->w_offset[k];
        dw[k] = grads + nd->w_offset[k];
    }
    const void *x[GABA_NN_MAX_INPUTS];
    float *dx[GABA_NN_MAX_INPUTS];
    for (int j = 0; j < nd->n_in; j++) {
        x[j] = at(p, nd->in[j], lo);
        dx[j] = grad_at(p, nd->in[j], lo);
    }
    float *ws = (float *)(t->arena + nd->bws) + part * share(nd->plan.bwd_workspace);
    gaba_status st =
        gaba_nn_backward(&nd->layer, nd->n_in, nd->in_shape, hi - lo, x, &nd->plan, w,
                         at(p, nd->out, lo), grad_at(p, nd->out, lo), dx, dw, ws, t->model->impl);
    if (st != GABA_OK) p->status = st;
}

static void batchnorm_forward(pass *p) {
    gaba_zoo_trainer *t = p->t;
    const gaba_zoo_tnode *nd = &t->nodes[p->n];
    int64_t c = nd->in_shape[0].d[0], s = gaba_nn_numel(&nd->in_shape[0]) / c;
    gaba_nn_batchnorm_train_f32(
        p->batch, c, s, at(p, nd->in[0], 0), t->params + nd->w_offset[0],
        t->params + nd->w_offset[1], nd->eps, t->bn_momentum, gaba_zoo_trainer_running(t, nd, 0),
        gaba_zoo_trainer_running(t, nd, 1), (float *)(t->arena + nd->saved), at(p, nd->out, 0));
}

static void batchnorm_backward(pass *p) {
    gaba_zoo_trainer *t = p->t;
    const gaba_zoo_tnode *nd = &t->nodes[p->n];
    int64_t c = nd->in_shape[0].d[0], s = gaba_nn_numel(&nd->in_shape[0]) / c;
    gaba_nn_batchnorm_train_backward_f32(
        p->batch, c, s, at(p, nd->in[0], 0), t->params + nd->w_offset[0],
        (const float *)(t->arena + nd->saved), grad_at(p, nd->out, 0), grad_at(p, nd->in[0], 0),
        t->grads + nd->w_offset[0], t->grads + nd->w_offset[1]);
}

// Runs node p->n's part function over the batch on p->threads threads.
static gaba_status run_parts(pass *p, gaba_task_fn fn) {
    p->status = GABA_OK;
    if (p->threads <= 1) {
        fn(p, 0, 1);
        return p->status;
    }
    gaba_status st = gaba_parallel_for(p->threads, p->threads, fn, p);
    return st != GABA_OK ? st : p->status;
}

static gaba_status begin(gaba_zoo_trainer *t, pass *p, int64_t batch, const void *const *inputs,
                         int max_threads) {
    if (!t || !t->model || batch < 1 || !inputs) return GABA_ERR_ARG;
    if (batch > t->batch_cap) return GABA_ERR_SHAPE;
    gaba_status st = gaba_zoo_exec_lock(&t->busy);
    if (st != GABA_OK) return st;
    int threads = max_threads > 0 ? max_threads : gaba_threads_get();
    if (threads > t->n_slots) threads = t->n_slots;
    if (threads > batch) threads = (int)batch;
    *p = (pass){.t = t, .inputs = inputs, .batch = batch, .threads = threads};
    return GABA_OK;
}

gaba_status gaba_zoo_trainer_forward(gaba_zoo_trainer *t, int64_t batch, const void *const *inputs,
                                     int max_threads) {
    pass p;
    gaba_status st = begin(t, &p, batch, inputs, max_threads);
    if (st != GABA_OK) return st;
    for (int n = 0; n < t->n_nodes && st == GABA_OK; n++) {
        p.n = n;
        if (t->nodes[n].kind == GABA_ZOO_TNODE_BATCHNORM)
            batchnorm_forward(&p);
        else
            st = run_parts(&p, forward_part);
    }
    gaba_zoo_exec_unlock(&t->busy);
    return st;
}

gaba_status gaba_zoo_trainer_backward(gaba_zoo_trainer *t, int64_t batch, const void *const *inputs,
                                      int max_threads) {
    pass p;
    gaba_status st = begin(t, &p, batch, inputs, max_threads);
    if (st != GABA_OK) return st;
    memset(t->grads, 0, (size_t)(p.threads * t->param_floats) * sizeof(float));
    for (int n = t->n_nodes - 1; n >= 0 && st == GABA_OK; n--) {
        const gaba_zoo_tnode *nd = &t->nodes[n];
        // A gradient starts at zero before its last reader's backward, the first to add to it
        // (a model output's holds the loss's gradient already).
        for (int j = 0; j < nd->n_in; j++) {
            const gaba_zoo_ttensor *tt = &t->tensors[nd->in[j]];
            if (tt->grad && tt->output < 0 && tt->reader == n)
                memset(grad_at(&p, nd->in[j], 0), 0, (size_t)(batch * tt->bytes));
        }
        const gaba_zoo_ttensor *out = &t->tensors[nd->out];
        if (out->reader < 0 && out->output < 0) // read by nothing: no gradient
            memset(grad_at(&p, nd->out, 0), 0, (size_t)(batch * out->bytes));
        p.n = n;
        if (nd->kind == GABA_ZOO_TNODE_BATCHNORM)
            batchnorm_backward(&p);
        else
            st = run_parts(&p, backward_part);
    }
    for (int k = 1; k < p.threads && st == GABA_OK; k++) { // in part order: deterministic
        const float *g = t->grads + k * t->param_floats;
        for (int64_t i = 0; i < t->param_floats; i++) t->grads[i] += g[i];
    }
    gaba_zoo_exec_unlock(&t->busy);
    return st;
}
