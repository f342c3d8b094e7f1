// gemm_peak_avx512.c - the FMA-chain peak probe for this level: 12
// independent chains of vector FMAs (16 floats each), enough to keep both FMA
// pipes busy through their latency. Nothing is loaded or stored in the
// loop, so the figure is the core's float32 FMA throughput, the ceiling a
// GEMM microkernel is measured against (gaba.peak_gflops).
#include "gemm_kernels.h"

#include <immintrin.h>

double gaba_gemm_peak_f32_avx512(int64_t iters) {
    __m512 acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_ps((float)i * 1e-3f);
    const __m512 mul = _mm512_set1_ps(0.999999f), add = _mm512_set1_ps(1e-7f);
    for (int64_t it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) acc[i] = _mm512_fmadd_ps(acc[i], mul, add);
    }
    __m512 s = acc[0];
    for (int i = 1; i < 12; i++) s = _mm512_add_ps(s, acc[i]);
    volatile float sink;
    float lanes[16];
    _mm512_storeu_ps(lanes, s);
    sink = lanes[0];
    (void)sink;
    return 2.0 * 12 * 16 * (double)iters;
}
