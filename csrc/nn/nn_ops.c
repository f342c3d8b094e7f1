// nn_ops.c - prepare and eval of every float32 op (nn.h), reached through
// the op table (ops.c): prepare checks a layer's parameters against its
// input shapes and says what eval needs (output shape, weights, workspace,
// MACs); eval maps the parameters onto the kernel geometry and calls the
// fast kernel, eval_ref the reference one. Mirrors TFLite Micro's
// Prepare/Eval split; nothing here allocates.
#include "ops.h"

#include <string.h>

int64_t gaba_nn_numel(const gaba_nn_shape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++) n *= s->d[i];
    return n;
}

static gaba_nn_shape shp(int ndim, int32_t d0, int32_t d1, int32_t d2) {
    gaba_nn_shape s = {ndim, {d0, d1, d2, 0}};
    return s;
}

static void add_weight(gaba_nn_plan *pl, const char *name, gaba_nn_shape s, int32_t fan_in) {
    int i = pl->n_weights++;
    pl->weight_names[i] = name;
    pl->weight_shapes[i] = s;
    pl->fan_in[i] = fan_in;
}

// Spatial dims of a 2-D op input: (C, H, W) or (C, L) as H = 1.
static int spatial(const gaba_nn_shape *s, int64_t *c, int64_t *h, int64_t *w) {
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

static gaba_status conv_geom(const gaba_nn_layer *l, const gaba_nn_shape *in,
                             gaba_nn_conv_geom *g) {
    const int32_t *p = l->p;
    if (!spatial(in, &g->c, &g->h, &g->w)) return GABA_ERR_SHAPE;
    if ((l->op == GABA_NN_CONV1D) != (in->ndim == 2)) return GABA_ERR_SHAPE;
    g->co = p[0], g->kh = p[1], g->kw = p[2], g->sh = p[3], g->sw = p[4];
    g->pt = p[5], g->pl = p[6], g->dh = p[9] ? p[9] : 1, g->dw = p[10] ? p[10] : 1;
    g->groups = p[11] ? p[11] : 1;
    if (g->co <= 0 || g->kh <= 0 || g->kw <= 0 || g->sh <= 0 || g->sw <= 0 || g->pt < 0 ||
        g->pl < 0 || p[7] < 0 || p[8] < 0 || g->dh <= 0 || g->dw <= 0 || g->groups <= 0)
        return GABA_ERR_ARG;
    if (g->c % g->groups || g->co % g->groups) return GABA_ERR_SHAPE;
    int64_t eh = g->h + g->pt + p[7] - g->dh * (g->kh - 1) - 1;
    int64_t ew = g->w + g->pl + p[8] - g->dw * (g->kw - 1) - 1;
    if (eh < 0 || ew < 0) return GABA_ERR_SHAPE;
    g->ho = eh / g->sh + 1, g->wo = ew / g->sw + 1;
    // the output and a weight row fit int32 shapes (so the MACs and workspaces fit int64)
    if (g->ho > INT32_MAX || g->wo > INT32_MAX || g->ho * g->wo > INT32_MAX / g->co ||
        g->kh * g->kw > INT32_MAX / (g->c / g->groups))
        return GABA_ERR_ARG;
    return GABA_OK;
}

static gaba_status pool_geom(const gaba_nn_layer *l, const gaba_nn_shape *in,
                             gaba_nn_pool_geom *g) {
    const int32_t *p = l->p;
    if (!spatial(in, &g->c, &g->h, &g->w)) return GABA_ERR_SHAPE;
    g->kh = p[0], g->kw = p[1], g->sh = p[2], g->sw = p[3], g->pt = p[4], g->pl = p[5];
    if (g->kh <= 0 || g->kw <= 0 || g->sh <= 0 || g->sw <= 0 || g->pt < 0 || g->pl < 0 ||
        p[6] < 0 || p[7] < 0 || g->pt >= g->kh || g->pl >= g->kw)
        return GABA_ERR_ARG;
    int64_t eh = g->h + g->pt + p[6] - g->kh, ew = g->w + g->pl + p[7] - g->kw;
    if (eh < 0 || ew < 0) return GABA_ERR_SHAPE;
    g->ho = eh / g->sh + 1, g->wo = ew / g->sw + 1;
    if (g->ho > INT32_MAX || g->wo > INT32_MAX || g->kh * g->kw > INT32_MAX) return GABA_ERR_ARG;
    return GABA_OK;
}

gaba_status gaba_nn_conv_geom_get(const gaba_nn_layer *l, const gaba_nn_shape *in,
                                  gaba_nn_conv_geom *g) {
    return conv_geom(l, in, g);
}

gaba_status gaba_nn_pool_geom_get(const gaba_nn_layer *l, const gaba_nn_shape *in,
                                  gaba_nn_pool_geom *g) {
    return pool_geom(l, in, g);
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

gaba_status gaba_nn_conv_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                 gaba_nn_plan *pl) {
    (void)n_in;
    const int32_t *p = l->p;
    gaba_nn_conv_geom g;
    gaba_status st = conv_geom(l, x, &g);
    if (st != GABA_OK) return st;
    if (l->op == GABA_NN_CONV1D && (g.kh != 1 || g.sh != 1 || g.pt || p[7])) return GABA_ERR_ARG;
    pl->out = l->op == GABA_NN_CONV1D ? shp(2, g.co, g.wo, 0) : shp(3, g.co, g.ho, g.wo);
    int32_t fan = (int32_t)(g.c / g.groups * g.kh * g.kw);
    add_weight(pl, "weight",
               l->op == GABA_NN_CONV1D ? shp(3, g.co, g.c / g.groups, g.kw)
                                       : (gaba_nn_shape){4, {g.co, g.c / g.groups, g.kh, g.kw}},
               fan);
    add_weight(pl, "bias", shp(1, g.co, 0, 0), 0);
    pl->workspace = gaba_nn_conv2d_workspace(&g);
    pl->macs = g.co * g.ho * g.wo * (int64_t)fan;
    return GABA_OK;
}

gaba_status gaba_nn_dense_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                  gaba_nn_plan *pl) {
    (void)n_in;
    int64_t numel = gaba_nn_numel(x);
    if (l->p[0] <= 0 || numel > INT32_MAX) return GABA_ERR_ARG;
    pl->out = shp(1, l->p[0], 0, 0);
    add_weight(pl, "weight", shp(2, l->p[0], (int32_t)numel, 0), (int32_t)numel);
    add_weight(pl, "bias", shp(1, l->p[0], 0, 0), 0);
    pl->macs = l->p[0] * numel;
    return GABA_OK;
}

