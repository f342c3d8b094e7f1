// layer.c - an int8 layer completed from its scales and int8 weights
// (gaba_qnn_layer_init): the clamp and rescale every op takes, then what the
// op's row derives (q_init: bias_eff, the GRU's packing, the tables) in the
// caller's buffer. The zoo's quantizer and the single-layer binding both build
// their layers here.
#include "../nn/ops.h"
#include "gaba/gemm.h"

#include <math.h>
#include <string.h>

// The next bytes of buf at an offset rounded up to align (buf's base is aligned
// to the largest such align); NULL while only counting.
static void *carve(gaba_qnn_buf *buf, int64_t bytes, int64_t align) {
    int64_t off = (buf->used + align - 1) / align * align;
    buf->used = off + bytes;
    buf->align = align > buf->align ? align : buf->align;
    return buf->base ? buf->base + off : NULL;
}

// bias - (zp + 128) sum_k w[c, k] of co rows of per weights (gaba_qnn_layer's bias_eff).
static void bias_eff(const int8_t *w, const int32_t *bias, int64_t co, int64_t per, int32_t zp,
                     int32_t *beff) {
    for (int64_t c = 0; c < co; c++) {
        int64_t sum = 0;
        for (int64_t k = 0; k < per; k++) sum += w[c * per + k];
        beff[c] = (int32_t)((uint32_t)bias[c] - (uint32_t)((int64_t)(zp + 128) * sum));
    }
}

// conv and dense: bias_eff over the plan's (co, per) weights
gaba_status gaba_qnn_conv_init(gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in,
                               const gaba_nn_plan *pl, const gaba_qnn_weights *w,
                               gaba_qnn_buf *buf) {
    (void)n_in, (void)in;
    int64_t co = pl->weight_shapes[1].d[0];
    int32_t *beff = carve(buf, co * 4, 16);
    if (!beff) return GABA_OK;
    if (!w->w || !w->bias || !w->mult || !w->shift) return GABA_ERR_ARG;
    bias_eff(w->w, w->bias, co, gaba_nn_numel(&pl->weight_shapes[0]) / co, q->in_zp[0], beff);
    q->bias_eff = beff;
    return GABA_OK;
}

// sigmoid, tanh, hard-swish: their table
gaba_status gaba_qnn_act_init(gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in,
                              const gaba_nn_plan *pl, const gaba_qnn_weights *w,
                              gaba_qnn_buf *buf) {
    (void)n_in, (void)in, (void)pl, (void)w;
    int8_t *lut = gaba_qnn_is_lut_act(q->layer.act) ? carve(buf, 256, 16) : NULL;
    if (lut)
        gaba_qnn_build_lut(q->layer.act, q->in_scale[0], q->in_zp[0], q->out_scale, q->out_zp, lut);
    q->lut = lut;
    return GABA_OK;
}

// the fast concat's tables, when any input is rescaled (counted as if one is)
gaba_status gaba_qnn_concat_init(gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in,
                                 const gaba_nn_plan *pl, const gaba_qnn_weights *w,
                                 gaba_qnn_buf *buf) {
    (void)in, (void)pl, (void)w;
    if (buf->base && !gaba_qnn_concat_rescales(q, n_in)) return GABA_OK;
    int8_t *luts = carve(buf, 256 * n_in, 16);
    if (luts) gaba_qnn_build_concat_luts(q, n_in, luts);
    q->lut = luts;
    return GABA_OK;
}

// W_ih packed, its bias_eff (rows as conv channels), W_hh transposed
gaba_status gaba_qnn_gru_init(gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in,
                              const gaba_nn_plan *pl, const gaba_qnn_weights *w,
                              gaba_qnn_buf *buf) {
    (void)n_in, (void)pl;
    const int64_t f = in[0].d[0], hd = q->layer.p[0];
    int8_t *packed = carve(buf, gaba_qnn_gru_packed_bytes(f, hd), 64);
    float *wt = carve(buf, hd * gaba_qnn_gru_ld(hd) * 4, 64);
    int32_t *beff = carve(buf, 3 * hd * 4, 16);
    if (!beff) return GABA_OK;
    if (!w->w || !w->bias || !w->acc_scale || !w->w_hh || !w->b_hh) return GABA_ERR_ARG;
    gaba_qnn_gru_pack(f, hd, w->w, packed);
    gaba_qnn_gru_transpose(hd, w->w_hh, wt);
    bias_eff(w->w, w->bias, 3 * hd, f, q->in_zp[0], beff);
    q->w = packed, q->bias_eff = beff, q->gru_wt = wt;
    return GABA_OK;
}

