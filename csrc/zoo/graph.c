// graph.c - builds a zoo model from its const layer table and runs it
// (zoo.h): name resolution, shape inference through gaba_nn_prepare, batch
// norm folding, the contiguous weight block with seeded He initialisation,
// and its step in the executor skeleton (executor.c) over planned arena
// slots (plan.c).
// Mirrors TFLite Micro's MicroInterpreter (AllocateTensors, then Invoke
// with no allocation); it does not support control flow or dynamic shapes.
#include "gaba/zoo.h"
#include "executor.h"
#include "plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W_ALIGN 16 // floats: every weight tensor starts on a 64-byte boundary

static int find_tensor(const gaba_zoo_model *m, const char *name) {
    for (int i = m->n_tensors - 1; i >= 0; i--)
        if (strcmp(m->tensors[i].name, name) == 0) return i;
    return -1;
}

static int find_node(const gaba_zoo_model *m, const char *name) {
    for (int i = 0; i < m->n_nodes; i++)
        if (strcmp(m->nodes[i].name, name) == 0) return i;
    return -1;
}

// How many layers of the table read tensor `name`.
static int consumers(const gaba_zoo_def *def, const char *name) {
    int n = 0;
    for (int i = 0; i < def->n_layers; i++)
        for (int j = 0; j < GABA_NN_MAX_INPUTS && def->layers[i].in[j]; j++)
            n += strcmp(def->layers[i].in[j], name) == 0;
    return n;
}

static int is_output(const gaba_zoo_def *def, const char *name) {
    for (int i = 0; i < def->n_outputs; i++)
        if (strcmp(def->outputs[i], name) == 0) return 1;
    return 0;
}

void gaba_zoo_model_free(gaba_zoo_model *m) {
    if (!m) return;
    for (int i = 0; i < m->n_arenas; i++) {
        if (m->arenas) gaba_aligned_free(m->arenas[i]);
        if (m->ptrs) free(m->ptrs[i]);
    }
    free(m->arenas);
    free(m->ptrs);
    gaba_aligned_free(m->weights);
    free(m->nodes);
    free(m->tensors);
    free(m->node_seconds);
    memset(m, 0, sizeof *m);
}

static int64_t dtype_bytes(gaba_nn_dtype d) { return d == GABA_NN_I32 ? 4 : 4; }

// Shapes, folding and tensors: everything but memory.
static gaba_status build_graph(gaba_zoo_model *m, const gaba_zoo_def *def, int *fold_of) {
    for (int i = 0; i < def->n_inputs; i++) {
        gaba_zoo_tensor *t = &m->tensors[m->n_tensors++];
        t->name = def->inputs[i].name;
        t->shape = def->inputs[i].shape;
        t->dtype = def->inputs[i].dtype;
        t->kind = 1;
        t->io_index = i;
        t->first = -1;
    }
    for (int li = 0; li < def->n_layers; li++) {
        const gaba_zoo_layer_def *ld = &def->layers[li];
        if (!ld->name || !ld->out || !ld->in[0]) return GABA_ERR_ARG;
        int n_in = 0, in[GABA_NN_MAX_INPUTS];
        for (; n_in < GABA_NN_MAX_INPUTS && ld->in[n_in]; n_in++)
            if ((in[n_in] = find_tensor(m, ld->in[n_in])) < 0) return GABA_ERR_ARG;
        // A batch norm right after a conv/dense whose output nothing else reads is
        // folded into it: that node now writes the BN's output, with the BN's act.
        if (ld->op == GABA_NN_BATCHNORM && n_in == 1) {
            gaba_zoo_tensor *src = &m->tensors[in[0]];
            int prod = src->first;
            if (prod >= 0 && src->kind == 0) {
                gaba_zoo_node *pn = &m->nodes[prod];
                gaba_nn_op op = pn->layer.op;
                if ((op == GABA_NN_CONV2D || op == GABA_NN_CONV1D || op == GABA_NN_DENSE) &&
                    pn->layer.act == GABA_NN_ACT_NONE && !pn->folded_bn && !pn->shared &&
                    consumers(def, ld->in[0]) == 1 && !is_output(def, ld->in[0])) {
                    pn->layer.act = ld->act;
                    pn->folded_bn = 1;
                    fold_of[prod] = li;
                    src->name = ld->out;
                    continue;
                }
            }
        }
        if (find_tensor(m, ld->out) >= 0) return GABA_ERR_ARG; // each name is written once
        gaba_zoo_node *nd = &m->nodes[m->n_nodes];
        memset(nd, 0, sizeof *nd);
        nd->name = ld->name;
        nd->def_index = li;
        nd->layer.op = ld->op;
        nd->layer.act = ld->act;
        memcpy(nd->layer.p, ld->p, sizeof nd->layer.p);
        nd->n_in = n_in;
        gaba_nn_dtype dt[GABA_NN_MAX_INPUTS];
        for (int j = 0; j < n_in; j++) {
            nd->in[j] = in[j];
            nd->in_shape[j] = m->tensors[in[j]].shape;
            dt[j] = m->tensors[in[j]].dtype;
        }
        gaba_status st = gaba_nn_prepare(&nd->layer, n_in, nd->in_shape, dt, &nd->plan);
        if (st != GABA_OK) return st;
        if (ld->share) {
            int src = find_node(m, ld->share);
            if (src < 0) return GABA_ERR_ARG;
            const gaba_nn_plan *sp = &m->nodes[src].plan;
            if (sp->n_weights != nd->plan.n_weights) return GABA_ERR_SHAPE;
            for (int w = 0; w < sp->n_weights; w++)
                if (gaba_nn_numel(&sp->weight_shapes[w]) !=
                    gaba_nn_numel(&nd->plan.weight_shapes[w]))
                    return GABA_ERR_SHAPE;
            nd->shared = src + 1; // 1-based so 0 means "own weights"
        }
        gaba_zoo_tensor *t = &m->tensors[m->n_tensors];
        memset(t, 0, sizeof *t);
        t->name = ld->out;
        t->shape = nd->plan.out;
        t->dtype = nd->plan.out_dtype;
        t->first = m->n_nodes;
        nd->out = m->n_tensors++;
        nd->ws = -1;
        m->n_nodes++;
    }
    // Model outputs, and each tensor's last reader.
    for (int i = 0; i < def->n_outputs; i++) {
        int t = find_tensor(m, def->outputs[i]);
        if (t < 0 || m->tensors[t].kind != 0) return GABA_ERR_ARG;
        m->tensors[t].kind = 2;
        m->tensors[t].io_index = i;
    }
    for (int i = 0; i < m->n_tensors; i++) m->tensors[i].last = m->tensors[i].first;
    for (int n = 0; n < m->n_nodes; n++)
        for (int j = 0; j < m->nodes[n].n_in; j++) m->tensors[m->nodes[n].in[j]].last = n;
    // Workspaces are tensors alive during their node only.
    for (int n = 0; n < m->n_nodes; n++) {
        if (m->nodes[n].plan.workspace <= 0) continue;
        gaba_zoo_tensor *t = &m->tensors[m->n_tensors];
        memset(t, 0, sizeof *t);
        t->name = m->nodes[n].name;
        t->shape = (gaba_nn_shape){1, {(int32_t)m->nodes[n].plan.workspace}};
        t->kind = 3;
        t->first = t->last = n;
        m->nodes[n].ws = m->n_tensors++;
    }
    for (int i = 0; i < m->n_tensors; i++)
        m->tensors[i].bytes =
            gaba_nn_numel(&m->tensors[i].shape) * dtype_bytes(m->tensors[i].dtype);
    return GABA_OK;
}