gaba_status gaba_nn_embedding_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                      gaba_nn_plan *pl) {
    (void)n_in;
    if (l->p[0] <= 0 || l->p[1] <= 0) return GABA_ERR_ARG;
    if (x->ndim != 1) return GABA_ERR_SHAPE;
    pl->out = shp(2, l->p[0], x->d[0], 0);
    add_weight(pl, "table", shp(2, l->p[1], l->p[0], 0), 1);
    return GABA_OK;
}

gaba_status gaba_nn_batchnorm_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                      gaba_nn_plan *pl) {
    (void)l, (void)n_in;
    pl->out = *x;
    add_weight(pl, "scale", shp(1, x->d[0], 0, 0), 0);
    add_weight(pl, "shift", shp(1, x->d[0], 0, 0), 0);
    pl->macs = gaba_nn_numel(x);
    return GABA_OK;
}

gaba_status gaba_nn_same_shape_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                       gaba_nn_plan *pl) {
    (void)l, (void)n_in;
    pl->out = *x;
    return GABA_OK;
}

gaba_status gaba_nn_pool_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                 gaba_nn_plan *pl) {
    (void)n_in;
    gaba_nn_pool_geom g;
    gaba_status st = pool_geom(l, x, &g);
    if (st != GABA_OK) return st;
    if (x->ndim == 2 && (g.kh != 1 || g.sh != 1 || g.pt || l->p[6])) return GABA_ERR_ARG;
    pl->out = x->ndim == 2 ? shp(2, g.c, g.wo, 0) : shp(3, g.c, g.ho, g.wo);
    pl->macs = gaba_nn_numel(&pl->out) * g.kh * g.kw;
    return GABA_OK;
}

gaba_status gaba_nn_global_pool_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                        gaba_nn_plan *pl) {
    (void)l, (void)n_in;
    if (x->ndim < 2) return GABA_ERR_SHAPE;
    pl->out = shp(1, x->d[0], 0, 0);
    pl->macs = gaba_nn_numel(x);
    return GABA_OK;
}

