// quantizer.c - the second stage of the zoo's int8 pipeline (qzoo.h): from a
// float32 model and its calibrated ranges, the int8 model in TFLite's
// post-training scheme (asymmetric per-tensor activations, symmetric
// per-channel weights, int32 bias, Q31 requantization; ops without an int8
// kernel run in float32 between dequantize and quantize nodes), with its own
// arena plan. Mirrors TFLite's converter; it does not do per-tensor weights,
// uint8, or quantization-aware ranges.
#include "gaba/gemm.h"
#include "gaba/qzoo.h"
#include "plan.h"
#include "qgraph.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int64_t tensor_bytes(const gaba_nn_shape *s, gaba_nn_dtype d) {
    return gaba_nn_numel(s) * (d == GABA_NN_I8 ? 1 : 4);
}

// TFLite's asymmetric parameters: the range is widened to hold 0 (so 0 is exact,
// which zero padding needs), scale = (max - min) / 255, zp = -128 - round(min / scale).
static void choose_params(float lo, float hi, float *scale, int32_t *zp) {
    if (!(lo <= hi)) lo = hi = 0.0f; // never seen (or NaN): an empty range
    if (lo > 0.0f) lo = 0.0f;
    if (hi < 0.0f) hi = 0.0f;
    double s = ((double)hi - (double)lo) / 255.0;
    if (!(s > 1e-30) || !isfinite(s)) s = 1.0;
    double z = -128.0 - round((double)lo / s);
    *scale = (float)s;
    *zp = (int32_t)(z < -128 ? -128 : z > 127 ? 127 : z);
}

typedef struct builder {
    gaba_zoo_qmodel *q;
    const gaba_zoo_model *m;
    int *i8_of, *f32_of; // per tensor: its int8 / float version (-1: none yet)
    int max_tensors, max_nodes;
    unsigned char *wp;            // bump pointer into q->weights
    const float *tmin, *tmax;     // calibrated ranges: tensors, then nodes' pre-activation ranges
    const gaba_zoo_qgiven *given; // parameters an imported file fixes, or NULL
    int8_t *scratch;              // weights gaba_qnn_layer_init reads but the model does not keep
    const unsigned char *keep_float; // per node: run it in float32 (NULL: none)
} builder;

static int new_tensor(builder *b, const gaba_zoo_tensor *like, gaba_nn_dtype dt, float scale,
                      int32_t zp) {
    gaba_zoo_qmodel *q = b->q;
    if (q->n_tensors >= b->max_tensors) return -1;
    int i = q->n_tensors++;
    gaba_zoo_tensor *t = &q->tensors[i];
    memset(t, 0, sizeof *t);
    t->name = like->name;
    t->shape = like->shape;
    t->dtype = dt;
    t->bytes = tensor_bytes(&t->shape, dt);
    t->first = t->last = -1;
    q->scale[i] = scale;
    q->zp[i] = zp;
    b->i8_of[i] = dt == GABA_NN_I8 ? i : -1;
    b->f32_of[i] = dt != GABA_NN_I8 ? i : -1;
    return i;
}

static gaba_zoo_qnode *new_node(builder *b, const char *name, gaba_zoo_qkind kind) {
    gaba_zoo_qmodel *q = b->q;
    if (q->n_nodes >= b->max_nodes) return NULL;
    gaba_zoo_qnode *nd = &q->nodes[q->n_nodes++];
    memset(nd, 0, sizeof *nd);
    nd->name = name;
    nd->kind = kind;
    nd->ws = -1;
    return nd;
}

// The int8 (or float) version of tensor t, adding a quantize (dequantize) node.
static int convert(builder *b, int t, int to_i8, int skip_raw) {
    int have = to_i8 ? b->i8_of[t] : b->f32_of[t];
    if (have >= 0) return have;
    gaba_zoo_qmodel *q = b->q;
    int v = new_tensor(b, &q->tensors[t], to_i8 ? GABA_NN_I8 : GABA_NN_F32, q->scale[t], q->zp[t]);
    gaba_zoo_qnode *nd =
        v < 0 ? NULL : new_node(b, "", to_i8 ? GABA_ZOO_Q_QUANTIZE : GABA_ZOO_Q_DEQUANTIZE);
    if (!nd) return -1;
    nd->skip_raw = skip_raw;
    nd->n_in = 1;
    nd->in[0] = t;
    nd->in_shape[0] = q->tensors[t].shape;
    nd->out = v;
    nd->scale = q->scale[t];
    nd->zp = q->zp[t];
    if (to_i8) {
        // A model input is not bound in raw mode: float readers dequantize the edge.
        b->i8_of[t] = v, b->i8_of[v] = v, b->f32_of[v] = q->tensors[t].kind == 1 ? -1 : t;
    } else {
        b->f32_of[t] = v, b->f32_of[v] = v, b->i8_of[v] = t;
    }
    return v;
}