// The weight block: sizes, He initialisation (std sqrt(2 / fan_in); recurrent and
// attention matrices sqrt(1 / fan_in); biases zero), batch-norm folding with the
// BN's initial statistics (gamma 1, beta 0, mean 0, var 1).
static gaba_status build_weights(gaba_zoo_model *m, uint64_t seed, const int *fold_of) {
    int64_t total = 0;
    for (int n = 0; n < m->n_nodes; n++) {
        gaba_zoo_node *nd = &m->nodes[n];
        for (int w = 0; w < nd->plan.n_weights; w++) {
            int64_t cnt = gaba_nn_numel(&nd->plan.weight_shapes[w]);
            if (nd->shared) {
                nd->w_offset[w] = m->nodes[nd->shared - 1].w_offset[w];
                continue;
            }
            nd->w_offset[w] = total;
            total += (cnt + W_ALIGN - 1) / W_ALIGN * W_ALIGN;
            m->params += cnt;
        }
        m->macs += nd->plan.macs;
    }
    m->weight_floats = total;
    m->weights = gaba_aligned_alloc((size_t)(total ? total : 1) * sizeof(float));
    if (!m->weights) return GABA_ERR_NOMEM;
    memset(m->weights, 0, (size_t)total * sizeof(float));
    for (int n = 0; n < m->n_nodes; n++) {
        gaba_zoo_node *nd = &m->nodes[n];
        for (int w = 0; w < nd->plan.n_weights; w++) nd->w[w] = m->weights + nd->w_offset[w];
        if (nd->shared) continue;
        gaba_rng rng;
        gaba_rng_seed(&rng, seed, (uint64_t)nd->def_index + 1);
        for (int w = 0; w < nd->plan.n_weights; w++) {
            int32_t fan = nd->plan.fan_in[w];
            float *dst = m->weights + nd->w_offset[w];
            int64_t cnt = gaba_nn_numel(&nd->plan.weight_shapes[w]);
            if (fan > 0)
                gaba_rng_fill_normal(&rng, dst, cnt, sqrtf(2.0f / (float)fan));
            else if (fan < 0)
                gaba_rng_fill_normal(&rng, dst, cnt, sqrtf(1.0f / (float)-fan));
        }
        if (nd->layer.op == GABA_NN_BATCHNORM) { // not folded: scale 1/sqrt(1 + eps), shift 0
            float eps = nd->layer.p[0] ? (float)nd->layer.p[0] * 1e-9f : 1e-5f;
            float *scale = m->weights + nd->w_offset[0];
            for (int64_t c = 0; c < nd->plan.weight_shapes[0].d[0]; c++)
                scale[c] = 1.0f / sqrtf(1.0f + eps);
        }
        if (nd->layer.op == GABA_NN_LAYER_NORM) // gamma 1 (beta 0), as PyTorch's
            for (int64_t c = 0; c < nd->plan.weight_shapes[0].d[0]; c++)
                m->weights[nd->w_offset[0] + c] = 1.0f;
        if (nd->folded_bn) {
            const gaba_zoo_layer_def *bn = &m->def->layers[fold_of[n]];
            float eps = bn->p[0] ? (float)bn->p[0] * 1e-9f : 1e-5f;
            int64_t co = nd->plan.weight_shapes[1].d[0];
            int64_t per = gaba_nn_numel(&nd->plan.weight_shapes[0]) / co;
            float *stats = malloc((size_t)co * 4 * sizeof(float));
            if (!stats) return GABA_ERR_NOMEM;
            for (int64_t c = 0; c < co; c++) {
                stats[c] = 1.0f;          // gamma
                stats[co + c] = 0.0f;     // beta
                stats[2 * co + c] = 0.0f; // running mean
                stats[3 * co + c] = 1.0f; // running var
            }
            gaba_nn_batchnorm_fold(co, per, m->weights + nd->w_offset[0],
                                   m->weights + nd->w_offset[1], stats, stats + co, stats + 2 * co,
                                   stats + 3 * co, eps);
            free(stats);
        }
    }
    return GABA_OK;
}

