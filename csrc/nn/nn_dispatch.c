// nn_dispatch.c - fills the layer library's kernel table for the ISA level
// core/dispatch.c picked (the depthwise and the short-reduction direct
// convolution kernels, the conv GEMM, upsampling, the GRU's recurrence,
// pooling, the activation pass, the softmax).
#include "../qnn/qnn_kernels.h"
#include "../core/dispatch.h"

#define QGEN                                                                                       \
    .qrequant_row = gaba_qnn_requant_row_generic, .qdwconv = gaba_qnn_dwconv_generic,              \
    .qquantize = gaba_qnn_quantize_f32_generic, .qgemm = gaba_qnn_gemm_generic,                    \
    .qaddsub_row = gaba_qnn_addsub_row_generic, .qim2col = gaba_qnn_im2col_u8_generic,             \
    .qpack = gaba_qnn_pack_u8_generic, .qgemv = gaba_qnn_gemv_generic, .qlut = gaba_qnn_lut_ref,   \
    .qupsample = gaba_qnn_upsample_nearest_ref, .qbilinear = gaba_qnn_upsample_bilinear_ref,       \
    .qpool = gaba_qnn_pool_generic, .qgpool = gaba_qnn_global_pool_ref,                            \
    .qattn = gaba_qnn_attn_generic, .qgru_proj = gaba_qnn_gru_proj_ref,                            \
    .qmul = gaba_qnn_mul_generic
#define QAVX2                                                                                      \
    .qrequant_row = gaba_qnn_requant_row_avx2, .qdwconv = gaba_qnn_dwconv_avx2,                    \
    .qquantize = gaba_qnn_quantize_f32_avx2, .qgemm = gaba_qnn_gemm_avx2,                          \
    .qaddsub_row = gaba_qnn_addsub_row_avx2, .qim2col = gaba_qnn_im2col_u8_avx2,                   \
    .qpack = gaba_qnn_pack_u8_generic, .qgemv = gaba_qnn_gemv_avx2, .qlut = gaba_qnn_lut_avx2,     \
    .qupsample = gaba_qnn_upsample_nearest_avx2, .qbilinear = gaba_qnn_upsample_bilinear_avx2,     \
    .qpool = gaba_qnn_pool_avx2, .qgpool = gaba_qnn_global_pool_avx2, .qattn = gaba_qnn_attn_avx2, \
    .qgru_proj = gaba_qnn_gru_proj_ref, .qsoftmax_pairs = gaba_qnn_softmax_pairs_avx2,             \
    .qmul = gaba_qnn_mul_generic
#define QAVX512                                                                                    \
    .qrequant_row = gaba_qnn_requant_row_avx512, .qdwconv = gaba_qnn_dwconv_avx2,                  \
    .qquantize = gaba_qnn_quantize_f32_avx512, .qgemm = gaba_qnn_gemm_avx2,                        \
    .qaddsub_row = gaba_qnn_addsub_row_avx512, .qim2col = gaba_qnn_im2col_u8_avx2,                 \
    .qpack = gaba_qnn_pack_u8_avx512, .qgemv = gaba_qnn_gemv_avx2, .qlut = gaba_qnn_lut_avx2,      \
    .qupsample = gaba_qnn_upsample_nearest_avx2, .qbilinear = gaba_qnn_upsample_bilinear_avx2,     \
    .qpool = gaba_qnn_pool_avx512, .qgpool = gaba_qnn_global_pool_avx512,                          \
    .qattn = gaba_qnn_attn_avx2, .qgru_proj = gaba_qnn_gru_proj_ref,                               \
    .qsoftmax_pairs = gaba_qnn_softmax_pairs_avx2, .qmul = gaba_qnn_mul_avx512

gaba_nn_kernels gaba_nn_table = {
    .dwconv = gaba_nn_dwconv_f32_generic,
    .conv_gemm = gaba_nn_conv_gemm_f32_generic,
    .upsample = gaba_nn_upsample_f32_generic,
    .gru_transpose = gaba_nn_gru_transpose_f32_generic,
    .gru_recur = gaba_nn_gru_recur_f32_generic,
    .pool = gaba_nn_pool_f32_generic,
    .act_pass = gaba_nn_act_f32_ref,
    .softmax = gaba_nn_softmax_f32_ref,
    .layer_norm = gaba_nn_layer_norm_f32_ref,
    .qlayer_norm = gaba_qnn_layer_norm_generic,
    QGEN,
};

