// prune_kernels.h - internal: the pruning family's kernels. The apply
// kernel writes out/mask for a run of weights once the threshold key tau is
// known: key < tau pruned, key > tau kept, keys equal to tau all pruned
// (ties == GABA_PRUNE_ALL_TIES) or only the first `ties` of them in index
// order; it returns how many ties it pruned in that second mode.
// There is one, portable, apply kernel: the compiler vectorises it, and an
// AVX-512 version measured no faster (1.87 ms vs 1.79 ms for 1M weights, one
// thread); the radix histograms are the cost.
#ifndef GABA_PRUNE_KERNELS_H
#define GABA_PRUNE_KERNELS_H

#include "gaba/prune.h"

// The magnitude key: |x|'s bits, monotonic in |x|, NaN above +Inf.
static inline uint32_t gaba_prune_key(float x) {
    union {
        float f;
        uint32_t u;
    } v = {x};
    return v.u & 0x7fffffffu;
}

#define GABA_PRUNE_ALL_TIES INT64_MAX

int64_t gaba_prune_apply_f32_ref(int64_t n, const float *x, uint32_t tau, int64_t ties, float *out,
                                 uint8_t *mask);

#endif
