// nn.h - the layer library of the model zoo: float32 ops on one sample at a
// time, channel-major (CHW for 2-D ops, CL for 1-D ops; the batch axis N of
// NCHW/NCL is the executor's loop, zoo.h).
//
// An op is data: a gaba_nn_layer (op code, fused activation, integer
// parameters whose meaning each op documents below). Every op has
//   - prepare: checks the input shapes, infers the output shape, lists the
//     weight tensors it needs, the float workspace its eval uses and its
//     multiply-accumulates. No allocation, no arithmetic on data;
//   - eval: computes, using only the memory it is handed (no allocation).
//     GABA_NN_IMPL_REF runs the plain-loop reference kernels (*_ref.c, the
//     oracle); GABA_NN_IMPL_FAST the fast ones (im2col or direct on
//     gaba_gemm_f32 with fused bias + ReLU/ReLU6, direct SIMD loops).
// Each op's name and functions are one row of the op table (csrc/nn/ops.c).
// Shapes are per sample, without the batch axis. Tensors are dense, C order.
#ifndef GABA_NN_H
#define GABA_NN_H

#include "gaba/gaba.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GABA_NN_MAX_DIMS 4
#define GABA_NN_MAX_INPUTS 4
#define GABA_NN_MAX_WEIGHTS 4
#define GABA_NN_MAX_PARAMS 12

typedef enum gaba_nn_dtype {
    GABA_NN_F32 = 0,
    GABA_NN_I32 = 1, // token ids (embedding input)
    GABA_NN_I8 = 2,  // quantized activations (qnn.h, the int8 executor only)
} gaba_nn_dtype;

typedef struct gaba_nn_shape {
    int32_t ndim;
    int32_t d[GABA_NN_MAX_DIMS];
} gaba_nn_shape;

// Activations fused after an op (or run alone by GABA_NN_ACT).
typedef enum gaba_nn_act {
    GABA_NN_ACT_NONE = 0,
    GABA_NN_ACT_RELU = 1,    // max(x, 0)
    GABA_NN_ACT_RELU6 = 2,   // min(max(x, 0), 6)
    GABA_NN_ACT_SIGMOID = 3, // 1 / (1 + exp(-x))
    GABA_NN_ACT_TANH = 4,
    GABA_NN_ACT_HSWISH = 5, // x * relu6(x + 3) / 6
    GABA_NN_ACT_COUNT = 6,
} gaba_nn_act;

