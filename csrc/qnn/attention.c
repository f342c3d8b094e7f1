// attention.c - the fast int8 attention's entry point (the ISA table's
// kernel) and its baseline kernel: the four projections through the int8
// conv's packed GEMM (gaba_qnn_conv, pointwise), the two attention products
// as row accumulations (contiguous inner loops, no horizontal sums) into the
// row output stage, and the softmax with one reciprocal per row. Same
// integers as attention_ref.c. The AVX2 kernel (attention_avx2.c)
// also serves the AVX-512 level: built with AVX-512 flags this file's row
// loops took twice its time on the zoo's attention nodes. Also its geometry,
// workspace and exp table, and the op's prepare and evals (ops.c).
#include "../nn/ops.h"
#include "qnn_kernels.h"

#include <math.h>
#include <stdlib.h>

#define ALIGN64(v) (((v) + 63) / 64 * 64)

// acc[i] += a * (x[i] + off) over n values: blocks of 16 (a fixed trip count the
// compiler turns into whole vectors; a plain loop over L = 50 left an 18-value
// scalar tail that took most of the time) and a short tail.
static inline void axpy(int64_t n, int32_t a, const int8_t *restrict x, int32_t off,
                        int32_t *restrict acc) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int t = 0; t < 16; t++) acc[i + t] += a * (x[i + t] + off);
    for (; i < n; i++) acc[i] += a * (x[i] + off);
}

// gaba_qnn_softmax_ref's integers in place, without its division per value:
// the quotient floor(num / den), num = 512 e + sum, den = 2 sum, is estimated
// as num * (1 / den) in double (off by at most one when num / den is within
// rounding of an integer) and then corrected exactly in integers. e: n int32.
static inline void attn_softmax(int64_t rows, int64_t n, const int32_t *exp_table, int8_t *x,
                                int32_t *e) {
    for (int64_t r = 0; r < rows; r++) {
        int8_t *s = x + r * n;
        int32_t mx = -128;
        for (int64_t j = 0; j < n; j++) mx = s[j] > mx ? s[j] : mx;
        int64_t sum = 0;
        for (int64_t j = 0; j < n; j++) sum += e[j] = exp_table[mx - s[j]];
        const int64_t den = 2 * sum;
        const double inv = 1.0 / (double)den;
        for (int64_t j = 0; j < n; j++) {
            int64_t num = 512 * (int64_t)e[j] + sum, quo = (int64_t)((double)num * inv);
            quo += (quo + 1) * den <= num;
            quo -= quo * den > num;
            quo -= 128;
            s[j] = (int8_t)(quo > 127 ? 127 : quo);
        }
    }
}

void gaba_qnn_attn_generic(int64_t d, int64_t l, int64_t dk, const gaba_qnn_layer *q,
                           const int8_t *x, int8_t *y, void *ws) {
    const gaba_qnn_attention *a = q->attn;
    int8_t *qkv = ws, *sc = qkv + 3 * dk * l, *ctx = sc + l * l;
    int32_t *acc = (int32_t *)((char *)ws + ALIGN64(4 * dk * l + l * l));
    void *cws = (char *)acc + ALIGN64(4 * l);
    gaba_nn_conv_geom gx, gc;
    gaba_qnn_attention_geom(d, dk, l, &gx);
    gaba_qnn_attention_geom(dk, d, l, &gc);
    for (int i = 0; i < 3; i++) gaba_qnn_conv(&gx, &a->proj[i], x, qkv + i * dk * l, cws);
    const int8_t *qm = qkv, *km = qkv + dk * l, *vm = qkv + 2 * dk * l;
    const int32_t zq = a->proj[0].out_zp, zk = a->proj[1].out_zp, zv = a->proj[2].out_zp;
    for (int64_t p = 0; p < l; p++) { // scores row p: sum over k of (q_kp - zq) (k_k. - zk)
        for (int64_t j = 0; j < l; j++) acc[j] = 0;
        for (int64_t k = 0; k < dk; k++) {
            const int32_t qv = qm[k * l + p] - zq;
            axpy(l, qv, km + k * l, -zk, acc);
        }
        gaba_nn_table.qrequant_row(l, acc, 0, a->score_mult, a->score_shift, a->score_zp, -128, 127,
                                   sc + p * l);
    }
    attn_softmax(l, l, a->exp_table, sc, acc);
    // ctx (dk, L) = v probs^T: with probs transposed in place (it is square), each
    // ctx row is a sum of contiguous probs rows scaled by v's values, as the scores.
    for (int64_t p = 0; p < l; p++)
        for (int64_t j = p + 1; j < l; j++) {
            int8_t t = sc[p * l + j];
            sc[p * l + j] = sc[j * l + p], sc[j * l + p] = t;
        }
    for (int64_t k = 0; k < dk; k++) {
        const int8_t *restrict vr = vm + k * l;
        for (int64_t p = 0; p < l; p++) acc[p] = 0;
        for (int64_t j = 0; j < l; j++) {
            const int32_t vv = vr[j] - zv;
            axpy(l, vv, sc + j * l, 128, acc); // probs[., j]
        }
        gaba_nn_table.qrequant_row(l, acc, 0, a->ctx_mult, a->ctx_shift, a->proj[3].in_zp[0], -128,
                                   127, ctx + k * l);
    }
    gaba_qnn_conv(&gc, &a->proj[3], ctx, y, cws);
}