static gaba_status multiplier(double real, int32_t *m, int32_t *s) {
    return gaba_gemm_quantize_multiplier(real, m, s);
}

// The next block of the weights: float weights 64-byte aligned (as the float
// model's), the int8 layers' arrays 16 (their kernels load them unaligned).
static void *take(builder *b, int64_t bytes, int64_t align) {
    int64_t off = (int64_t)(b->wp - b->q->weights);
    void *p = b->q->weights + (off + align - 1) / align * align;
    b->wp = (unsigned char *)p + bytes;
    return p;
}

// Ops whose int8 output keeps the input's parameters (values are moved, or
// blended with weights summing to 1 as bilinear upsampling's, not computed anew).
static int passes_params(const gaba_nn_layer *l) {
    gaba_nn_op op = l->op;
    return op == GABA_NN_MAXPOOL || op == GABA_NN_AVGPOOL || op == GABA_NN_GLOBAL_AVGPOOL ||
           op == GABA_NN_GLOBAL_MAXPOOL || op == GABA_NN_RESHAPE || op == GABA_NN_FLATTEN ||
           op == GABA_NN_TRANSPOSE || op == GABA_NN_UPSAMPLE ||
           (op == GABA_NN_ACT && !gaba_qnn_is_lut_act(l->act));
}

// One output channel: its per weights fw quantized symmetrically into w (the
// largest magnitude maps to 127, or on the grid of a given scale > 0; scale 1 for
// a zero row), its bias fb as int32 in units of in_scale * w_scale. Returns
// in_scale * w_scale.
static double quantize_row(const gaba_qnn_layer *ql, const float *fw, float fb, int64_t per,
                           float given, int8_t *w, int32_t *bias, float *w_scale) {
    float amax = 0.0f;
    for (int64_t k = 0; k < per; k++) {
        float a = fabsf(fw[k]);
        amax = a > amax ? a : amax;
    }
    double ws = given > 0.0f && isfinite(given) ? (double)given
                : amax > 0.0f && isfinite(amax) ? amax / 127.0
                                                : 1.0;
    *w_scale = (float)ws;
    for (int64_t k = 0; k < per; k++) {
        double v = round(fw[k] / ws);
        w[k] = (int8_t)(v < -127 ? -127 : v > 127 ? 127 : v != v ? 0 : v);
    }
    double bs = (double)ql->in_scale[0] * ws, bq = round(fb / bs);
    *bias = (int32_t)(bq != bq             ? 0
                      : bq < -2147483647.0 ? -2147483647.0
                      : bq > 2147483647.0  ? 2147483647.0
                                           : bq);
    return bs;
}

// co channels of per weights each (fw, fb) into int8 arrays (qw), with ql's input
// and output parameters.
static gaba_status quantize_channels(builder *b, int64_t co, int64_t per, const float *fw,
                                     const float *fb, const float *given, const gaba_qnn_layer *ql,
                                     float *wscale, gaba_qnn_weights *qw) {
    int8_t *w = take(b, co * per, 16);
    // the three per-channel int32 arrays in one block (one alignment pad, not three)
    int32_t *bias = take(b, 3 * co * 4, 16), *mult = bias + co, *shift = mult + co;
    for (int64_t c = 0; c < co; c++) {
        double bs = quantize_row(ql, fw + c * per, fb[c], per, given ? given[c] : 0.0f, w + c * per,
                                 &bias[c], &wscale[c]);
        if (b->q->requant == GABA_QNN_REQUANT_FP32) { // in float32, as ONNX Runtime computes it
            gaba_qnn_fp32_multiplier(ql->in_scale[0] * wscale[c] / ql->out_scale, &mult[c],
                                     &shift[c]);
            continue;
        }
        gaba_status st = multiplier(bs / ql->out_scale, &mult[c], &shift[c]);
        if (st != GABA_OK) return st;
    }
    qw->w = w, qw->bias = bias, qw->mult = mult, qw->shift = shift;
    return GABA_OK;
}