// The projections' clamps and bias_eff, the requantization of the scores and the
// context, the exp table.
gaba_status gaba_qnn_attention_init(gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in,
                                    const gaba_nn_plan *pl, const gaba_qnn_weights *w,
                                    gaba_qnn_buf *buf) {
    (void)n_in, (void)pl;
    const int64_t d = in[0].d[0], dk = q->layer.p[0];
    int32_t *beff[4];
    for (int i = 0; i < 4; i++) beff[i] = carve(buf, (i < 3 ? dk : d) * 4, 16);
    int32_t *table = carve(buf, 256 * 4, 16);
    if (!table) return GABA_OK;
    gaba_qnn_attention *a = w->attn;
    if (!a) return GABA_ERR_ARG;
    for (int i = 0; i < 4; i++) {
        gaba_qnn_layer *p = &a->proj[i];
        gaba_qnn_set_clamp(p);
        bias_eff(p->w, p->bias, i < 3 ? dk : d, i < 3 ? d : dk, p->in_zp[0], beff[i]);
        p->bias_eff = beff[i];
    }
    const double s_q = a->proj[0].out_scale, s_k = a->proj[1].out_scale;
    const double s_v = a->proj[2].out_scale, s_ctx = a->proj[3].in_scale[0];
    gaba_status st = gaba_gemm_quantize_multiplier(s_q * s_k / (sqrt((double)dk) * a->score_scale),
                                                   &a->score_mult, &a->score_shift);
    if (st == GABA_OK)
        st = gaba_gemm_quantize_multiplier(s_v / (256.0 * s_ctx), &a->ctx_mult, &a->ctx_shift);
    gaba_qnn_build_exp_table(a->score_scale, table);
    a->exp_table = table;
    return st;
}

// gamma and beta over the output scale (ln_gb), the epsilon in squared input codes
// (ln_eps): docs/int8.md's LayerNorm.
gaba_status gaba_qnn_layer_norm_init(gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in,
                                     const gaba_nn_plan *pl, const gaba_qnn_weights *w,
                                     gaba_qnn_buf *buf) {
    (void)n_in, (void)pl;
    const int64_t c = in[0].d[0];
    float *gb = carve(buf, 2 * c * 4, 64);
    if (!gb) return GABA_OK;
    if (!w->gamma || !w->beta) return GABA_ERR_ARG;
    for (int64_t k = 0; k < c; k++) {
        gb[k] = w->gamma[k] / q->out_scale;
        gb[c + k] = w->beta[k] / q->out_scale;
    }
    double s = q->in_scale[0];
    double e = (double)c * (double)c * gaba_nn_layer_norm_eps(&q->layer) / (s * s);
    q->ln_gb = gb;
    q->ln_eps = e < 1.0 ? 1 : e > 0x1p62 ? (int64_t)1 << 62 : (int64_t)llround(e);
    return GABA_OK;
}

// the softmax's exp table (its multiplier set by gaba_qnn_softmax_rescale)
gaba_status gaba_qnn_softmax_init(gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in,
                                  const gaba_nn_plan *pl, const gaba_qnn_weights *w,
                                  gaba_qnn_buf *buf) {
    (void)n_in, (void)in, (void)pl, (void)w;
    int32_t *table = carve(buf, 256 * 4, 16);
    if (table) gaba_qnn_build_softmax_table(q, table);
    q->exp_table = table;
    return GABA_OK;
}

// The float op's plan of q's layer (the row's input dtypes), or why there is none.
static gaba_status plan(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *in,
                        gaba_nn_plan *pl) {
    if (!l || !gaba_qnn_supported(l)) return GABA_ERR_NO_IMPL;
    gaba_nn_dtype dt[GABA_NN_MAX_INPUTS];
    for (int i = 0; i < GABA_NN_MAX_INPUTS; i++) dt[i] = gaba_nn_ops[l->op].in_dtype;
    return gaba_nn_prepare(l, n_in, in, dt, pl);
}

int64_t gaba_qnn_layer_bytes(const gaba_nn_layer *layer, int n_in, const gaba_nn_shape *in,
                             int64_t *align) {
    gaba_nn_plan pl;
    if (plan(layer, n_in, in, &pl) != GABA_OK) return -1;
    gaba_qnn_layer q = {.layer = *layer};
    gaba_qnn_buf count = {NULL, 0, 16};
    gaba_qnn_init_fn *init = gaba_nn_ops[layer->op].q_init;
    if (init) init(&q, n_in, in, &pl, NULL, &count);
    if (align) *align = count.align;
    return count.used;
}

gaba_status gaba_qnn_layer_init(gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in,
                                const gaba_qnn_weights *w, gaba_qnn_requant_mode requant, void *buf,
                                int64_t *used) {
    gaba_nn_plan pl;
    if (used) *used = 0;
    if (!q || !w || (!buf && gaba_qnn_layer_bytes(&q->layer, n_in, in, NULL) > 0))
        return GABA_ERR_ARG;
    gaba_status st = plan(&q->layer, n_in, in, &pl);
    if (st != GABA_OK) return st;
    const gaba_qnn_layer given = *q; // the layer and its scales; every other field is made here
    memset(q, 0, sizeof *q);
    q->layer = given.layer;
    memcpy(q->in_scale, given.in_scale, sizeof q->in_scale);
    memcpy(q->in_zp, given.in_zp, sizeof q->in_zp);
    q->out_scale = given.out_scale, q->out_zp = given.out_zp;
    q->w = w->w, q->bias = w->bias, q->mult = w->mult, q->shift = w->shift;
    q->acc_scale = w->acc_scale, q->gru_b_hh = w->b_hh, q->attn = w->attn;
    gaba_qnn_set_clamp(q);
    st = gaba_qnn_set_rescale(q, n_in);
    if (st != GABA_OK) return st;
    if (requant == GABA_QNN_REQUANT_FP32) gaba_qnn_set_rescale_fp32(q);
    gaba_qnn_buf b = {buf, 0, 16};
    gaba_qnn_init_fn *init = gaba_nn_ops[q->layer.op].q_init;
    st = init ? init(q, n_in, in, &pl, w, &b) : GABA_OK;
    if (used) *used = b.used;
    return st;
}
