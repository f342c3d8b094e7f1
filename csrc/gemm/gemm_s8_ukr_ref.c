// gemm_s8_ukr_ref.c - the portable int8 microkernel (4 x 8 tile) over the
// VNNI-style packed layout of gemm_s8_kernels.h, in plain C with wrapping
// unsigned arithmetic (int32 overflow would be undefined behaviour). The
// SIMD kernels beside it must match it bit for bit.
#include "gemm_s8_kernels.h"

#define MR 4
#define NR 8

void gaba_gemm_s8_ukr_ref(int64_t kg, const uint8_t *a, const int8_t *b, int32_t *c, int64_t rs_c,
                          int64_t cs_c, int64_t mr, int64_t nr, const int32_t *col_add,
                          int accumulate) {
    uint32_t acc[MR][NR] = {{0}};
    for (int64_t g = 0; g < kg; g++, a += 4 * MR, b += 4 * NR)
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++)
                for (int q = 0; q < 4; q++)
                    acc[i][j] += (uint32_t)((int32_t)a[4 * i + q] * (int32_t)b[4 * j + q]);
    for (int64_t i = 0; i < mr; i++)
        gaba_gemm_s8_store_row(c + i * rs_c, cs_c, nr, (const int32_t *)acc[i], col_add,
                               accumulate);
}