// The int8 GRU (qnn.h): W_ih's rows as conv channels (unpacked, in b->scratch), the
// float recurrence's W_hh and b_hh; w_scale gets W_ih's 3H row scales.
static gaba_status quantize_gru(builder *b, int n, gaba_zoo_qnode *nd, gaba_qnn_weights *qw) {
    const gaba_zoo_node *fn = &b->m->nodes[n];
    const int64_t f = fn->in_shape[0].d[0], hd = fn->layer.p[0], g3 = 3 * hd;
    const float *w_ih = fn->w[0], *b_ih = fn->w[2];
    const gaba_qnn_layer *ql = &nd->q;
    int8_t *plain = b->scratch = malloc((size_t)(g3 * f));
    float *w_scale = nd->w_scale = malloc((size_t)g3 * sizeof(float));
    if (!plain || !w_scale) return GABA_ERR_NOMEM;
    int32_t *bias = take(b, g3 * 4, 16);
    float *acc_scale = take(b, 2 * g3 * 4, 16), *b_hh = acc_scale + g3;
    for (int64_t j = 0; j < g3; j++)
        acc_scale[j] = (float)quantize_row(ql, w_ih + j * f, b_ih[j], f, 0.0f, plain + j * f,
                                           &bias[j], &w_scale[j]);
    memcpy(b_hh, fn->w[3], (size_t)g3 * sizeof(float));
    qw->w = plain, qw->bias = bias, qw->acc_scale = acc_scale, qw->w_hh = fn->w[1], qw->b_hh = b_hh;
    return GABA_OK;
}

static int64_t gru_bytes(const gaba_zoo_node *fn) { // bias, acc_scale and b_hh
    return 2 * 16 + 3 * (4 * 3 * fn->layer.p[0]);
}

// conv and dense: their co channels
static gaba_status quantize_weights(builder *b, int n, gaba_zoo_qnode *nd, gaba_qnn_weights *qw) {
    const gaba_zoo_node *fn = &b->m->nodes[n];
    int64_t co = fn->plan.weight_shapes[1].d[0];
    if (!(nd->w_scale = malloc((size_t)co * sizeof(float)))) return GABA_ERR_NOMEM;
    const float *given = b->given && b->given->w_scale ? b->given->w_scale[n] : NULL;
    return quantize_channels(b, co, gaba_nn_numel(&fn->plan.weight_shapes[0]) / co, fn->w[0],
                             fn->w[1], given, &nd->q, nd->w_scale, qw);
}

static int64_t weights_bytes(const gaba_zoo_node *fn) { // w, then bias, mult and shift
    return 2 * 16 + gaba_nn_numel(&fn->plan.weight_shapes[0]) +
           3 * 4 * fn->plan.weight_shapes[1].d[0];
}

// The int8 attention (qnn.h) of node n: ranges[0..4] the calibrated q, k, v,
// scores and ctx; w_scale gets W_qkv's 3dk then W_o's d channel scales.
static gaba_status quantize_attention(builder *b, int n, gaba_zoo_qnode *nd, gaba_qnn_weights *qw) {
    const gaba_zoo_node *fn = &b->m->nodes[n];
    gaba_qnn_layer *ql = &nd->q;
    const float *lo = b->tmin + b->m->n_tensors + GABA_ZOO_NODE_RANGES * n;
    const float *hi = b->tmax + b->m->n_tensors + GABA_ZOO_NODE_RANGES * n;
    int64_t d = fn->in_shape[0].d[0], dk = fn->layer.p[0];
    gaba_qnn_attention *a = calloc(1, sizeof *a);
    float *w_scale = nd->w_scale = malloc((size_t)(3 * dk + d) * sizeof(float));
    if (!a || !w_scale) {
        free(a);
        return GABA_ERR_NOMEM;
    }
    ql->attn = qw->attn = a; // freed with the model, whatever happens next
    float s[5];
    int32_t z[5];
    for (int i = 0; i < 5; i++) choose_params(lo[i], hi[i], &s[i], &z[i]);
    gaba_status st = GABA_OK;
    for (int i = 0; i < 4 && st == GABA_OK; i++) {
        gaba_qnn_layer *p = &a->proj[i];
        p->layer = (gaba_nn_layer){.op = GABA_NN_CONV1D, .act = GABA_NN_ACT_NONE};
        p->in_scale[0] = i < 3 ? ql->in_scale[0] : s[4], p->in_zp[0] = i < 3 ? ql->in_zp[0] : z[4];
        p->out_scale = i < 3 ? s[i] : ql->out_scale, p->out_zp = i < 3 ? z[i] : ql->out_zp;
        gaba_qnn_weights pw = {0};
        st = i < 3
                 ? quantize_channels(b, dk, d, fn->w[0] + i * dk * d, fn->w[1] + i * dk, NULL, p,
                                     w_scale + i * dk, &pw)
                 : quantize_channels(b, d, dk, fn->w[2], fn->w[3], NULL, p, w_scale + 3 * dk, &pw);
        p->w = pw.w, p->bias = pw.bias, p->mult = pw.mult, p->shift = pw.shift;
    }
    a->score_scale = s[3], a->score_zp = z[3];
    return st;
}

