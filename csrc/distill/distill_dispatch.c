// distill_dispatch.c - fills the distillation family's kernel table for the
// ISA level core/dispatch.c picked.
#include "distill_kernels.h"
#include "../core/dispatch.h"

gaba_distill_kernels gaba_distill_table = {.row = gaba_distill_row_f32_ref};

void gaba_distill_dispatch_init(gaba_isa isa) {
    static const gaba_distill_kernels by_level[GABA_ISA_COUNT] = {
        [GABA_ISA_REF] = {.row = gaba_distill_row_f32_ref},
        [GABA_ISA_AVX2] = {.row = gaba_distill_row_f32_avx2},
        [GABA_ISA_AVX512] = {.row = gaba_distill_row_f32_avx512},
    };
    gaba_distill_table = by_level[isa];
}
