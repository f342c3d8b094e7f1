// eltwise.c - the int8 add, sub and mul (qnn.h): their multipliers (TFLite's
// add: inputs shifted left by 20 bits, one fine rounding), the plain add/sub
// row and mul, the per-channel broadcast and the op's evals (ops.c).
#include "../nn/ops.h"
#include "qnn_kernels.h"

void gaba_qnn_addsub_rescale_fp32(gaba_qnn_layer *q) {
    for (int i = 0; i < 2; i++)
        gaba_qnn_fp32_multiplier(q->in_scale[i] / q->out_scale, &q->q_mult[i], &q->q_shift[i]);
    q->q_mult[2] = q->q_shift[2] = 0;
}

void gaba_qnn_mul_rescale_fp32(gaba_qnn_layer *q) {
    gaba_qnn_fp32_multiplier(q->in_scale[0] * q->in_scale[1] / q->out_scale, &q->q_mult[0],
                             &q->q_shift[0]);
}

// add, sub, mul: the op's offset from add; b per channel when its size differs
#define BINARY_ARGS                                                                                \
    q->layer.op - GABA_NN_ADD, in[0].d[0], gaba_nn_numel(&in[0]) / in[0].d[0], q, x[0], x[1],      \
        gaba_nn_numel(&in[1]) != gaba_nn_numel(&in[0]), y

gaba_status gaba_qnn_binary_eval(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    gaba_qnn_binary(BINARY_ARGS);
    return GABA_OK;
}

gaba_status gaba_qnn_binary_eval_ref(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    gaba_qnn_binary_ref(BINARY_ARGS);
    return GABA_OK;
}

// a and b scaled to twice the larger input scale, shifted left by 20 bits (TFLite's add)
gaba_status gaba_qnn_addsub_rescale(gaba_qnn_layer *q, int n_in) {
    (void)n_in;
    double twice = 2.0 * (q->in_scale[0] > q->in_scale[1] ? q->in_scale[0] : q->in_scale[1]);
    gaba_status st =
        gaba_gemm_quantize_multiplier(q->in_scale[0] / twice, &q->q_mult[0], &q->q_shift[0]);
    if (st == GABA_OK)
        st = gaba_gemm_quantize_multiplier(q->in_scale[1] / twice, &q->q_mult[1], &q->q_shift[1]);
    if (st == GABA_OK)
        st = gaba_gemm_quantize_multiplier(twice / ((double)(1 << 20) * q->out_scale),
                                           &q->q_mult[2], &q->q_shift[2]);
    return st;
}

gaba_status gaba_qnn_mul_rescale(gaba_qnn_layer *q, int n_in) {
    (void)n_in;
    return gaba_gemm_quantize_multiplier((double)q->in_scale[0] * q->in_scale[1] / q->out_scale,
                                         &q->q_mult[0], &q->q_shift[0]);
}

// x[i] = MBQM((q[i] - zp) << 20, mult, shift): the first step of the int8 add.
static void add_input(int64_t n, const int8_t *q, int32_t zp, int32_t mult, int32_t shift,
                      int32_t *x) {
    for (int64_t i = 0; i < n; i++) x[i] = gaba_qnn_mbqm((q[i] - zp) * (1 << 20), mult, shift);
}

void gaba_qnn_addsub_row_generic(int op, int64_t n, const int8_t *a, const int8_t *b, int32_t bc,
                                 const gaba_qnn_layer *q, int8_t *y) {
    if (q->q_shift[0] == GABA_QNN_SHIFT_FP32) {
        const float ra = gaba_qnn_bits_float(q->q_mult[0]), rb = gaba_qnn_bits_float(q->q_mult[1]);
        for (int64_t j = 0; j < n; j++)
            y[j] =
                gaba_qnn_fp32_addsub(op, (float)(a[j] - q->in_zp[0]) * ra,
                                     b ? (float)(b[j] - q->in_zp[1]) * rb : gaba_qnn_bits_float(bc),
                                     q->out_zp, q->act_min, q->act_max);
        return;
    }
    int32_t ta[256], tb[256];
    for (int64_t j = 0; j < n; j += 256) {
        int64_t m = n - j < 256 ? n - j : 256;
        add_input(m, a + j, q->in_zp[0], q->q_mult[0], q->q_shift[0], ta);
        if (b) add_input(m, b + j, q->in_zp[1], q->q_mult[1], q->q_shift[1], tb);
        for (int64_t k = 0; k < m; k++) {
            int32_t v = b ? tb[k] : bc;
            ta[k] = op == 0 ? ta[k] + v : ta[k] - v;
        }
        gaba_nn_table.qrequant_row(m, ta, 0, q->q_mult[2], q->q_shift[2], q->out_zp, q->act_min,
                                   q->act_max, y + j);
    }
}

// The products, requantized by q_mult[0] 256 at a time across channels.
void gaba_qnn_mul_generic(int64_t c, int64_t s, const gaba_qnn_layer *q, const int8_t *a,
                          const int8_t *b, int b_per_channel, int8_t *y) {
    const int32_t za = q->in_zp[0], zb = q->in_zp[1];
    int32_t t[256];
    int64_t i = 0, j = 0; // the channel and position of the next value
    for (int64_t k0 = 0; k0 < c * s; k0 += 256) {
        int64_t n = c * s - k0 < 256 ? c * s - k0 : 256;
        for (int64_t k = 0; k < n;) { // runs within one channel (vector loops)
            int64_t run = n - k < s - j ? n - k : s - j;
            const int8_t *ak = a + k0 + k, *bk = b + k0 + k;
            if (b_per_channel) {
                const int32_t bi = b[i] - zb;
                for (int64_t r = 0; r < run; r++) t[k + r] = (ak[r] - za) * bi;
            } else {
                for (int64_t r = 0; r < run; r++) t[k + r] = (ak[r] - za) * (bk[r] - zb);
            }
            k += run, j += run;
            if (j == s) j = 0, i++;
        }
        gaba_nn_table.qrequant_row(n, t, 0, q->q_mult[0], q->q_shift[0], q->out_zp, q->act_min,
                                   q->act_max, y + k0);
    }
}

void gaba_qnn_binary(int op, int64_t c, int64_t s, const gaba_qnn_layer *q, const int8_t *a,
                     const int8_t *b, int b_per_channel, int8_t *y) {
    if (op == 2) {
        gaba_nn_table.qmul(c, s, q, a, b, b_per_channel, y);
        return;
    }
    const int32_t zb = q->in_zp[1];
    if (!b_per_channel) { // one row over all channels: the row's setup once
        gaba_nn_table.qaddsub_row(op, c * s, a, b, 0, q, y);
        return;
    }
    for (int64_t i = 0; i < c; i++) {
        // a per-channel b's rescaled value (fp32: the float's bits, as the rows read it)
        int32_t bc =
            q->q_shift[1] == GABA_QNN_SHIFT_FP32
                ? gaba_qnn_float_bits((float)(b[i] - zb) * gaba_qnn_bits_float(q->q_mult[1]))
                : gaba_qnn_mbqm((b[i] - zb) * (1 << 20), q->q_mult[1], q->q_shift[1]);
        gaba_nn_table.qaddsub_row(op, s, a + i * s, NULL, bc, q, y + i * s);
    }
}
