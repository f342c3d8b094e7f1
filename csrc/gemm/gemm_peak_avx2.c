// gemm_peak_avx2.c - the FMA-chain peak probe for this level: 12
// independent chains of vector FMAs (8 floats each), enough to keep both FMA
// pipes busy through their latency. Nothing is loaded or stored in the
// loop, so the figure is the core's float32 FMA throughput, the ceiling a
// GEMM microkernel is measured against (gaba.peak_gflops).
#include "gemm_kernels.h"

#include <immintrin.h>

double gaba_gemm_peak_f32_avx2(int64_t iters) {
    __m256 acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps((float)i * 1e-3f);
    const __m256 mul = _mm256_set1_ps(0.999999f), add = _mm256_set1_ps(1e-7f);
    for (int64_t it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], mul, add);
    }
    __m256 s = acc[0];
    for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, acc[i]);
    volatile float sink;
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    sink = lanes[0];
    (void)sink;
    return 2.0 * 12 * 8 * (double)iters;
}
