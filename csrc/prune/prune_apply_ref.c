// prune_apply_ref.c - the reference apply pass of magnitude pruning: one
// comparison of each weight's magnitude key with the threshold key. Ties at
// the threshold are rare, so they take a separate, ordered loop.
#include "prune_kernels.h"

int64_t gaba_prune_apply_f32_ref(int64_t n, const float *x, uint32_t tau, int64_t ties,
                                 float *out, uint8_t *mask) {
    int64_t used = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t key = gaba_prune_key(x[i]);
        int keep = key > tau;
        if (key == tau && used < ties) used++;
        else if (key == tau) keep = 1;
        out[i] = keep ? x[i] : 0.0f;
        mask[i] = (uint8_t)keep;
    }
    return used;
}
