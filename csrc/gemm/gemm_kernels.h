// gemm_kernels.h - internal: the GEMM family's per-ISA kernels and the
// table gemm_dispatch.c fills once with the chosen level's variants.
#ifndef GABA_GEMM_KERNELS_H
#define GABA_GEMM_KERNELS_H

#include "gaba/gemm.h"

typedef void (*gaba_gemm_epilogue_fn)(int64_t m, int64_t n, float *c, int64_t rs_c,
                                      int64_t cs_c, const float *bias, gaba_act act);

void gaba_gemm_epilogue_f32_ref(int64_t m, int64_t n, float *c, int64_t rs_c, int64_t cs_c,
                                const float *bias, gaba_act act);
void gaba_gemm_epilogue_f32_avx2(int64_t m, int64_t n, float *c, int64_t rs_c, int64_t cs_c,
                                 const float *bias, gaba_act act);
void gaba_gemm_epilogue_f32_avx512(int64_t m, int64_t n, float *c, int64_t rs_c,
                                   int64_t cs_c, const float *bias, gaba_act act);

typedef struct gaba_gemm_kernels {
    gaba_gemm_epilogue_fn epilogue;
} gaba_gemm_kernels;

extern gaba_gemm_kernels gaba_gemm_table;

#endif
