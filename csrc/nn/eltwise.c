// eltwise.c - the float32 add/sub/mul with per-channel broadcast: a
// memory-bound loop the compiler vectorises, the fast path at every level.
#include "nn_kernels.h"

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