gaba_status gaba_nn_upsample_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                     gaba_nn_plan *pl) {
    (void)n_in;
    const int32_t *p = l->p;
    int64_t c, h, w;
    if (!spatial(x, &c, &h, &w)) return GABA_ERR_SHAPE;
    if (p[0] <= 0 || p[1] <= 0 || p[2] < 0 || p[2] > 1 || (x->ndim == 2 && p[0] != 1) ||
        h * p[0] > INT32_MAX || w * p[1] > INT32_MAX)
        return GABA_ERR_ARG;
    pl->out = x->ndim == 2 ? shp(2, (int32_t)c, (int32_t)(w * p[1]), 0)
                           : shp(3, (int32_t)c, (int32_t)(h * p[0]), (int32_t)(w * p[1]));
    return GABA_OK;
}

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

gaba_status gaba_nn_binary_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *in,
                                   gaba_nn_plan *pl) {
    (void)l, (void)n_in;
    if (!same_shape(&in[0], &in[1]) && !per_channel(&in[0], &in[1])) return GABA_ERR_SHAPE;
    pl->out = in[0];
    return GABA_OK;
}

gaba_status gaba_nn_reshape_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                    gaba_nn_plan *pl) {
    (void)n_in;
    const int32_t *p = l->p;
    int64_t numel = gaba_nn_numel(x);
    if (p[0] < 1 || p[0] > GABA_NN_MAX_DIMS) return GABA_ERR_ARG;
    gaba_nn_shape s = {p[0], {0}};
    int64_t known = 1;
    int free_axis = -1;
    for (int i = 0; i < p[0]; i++) {
        s.d[i] = p[1 + i];
        if (s.d[i] == -1 && free_axis < 0)
            free_axis = i;
        else if (s.d[i] <= 0)
            return GABA_ERR_ARG;
        else
            known *= s.d[i];
    }
    if (free_axis >= 0) {
        if (numel % known) return GABA_ERR_SHAPE;
        s.d[free_axis] = (int32_t)(numel / known);
    }
    if (gaba_nn_numel(&s) != numel) return GABA_ERR_SHAPE;
    pl->out = s;
    return GABA_OK;
}

gaba_status gaba_nn_flatten_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                    gaba_nn_plan *pl) {
    (void)l, (void)n_in;
    pl->out = shp(1, (int32_t)gaba_nn_numel(x), 0, 0);
    return GABA_OK;
}

gaba_status gaba_nn_transpose_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                      gaba_nn_plan *pl) {
    (void)l, (void)n_in;
    if (x->ndim != 2) return GABA_ERR_SHAPE;
    pl->out = shp(2, x->d[1], x->d[0], 0);
    return GABA_OK;
}

gaba_status gaba_nn_gru_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                gaba_nn_plan *pl) {
    (void)n_in;
    if (x->ndim != 2 || l->p[0] <= 0 || l->p[0] > INT32_MAX / 3) return GABA_ERR_ARG;
    int32_t f = x->d[0], t = x->d[1], h = l->p[0];
    pl->out = l->p[1] ? shp(2, h, t, 0) : shp(1, h, 0, 0);
    add_weight(pl, "w_ih", shp(2, 3 * h, f, 0), -f); // negative fan: Glorot-like 1/fan
    add_weight(pl, "w_hh", shp(2, 3 * h, h, 0), -h);
    add_weight(pl, "b_ih", shp(1, 3 * h, 0, 0), 0);
    add_weight(pl, "b_hh", shp(1, 3 * h, 0, 0), 0);
    pl->workspace = gaba_nn_gru_workspace(f, t, h);
    pl->macs = (int64_t)t * 3 * h * (f + h);
    return GABA_OK;
}

gaba_status gaba_nn_attention_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                      gaba_nn_plan *pl) {
    (void)n_in;
    if (x->ndim != 2 || l->p[0] <= 0 || l->p[0] > INT32_MAX / 3) return GABA_ERR_ARG;
    int32_t d = x->d[0], len = x->d[1], dk = l->p[0];
    pl->out = *x;
    add_weight(pl, "w_qkv", shp(2, 3 * dk, d, 0), -d);
    add_weight(pl, "b_qkv", shp(1, 3 * dk, 0, 0), 0);
    add_weight(pl, "w_o", shp(2, d, dk, 0), -dk);
    add_weight(pl, "b_o", shp(1, d, 0, 0), 0);
    pl->workspace = gaba_nn_attention_workspace(d, len, dk);
    pl->macs = (int64_t)len * 3 * dk * d + 2 * (int64_t)len * len * dk + (int64_t)len * dk * d;
    return GABA_OK;
}

