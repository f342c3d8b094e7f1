// ops.c - the op table: one const row per op of nn.h, indexed by its code,
// with its name, its inputs and the functions of its float32 and int8
// kernels (float32 inputs and NULL functions where a row leaves them out);
// and the activations' names. The executors and the bindings look an op up
// here (TFLite Micro's op registrations, ggml's op-name table).
#include "ops.h"

// Ops told apart by their code alone (conv1d/conv2d, max/avg, add/sub/mul, the
// copies) share their functions, which read l->op where the variants differ.
#define CONV_FNS                                                                                   \
    .n_in = 1, .prepare = gaba_nn_conv_prepare, .eval = gaba_nn_conv_eval,                         \
    .eval_ref = gaba_nn_conv_eval_ref, .backward = gaba_nn_conv_backward,                          \
    .backward_ref = gaba_nn_conv_backward_ref, .bwd_reads = gaba_nn_reads_x,                       \
    .q_supported = gaba_qnn_fused_act_supported, .q_prepare = gaba_qnn_conv_prepare,               \
    .q_init = gaba_qnn_conv_init, .q_eval = gaba_qnn_conv_eval,                                    \
    .q_eval_ref = gaba_qnn_conv_eval_ref
#define POOL_FNS                                                                                   \
    .n_in = 1, .prepare = gaba_nn_pool_prepare, .eval = gaba_nn_pool_eval,                         \
    .eval_ref = gaba_nn_pool_eval_ref, .backward = gaba_nn_pool_backward,                          \
    .backward_ref = gaba_nn_pool_backward_ref, .bwd_reads = gaba_nn_pool_reads,                    \
    .q_supported = gaba_qnn_always_supported, .q_eval = gaba_qnn_pool_eval,                        \
    .q_eval_ref = gaba_qnn_pool_eval_ref
#define GLOBAL_POOL_FNS                                                                            \
    .n_in = 1, .prepare = gaba_nn_global_pool_prepare, .eval = gaba_nn_global_pool_eval,           \
    .eval_ref = gaba_nn_global_pool_eval_ref, .backward = gaba_nn_global_pool_backward,            \
    .backward_ref = gaba_nn_global_pool_backward, .bwd_reads = gaba_nn_pool_reads,                 \
    .q_supported = gaba_qnn_always_supported, .q_eval = gaba_qnn_global_pool_eval,                 \
    .q_eval_ref = gaba_qnn_global_pool_eval_ref
#define BINARY_FNS                                                                                 \
    .n_in = 2, .prepare = gaba_nn_binary_prepare, .eval = gaba_nn_binary_eval,                     \
    .eval_ref = gaba_nn_binary_eval_ref, .backward = gaba_nn_binary_backward,                      \
    .backward_ref = gaba_nn_binary_backward, .bwd_reads = gaba_nn_binary_reads,                    \
    .q_supported = gaba_qnn_fused_act_supported, .q_eval = gaba_qnn_binary_eval,                   \
    .q_eval_ref = gaba_qnn_binary_eval_ref
#define ADDSUB_FNS                                                                                 \
    BINARY_FNS, .q_rescale = gaba_qnn_addsub_rescale, .q_rescale_fp32 = gaba_qnn_addsub_rescale_fp32
#define COPY_FNS                                                                                   \
    .n_in = 1, .eval = gaba_nn_copy_eval, .eval_ref = gaba_nn_copy_eval,                           \
    .backward = gaba_nn_copy_backward, .backward_ref = gaba_nn_copy_backward,                      \
    .bwd_reads = gaba_nn_reads_nothing, .q_supported = gaba_qnn_always_supported,                  \
    .q_eval = gaba_qnn_copy_eval, .q_eval_ref = gaba_qnn_copy_eval

