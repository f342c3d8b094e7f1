// ops.h - internal: the op table (ops.c), one const row per op of nn.h indexed
// by its code, and the per-op functions its rows point at, each in its op's
// own file (float32 in csrc/nn/, e.g. conv.c; int8 in csrc/qnn/, e.g.
// qnn/conv.c). The executors and the bindings
// read an op's name and behaviour from its row; adding an op is its functions and one row.
#ifndef GABA_NN_OPS_H
#define GABA_NN_OPS_H

#include "gaba/qnn.h"
#include "nn_kernels.h"

// Fills `pl` (zeroed, out_dtype float32) for inputs whose count, dtypes and
// dims gaba_nn_prepare has checked against the row.
typedef gaba_status gaba_nn_prepare_fn(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *in,
                                       gaba_nn_plan *pl);
// One sample of a prepared layer (gaba_nn_eval).
typedef gaba_status gaba_nn_eval_fn(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *in,
                                    const void *const *x, const float *const *w, void *y,
                                    float *ws);
// Backward of nb samples (gaba_nn_backward: act is NONE, or the layer is GABA_NN_ACT).
typedef gaba_status gaba_nn_backward_fn(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *in,
                                        int64_t nb, const void *const *x, const float *const *w,
                                        const float *y, const float *dy, float *const *dx,
                                        float *const *dw, float *ws);
// What a layer's backward reads (gaba_nn_backward_reads).
typedef int gaba_nn_reads_fn(const gaba_nn_layer *l);
// The backward functions' arguments, as gaba_nn_backward_fn's; DY the output's gradient.
#define BWD_ARGS                                                                                   \
    const gaba_nn_layer *l, int n_in, const gaba_nn_shape *in, int64_t nb, const void *const *x,   \
        const float *const *w, const float *y, const float *dy, float *const *dx,                  \
        float *const *dw, float *ws
// The float32 evals' arguments: the layer, its inputs (x, their shapes in),
// weights w, output y, workspace ws; X/Y the first input and the output as
// float32.
#define EVAL_ARGS                                                                                  \
    const gaba_nn_layer *l, int n_in, const gaba_nn_shape *in, const void *const *x,               \
        const float *const *w, void *y, float *ws
#define X ((const float *)x[0])
#define Y ((float *)y)
// Whether the int8 kernels run this layer (its activation, its variant).
typedef int gaba_qnn_supported_fn(const gaba_nn_layer *l);
// The int8 workspace in bytes of a layer gaba_nn_prepare accepted.
typedef gaba_status gaba_qnn_prepare_fn(const gaba_qnn_layer *q, const gaba_nn_shape *in,
                                        int64_t *ws_bytes);
// The requantization multipliers of a layer whose scales are set (gaba_qnn_set_rescale).
typedef gaba_status gaba_qnn_rescale_fn(gaba_qnn_layer *q, int n_in);
// The same as float32 ratios (gaba_qnn_set_rescale_fp32).
typedef void gaba_qnn_rescale_fp32_fn(gaba_qnn_layer *q);
// A bump allocator over gaba_qnn_layer_init's buffer; base NULL: it only counts.
typedef struct gaba_qnn_buf {
    unsigned char *base;
    int64_t used, align; // align: the largest alignment carved (the base's)
} gaba_qnn_buf;
// The arrays an int8 layer derives from its weights (gaba_qnn_layer_init), carved from
// buf; with buf->base NULL only carved (gaba_qnn_layer_bytes: nothing else is read).
typedef gaba_status gaba_qnn_init_fn(gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in,
                                     const gaba_nn_plan *pl, const gaba_qnn_weights *w,
                                     gaba_qnn_buf *buf);
// One sample of a prepared int8 layer (gaba_qnn_eval).
typedef gaba_status gaba_qnn_eval_fn(const gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in,
                                     const int8_t *const *x, int8_t *y, void *ws);
// The int8 evals' arguments, as gaba_qnn_eval_fn's.
#define QEVAL_ARGS                                                                                 \
    const gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in, const int8_t *const *x, int8_t *y, \
        void *ws