gaba_status gaba_nn_eval(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *in,
                         const void *const *x, const gaba_nn_plan *pl, const float *const *w,
                         void *y, float *ws, gaba_nn_impl impl) {
    (void)pl;
    if ((unsigned)l->op >= GABA_NN_OP_COUNT) return GABA_ERR_ARG;
    const gaba_nn_op_def *op = &gaba_nn_ops[l->op];
    return (impl == GABA_NN_IMPL_REF ? op->eval_ref : op->eval)(l, n_in, in, x, w, y, ws);
}

// The evals' arguments: the layer, its inputs (x, their shapes in), weights w,
// output y, workspace ws; X/Y the first input and the output as float32.
#define EVAL_ARGS                                                                                  \
    const gaba_nn_layer *l, int n_in, const gaba_nn_shape *in, const void *const *x,               \
        const float *const *w, void *y, float *ws
#define X ((const float *)x[0])
#define Y ((float *)y)

gaba_status gaba_nn_conv_eval(EVAL_ARGS) {
    (void)n_in;
    gaba_nn_conv_geom g;
    gaba_status st = conv_geom(l, &in[0], &g);
    return st != GABA_OK ? st : gaba_nn_conv2d_f32(&g, X, w[0], w[1], Y, ws, l->act);
}

gaba_status gaba_nn_conv_eval_ref(EVAL_ARGS) {
    (void)n_in, (void)ws;
    gaba_nn_conv_geom g;
    gaba_status st = conv_geom(l, &in[0], &g);
    if (st == GABA_OK) gaba_nn_conv2d_f32_ref(&g, X, w[0], w[1], Y, l->act);
    return st;
}

gaba_status gaba_nn_dense_eval(EVAL_ARGS) {
    (void)n_in, (void)ws;
    return gaba_nn_dense_f32(l->p[0], gaba_nn_numel(&in[0]), X, w[0], w[1], Y, l->act);
}

gaba_status gaba_nn_dense_eval_ref(EVAL_ARGS) {
    (void)n_in, (void)ws;
    gaba_nn_dense_f32_ref(l->p[0], gaba_nn_numel(&in[0]), X, w[0], w[1], Y, l->act);
    return GABA_OK;
}

gaba_status gaba_nn_embedding_eval(EVAL_ARGS) {
    (void)n_in, (void)ws;
    return gaba_nn_embedding_f32_ref(in[0].d[0], l->p[0], l->p[1], (const int32_t *)x[0], w[0], Y);
}

gaba_status gaba_nn_batchnorm_eval(EVAL_ARGS) {
    (void)n_in, (void)ws;
    int64_t c = in[0].d[0];
    gaba_nn_batchnorm_f32_ref(c, gaba_nn_numel(&in[0]) / c, X, w[0], w[1], Y, l->act);
    return GABA_OK;
}

gaba_status gaba_nn_act_eval(EVAL_ARGS) {
    (void)n_in, (void)w, (void)ws;
    int64_t numel = gaba_nn_numel(&in[0]);
    memcpy(y, x[0], (size_t)numel * sizeof(float));
    gaba_nn_bias_act_f32(1, numel, Y, NULL, l->act);
    return GABA_OK;
}

gaba_status gaba_nn_act_eval_ref(EVAL_ARGS) {
    (void)n_in, (void)w, (void)ws;
    int64_t numel = gaba_nn_numel(&in[0]);
    memcpy(y, x[0], (size_t)numel * sizeof(float));
    gaba_nn_act_f32_ref(Y, numel, l->act);
    return GABA_OK;
}

gaba_status gaba_nn_softmax_eval(EVAL_ARGS) {
    (void)l, (void)n_in, (void)w, (void)ws;
    int64_t n = in[0].d[in[0].ndim - 1];
    gaba_nn_table.softmax(gaba_nn_numel(&in[0]) / n, n, X, Y);
    return GABA_OK;
}

gaba_status gaba_nn_softmax_eval_ref(EVAL_ARGS) {
    (void)l, (void)n_in, (void)w, (void)ws;
    int64_t n = in[0].d[in[0].ndim - 1];
    gaba_nn_softmax_f32_ref(gaba_nn_numel(&in[0]) / n, n, X, Y);
    return GABA_OK;
}