void gaba_qnn_attn(int64_t d, int64_t l, int64_t dk, const gaba_qnn_layer *q, const int8_t *x,
                   int8_t *y, void *ws) {
    gaba_nn_table.qattn(d, l, dk, q, x, y, ws);
}

gaba_status gaba_qnn_attention_softmax(int64_t l, const int32_t *exp_table, const int8_t *s,
                                       int8_t *y, int ref) {
    if (l < 1 || l > GABA_QNN_ATTN_MAX_L || !exp_table || !s || !y) return GABA_ERR_ARG;
    if (ref) {
        gaba_qnn_softmax_ref(l, l, exp_table, s, y);
        return GABA_OK;
    }
    const int64_t l8 = (l + 7) / 8 * 8, lt = (l + 1) / 2;
    int32_t *e = malloc((size_t)(l8 + lt * l8) * sizeof(int32_t)), *pp = e + l8;
    if (!e) return GABA_ERR_NOMEM;
    if (!gaba_nn_table.qsoftmax_pairs) { // the plain build: this file's row loop
        memcpy(y, s, (size_t)(l * l));
        attn_softmax(l, l, exp_table, y, e);
        free(e);
        return GABA_OK;
    }
    gaba_nn_table.qsoftmax_pairs(l, 0, l, exp_table, s, pp, e);
    for (int64_t p = 0; p < l; p++) // pair t of row p: lane p of pair row t, two int16 halves
        for (int64_t j = 0; j < l; j++)
            y[p * l + j] =
                (int8_t)((((uint32_t)pp[(j / 2) * l8 + p] >> (16 * (j % 2))) & 0xffff) - 128);
    free(e);
    return GABA_OK;
}

void gaba_qnn_build_exp_table(float score_scale, int32_t *table) {
    for (int d = 0; d < 256; d++)
        table[d] = (int32_t)round(65536.0 * exp(-(double)score_scale * d));
}

gaba_status gaba_qnn_attention_prepare(const gaba_qnn_layer *q, const gaba_nn_shape *in,
                                       int64_t *ws_bytes) {
    if (in[0].d[1] > GABA_QNN_ATTN_MAX_L) return GABA_ERR_SHAPE;
    *ws_bytes = gaba_qnn_attention_workspace(in[0].d[0], in[0].d[1], q->layer.p[0]);
    return GABA_OK;
}

gaba_status gaba_qnn_attention_eval(QEVAL_ARGS) {
    (void)n_in;
    if (!q->attn) return GABA_ERR_ARG;
    gaba_qnn_attn(in[0].d[0], in[0].d[1], q->layer.p[0], q, x[0], y, ws);
    return GABA_OK;
}

gaba_status gaba_qnn_attention_eval_ref(QEVAL_ARGS) {
    (void)n_in;
    if (!q->attn) return GABA_ERR_ARG;
    gaba_qnn_attn_ref(in[0].d[0], in[0].d[1], q->layer.p[0], q, x[0], y, ws);
    return GABA_OK;
}

// A pointwise conv over l positions: the projections' geometry.
void gaba_qnn_attention_geom(int64_t c, int64_t co, int64_t l, gaba_nn_conv_geom *g) {
    *g = (gaba_nn_conv_geom){.c = c,
                             .h = 1,
                             .w = l,
                             .co = co,
                             .ho = 1,
                             .wo = l,
                             .kh = 1,
                             .kw = 1,
                             .sh = 1,
                             .sw = 1,
                             .dh = 1,
                             .dw = 1,
                             .groups = 1};
}

int64_t gaba_qnn_attention_workspace(int64_t d, int64_t l, int64_t dk) {
    gaba_nn_conv_geom gx, gc;
    gaba_qnn_attention_geom(d, dk, l, &gx);
    gaba_qnn_attention_geom(dk, d, l, &gc);
    int64_t wx = gaba_qnn_conv_workspace(&gx), wc = gaba_qnn_conv_workspace(&gc);
    int64_t scratch = wx > wc ? wx : wc, pairs = gaba_qnn_attn_pair_bytes(l, dk);
    return ALIGN64(4 * dk * l + l * l) + ALIGN64(4 * l) + (scratch > pairs ? scratch : pairs);
}
