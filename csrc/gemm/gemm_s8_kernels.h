// gemm_s8_kernels.h - internal: the int8 GEMM's per-ISA microkernels.
//
// Contract (docs/kernels/gemm.md, "int8"): ukr(kg, a, b, c, rs_c, cs_c, mr,
// nr, col_add, accumulate) computes one MR x NR int32 tile from kg groups
// of 4 k steps. Packed A: per group, MR rows of 4 unsigned bytes (row i at
// a[(g * MR + i) * 4 ..]); packed B: per group, NR columns of 4 signed bytes
// (column j at b[(g * NR + j) * 4 ..]); k past K is zero-padded on both
// sides. tile[i][j] = sum over the 4 * kg steps of a * b, exact in int32
// (wrapping, as vpdpbusd), plus col_add[j] when col_add is not NULL; the
// tile is added to C when `accumulate`, else written (C is then not read).
// Only C[0:mr, 0:nr] is touched.
#ifndef GABA_GEMM_S8_KERNELS_H
#define GABA_GEMM_S8_KERNELS_H

#include "gaba/gemm.h"

typedef void (*gaba_gemm_s8_ukr_fn)(int64_t kg, const uint8_t *a, const int8_t *b, int32_t *c,
                                    int64_t rs_c, int64_t cs_c, int64_t mr, int64_t nr,
                                    const int32_t *col_add, int accumulate);

#define GABA_GEMM_S8_DECLARE(isa)                                                                  \
    void gaba_gemm_s8_ukr_##isa(int64_t kg, const uint8_t *a, const int8_t *b, int32_t *c,         \
                                int64_t rs_c, int64_t cs_c, int64_t mr, int64_t nr,                \
                                const int32_t *col_add, int accumulate);
GABA_GEMM_S8_DECLARE(ref)
GABA_GEMM_S8_DECLARE(avx2)
GABA_GEMM_S8_DECLARE(avxvnni)
GABA_GEMM_S8_DECLARE(avx512vnni)
#undef GABA_GEMM_S8_DECLARE

typedef struct gaba_gemm_s8_kernels {
    gaba_gemm_s8_ukr_fn ukr;
    int mr, nr;
    const char *name; // for gaba.info()
} gaba_gemm_s8_kernels;

extern gaba_gemm_s8_kernels gaba_gemm_s8_table;

// Stores one row of an int32 tile: C (+)= t + col_add, wrapping.
static inline void gaba_gemm_s8_store_row(int32_t *c, int64_t cs_c, int64_t nr, const int32_t *t,
                                          const int32_t *col_add, int accumulate) {
    for (int64_t j = 0; j < nr; j++) {
        uint32_t v = (uint32_t)t[j];
        if (col_add) v += (uint32_t)col_add[j];
        if (accumulate) v += (uint32_t)c[j * cs_c];
        c[j * cs_c] = (int32_t)v;
    }
}

#endif
