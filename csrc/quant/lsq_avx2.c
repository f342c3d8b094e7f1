// lsq_avx2.c - the AVX2 level's LSQ backward span kernel: the reference loop
// for now (the AVX-512 level vectorises it). No intrinsics here.
#include "quant_kernels.h"

void gaba_quant_lsq_span_f32_avx2(int64_t n, const float *grad, const float *x, float *grad_x,
                                  const gaba_quant_lsq_params *p, double sums[2]) {
    gaba_quant_lsq_span_f32_ref(n, grad, x, grad_x, p, sums);
}