gaba_status gaba_nn_pool_eval(EVAL_ARGS) {
    (void)n_in, (void)w, (void)ws;
    gaba_nn_pool_geom g;
    gaba_status st = pool_geom(l, &in[0], &g);
    if (st == GABA_OK) gaba_nn_pool_f32(&g, X, Y, l->op == GABA_NN_MAXPOOL);
    return st;
}

gaba_status gaba_nn_pool_eval_ref(EVAL_ARGS) {
    (void)n_in, (void)w, (void)ws;
    gaba_nn_pool_geom g;
    gaba_status st = pool_geom(l, &in[0], &g);
    if (st == GABA_OK)
        (l->op == GABA_NN_MAXPOOL ? gaba_nn_maxpool_f32_ref : gaba_nn_avgpool_f32_ref)(&g, X, Y);
    return st;
}

// the fast pooling's one window over each plane, seen as a 1 x s row
gaba_status gaba_nn_global_pool_eval(EVAL_ARGS) {
    (void)n_in, (void)w, (void)ws;
    int64_t c = in[0].d[0], s = gaba_nn_numel(&in[0]) / c;
    gaba_nn_pool_geom g = {
        .c = c, .h = 1, .w = s, .ho = 1, .wo = 1, .kh = 1, .kw = s, .sh = 1, .sw = s};
    gaba_nn_pool_f32(&g, X, Y, l->op == GABA_NN_GLOBAL_MAXPOOL);
    return GABA_OK;
}

gaba_status gaba_nn_global_pool_eval_ref(EVAL_ARGS) {
    (void)n_in, (void)w, (void)ws;
    int64_t c = in[0].d[0];
    gaba_nn_global_pool_f32_ref(c, gaba_nn_numel(&in[0]) / c, X, Y,
                                l->op == GABA_NN_GLOBAL_MAXPOOL);
    return GABA_OK;
}

// (C, H, W) or (C, L) as H = 1
#define UPSAMPLE_GEOM in[0].d[0], in[0].ndim == 3 ? in[0].d[1] : 1, in[0].d[in[0].ndim - 1]

gaba_status gaba_nn_upsample_eval(EVAL_ARGS) {
    (void)n_in, (void)w, (void)ws;
    gaba_nn_upsample_f32(UPSAMPLE_GEOM, l->p[0], l->p[1], l->p[2], X, Y);
    return GABA_OK;
}

gaba_status gaba_nn_upsample_eval_ref(EVAL_ARGS) {
    (void)n_in, (void)w, (void)ws;
    gaba_nn_upsample_f32_ref(UPSAMPLE_GEOM, l->p[0], l->p[1], l->p[2], X, Y);
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

gaba_status gaba_nn_copy_eval(EVAL_ARGS) {
    (void)l, (void)n_in, (void)w, (void)ws;
    memcpy(y, x[0], (size_t)gaba_nn_numel(&in[0]) * sizeof(float));
    return GABA_OK;
}

gaba_status gaba_nn_transpose_eval(EVAL_ARGS) {
    (void)l, (void)n_in, (void)w, (void)ws;
    gaba_nn_transpose_f32_ref(in[0].d[0], in[0].d[1], X, Y);
    return GABA_OK;
}

#define GRU_ARGS in[0].d[0], in[0].d[1], l->p[0], l->p[1], X, w[0], w[1], w[2], w[3], Y, ws

gaba_status gaba_nn_gru_eval(EVAL_ARGS) {
    (void)n_in;
    return gaba_nn_gru_f32(GRU_ARGS);
}

gaba_status gaba_nn_gru_eval_ref(EVAL_ARGS) {
    (void)n_in;
    gaba_nn_gru_f32_ref(GRU_ARGS);
    return GABA_OK;
}

#define ATTENTION_ARGS in[0].d[0], in[0].d[1], l->p[0], X, w[0], w[1], w[2], w[3], Y, ws

gaba_status gaba_nn_attention_eval(EVAL_ARGS) {
    (void)n_in;
    return gaba_nn_attention_f32(ATTENTION_ARGS);
}

gaba_status gaba_nn_attention_eval_ref(EVAL_ARGS) {
    (void)n_in;
    gaba_nn_attention_f32_ref(ATTENTION_ARGS);
    return GABA_OK;
}
