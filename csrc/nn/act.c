// act.c - the bias and activation pass over rows that conv and dense run
// after a GEMM: ReLU, ReLU6 and hard-swish in loops the compiler vectorises,
// sigmoid and tanh through the ISA table's vector pass; the activation op's
// evals and backward (ops.c).
#include "ops.h"

#include <string.h>

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

gaba_status gaba_nn_act_backward(BWD_ARGS) {
    (void)n_in, (void)w, (void)dw, (void)ws;
    if (dx[0]) gaba_nn_act_backward_f32_ref(X, y, dy, dx[0], nb * gaba_nn_numel(&in[0]), l->act);
    return GABA_OK;
}

// Hard-swish's derivative needs x; the others' follow from y alone.
int gaba_nn_act_reads(const gaba_nn_layer *l) {
    return l->act == GABA_NN_ACT_HSWISH ? GABA_NN_READS_X : GABA_NN_READS_Y;
}