// An op's row. NULL q_supported: no int8 kernel; NULL q_prepare: no int8
// workspace; NULL q_rescale (q_rescale_fp32): no multiplier (float32 ratio) beyond the
// conv/dense ones; NULL q_init: no array derived from the weights or scales.
typedef struct gaba_nn_op_def {
    const char *name; // as Python and the model files spell it
    int n_in;         // inputs; 0: 2 to GABA_NN_MAX_INPUTS (concat)
    gaba_nn_dtype in_dtype;
    gaba_nn_prepare_fn *prepare;
    gaba_nn_eval_fn *eval, *eval_ref;
    gaba_nn_backward_fn *backward, *backward_ref; // NULL: not trainable through this op
    gaba_nn_reads_fn *bwd_reads;                  // NULL: backward reads x and y
    gaba_qnn_supported_fn *q_supported;
    gaba_qnn_prepare_fn *q_prepare;
    gaba_qnn_rescale_fn *q_rescale;
    gaba_qnn_rescale_fp32_fn *q_rescale_fp32;
    gaba_qnn_init_fn *q_init;
    gaba_qnn_eval_fn *q_eval, *q_eval_ref;
} gaba_nn_op_def;

extern const gaba_nn_op_def gaba_nn_ops[]; // GABA_NN_OP_COUNT rows

// nn_ops.c: what the prepare functions share. A shape of ndim dims (the rest
// 0); a weight of the plan; (C, H, W) of a 2-D op input, (C, L) as H = 1 (0:
// neither).
gaba_nn_shape gaba_nn_shp(int ndim, int32_t d0, int32_t d1, int32_t d2);
void gaba_nn_add_weight(gaba_nn_plan *pl, const char *name, gaba_nn_shape s, int32_t fan_in);
int gaba_nn_spatial(const gaba_nn_shape *s, int64_t *c, int64_t *h, int64_t *w);

// each op's file in csrc/nn/ (conv.c, dense.c, act.c, softmax.c, pool.c,
// upsample.c, concat.c, eltwise.c, batchnorm.c, embedding.c, shape.c,
// gru.c, attention.c)
gaba_nn_prepare_fn gaba_nn_conv_prepare, gaba_nn_dense_prepare, gaba_nn_embedding_prepare,
    gaba_nn_batchnorm_prepare, gaba_nn_same_shape_prepare, gaba_nn_pool_prepare,
    gaba_nn_global_pool_prepare, gaba_nn_upsample_prepare, gaba_nn_concat_prepare,
    gaba_nn_binary_prepare, gaba_nn_reshape_prepare, gaba_nn_flatten_prepare,
    gaba_nn_transpose_prepare, gaba_nn_gru_prepare, gaba_nn_attention_prepare;
gaba_nn_eval_fn gaba_nn_conv_eval, gaba_nn_conv_eval_ref, gaba_nn_dense_eval,
    gaba_nn_dense_eval_ref, gaba_nn_embedding_eval, gaba_nn_batchnorm_eval, gaba_nn_act_eval,
    gaba_nn_act_eval_ref, gaba_nn_softmax_eval, gaba_nn_softmax_eval_ref, gaba_nn_pool_eval,
    gaba_nn_pool_eval_ref, gaba_nn_global_pool_eval, gaba_nn_global_pool_eval_ref,
    gaba_nn_upsample_eval, gaba_nn_upsample_eval_ref, gaba_nn_concat_eval, gaba_nn_binary_eval,
    gaba_nn_binary_eval_ref, gaba_nn_copy_eval, gaba_nn_transpose_eval, gaba_nn_gru_eval,
    gaba_nn_gru_eval_ref, gaba_nn_attention_eval, gaba_nn_attention_eval_ref;

// each op's backward (forward's file); what backwards read (nn_ops.c, act.c)
gaba_nn_backward_fn gaba_nn_act_backward;
gaba_nn_reads_fn gaba_nn_reads_x, gaba_nn_reads_y, gaba_nn_reads_nothing, gaba_nn_act_reads,
    gaba_nn_pool_reads, gaba_nn_binary_reads;