static int64_t attention_bytes(const gaba_zoo_node *fn) { // four projections as conv's
    int64_t d = fn->in_shape[0].d[0], dk = fn->layer.p[0];
    return 4 * (2 * 16) + 4 * dk * d + 3 * 4 * (3 * dk + d);
}

// The embedding table quantized with the output's parameters, chosen from the
// whole table's range (calibration sees only the rows its ids touch): the
// int8 op is then the float op's gather.
static gaba_status quantize_table(builder *b, int n, gaba_zoo_qnode *nd, gaba_qnn_weights *qw) {
    const gaba_zoo_node *fn = &b->m->nodes[n];
    gaba_zoo_qmodel *q = b->q;
    gaba_qnn_layer *ql = &nd->q;
    const int out = nd->out;
    int64_t cnt = gaba_nn_numel(&fn->plan.weight_shapes[0]);
    const float *ft = fn->w[0];
    float lo = INFINITY, hi = -INFINITY;
    gaba_zoo_minmax(ft, cnt, &lo, &hi);
    choose_params(lo, hi, &q->scale[out], &q->zp[out]);
    ql->out_scale = q->scale[out], ql->out_zp = q->zp[out];
    int8_t *t = take(b, cnt, 16);
    for (int64_t i = 0; i < cnt; i++) {
        double v = round((double)ft[i] / ql->out_scale) + ql->out_zp;
        t[i] = (int8_t)(v != v ? ql->out_zp : v < -128 ? -128 : v > 127 ? 127 : v);
    }
    qw->w = t;
    return GABA_OK;
}

static int64_t table_bytes(const gaba_zoo_node *fn) {
    return 16 + gaba_nn_numel(&fn->plan.weight_shapes[0]);
}

// LayerNorm's gamma and beta stay float32: gaba_qnn_layer_init scales them.
static gaba_status pass_layer_norm(builder *b, int n, gaba_zoo_qnode *nd, gaba_qnn_weights *qw) {
    (void)nd;
    qw->gamma = b->m->nodes[n].w[0], qw->beta = b->m->nodes[n].w[1];
    return GABA_OK;
}

// How an op's float weights become int8 ones: quantize fills qw (its arrays in the
// model's weights) and nd->w_scale from node n's; bytes: at most what it takes of the
// weights. A row per op with weights.
typedef struct weight_quantizer {
    gaba_status (*quantize)(builder *b, int n, gaba_zoo_qnode *nd, gaba_qnn_weights *qw);
    int64_t (*bytes)(const gaba_zoo_node *fn);
} weight_quantizer;

static const weight_quantizer quantizers[GABA_NN_OP_COUNT] = {
    [GABA_NN_CONV2D] = {quantize_weights, weights_bytes},
    [GABA_NN_CONV1D] = {quantize_weights, weights_bytes},
    [GABA_NN_DENSE] = {quantize_weights, weights_bytes},
    [GABA_NN_EMBEDDING] = {quantize_table, table_bytes},
    [GABA_NN_GRU] = {quantize_gru, gru_bytes},
    [GABA_NN_ATTENTION] = {quantize_attention, attention_bytes},
    [GABA_NN_LAYER_NORM] = {pass_layer_norm, NULL},
};