const gaba_nn_op_def gaba_nn_ops[] = {
    [GABA_NN_CONV2D] = {.name = "conv2d", CONV_FNS},
    [GABA_NN_CONV1D] = {.name = "conv1d", CONV_FNS},
    [GABA_NN_DENSE] = {.name = "dense",
                       .n_in = 1,
                       .prepare = gaba_nn_dense_prepare,
                       .eval = gaba_nn_dense_eval,
                       .eval_ref = gaba_nn_dense_eval_ref,
                       .backward = gaba_nn_dense_backward,
                       .backward_ref = gaba_nn_dense_backward_ref,
                       .bwd_reads = gaba_nn_reads_x,
                       .q_supported = gaba_qnn_fused_act_supported,
                       .q_prepare = gaba_qnn_dense_prepare,
                       .q_init = gaba_qnn_conv_init,
                       .q_eval = gaba_qnn_dense_eval,
                       .q_eval_ref = gaba_qnn_dense_eval_ref},
    // int32 ids in; the int8 table is quantized with the output's parameters
    [GABA_NN_EMBEDDING] = {.name = "embedding",
                           .n_in = 1,
                           .in_dtype = GABA_NN_I32,
                           .prepare = gaba_nn_embedding_prepare,
                           .eval = gaba_nn_embedding_eval,
                           .eval_ref = gaba_nn_embedding_eval,
                           .backward = gaba_nn_embedding_backward,
                           .backward_ref = gaba_nn_embedding_backward,
                           .bwd_reads = gaba_nn_reads_x,
                           .q_supported = gaba_qnn_no_act_supported,
                           .q_eval = gaba_qnn_embedding_eval,
                           .q_eval_ref = gaba_qnn_embedding_eval},
    [GABA_NN_BATCHNORM] = {.name = "batchnorm",
                           .n_in = 1,
                           .prepare = gaba_nn_batchnorm_prepare,
                           .eval = gaba_nn_batchnorm_eval,
                           .eval_ref = gaba_nn_batchnorm_eval,
                           .backward = gaba_nn_batchnorm_backward,
                           .backward_ref = gaba_nn_batchnorm_backward,
                           .bwd_reads = gaba_nn_reads_x},
    [GABA_NN_ACT] = {.name = "act",
                     .n_in = 1,
                     .prepare = gaba_nn_same_shape_prepare,
                     .eval = gaba_nn_act_eval,
                     .eval_ref = gaba_nn_act_eval_ref,
                     .backward = gaba_nn_act_backward,
                     .backward_ref = gaba_nn_act_backward,
                     .bwd_reads = gaba_nn_act_reads,
                     .q_supported = gaba_qnn_act_supported,
                     .q_init = gaba_qnn_act_init,
                     .q_eval = gaba_qnn_act_eval,
                     .q_eval_ref = gaba_qnn_act_eval_ref},
    [GABA_NN_SOFTMAX] = {.name = "softmax",
                         .n_in = 1,
                         .prepare = gaba_nn_same_shape_prepare,
                         .eval = gaba_nn_softmax_eval,
                         .eval_ref = gaba_nn_softmax_eval_ref,
                         .backward = gaba_nn_softmax_backward,
                         .backward_ref = gaba_nn_softmax_backward,
                         .bwd_reads = gaba_nn_reads_y,
                         .q_supported = gaba_qnn_no_act_supported,
                         .q_prepare = gaba_qnn_softmax_prepare,
                         .q_rescale = gaba_qnn_softmax_rescale,
                         .q_init = gaba_qnn_softmax_init,
                         .q_eval = gaba_qnn_softmax_eval,
                         .q_eval_ref = gaba_qnn_softmax_eval_ref},
    [GABA_NN_MAXPOOL] = {.name = "maxpool", POOL_FNS},
    [GABA_NN_AVGPOOL] = {.name = "avgpool", POOL_FNS},
    [GABA_NN_GLOBAL_AVGPOOL] = {.name = "global_avgpool", GLOBAL_POOL_FNS},
    [GABA_NN_GLOBAL_MAXPOOL] = {.name = "global_maxpool", GLOBAL_POOL_FNS},
    [GABA_NN_UPSAMPLE] = {.name = "upsample",
                          .n_in = 1,
                          .prepare = gaba_nn_upsample_prepare,
                          .eval = gaba_nn_upsample_eval,
                          .eval_ref = gaba_nn_upsample_eval_ref,
                          .backward = gaba_nn_upsample_backward,
                          .backward_ref = gaba_nn_upsample_backward_ref,
                          .bwd_reads = gaba_nn_reads_nothing,
                          .q_supported = gaba_qnn_always_supported,
                          .q_eval = gaba_qnn_upsample_eval,
                          .q_eval_ref = gaba_qnn_upsample_eval_ref},
    [GABA_NN_CONCAT] = {.name = "concat",
                        .n_in = 0,
                        .prepare = gaba_nn_concat_prepare,
                        .eval = gaba_nn_concat_eval,
                        .eval_ref = gaba_nn_concat_eval,
                        .backward = gaba_nn_concat_backward,
                        .backward_ref = gaba_nn_concat_backward,
                        .bwd_reads = gaba_nn_reads_nothing,
                        .q_supported = gaba_qnn_always_supported,
                        .q_rescale = gaba_qnn_concat_rescale,
                        .q_init = gaba_qnn_concat_init,
                        .q_eval = gaba_qnn_concat_eval,
                        .q_eval_ref = gaba_qnn_concat_eval_ref},
    [GABA_NN_ADD] = {.name = "add", ADDSUB_FNS},
    [GABA_NN_SUB] = {.name = "sub", ADDSUB_FNS},
    [GABA_NN_MUL] = {.name = "mul",
                     BINARY_FNS,
                     .q_rescale = gaba_qnn_mul_rescale,
                     .q_rescale_fp32 = gaba_qnn_mul_rescale_fp32},
    [GABA_NN_RESHAPE] = {.name = "reshape", COPY_FNS, .prepare = gaba_nn_reshape_prepare},
    [GABA_NN_FLATTEN] = {.name = "flatten", COPY_FNS, .prepare = gaba_nn_flatten_prepare},
    [GABA_NN_TRANSPOSE] = {.name = "transpose",
                           .n_in = 1,
                           .prepare = gaba_nn_transpose_prepare,
                           .eval = gaba_nn_transpose_eval,
                           .eval_ref = gaba_nn_transpose_eval,
                           .backward = gaba_nn_transpose_backward,
                           .backward_ref = gaba_nn_transpose_backward,
                           .bwd_reads = gaba_nn_reads_nothing,
                           .q_supported = gaba_qnn_always_supported,
                           .q_eval = gaba_qnn_transpose_eval,
                           .q_eval_ref = gaba_qnn_transpose_eval},
    [GABA_NN_GRU] = {.name = "gru",
                     .n_in = 1,
                     .prepare = gaba_nn_gru_prepare,
                     .eval = gaba_nn_gru_eval,
                     .eval_ref = gaba_nn_gru_eval_ref,
                     .backward = gaba_nn_gru_backward,
                     .backward_ref = gaba_nn_gru_backward_ref,
                     .q_supported = gaba_qnn_no_act_supported,
                     .q_prepare = gaba_qnn_gru_prepare,
                     .q_init = gaba_qnn_gru_init,
                     .q_eval = gaba_qnn_gru_eval,
                     .q_eval_ref = gaba_qnn_gru_eval_ref},
    [GABA_NN_ATTENTION] = {.name = "attention",
                           .n_in = 1,
                           .prepare = gaba_nn_attention_prepare,
                           .eval = gaba_nn_attention_eval,
                           .eval_ref = gaba_nn_attention_eval_ref,
                           .backward = gaba_nn_attention_backward,
                           .backward_ref = gaba_nn_attention_backward_ref,
                           .bwd_reads = gaba_nn_reads_x,
                           .q_supported = gaba_qnn_no_act_supported,
                           .q_prepare = gaba_qnn_attention_prepare,
                           .q_init = gaba_qnn_attention_init,
                           .q_eval = gaba_qnn_attention_eval,
                           .q_eval_ref = gaba_qnn_attention_eval_ref},
    [GABA_NN_LAYER_NORM] = {.name = "layer_norm",
                            .n_in = 1,
                            .prepare = gaba_nn_layer_norm_prepare,
                            .eval = gaba_nn_layer_norm_eval,
                            .eval_ref = gaba_nn_layer_norm_eval_ref,
                            .backward = gaba_nn_layer_norm_backward,
                            .backward_ref = gaba_nn_layer_norm_backward_ref,
                            .bwd_reads = gaba_nn_reads_x,
                            .q_supported = gaba_qnn_no_act_supported,
                            .q_prepare = gaba_qnn_layer_norm_prepare,
                            .q_init = gaba_qnn_layer_norm_init,
                            .q_eval = gaba_qnn_layer_norm_eval,
                            .q_eval_ref = gaba_qnn_layer_norm_eval_ref},
};
_Static_assert(sizeof gaba_nn_ops / sizeof *gaba_nn_ops == GABA_NN_OP_COUNT,
               "one row per op of nn.h");

static const char *const act_names[] = {
    [GABA_NN_ACT_NONE] = "none",   [GABA_NN_ACT_RELU] = "relu",
    [GABA_NN_ACT_RELU6] = "relu6", [GABA_NN_ACT_SIGMOID] = "sigmoid",
    [GABA_NN_ACT_TANH] = "tanh",   [GABA_NN_ACT_HSWISH] = "hard_swish",
};
_Static_assert(sizeof act_names / sizeof *act_names == GABA_NN_ACT_COUNT,
               "one name per activation of nn.h");

const char *gaba_nn_op_name(gaba_nn_op op) {
    return (unsigned)op < GABA_NN_OP_COUNT ? gaba_nn_ops[op].name : NULL;
}

const char *gaba_nn_act_name(gaba_nn_act act) {
    return (unsigned)act < GABA_NN_ACT_COUNT ? act_names[act] : NULL;
}
