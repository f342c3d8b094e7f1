// prune_kernels.h - internal: the pruning family's per-ISA kernels. The
// apply kernel writes out/mask for a run of keys once the threshold is
// known: key < tau pruned, key > tau kept, and the first `ties` keys equal
// to tau (in index order) pruned; it returns how many ties it consumed.
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

typedef int64_t (*gaba_prune_apply_fn)(int64_t n, const float *x, uint32_t tau, int64_t ties,
                                       float *out, uint8_t *mask);

int64_t gaba_prune_apply_f32_ref(int64_t n, const float *x, uint32_t tau, int64_t ties,
                                 float *out, uint8_t *mask);
int64_t gaba_prune_apply_f32_avx512(int64_t n, const float *x, uint32_t tau, int64_t ties,
                                    float *out, uint8_t *mask);

typedef struct gaba_prune_kernels {
    gaba_prune_apply_fn apply;
} gaba_prune_kernels;

extern gaba_prune_kernels gaba_prune_table;

#endif