// At most the bytes of node nd's weights in the int8 model: its int8 weights,
// int32 bias and multipliers, the arrays gaba_qnn_layer_init derives, the pads;
// its float32 weights when it runs in float32 (no int8 kernel, or `keep`).
static int64_t node_weight_bytes(const gaba_zoo_node *nd, int keep) {
    int64_t bytes = 0;
    if (!keep && (gaba_qnn_supported(&nd->layer) || gaba_zoo_lut_split(&nd->layer))) {
        gaba_nn_layer l = nd->layer, act = {.op = GABA_NN_ACT, .act = l.act};
        if (gaba_zoo_lut_split(&l)) { // the conv, then its table node
            l.act = GABA_NN_ACT_NONE;
            bytes += gaba_qnn_layer_bytes(&act, 1, &nd->plan.out, NULL);
        }
        bytes += gaba_qnn_layer_bytes(&l, nd->n_in, nd->in_shape, NULL) + 2 * 64;
        return bytes + (quantizers[l.op].bytes ? quantizers[l.op].bytes(nd) : 0);
    }
    for (int w = 0; w < nd->plan.n_weights; w++)
        bytes += ALIGN64(gaba_nn_numel(&nd->plan.weight_shapes[w]) * 4);
    return bytes;
}

// Completes ql (gaba_qnn_layer_init) with what it derives in the next block of the weights.
static gaba_status init_layer(builder *b, gaba_qnn_layer *ql, int n_in, const gaba_nn_shape *in,
                              const gaba_qnn_weights *qw) {
    int64_t align, used, bytes = gaba_qnn_layer_bytes(&ql->layer, n_in, in, &align);
    if (bytes < 0) return GABA_ERR_NO_IMPL;
    unsigned char *buf = bytes ? take(b, 0, align) : NULL; // as much as init uses
    gaba_status st = gaba_qnn_layer_init(ql, n_in, in, qw, b->q->requant, buf, &used);
    b->wp += used;
    return st;
}

