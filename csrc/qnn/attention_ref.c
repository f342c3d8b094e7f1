// attention_ref.c - the int8 single-head self-attention (gaba_qnn_attention
// in qnn.h): the projections through the int8 conv reference, the two
// attention products and the integer softmax in plain loops. The oracle of
// attention.c. No float arithmetic here.
#include "qnn_kernels.h"

void gaba_qnn_softmax_ref(int64_t rows, int64_t n, const int32_t *exp_table, const int8_t *x,
                          int8_t *y) {
    for (int64_t r = 0; r < rows; r++) {
        const int8_t *s = x + r * n;
        int32_t mx = -128;
        for (int64_t j = 0; j < n; j++) mx = s[j] > mx ? s[j] : mx;
        int64_t sum = 0; // exp_table[0] (> 0) is in it, no entry is < 0: never 0
        for (int64_t j = 0; j < n; j++) sum += exp_table[mx - s[j]];
        for (int64_t j = 0; j < n; j++) {
            int64_t p = ((int64_t)exp_table[mx - s[j]] * 512 + sum) / (2 * sum) - 128;
            y[r * n + j] = (int8_t)(p > 127 ? 127 : p);
        }
    }
}

void gaba_qnn_attn_ref(int64_t d, int64_t l, int64_t dk, const gaba_qnn_layer *q, const int8_t *x,
                       int8_t *y, void *ws) {
    const gaba_qnn_attention *a = q->attn;
    int8_t *qkv = ws, *sc = qkv + 3 * dk * l, *ctx = sc + l * l;
    gaba_nn_conv_geom gx, gc;
    gaba_qnn_attention_geom(d, dk, l, &gx);
    gaba_qnn_attention_geom(dk, d, l, &gc);
    for (int i = 0; i < 3; i++) gaba_qnn_conv_ref(&gx, &a->proj[i], x, qkv + i * dk * l);
    const int8_t *qm = qkv, *km = qkv + dk * l, *vm = qkv + 2 * dk * l;
    int32_t zq = a->proj[0].out_zp, zk = a->proj[1].out_zp, zv = a->proj[2].out_zp;
    for (int64_t p = 0; p < l; p++)
        for (int64_t j = 0; j < l; j++) {
            int32_t acc = 0;
            for (int64_t k = 0; k < dk; k++) acc += (qm[k * l + p] - zq) * (km[k * l + j] - zk);
            sc[p * l + j] =
                gaba_qnn_requant(acc, a->score_mult, a->score_shift, a->score_zp, -128, 127);
        }
    gaba_qnn_softmax_ref(l, l, a->exp_table, sc, sc);
    for (int64_t k = 0; k < dk; k++)
        for (int64_t p = 0; p < l; p++) {
            int32_t acc = 0;
            for (int64_t j = 0; j < l; j++) acc += (sc[p * l + j] + 128) * (vm[k * l + j] - zv);
            ctx[k * l + p] =
                gaba_qnn_requant(acc, a->ctx_mult, a->ctx_shift, a->proj[3].in_zp[0], -128, 127);
        }
    gaba_qnn_conv_ref(&gc, &a->proj[3], ctx, y);
}