// Op codes and their parameters p[] (unused entries are 0).
typedef enum gaba_nn_op {
    // p = {c_out, kh, kw, sh, sw, pad_top, pad_left, pad_bottom, pad_right, dh, dw, groups}
    // x (C, H, W) -> y (c_out, Ho, Wo); weights: weight (c_out, C/groups, kh, kw), bias (c_out).
    // Ho = (H + pt + pb - dh*(kh-1) - 1) / sh + 1. Zero padding. groups == C == c_out is
    // depthwise; kh == kw == 1, stride 1, no padding is pointwise (a plain GEMM).
    GABA_NN_CONV2D = 0,
    // The same parameters with kh == sh == dh == 1 and no vertical padding, on x (C, L):
    // a causal conv pads (k-1)*d on the left only.
    GABA_NN_CONV1D = 1,
    // p = {n_out}. x (any shape, read flat as F values) -> y (n_out);
    // weights: weight (n_out, F), bias (n_out).
    GABA_NN_DENSE = 2,
    // p = {dim, vocab}. x int32 (L) -> y (dim, L) (channel-major, ready for CONV1D);
    // weights: table (vocab, dim). An id outside [0, vocab) fails with GABA_ERR_ARG.
    GABA_NN_EMBEDDING = 3,
    // p = {eps_e9} (epsilon in units of 1e-9; 0 means 1e-5). x (C, ...) -> y, per channel
    // y = (x - mean) / sqrt(var + eps) * gamma + beta. The zoo folds it into the preceding
    // conv/dense at build time; run alone, its weights are scale (C), shift (C).
    GABA_NN_BATCHNORM = 4,
    GABA_NN_ACT = 5,     // the layer's `act` alone, elementwise
    GABA_NN_SOFTMAX = 6, // over the last axis
    // p = {kh, kw, sh, sw, pt, pl, pb, pr}. x (C, H, W) or (C, L) with kh = sh = 1.
    // Padded cells are -inf for max and are not counted by avg (Keras semantics).
    GABA_NN_MAXPOOL = 7,
    GABA_NN_AVGPOOL = 8,
    GABA_NN_GLOBAL_AVGPOOL = 9, // x (C, ...) -> y (C)
    GABA_NN_GLOBAL_MAXPOOL = 10,
    // p = {scale_h, scale_w, mode (0 nearest, 1 bilinear, half-pixel centres as
    // PyTorch's align_corners=False)}. x (C, H, W) or (C, L) with scale_h = 1.
    GABA_NN_UPSAMPLE = 11,
    GABA_NN_CONCAT = 12, // 2..4 inputs (C_i, rest...) with equal rest -> (sum C_i, rest...)
    // Two inputs a, b: b has a's shape, or is (C) / (C, 1, ...) and broadcasts per channel.
    GABA_NN_ADD = 13,
    GABA_NN_SUB = 14,
    GABA_NN_MUL = 15,
    // p = {ndim, d0, d1, d2, d3}: the same values in a new shape; one d may be -1.
    GABA_NN_RESHAPE = 16,
    GABA_NN_FLATTEN = 17,   // -> (numel)
    GABA_NN_TRANSPOSE = 18, // (A, B) -> (B, A)
    // p = {hidden, return_sequences}. x (F, T) -> y (hidden) (last state) or (hidden, T).
    // PyTorch's GRU: gates r, z, n; h' = (1 - z) * n + z * h, h0 = 0.
    // weights: w_ih (3*hidden, F), w_hh (3*hidden, hidden), b_ih (3*hidden), b_hh (3*hidden).
    GABA_NN_GRU = 19,
    // p = {d_k}. Single-head self-attention over the L positions of x (D, L) -> y (D, L):
    // [q k v] = W_qkv x + b_qkv, y = W_o softmax(q k^T / sqrt(d_k)) v + b_o.
    // weights: w_qkv (3*d_k, D), b_qkv (3*d_k), w_o (D, d_k), b_o (D).
    GABA_NN_ATTENTION = 20,
    // p = {eps_e9} (as BATCHNORM's; 0 means 1e-5). x (C, ...) -> y, normalized over the
    // channels at each position (PyTorch's LayerNorm(C) on x transposed to (..., C)):
    // y[c, p] = (x[c, p] - mean_p) / sqrt(var_p + eps) * weight[c] + bias[c], var_p biased.
    // weights: weight (C), bias (C). No fused activation.
    GABA_NN_LAYER_NORM = 21,
    GABA_NN_OP_COUNT = 22,
} gaba_nn_op;

typedef enum gaba_nn_impl {
    GABA_NN_IMPL_FAST = 0,
    GABA_NN_IMPL_REF = 1,
} gaba_nn_impl;

typedef struct gaba_nn_layer {
    gaba_nn_op op;
    gaba_nn_act act; // applied to the output (CONV/DENSE/BATCHNORM/ADD/SUB/MUL/ACT)
    int32_t p[GABA_NN_MAX_PARAMS];
} gaba_nn_layer;

// What prepare tells the executor about a layer.
typedef struct gaba_nn_plan {
    gaba_nn_shape out;
    gaba_nn_dtype out_dtype;
    int n_weights;
    const char *weight_names[GABA_NN_MAX_WEIGHTS]; // "weight", "bias", ...
    gaba_nn_shape weight_shapes[GABA_NN_MAX_WEIGHTS];
    int32_t fan_in[GABA_NN_MAX_WEIGHTS]; // for He initialisation; 0: init to zero
    int64_t workspace;                   // floats of scratch eval needs
    int64_t bwd_workspace;               // floats of scratch gaba_nn_backward needs
    int64_t macs;
} gaba_nn_plan;