gaba_nn_backward_fn gaba_nn_gru_backward, gaba_nn_gru_backward_ref;
gaba_nn_backward_fn gaba_nn_attention_backward, gaba_nn_attention_backward_ref;
gaba_nn_backward_fn gaba_nn_conv_backward, gaba_nn_conv_backward_ref, gaba_nn_dense_backward,
    gaba_nn_dense_backward_ref;
gaba_nn_backward_fn gaba_nn_softmax_backward, gaba_nn_pool_backward, gaba_nn_pool_backward_ref,
    gaba_nn_global_pool_backward, gaba_nn_upsample_backward, gaba_nn_upsample_backward_ref,
    gaba_nn_concat_backward, gaba_nn_binary_backward, gaba_nn_copy_backward,
    gaba_nn_transpose_backward, gaba_nn_embedding_backward, gaba_nn_batchnorm_backward,
    gaba_nn_layer_norm_backward, gaba_nn_layer_norm_backward_ref;

// csrc/qnn/: the predicates in qnn_ops.c, the rest in each op's file (conv.c,
// dense.c, act.c, pool.c, upsample.c, concat.c, eltwise.c, shape.c,
// embedding.c, attention.c, gru.c)
gaba_qnn_supported_fn gaba_qnn_fused_act_supported, gaba_qnn_act_supported,
    gaba_qnn_always_supported, gaba_qnn_no_act_supported;
gaba_qnn_prepare_fn gaba_qnn_conv_prepare, gaba_qnn_dense_prepare, gaba_qnn_gru_prepare,
    gaba_qnn_attention_prepare;
gaba_qnn_rescale_fn gaba_qnn_addsub_rescale, gaba_qnn_mul_rescale, gaba_qnn_concat_rescale;
gaba_qnn_rescale_fp32_fn gaba_qnn_addsub_rescale_fp32, gaba_qnn_mul_rescale_fp32;
gaba_qnn_eval_fn gaba_qnn_conv_eval, gaba_qnn_conv_eval_ref, gaba_qnn_dense_eval,
    gaba_qnn_dense_eval_ref, gaba_qnn_act_eval, gaba_qnn_act_eval_ref, gaba_qnn_pool_eval,
    gaba_qnn_pool_eval_ref, gaba_qnn_global_pool_eval, gaba_qnn_global_pool_eval_ref,
    gaba_qnn_upsample_eval, gaba_qnn_upsample_eval_ref, gaba_qnn_concat_eval,
    gaba_qnn_concat_eval_ref, gaba_qnn_binary_eval, gaba_qnn_binary_eval_ref, gaba_qnn_copy_eval,
    gaba_qnn_embedding_eval, gaba_qnn_transpose_eval, gaba_qnn_attention_eval,
    gaba_qnn_attention_eval_ref, gaba_qnn_gru_eval, gaba_qnn_gru_eval_ref;

// layer.c
gaba_qnn_init_fn gaba_qnn_conv_init, gaba_qnn_act_init, gaba_qnn_concat_init, gaba_qnn_gru_init,
    gaba_qnn_attention_init, gaba_qnn_layer_norm_init;

// layer_norm.c (float32), ../qnn/layer_norm.c (int8)
float gaba_nn_layer_norm_eps(const gaba_nn_layer *l); // p[0] in units of 1e-9, 0: 1e-5
gaba_nn_prepare_fn gaba_nn_layer_norm_prepare;
gaba_nn_eval_fn gaba_nn_layer_norm_eval, gaba_nn_layer_norm_eval_ref;
gaba_qnn_prepare_fn gaba_qnn_layer_norm_prepare;
gaba_qnn_eval_fn gaba_qnn_layer_norm_eval, gaba_qnn_layer_norm_eval_ref;

// ../qnn/softmax.c (int8; the exp table's q_init in layer.c)
gaba_qnn_prepare_fn gaba_qnn_softmax_prepare;
gaba_qnn_rescale_fn gaba_qnn_softmax_rescale;
gaba_qnn_init_fn gaba_qnn_softmax_init;
gaba_qnn_eval_fn gaba_qnn_softmax_eval, gaba_qnn_softmax_eval_ref;
void gaba_qnn_build_softmax_table(const gaba_qnn_layer *q, int32_t *table);

#endif // GABA_NN_OPS_H