void gaba_nn_dispatch_init(gaba_isa isa) {
    static const gaba_nn_kernels by_level[GABA_ISA_COUNT] = {
        [GABA_ISA_REF] = {.dwconv = gaba_nn_dwconv_f32_generic,
                          .conv_gemm = gaba_nn_conv_gemm_f32_generic,
                          .upsample = gaba_nn_upsample_f32_generic,
                          .gru_transpose = gaba_nn_gru_transpose_f32_generic,
                          .gru_recur = gaba_nn_gru_recur_f32_generic,
                          .pool = gaba_nn_pool_f32_generic,
                          .act_pass = gaba_nn_act_f32_ref,
                          .softmax = gaba_nn_softmax_f32_ref,
                          .layer_norm = gaba_nn_layer_norm_f32_ref,
                          .qlayer_norm = gaba_qnn_layer_norm_generic,
                          QGEN},
        [GABA_ISA_AVX2] = {.dwconv = gaba_nn_dwconv_f32_avx2,
                           .conv_direct = gaba_nn_conv_direct_f32_avx2,
                           .conv_gemm = gaba_nn_conv_gemm_f32_avx2,
                           .upsample = gaba_nn_upsample_f32_avx2,
                           .gru_transpose = gaba_nn_gru_transpose_f32_generic,
                           .gru_recur = gaba_nn_gru_recur_f32_avx2,
                           .pool = gaba_nn_pool_f32_avx2,
                           .act_pass = gaba_nn_act_pass_f32_avx2,
                           .softmax = gaba_nn_softmax_f32_avx2,
                           .layer_norm = gaba_nn_layer_norm_f32_avx2,
                           .qlayer_norm = gaba_qnn_layer_norm_avx2,
                           QAVX2},
        [GABA_ISA_AVX512] = {.dwconv = gaba_nn_dwconv_f32_avx512,
                             .conv_direct = gaba_nn_conv_direct_f32_avx512,
                             .conv_gemm = gaba_nn_conv_gemm_f32_avx512,
                             .upsample = gaba_nn_upsample_f32_avx512,
                             .gru_transpose = gaba_nn_gru_transpose_f32_avx512,
                             .gru_recur = gaba_nn_gru_recur_f32_avx512,
                             .pool = gaba_nn_pool_f32_avx512,
                             .act_pass = gaba_nn_act_pass_f32_avx512,
                             .softmax = gaba_nn_softmax_f32_avx512,
                             .layer_norm = gaba_nn_layer_norm_f32_avx512,
                             .qlayer_norm = gaba_qnn_layer_norm_avx512,
                             QAVX512},
    };
    gaba_nn_table = by_level[isa];
    // VNNI is a feature beyond the AVX-512 level (vpdpbusd, vpdpwssd).
    if (isa >= GABA_ISA_AVX512 && gaba_cpu()->avx512vnni) {
        gaba_nn_table.qgemm = gaba_qnn_gemm_avx512vnni;
        gaba_nn_table.qdwconv = gaba_qnn_dwconv_avx512vnni;
        gaba_nn_table.qgemv = gaba_qnn_gemv_avx512vnni;
        gaba_nn_table.qattn = gaba_qnn_attn_avx512vnni;
        gaba_nn_table.qgru_proj = gaba_qnn_gru_proj_avx512vnni;
        gaba_nn_table.qsoftmax_pairs = gaba_qnn_softmax_pairs_avx512vnni;
    }
    if (isa >= GABA_ISA_AVX512 && gaba_cpu()->avx512vbmi) {
        gaba_nn_table.qlut = gaba_qnn_lut_avx512vbmi;
        gaba_nn_table.qim2col = gaba_qnn_im2col_u8_avx512vbmi;
    }
}
