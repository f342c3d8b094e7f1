// eltwise_ref.c - the float32 add/sub/mul with per-channel broadcast, then
// the activation, in the definition's order. The oracle of eltwise.c. Their
// backward, a memory-bound loop (also the fast path).
#include "nn_kernels.h"

void gaba_nn_binary_f32_ref(int op, int64_t c, int64_t s, const float *a, const float *b,
                            int b_per_channel, float *y, gaba_nn_act act) {
    for (int64_t i = 0; i < c; i++)
        for (int64_t j = 0; j < s; j++) {
            float av = a[i * s + j], bv = b_per_channel ? b[i] : b[i * s + j];
            y[i * s + j] = op == 0 ? av + bv : (op == 1 ? av - bv : av * bv);
        }
    gaba_nn_act_f32_ref(y, c * s, act);
}

void gaba_nn_binary_backward_f32_ref(int op, int64_t c, int64_t s, const float *a, const float *b,
                                     int b_per_channel, const float *dy, float *da, float *db) {
    for (int64_t i = 0; i < c; i++) {
        float sum = 0.0f; // b's gradient over its channel, when b broadcasts
        for (int64_t j = 0; j < s; j++) {
            int64_t k = i * s + j;
            float g = dy[k], bv = op != 2 ? 0.0f : b_per_channel ? b[i] : b[k];
            if (da) da[k] += op == 2 ? g * bv : g;
            float gb = op == 0 ? g : (op == 1 ? -g : g * a[k]);
            if (b_per_channel)
                sum += gb;
            else if (db)
                db[k] += gb;
        }
        if (db && b_per_channel) db[i] += sum;
    }
}