static gaba_status add_layer(builder *b, int n) {
    gaba_zoo_qmodel *q = b->q;
    const gaba_zoo_node *fn = &b->m->nodes[n];
    int keep = b->keep_float && b->keep_float[n];
    int split = !keep && gaba_zoo_lut_split(&fn->layer);
    int int8 = !keep && (gaba_qnn_supported(&fn->layer) || split);
    int embed = fn->layer.op == GABA_NN_EMBEDDING; // its int32 ids are read as they are
    for (int j = 0; j < fn->n_in; j++)
        if (q->tensors[fn->in[j]].dtype == GABA_NN_I32 && !embed) int8 = 0;
    int in[GABA_NN_MAX_INPUTS];
    for (int j = 0; j < fn->n_in; j++) {
        int t = fn->in[j];
        if (embed && int8) {
            in[j] = t;
            continue;
        }
        // Model inputs are read through their quantized edge (raw mode binds it).
        if (q->tensors[t].kind == 1 && q->tensors[t].dtype == GABA_NN_F32 && !int8)
            t = convert(b, t, 1, 1);
        if (t < 0 || (in[j] = convert(b, t, int8, q->tensors[t].kind == 1)) < 0)
            return GABA_ERR_NOMEM;
    }
    int out = fn->out;
    gaba_zoo_tensor *to = &q->tensors[out];
    if (int8) {
        if (passes_params(&fn->layer)) q->scale[out] = q->scale[in[0]], q->zp[out] = q->zp[in[0]];
        if (fn->layer.op == GABA_NN_SOFTMAX) // the parameters TFLite's int8 softmax requires
            q->scale[out] = 1.0f / 256, q->zp[out] = -128;
        to->dtype = GABA_NN_I8;
        to->bytes = tensor_bytes(&to->shape, GABA_NN_I8);
        b->i8_of[out] = out, b->f32_of[out] = -1;
    }
    if (int8 && split) {
        // the conv writes the pre-activation tensor, the table node the output
        float s;
        int32_t z;
        int r = b->m->n_tensors + GABA_ZOO_NODE_RANGES * n;
        choose_params(b->tmin[r], b->tmax[r], &s, &z);
        out = new_tensor(b, to, GABA_NN_I8, s, z);
        if (out < 0) return GABA_ERR_NOMEM;
    }
    gaba_zoo_qnode *nd = new_node(b, fn->name, int8 ? GABA_ZOO_Q_INT8 : GABA_ZOO_Q_FLOAT);
    if (!nd) return GABA_ERR_NOMEM;
    nd->n_in = fn->n_in;
    for (int j = 0; j < fn->n_in; j++) nd->in[j] = in[j], nd->in_shape[j] = fn->in_shape[j];
    nd->out = out;
    int64_t ws = 0;
    if (int8) {
        gaba_qnn_layer *ql = &nd->q;
        ql->layer = fn->layer;
        if (split) ql->layer.act = GABA_NN_ACT_NONE;
        for (int j = 0; j < fn->n_in; j++)
            ql->in_scale[j] = q->scale[in[j]], ql->in_zp[j] = q->zp[in[j]];
        ql->out_scale = q->scale[out], ql->out_zp = q->zp[out];
        gaba_qnn_weights qw = {0}; // the int8 weights quantized from the float ones
        const weight_quantizer *wq = &quantizers[fn->layer.op];
        gaba_status st = wq->quantize ? wq->quantize(b, n, nd, &qw) : GABA_OK;
        if (st == GABA_OK) st = init_layer(b, ql, nd->n_in, nd->in_shape, &qw);
        free(b->scratch);
        b->scratch = NULL;
        if (st != GABA_OK) return st;
        gaba_nn_shape shape;
        st = gaba_qnn_prepare(ql, nd->n_in, nd->in_shape, &shape, &ws);
        if (st != GABA_OK) return st;
        q->n_int8++;
    } else {
        nd->layer = fn->layer;
        nd->plan = fn->plan;
        for (int w = 0; w < fn->plan.n_weights; w++) {
            int64_t cnt = gaba_nn_numel(&fn->plan.weight_shapes[w]);
            float *dst = take(b, cnt * 4, 64);
            memcpy(dst, fn->w[w], (size_t)cnt * 4);
            nd->w[w] = dst;
        }
        ws = fn->plan.workspace * 4;
        q->n_float++;
    }
    if (ws > 0) {
        gaba_zoo_tensor like = {.name = "workspace", .shape = {1, {(int32_t)ws}}};
        int t = new_tensor(b, &like, GABA_NN_I8, 1.0f, 0);
        if (t < 0) return GABA_ERR_NOMEM;
        q->tensors[t].kind = 3;
        nd->ws = t;
    }
    if (int8 && split) {
        gaba_zoo_qnode *act = new_node(b, fn->name, GABA_ZOO_Q_INT8);
        if (!act) return GABA_ERR_NOMEM;
        act->n_in = 1, act->in[0] = out, act->in_shape[0] = q->tensors[out].shape;
        act->out = fn->out;
        gaba_qnn_layer *ql = &act->q;
        ql->layer = (gaba_nn_layer){.op = GABA_NN_ACT, .act = fn->layer.act};
        ql->in_scale[0] = q->scale[out], ql->in_zp[0] = q->zp[out];
        ql->out_scale = q->scale[fn->out], ql->out_zp = q->zp[fn->out];
        gaba_status st = init_layer(b, ql, 1, act->in_shape, &(gaba_qnn_weights){0});
        if (st != GABA_OK) return st;
    }
    return GABA_OK;
}

void gaba_zoo_qmodel_free(gaba_zoo_qmodel *q) {
    if (!q) return;
    for (int i = 0; i < q->n_arenas; i++) {
        if (q->arenas) gaba_aligned_free(q->arenas[i]);
        if (q->ptrs) free(q->ptrs[i]);
    }
    free(q->arenas);
    free(q->ptrs);
    gaba_aligned_free(q->weights);
    for (int n = 0; q->nodes && n < q->n_nodes; n++) {
        free(q->nodes[n].w_scale);
        free((void *)q->nodes[n].q.attn); // quantize_attention's
    }
    free(q->nodes);
    free(q->tensors);
    free(q->scale);
    free(q->zp);
    free(q->raw_in);
    free(q->raw_out);
    free(q->node_seconds);
    memset(q, 0, sizeof *q);
}

