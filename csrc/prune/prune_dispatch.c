// prune_dispatch.c - fills the pruning family's kernel table for the ISA
// level core/dispatch.c picked. AVX2 runs the reference (which the compiler
// vectorises at the baseline level).
#include "prune_kernels.h"
#include "../core/dispatch.h"

gaba_prune_kernels gaba_prune_table = {.apply = gaba_prune_apply_f32_ref};

void gaba_prune_dispatch_init(gaba_isa isa) {
    static const gaba_prune_kernels by_level[GABA_ISA_COUNT] = {
        [GABA_ISA_REF] = {.apply = gaba_prune_apply_f32_ref},
        [GABA_ISA_AVX2] = {.apply = gaba_prune_apply_f32_ref},
        [GABA_ISA_AVX512] = {.apply = gaba_prune_apply_f32_avx512},
    };
    gaba_prune_table = by_level[isa];
}
