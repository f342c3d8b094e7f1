// quant_dispatch.c - fills the quantization family's kernel table for the
// ISA level core/dispatch.c picked, one column per level.
#include "quant_kernels.h"
#include "../core/dispatch.h"

#define GABA_QUANT_ROW(isa)                                                                        \
    {                                                                                              \
        .fake_quantize = gaba_quant_fake_quantize_span_f32_##isa,                                  \
        .minmax = gaba_quant_minmax_span_f32_##isa,                                                \
        .quantize = gaba_quant_quantize_span_f32_##isa,                                            \
        .dequantize = gaba_quant_dequantize_span_f32_##isa,                                        \
        .fake_quantize_lanes = gaba_quant_fake_quantize_lanes_f32_##isa,                           \
        .minmax_lanes = gaba_quant_minmax_lanes_f32_##isa,                                         \
        .quantize_lanes = gaba_quant_quantize_lanes_f32_##isa,                                     \
        .dequantize_lanes = gaba_quant_dequantize_lanes_f32_##isa,                                 \
        .lsq = gaba_quant_lsq_span_f32_##isa,                                                      \
    }

gaba_quant_kernels gaba_quant_table = GABA_QUANT_ROW(ref);

void gaba_quant_dispatch_init(gaba_isa isa) {
    static const gaba_quant_kernels by_level[GABA_ISA_COUNT] = {
        [GABA_ISA_REF] = GABA_QUANT_ROW(ref),
        [GABA_ISA_AVX2] = GABA_QUANT_ROW(avx2),
        [GABA_ISA_AVX512] = GABA_QUANT_ROW(avx512),
    };
    gaba_quant_table = by_level[isa];
}