static gaba_status build(builder *b, const float *tmin, const float *tmax) {
    gaba_zoo_qmodel *q = b->q;
    const gaba_zoo_model *m = b->m;
    // The float model's tensors keep their indices.
    for (int i = 0; i < m->n_tensors; i++) {
        const gaba_zoo_tensor *ft = &m->tensors[i];
        float s;
        int32_t z;
        choose_params(tmin[i], tmax[i], &s, &z);
        if (b->given && b->given->scale && b->given->scale[i] > 0.0f)
            s = b->given->scale[i], z = b->given->zp[i];
        int t = new_tensor(b, ft, ft->dtype, s, z);
        if (t < 0) return GABA_ERR_NOMEM;
        q->tensors[t].kind = ft->kind == 3 ? 0 : ft->kind; // workspaces are re-made per node
        q->tensors[t].io_index = ft->io_index;
        q->tensors[t].bytes = ft->kind == 3 ? 0 : ft->bytes;
    }
    // Outputs are computed into internal tensors; the edge nodes fill the caller's.
    int out_of[16];
    if (m->def->n_outputs > 16) return GABA_ERR_ARG;
    for (int i = 0; i < m->n_tensors; i++)
        if (q->tensors[i].kind == 2) q->tensors[i].kind = 0, out_of[q->tensors[i].io_index] = i;
    for (int i = 0; i < m->n_tensors; i++)
        if (q->tensors[i].kind == 1)
            q->raw_in[q->tensors[i].io_index] =
                q->tensors[i].dtype == GABA_NN_F32 ? convert(b, i, 1, 1) : i;
    for (int n = 0; n < m->n_nodes; n++) {
        gaba_status st = add_layer(b, n);
        if (st != GABA_OK) return st;
    }
    for (int o = 0; o < m->def->n_outputs; o++) {
        int t = out_of[o];
        int yq = convert(b, t, 1, 0);
        if (yq < 0) return GABA_ERR_NOMEM;
        q->raw_out[o] = yq;
        gaba_zoo_tensor like = q->tensors[t];
        int yo = new_tensor(b, &like, GABA_NN_F32, q->scale[yq], q->zp[yq]);
        gaba_zoo_qnode *nd = yo < 0 ? NULL : new_node(b, "", GABA_ZOO_Q_DEQUANTIZE);
        if (!nd) return GABA_ERR_NOMEM;
        q->tensors[yo].kind = 2;
        q->tensors[yo].io_index = o;
        nd->skip_raw = 1;
        nd->n_in = 1, nd->in[0] = yq, nd->in_shape[0] = like.shape, nd->out = yo;
        nd->scale = q->scale[yq], nd->zp = q->zp[yq];
    }
    // Lifetimes over the new node order.
    for (int i = 0; i < q->n_tensors; i++) q->tensors[i].first = q->tensors[i].last = -1;
    for (int n = 0; n < q->n_nodes; n++) {
        gaba_zoo_qnode *nd = &q->nodes[n];
        for (int j = 0; j < nd->n_in; j++) q->tensors[nd->in[j]].last = n;
        q->tensors[nd->out].first = n;
        if (q->tensors[nd->out].last < n) q->tensors[nd->out].last = n;
        if (nd->ws >= 0) q->tensors[nd->ws].first = q->tensors[nd->ws].last = n;
    }
    for (int i = 0; i < q->n_tensors; i++) {
        gaba_zoo_tensor *t = &q->tensors[i];
        if (t->kind == 0 && t->first < 0) t->bytes = 0; // never written (a replaced output)
        if (t->kind == 0 && t->first < 0) t->first = t->last = 0;
        if (t->last < t->first) t->last = t->first;
    }
    return GABA_OK;
}

gaba_status gaba_zoo_quantize(gaba_zoo_qmodel *q, const gaba_zoo_model *m, const float *tmin,
                              const float *tmax, int n_threads, gaba_qnn_requant_mode requant,
                              const unsigned char *keep_float) {
    return gaba_zoo_quantize_given(q, m, tmin, tmax, n_threads, requant, keep_float, NULL);
}

