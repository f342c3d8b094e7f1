// softmax.c - the int8 softmax (TFLite's, docs/int8.md) through the op table:
// its input multiplier from the input scale and the output parameters TFLite
// requires, its exp table, and the fast kernel: per row the max, the sum of
// the table's exp values, one reciprocal, then a product and a rounding shift
// per value (per difference, for rows longer than the differences they can
// take), equal bit for bit to softmax_ref.c's element-wise computation.
#include "../nn/ops.h"
#include "qnn_kernels.h"

// The output parameters TFLite's int8 softmax takes: scale 1/256, zero point -128.
static int out_ok(const gaba_qnn_layer *q) {
    return q->out_scale == 1.0f / 256 && q->out_zp == -128;
}

// TFLite's PreprocessSoftmaxScaling with beta 1 and 5 integer bits: in_scale 2^26
// (at most 2^31 - 1) as a Q31 multiplier and a left shift (QuantizeMultiplierGreaterThanOne,
// double rounding: no saturation of the shift at 30, so it runs on half the value).
gaba_status gaba_qnn_softmax_rescale(gaba_qnn_layer *q, int n_in) {
    (void)n_in;
    if (!out_ok(q)) return GABA_ERR_ARG;
    double real = (double)q->in_scale[0] * (double)(1 << 26);
    real = real < 2147483647.0 ? real : 2147483647.0;
    if (!(real > 1.0)) return GABA_ERR_ARG;
    gaba_status st = gaba_gemm_quantize_multiplier(real / 2, &q->q_mult[0], &q->q_shift[0]);
    q->q_shift[0]++;
    return st;
}

gaba_status gaba_qnn_softmax_prepare(const gaba_qnn_layer *q, const gaba_nn_shape *in,
                                     int64_t *ws_bytes) {
    (void)in, (void)ws_bytes;
    return out_ok(q) ? GABA_OK : GABA_ERR_ARG;
}

void gaba_qnn_build_softmax_table(const gaba_qnn_layer *q, int32_t *table) {
    const int32_t diff_min = gaba_qnn_softmax_diff_min(q->q_shift[0]);
    for (int32_t d = 0; d < 256; d++)
        table[d] = -d >= diff_min ? gaba_qnn_softmax_exp(-d, q->q_mult[0], q->q_shift[0]) : 0;
}

// A value cut off (table entry 0) adds 0 to the sum and gives -128, as the reference's.
void gaba_qnn_softmax_rows(int64_t rows, int64_t n, const gaba_qnn_layer *q, const int8_t *x,
                           int8_t *y) {
    const int32_t *table = q->exp_table;
    for (int64_t r = 0; r < rows; r++) {
        const int8_t *xr = x + r * n;
        const int32_t mx = gaba_qnn_max_s8(n, xr);
        int64_t sum = 0;
        for (int64_t i = 0; i < n; i++) sum += gaba_qnn_rdbp(table[mx - xr[i]], 12);
        int exponent;
        const int32_t recip = gaba_qnn_softmax_recip(sum, &exponent);
        if (n <= mx + 128) { // no more values than differences they can take
            for (int64_t i = 0; i < n; i++)
                y[r * n + i] = gaba_qnn_softmax_out(recip, table[mx - xr[i]], exponent);
            continue;
        }
        int8_t out[256]; // the output of each difference 0..mx + 128, then one lookup a value
        for (int32_t d = 0; d <= mx + 128; d++)
            out[d] = gaba_qnn_softmax_out(recip, table[d], exponent);
        for (int64_t i = 0; i < n; i++) y[r * n + i] = out[mx - xr[i]];
    }
}

gaba_status gaba_qnn_softmax_eval(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    if (!q->exp_table) return GABA_ERR_ARG;
    int64_t n = in[0].d[in[0].ndim - 1];
    gaba_qnn_softmax_rows(gaba_nn_numel(&in[0]) / n, n, q, x[0], y);
    return GABA_OK;
}

gaba_status gaba_qnn_softmax_eval_ref(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    int64_t n = in[0].d[in[0].ndim - 1];
    gaba_qnn_softmax_rows_ref(gaba_nn_numel(&in[0]) / n, n, q, x[0], y);
    return GABA_OK;
}
