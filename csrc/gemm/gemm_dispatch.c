// gemm_dispatch.c - fills the GEMM family's kernel table for the ISA level
// core/dispatch.c picked. One column per level, BLIS cntx-table style.
#include "gemm_kernels.h"
#include "../core/dispatch.h"

#define LEVEL(isa, ISA)                                                                     \
    {                                                                                       \
        .epilogue = gaba_gemm_epilogue_f32_##isa, .ukr = gaba_gemm_ukr_f32_##isa,           \
        .ukr_direct = gaba_gemm_ukr_direct_f32_##isa, .gemv = gaba_gemm_gemv_f32_##isa,     \
        .mr = GABA_GEMM_MR_##ISA, .nr = GABA_GEMM_NR_##ISA,                                 \
    }

gaba_gemm_kernels gaba_gemm_table = LEVEL(ref, REF);

void gaba_gemm_dispatch_init(gaba_isa isa) {
    static const gaba_gemm_kernels by_level[GABA_ISA_COUNT] = {
        [GABA_ISA_REF] = LEVEL(ref, REF),
        [GABA_ISA_AVX2] = LEVEL(avx2, AVX2),
        [GABA_ISA_AVX512] = LEVEL(avx512, AVX512),
    };
    gaba_gemm_table = by_level[isa];
}

void gaba_gemm_epilogue_f32(int64_t m, int64_t n, float *c, int64_t rs_c, int64_t cs_c,
                            const float *bias, gaba_act act) {
    if (!bias && act == GABA_ACT_NONE) return;
    gaba_gemm_table.epilogue(m, n, c, rs_c, cs_c, bias, act);
}
