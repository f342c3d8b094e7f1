// quantize_avx2.c - the AVX2 level's quantize/dequantize span kernels. They
// forward to the reference for now: the AVX2 level gets vectorised fake
// quantization and min/max (fake_quant_avx2.c), and real quantized storage
// runs the portable loops until an AVX2 packing kernel earns its place with a
// benchmark. No intrinsics here yet.
#include "quant_kernels.h"

void gaba_quant_quantize_span_f32_avx2(int64_t n, const float *x, void *q, int64_t first,
                                       gaba_quant_storage storage,
                                       const gaba_quant_span_params *p) {
    gaba_quant_quantize_span_f32_ref(n, x, q, first, storage, p);
}

void gaba_quant_dequantize_span_f32_avx2(int64_t n, const void *q, int64_t first,
                                         gaba_quant_storage storage, float *y,
                                         const gaba_quant_span_params *p) {
    gaba_quant_dequantize_span_f32_ref(n, q, first, storage, y, p);
}