int64_t gaba_nn_numel(const gaba_nn_shape *shape);

// The op's and the activation's names as Python spells them ("conv2d", "relu6"); NULL for a
// code outside the enum.
const char *gaba_nn_op_name(gaba_nn_op op);
const char *gaba_nn_act_name(gaba_nn_act act);

// Checks the layer against its inputs and fills `plan`.
gaba_status gaba_nn_prepare(const gaba_nn_layer *layer, int n_in, const gaba_nn_shape *in,
                            const gaba_nn_dtype *in_dtype, gaba_nn_plan *plan);

// Runs the layer on one sample. x[i]: the inputs (shapes as prepared), w[i]: the weights
// in plan order, y: the output (plan->out), ws: plan->workspace floats (64-byte aligned).
// The output must not alias an input.
gaba_status gaba_nn_eval(const gaba_nn_layer *layer, int n_in, const gaba_nn_shape *in,
                         const void *const *x, const gaba_nn_plan *plan, const float *const *w,
                         void *y, float *ws, gaba_nn_impl impl);

// Backward of nb samples of a prepared layer (training, csrc/train/). Each tensor holds its
// nb samples back to back: x[i] the inputs, y the output forward gave them, dy the gradient of
// the loss with respect to y. Adds (+=) the gradient of input i to dx[i] (NULL: not wanted;
// int32 ids have none) and that of weight k to dw[k] (every weight, plan order), so that
// several samples and several readers of a tensor accumulate. ws: plan->bwd_workspace floats
// (64-byte aligned). A layer with a fused activation other than NONE is GABA_ERR_NO_IMPL
// (training runs it as a GABA_NN_ACT layer of its own), as is an op without a backward.
gaba_status gaba_nn_backward(const gaba_nn_layer *layer, int n_in, const gaba_nn_shape *in,
                             int64_t nb, const void *const *x, const gaba_nn_plan *plan,
                             const float *const *w, const float *y, const float *dy,
                             float *const *dx, float *const *dw, float *ws, gaba_nn_impl impl);

// Whether an op has a backward (gaba_nn_backward).
int gaba_nn_has_backward(gaba_nn_op op);

// What a layer's backward reads besides dy: its inputs x, its output y (a mask), so that
// training keeps only those activations until the layer's backward.
#define GABA_NN_READS_X 1
#define GABA_NN_READS_Y 2
int gaba_nn_backward_reads(const gaba_nn_layer *layer);

// Batch-norm folding: w (c_out, per_out) and b (c_out) of a conv/dense become those of
// conv+BN: s = gamma / sqrt(var + eps); w *= s (per row); b = (b - mean) * s + beta.
void gaba_nn_batchnorm_fold(int64_t c_out, int64_t per_out, float *w, float *b, const float *gamma,
                            const float *beta, const float *mean, const float *var, float eps);

// Batch norm in training mode over x (nb, c, s) (batchnorm_train.c): y from the
// batch's statistics, saved = (mean[c], 1/std[c]) for backward, running averages
// updated with `momentum`; backward adds to dx (NULL: none), dgamma and dbeta.
void gaba_nn_batchnorm_train_f32(int64_t nb, int64_t c, int64_t s, const float *x,
                                 const float *gamma, const float *beta, float eps, float momentum,
                                 float *run_mean, float *run_var, float *saved, float *y);
void gaba_nn_batchnorm_train_backward_f32(int64_t nb, int64_t c, int64_t s, const float *x,
                                          const float *gamma, const float *saved, const float *dy,
                                          float *dx, float *dgamma, float *dbeta);

#ifdef __cplusplus
}
#endif
#endif // GABA_NN_H
