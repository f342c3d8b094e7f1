// gru.c - the int8 GRU (qnn.h): the input projections of all T steps
// from the int8 input and weights (the reference's plain loops here, the
// AVX-512 VNNI product in gru_avx512vnni.c), made float32 per gate row,
// then the float32 recurrence of the ISA table (gru_recur, as the float GRU
// runs it, on W_hh transposed when the model was quantized) and the states
// quantized to the output. The projections hold 2/3 of the zoo GRUs' MACs
// (F = 2H); the recurrence's state stays float, as TFLite's hybrid RNN
// kernels keep it. Reference and fast paths differ only in the projection,
// whose int32 sums agree exactly, so the two agree bit for bit. Also the
// op's prepare and evals (ops.c).
#include "../nn/ops.h"
#include "qnn_impl.h"

int64_t gaba_qnn_gru_packed_bytes(int64_t f, int64_t hd) {
    return (f + 3) / 4 * 4 * gaba_nn_gru_ld(hd);
}

void gaba_qnn_gru_pack(int64_t f, int64_t hd, const int8_t *w_ih, int8_t *packed) {
    const int64_t ld = gaba_nn_gru_ld(hd);
    memset(packed, 0, (size_t)gaba_qnn_gru_packed_bytes(f, hd));
    for (int64_t j = 0; j < 3 * hd; j++)
        for (int64_t k = 0; k < f; k++) packed[((k / 4) * ld + j) * 4 + k % 4] = w_ih[j * f + k];
}

int64_t gaba_qnn_gru_ld(int64_t hd) { return gaba_nn_gru_ld(hd); }

void gaba_qnn_gru_transpose(int64_t hd, const float *w_hh, float *wt) {
    gaba_nn_table.gru_transpose(hd, w_hh, wt);
}

static int64_t states(int64_t t, int64_t hd, int seq) {
    return gaba_qnn_round16(seq ? hd * t : hd);
}

int64_t gaba_qnn_gru_workspace(int64_t f, int64_t t, int64_t hd, int seq) {
    int64_t floats =
        gaba_qnn_round16(t * 3 * hd) + gaba_nn_gru_recur_workspace(hd) + states(t, hd, seq);
    return 4 * floats + (f + 3) / 4 * 4 * gaba_qnn_round16(t);
}

void gaba_qnn_gru_proj_ref(const gaba_qnn_layer *q, int64_t f, int64_t t, const int8_t *x,
                           float *xp, void *scratch) {
    (void)scratch;
    const int64_t g3 = 3 * q->layer.p[0], ld = gaba_nn_gru_ld(q->layer.p[0]);
    const int32_t zx = q->in_zp[0];
    for (int64_t s = 0; s < t; s++)
        for (int64_t j = 0; j < g3; j++) {
            uint32_t acc = (uint32_t)q->bias[j]; // wrapping, as the fast sums
            for (int64_t k = 0; k < f; k++)
                acc += (uint32_t)(q->w[((k / 4) * ld + j) * 4 + k % 4] * (x[k * t + s] - zx));
            xp[s * g3 + j] = (float)(int32_t)acc * q->acc_scale[j];
        }
}

gaba_status gaba_qnn_gru(const gaba_qnn_layer *q, int64_t f, int64_t t, const int8_t *x, int8_t *y,
                         void *ws, int ref) {
    if (!q->w || !q->acc_scale || !q->gru_wt || !q->gru_b_hh) return GABA_ERR_ARG;
    const int64_t hd = q->layer.p[0];
    const int seq = q->layer.p[1] != 0;
    float *xp = ws, *rec = xp + gaba_qnn_round16(t * 3 * hd),
          *h = rec + gaba_nn_gru_recur_workspace(hd);
    (ref ? gaba_qnn_gru_proj_ref : gaba_nn_table.qgru_proj)(q, f, t, x, xp, h + states(t, hd, seq));
    gaba_nn_table.gru_recur(hd, t, seq, xp, q->gru_wt, q->gru_b_hh, h, rec);
    gaba_qnn_quantize_f32(seq ? hd * t : hd, h, q->out_scale, q->out_zp, y);
    return GABA_OK;
}

gaba_status gaba_qnn_gru_prepare(const gaba_qnn_layer *q, const gaba_nn_shape *in,
                                 int64_t *ws_bytes) {
    *ws_bytes = gaba_qnn_gru_workspace(in[0].d[0], in[0].d[1], q->layer.p[0], q->layer.p[1]);
    return GABA_OK;
}

gaba_status gaba_qnn_gru_eval(QEVAL_ARGS) {
    (void)n_in;
    return gaba_qnn_gru(q, in[0].d[0], in[0].d[1], x[0], y, ws, 0);
}

gaba_status gaba_qnn_gru_eval_ref(QEVAL_ARGS) {
    (void)n_in;
    return gaba_qnn_gru(q, in[0].d[0], in[0].d[1], x[0], y, ws, 1);
}
