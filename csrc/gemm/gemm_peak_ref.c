// gemm_peak_ref.c - the FMA-chain peak probe, portable version: 12
// independent multiply-add chains on scalars. It measures what plain C code
// reaches, not the machine's vector peak; the SIMD files beside it do that.
#include "gemm_kernels.h"

double gaba_gemm_peak_f32_ref(int64_t iters) {
    float acc[12];
    for (int i = 0; i < 12; i++) acc[i] = (float)i * 1e-3f;
    const float mul = 0.999999f, add = 1e-7f;
    for (int64_t it = 0; it < iters; it++)
        for (int i = 0; i < 12; i++) acc[i] = acc[i] * mul + add;
    volatile float sink = 0.0f;
    for (int i = 0; i < 12; i++) sink += acc[i];
    (void)sink;
    return 2.0 * 12 * (double)iters;
}