gaba_status gaba_zoo_model_init(gaba_zoo_model *m, const gaba_zoo_def *def, uint64_t seed,
                                int n_threads) {
    if (!m || !def) return GABA_ERR_ARG;
    memset(m, 0, sizeof *m);
    gaba_status st = gaba_runtime_init();
    if (st != GABA_OK) return st;
    m->def = def;
    int max_tensors = def->n_inputs + 2 * def->n_layers;
    m->tensors = calloc((size_t)max_tensors, sizeof *m->tensors);
    m->nodes = calloc((size_t)(def->n_layers ? def->n_layers : 1), sizeof *m->nodes);
    int *fold_of = calloc((size_t)(def->n_layers ? def->n_layers : 1), sizeof(int));
    if (!m->tensors || !m->nodes || !fold_of) {
        free(fold_of);
        gaba_zoo_model_free(m);
        return GABA_ERR_NOMEM;
    }
    st = build_graph(m, def, fold_of);
    if (st == GABA_OK) st = build_weights(m, seed, fold_of);
    free(fold_of);
    if (st == GABA_OK) st = gaba_zoo_plan(m->tensors, m->n_tensors, &m->arena_bytes);
    if (st == GABA_OK) {
        m->n_arenas = n_threads < 1 ? 1 : n_threads;
        m->arenas = calloc((size_t)m->n_arenas, sizeof *m->arenas);
        m->ptrs = calloc((size_t)m->n_arenas, sizeof *m->ptrs);
        if (!m->arenas || !m->ptrs) st = GABA_ERR_NOMEM;
        for (int i = 0; st == GABA_OK && i < m->n_arenas; i++) {
            m->arenas[i] = gaba_aligned_alloc((size_t)m->arena_bytes);
            m->ptrs[i] = calloc((size_t)m->n_tensors, sizeof(void *));
            if (!m->arenas[i] || !m->ptrs[i]) st = GABA_ERR_NOMEM;
        }
    }
    if (st != GABA_OK) gaba_zoo_model_free(m);
    return st;
}

// Node n of one sample (gaba_zoo_exec's step).
static gaba_status step(void *ctx, int n, void *const *ptr) {
    gaba_zoo_model *m = ctx;
    gaba_zoo_node *nd = &m->nodes[n];
    const void *x[GABA_NN_MAX_INPUTS];
    for (int j = 0; j < nd->n_in; j++) x[j] = ptr[nd->in[j]];
    return gaba_nn_eval(&nd->layer, nd->n_in, nd->in_shape, x, &nd->plan, nd->w, ptr[nd->out],
                        nd->ws >= 0 ? ptr[nd->ws] : NULL, m->impl);
}

gaba_status gaba_zoo_model_forward(gaba_zoo_model *m, int64_t batch, const void *const *inputs,
                                   void *const *outputs, int max_threads) {
    if (!m || !m->def || batch < 0 || !inputs || !outputs) return GABA_ERR_ARG;
    gaba_zoo_exec e = GABA_ZOO_EXEC(m, step, NULL, m);
    return gaba_zoo_exec_forward(&e, batch, inputs, outputs, max_threads);
}

gaba_status gaba_zoo_model_profile(gaba_zoo_model *m, int on) {
    if (!m || !m->def) return GABA_ERR_ARG;
    gaba_zoo_exec e = GABA_ZOO_EXEC(m, step, NULL, m);
    return gaba_zoo_exec_profile(&e, on);
}
