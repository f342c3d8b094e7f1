// prune_apply_ref.c - the reference apply pass of magnitude pruning: one
// comparison of each weight's magnitude key with the threshold key. When
// only some of the keys equal to the threshold go, an ordered second loop
// prunes the first of them and stops.
#include "prune_kernels.h"

int64_t gaba_prune_apply_f32_ref(int64_t n, const float *restrict x, uint32_t tau, int64_t ties,
                                 float *restrict out, uint8_t *restrict mask) {
    // Branch-free first pass (the compiler vectorises it); keys equal to tau
    // stay when only some of them go, and the ordered second pass prunes those.
    uint32_t bound = ties == GABA_PRUNE_ALL_TIES || tau == 0xffffffffu ? tau : tau - 1;
    if (ties != GABA_PRUNE_ALL_TIES && tau == 0) {
        for (int64_t i = 0; i < n; i++) {
            out[i] = x[i];
            mask[i] = 1;
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            int keep = gaba_prune_key(x[i]) > bound;
            out[i] = keep ? x[i] : 0.0f;
            mask[i] = (uint8_t)keep;
        }
    }
    if (ties == GABA_PRUNE_ALL_TIES) return 0;
    int64_t used = 0;
    for (int64_t i = 0; i < n && used < ties; i++) {
        if (gaba_prune_key(x[i]) == tau) {
            out[i] = 0.0f;
            mask[i] = 0;
            used++;
        }
    }
    return used;
}
