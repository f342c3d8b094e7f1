// qnn_attention.c - the fast int8 attention: the four projections through the
// int8 conv's packed GEMM (gaba_qnn_conv, pointwise), the two attention
// products as row accumulations (contiguous, vectorisable inner loops) into
// the row output stage, the reference softmax. Same integers as
// qnn_attention_ref.c.
#include "qnn_kernels.h"

#define ALIGN64(v) (((v) + 63) / 64 * 64)

void gaba_qnn_attn(int64_t d, int64_t l, int64_t dk, const gaba_qnn_layer *q,
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
            const int8_t *restrict kr = km + k * l;
            for (int64_t j = 0; j < l; j++) acc[j] += qv * (kr[j] - zk);
        }
        gaba_nn_table.qrequant_row(l, acc, 0, a->score_mult, a->score_shift, a->score_zp, -128,
                                   127, sc + p * l);
    }
    gaba_qnn_softmax_ref(l, l, a->exp_table, sc, sc);
    for (int64_t k = 0; k < dk; k++) { // ctx row k: dot products of probs rows with v row k
        const int8_t *restrict vr = vm + k * l;
        for (int64_t p = 0; p < l; p++) {
            const int8_t *restrict pr = sc + p * l;
            int32_t s = 0;
            for (int64_t j = 0; j < l; j++) s += (pr[j] + 128) * (vr[j] - zv);
            acc[p] = s;
        }
        gaba_nn_table.qrequant_row(l, acc, 0, a->ctx_mult, a->ctx_shift, a->proj[3].in_zp[0],
                                   -128, 127, ctx + k * l);
    }
    gaba_qnn_conv(&gc, &a->proj[3], ctx, y, cws);
}
