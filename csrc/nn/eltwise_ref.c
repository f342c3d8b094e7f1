// eltwise_ref.c - the elementwise and data-movement ops: activations,
// softmax (max-subtracted), add/sub/mul with per-channel broadcast, batch
// norm run alone, transpose, and batch-norm folding. Memory-bound loops the
// compiler vectorises: they serve as reference and fast path alike.
#include "nn_kernels.h"

#include <math.h>

static float act1(float v, gaba_nn_act act) {
    switch (act) {
    case GABA_NN_ACT_RELU: return v < 0.0f ? 0.0f : v;
    case GABA_NN_ACT_RELU6: return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
    case GABA_NN_ACT_SIGMOID: return 1.0f / (1.0f + expf(-v));
    case GABA_NN_ACT_TANH: return tanhf(v);
    case GABA_NN_ACT_HSWISH: {
        float r = v + 3.0f;
        r = r < 0.0f ? 0.0f : (r > 6.0f ? 6.0f : r);
        return v * r * (1.0f / 6.0f);
    }
    default: return v;
    }
}

void gaba_nn_act_f32_ref(float *y, int64_t n, gaba_nn_act act) {
    if (act == GABA_NN_ACT_NONE) return;
    for (int64_t i = 0; i < n; i++) y[i] = act1(y[i], act);
}

void gaba_nn_bias_act_f32(int64_t rows, int64_t n, float *y, const float *b, gaba_nn_act act) {
    for (int64_t r = 0; r < rows; r++) {
        float *yr = y + r * n;
        float bv = b ? b[r] : 0.0f;
        // The two common cases get their own loops so the compiler vectorises them.
        if (act == GABA_NN_ACT_NONE) {
            for (int64_t i = 0; i < n; i++) yr[i] += bv;
        } else if (act == GABA_NN_ACT_RELU) {
            for (int64_t i = 0; i < n; i++) {
                float v = yr[i] + bv;
                yr[i] = v < 0.0f ? 0.0f : v; // NaN passes, as in the reference
            }
        } else if (act == GABA_NN_ACT_RELU6) {
            for (int64_t i = 0; i < n; i++) {
                float v = yr[i] + bv;
                yr[i] = v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
            }
        } else if (act == GABA_NN_ACT_HSWISH) {
            for (int64_t i = 0; i < n; i++) {
                float v = yr[i] + bv, r = v + 3.0f;
                r = r < 0.0f ? 0.0f : (r > 6.0f ? 6.0f : r);
                yr[i] = v * r * (1.0f / 6.0f);
            }
        } else { // sigmoid, tanh: the ISA table's vector pass
            if (bv != 0.0f)
                for (int64_t i = 0; i < n; i++) yr[i] += bv;
            gaba_nn_table.act_pass(yr, n, act);
        }
    }
}

void gaba_nn_softmax_f32_ref(int64_t rows, int64_t n, const float *x, float *y) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        float m = -INFINITY;
        for (int64_t i = 0; i < n; i++) m = xr[i] > m ? xr[i] : m;
        float s = 0.0f;
        for (int64_t i = 0; i < n; i++) s += (yr[i] = expf(xr[i] - m));
        float inv = 1.0f / s;
        for (int64_t i = 0; i < n; i++) yr[i] *= inv;
    }
}

void gaba_nn_binary_f32_ref(int op, int64_t c, int64_t s, const float *a, const float *b,
                            int b_per_channel, float *y, gaba_nn_act act) {
    for (int64_t i = 0; i < c; i++)
        for (int64_t j = 0; j < s; j++) {
            float av = a[i * s + j], bv = b_per_channel ? b[i] : b[i * s + j];
            y[i * s + j] = op == 0 ? av + bv : (op == 1 ? av - bv : av * bv);
        }
    gaba_nn_act_f32_ref(y, c * s, act);
}

// The fast binary op: one branch-free loop per (op, broadcast) case so the
// compiler vectorises it, then the vectorised activation pass.
void gaba_nn_binary_f32(int op, int64_t c, int64_t s, const float *a, const float *b,
                        int b_per_channel, float *y, gaba_nn_act act) {
    for (int64_t i = 0; i < c; i++) {
        const float *ar = a + i * s;
        float *yr = y + i * s;
        if (b_per_channel) {
            float bv = b[i];
            if (op == 0)
                for (int64_t j = 0; j < s; j++) yr[j] = ar[j] + bv;
            else if (op == 1)
                for (int64_t j = 0; j < s; j++) yr[j] = ar[j] - bv;
            else
                for (int64_t j = 0; j < s; j++) yr[j] = ar[j] * bv;
        } else {
            const float *br = b + i * s;
            if (op == 0)
                for (int64_t j = 0; j < s; j++) yr[j] = ar[j] + br[j];
            else if (op == 1)
                for (int64_t j = 0; j < s; j++) yr[j] = ar[j] - br[j];
            else
                for (int64_t j = 0; j < s; j++) yr[j] = ar[j] * br[j];
        }
    }
    gaba_nn_bias_act_f32(1, c * s, y, NULL, act);
}

void gaba_nn_batchnorm_f32_ref(int64_t c, int64_t s, const float *x, const float *scale,
                               const float *shift, float *y, gaba_nn_act act) {
    for (int64_t i = 0; i < c; i++)
        for (int64_t j = 0; j < s; j++) y[i * s + j] = x[i * s + j] * scale[i] + shift[i];
    gaba_nn_act_f32_ref(y, c * s, act);
}

void gaba_nn_transpose_f32_ref(int64_t a, int64_t b, const float *x, float *y) {
    for (int64_t i = 0; i < a; i++)
        for (int64_t j = 0; j < b; j++) y[j * a + i] = x[i * b + j];
}

void gaba_nn_batchnorm_fold(int64_t c_out, int64_t per_out, float *w, float *b, const float *gamma,
                            const float *beta, const float *mean, const float *var, float eps) {
    for (int64_t o = 0; o < c_out; o++) {
        float s = gamma[o] / sqrtf(var[o] + eps);
        for (int64_t i = 0; i < per_out; i++) w[o * per_out + i] *= s;
        b[o] = (b[o] - mean[o]) * s + beta[o];
    }
}