gaba_status gaba_zoo_quantize_given(gaba_zoo_qmodel *q, const gaba_zoo_model *m, const float *tmin,
                                    const float *tmax, int n_threads, gaba_qnn_requant_mode requant,
                                    const unsigned char *keep_float, const gaba_zoo_qgiven *given) {
    if (!q || !m || !m->def || !tmin || !tmax) return GABA_ERR_ARG;
    if (given && given->scale && !given->zp) return GABA_ERR_ARG;
    if (requant != GABA_QNN_REQUANT_DOUBLE && requant != GABA_QNN_REQUANT_FP32) return GABA_ERR_ARG;
    memset(q, 0, sizeof *q);
    q->def = m->def;
    q->requant = requant;
    builder b = {q,
                 m,
                 NULL,
                 NULL,
                 4 * m->n_tensors + 3 * m->n_nodes + 16,
                 4 * m->n_nodes + 2 * m->n_tensors + 16,
                 NULL,
                 tmin,
                 tmax,
                 given,
                 NULL,
                 keep_float};
    int64_t wbytes = 64;
    for (int n = 0; n < m->n_nodes; n++) // + align
        wbytes += node_weight_bytes(&m->nodes[n], keep_float && keep_float[n]) + 64;
    q->tensors = calloc((size_t)b.max_tensors, sizeof *q->tensors);
    q->nodes = calloc((size_t)b.max_nodes, sizeof *q->nodes);
    q->scale = calloc((size_t)b.max_tensors, sizeof *q->scale);
    q->zp = calloc((size_t)b.max_tensors, sizeof *q->zp);
    q->raw_in = calloc((size_t)m->def->n_inputs + 1, sizeof(int));
    q->raw_out = calloc((size_t)m->def->n_outputs + 1, sizeof(int));
    b.i8_of = malloc((size_t)b.max_tensors * sizeof(int));
    b.f32_of = malloc((size_t)b.max_tensors * sizeof(int));
    q->weights = gaba_aligned_alloc((size_t)wbytes);
    gaba_status st = GABA_OK;
    if (!q->tensors || !q->nodes || !q->scale || !q->zp || !q->raw_in || !q->raw_out || !b.i8_of ||
        !b.f32_of || !q->weights)
        st = GABA_ERR_NOMEM;
    if (st == GABA_OK) {
        b.wp = q->weights;
        st = build(&b, tmin, tmax);
        q->weight_bytes = (int64_t)(b.wp - q->weights);
    }
    free(b.i8_of);
    free(b.f32_of);
    if (st == GABA_OK) st = gaba_zoo_plan(q->tensors, q->n_tensors, &q->arena_bytes);
    if (st == GABA_OK) {
        q->n_arenas = n_threads < 1 ? 1 : n_threads;
        q->arenas = calloc((size_t)q->n_arenas, sizeof *q->arenas);
        q->ptrs = calloc((size_t)q->n_arenas, sizeof *q->ptrs);
        if (!q->arenas || !q->ptrs) st = GABA_ERR_NOMEM;
        for (int i = 0; st == GABA_OK && i < q->n_arenas; i++) {
            q->arenas[i] = gaba_aligned_alloc((size_t)(q->arena_bytes ? q->arena_bytes : 64));
            q->ptrs[i] = calloc((size_t)q->n_tensors, sizeof(void *));
            if (!q->arenas[i] || !q->ptrs[i]) st = GABA_ERR_NOMEM;
        }
    }
    if (st != GABA_OK) gaba_zoo_qmodel_free(q);
    return st;
}

gaba_status gaba_zoo_qnode_weights(const gaba_zoo_qnode *nd, int64_t *c_out, int64_t *k, int8_t *w,
                                   int32_t *bias, float *w_scale) {
    if (!nd || !c_out || !k || nd->kind != GABA_ZOO_Q_INT8 ||
        !gaba_zoo_is_weighted(nd->q.layer.op) || !nd->w_scale)
        return GABA_ERR_ARG;
    gaba_nn_plan plan;
    gaba_status st = gaba_nn_prepare(&nd->q.layer, nd->n_in, nd->in_shape, NULL, &plan);
    if (st != GABA_OK) return st;
    *c_out = plan.weight_shapes[1].d[0];
    *k = gaba_nn_numel(&plan.weight_shapes[0]) / *c_out;
    // The kernels read q.w as it is laid out here; a packed layout would unpack in this copy.
    if (w) memcpy(w, nd->q.w, (size_t)(*c_out * *k));
    if (bias) memcpy(bias, nd->q.bias, (size_t)*c_out * sizeof(int32_t));
    if (w_scale) memcpy(w_scale, nd->w_scale, (size_t)*c_out * sizeof(float));
    return GABA_OK;
}
