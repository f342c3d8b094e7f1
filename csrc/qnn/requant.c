// requant.c - the int8 output stage the ops share (qnn.h): the plain
// requantized row, the clamps of a fused activation, the float32 multiplier,
// and the float <-> int8 edges of a model.
#include "qnn_kernels.h"

#include <math.h>

void gaba_qnn_requant_row_generic(int64_t n, const int32_t *acc, int32_t bias, int32_t mult,
                                  int32_t shift, int32_t zp, int32_t lo, int32_t hi, int8_t *y) {
    for (int64_t i = 0; i < n; i++)
        y[i] = gaba_qnn_clamp(
            (int64_t)gaba_qnn_mbqm((int32_t)((uint32_t)acc[i] + (uint32_t)bias), mult, shift) + zp,
            lo, hi);
}

void gaba_qnn_fp32_multiplier(float scale, int32_t *mult, int32_t *shift) {
    *mult = gaba_qnn_float_bits(scale);
    *shift = GABA_QNN_SHIFT_FP32;
}

void gaba_qnn_quantize_f32(int64_t n, const float *x, float scale, int32_t zp, int8_t *q) {
    gaba_nn_table.qquantize(n, x, scale, zp, q);
}

void gaba_qnn_quantize_f32_generic(int64_t n, const float *x, float scale, int32_t zp, int8_t *q) {
    for (int64_t i = 0; i < n; i++) {
        float v = x[i] / scale, t = truncf(v);
        t += fabsf(v - t) >= 0.5f ? (v < 0.0f ? -1.0f : 1.0f) : 0.0f; // roundf: half away from 0
        t += (float)zp;
        t = t < -128.0f ? -128.0f : t > 127.0f ? 127.0f : t;
        q[i] = t == t ? (int8_t)(int32_t)t : (int8_t)zp; // NaN -> the zero point
    }
}

void gaba_qnn_dequantize_f32(int64_t n, const int8_t *q, float scale, int32_t zp, float *x) {
    for (int64_t i = 0; i < n; i++) x[i] = scale * (float)(q[i] - zp);
}

void gaba_qnn_set_clamp(gaba_qnn_layer *q) {
    gaba_nn_act act = q->layer.act;
    int32_t zp = q->out_zp;
    q->act_min = -128, q->act_max = 127;
    if (act == GABA_NN_ACT_RELU || act == GABA_NN_ACT_RELU6) q->act_min = zp > -128 ? zp : -128;
    if (act == GABA_NN_ACT_RELU6) {
        double top = zp + round(6.0 / q->out_scale);
        q->act_max = top < 127 ? (int32_t)top : 127;
        if (q->act_max < q->act_min) q->act_max = q->act_min;
    }
}
