// zoo_defs.h - internal: the shorthand the model files use to write their
// const layer tables. Each macro is one gaba_zoo_layer_def row; the meaning
// of p[] per op is in nn.h. Activations: NONE, RELU, RELU6, SIGM, TANH, HSW.
#ifndef GABA_ZOO_DEFS_H
#define GABA_ZOO_DEFS_H

#include "gaba/zoo.h"

#define NONE GABA_NN_ACT_NONE
#define RELU GABA_NN_ACT_RELU
#define RELU6 GABA_NN_ACT_RELU6
#define SIGM GABA_NN_ACT_SIGMOID
#define TANH GABA_NN_ACT_TANH
#define HSW GABA_NN_ACT_HSWISH

#define F32_IN(nm, ...)                                                                            \
    {                                                                                              \
        .name = nm, .dtype = GABA_NN_F32,                                                          \
        .shape = {.ndim = sizeof((int32_t[]){__VA_ARGS__}) / 4, .d = {__VA_ARGS__}}                \
    }
#define TOKENS_IN(nm, len, voc)                                                                    \
    {.name = nm, .dtype = GABA_NN_I32, .shape = {1, {len}}, .vocab = voc}

#define L_(nm, op_, act_, x, y, ...)                                                               \
    {.name = nm, .op = op_, .act = act_, .p = {__VA_ARGS__}, .in = {x}, .out = y}
#define L2_(nm, op_, act_, a, b, y, ...)                                                           \
    {.name = nm, .op = op_, .act = act_, .p = {__VA_ARGS__}, .in = {a, b}, .out = y}

// 2-D convolutions on (C, H, W); "same"-style symmetric padding pad.
#define CONV2D(nm, x, y, co, k, s, pad, act)                                                       \
    L_(nm, GABA_NN_CONV2D, act, x, y, co, k, k, s, s, pad, pad, pad, pad, 1, 1, 1)
// Full form: kernel (kh, kw), stride (sh, sw), padding top/left/bottom/right, dilation, groups.
#define CONV2D_X(nm, x, y, co, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, g, act)                     \
    L_(nm, GABA_NN_CONV2D, act, x, y, co, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, g)
#define DWCONV2D(nm, x, y, c, k, s, pad, act)                                                      \
    L_(nm, GABA_NN_CONV2D, act, x, y, c, k, k, s, s, pad, pad, pad, pad, 1, 1, c)
#define PWCONV2D(nm, x, y, co, act)                                                                \
    L_(nm, GABA_NN_CONV2D, act, x, y, co, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1)
// Siamese: a conv with the weights of the earlier layer `sh_`.
#define CONV2D_SHARED(nm, x, y, co, k, s, pad, act_, sh_)                                          \
    {.name = nm,                                                                                   \
     .op = GABA_NN_CONV2D,                                                                         \
     .act = act_,                                                                                  \
     .p = {co, k, k, s, s, pad, pad, pad, pad, 1, 1, 1},                                           \
     .in = {x},                                                                                    \
     .out = y,                                                                                     \
     .share = sh_}

#define DWCONV2D_SHARED(nm, x, y, c, k, s, pad, act_, sh_)                                         \
    {.name = nm,                                                                                   \
     .op = GABA_NN_CONV2D,                                                                         \
     .act = act_,                                                                                  \
     .p = {c, k, k, s, s, pad, pad, pad, pad, 1, 1, c},                                            \
     .in = {x},                                                                                    \
     .out = y,                                                                                     \
     .share = sh_}
#define PWCONV2D_SHARED(nm, x, y, co, act_, sh_)                                                   \
    {.name = nm,                                                                                   \
     .op = GABA_NN_CONV2D,                                                                         \
     .act = act_,                                                                                  \
     .p = {co, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},                                                   \
     .in = {x},                                                                                    \
     .out = y,                                                                                     \
     .share = sh_}
// TensorFlow "same" padding for a stride-2 3x3 on an even size: the extra row/column
// goes to the bottom/right.
#define CONV2D_S2SAME(nm, x, y, co, act)                                                           \
    L_(nm, GABA_NN_CONV2D, act, x, y, co, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 1)
#define DWCONV2D_S2SAME(nm, x, y, c, act)                                                          \
    L_(nm, GABA_NN_CONV2D, act, x, y, c, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, c)

// 1-D convolutions on (C, L): symmetric padding, causal (left only), depthwise, pointwise.
#define CONV1D(nm, x, y, co, k, s, pad, dil, act)                                                  \
    L_(nm, GABA_NN_CONV1D, act, x, y, co, 1, k, 1, s, 0, pad, 0, pad, 1, dil, 1)
#define CCONV1D(nm, x, y, co, k, dil, act)                                                         \
    L_(nm, GABA_NN_CONV1D, act, x, y, co, 1, k, 1, 1, 0, (k - 1) * (dil), 0, 0, 1, dil, 1)
#define DWCONV1D(nm, x, y, c, k, s, pad, dil, act)                                                 \
    L_(nm, GABA_NN_CONV1D, act, x, y, c, 1, k, 1, s, 0, pad, 0, pad, 1, dil, c)
#define PWCONV1D(nm, x, y, co, act)                                                                \
    L_(nm, GABA_NN_CONV1D, act, x, y, co, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1)

#define DENSE(nm, x, y, n, act) L_(nm, GABA_NN_DENSE, act, x, y, n)
#define EMBED(nm, x, y, dim, vocab) L_(nm, GABA_NN_EMBEDDING, NONE, x, y, dim, vocab)
#define BN(nm, x, y, act) L_(nm, GABA_NN_BATCHNORM, act, x, y, 0)
#define BN_EPS(nm, x, y, act, eps_e9) L_(nm, GABA_NN_BATCHNORM, act, x, y, eps_e9)
#define ACT(nm, x, y, act) L_(nm, GABA_NN_ACT, act, x, y, 0)
#define SOFTMAX(nm, x, y) L_(nm, GABA_NN_SOFTMAX, NONE, x, y, 0)

#define MAXPOOL2D(nm, x, y, k, s) L_(nm, GABA_NN_MAXPOOL, NONE, x, y, k, k, s, s, 0, 0, 0, 0)
#define AVGPOOL2D(nm, x, y, kh, kw, sh, sw)                                                        \
    L_(nm, GABA_NN_AVGPOOL, NONE, x, y, kh, kw, sh, sw, 0, 0, 0, 0)
#define MAXPOOL1D(nm, x, y, k, s) L_(nm, GABA_NN_MAXPOOL, NONE, x, y, 1, k, 1, s, 0, 0, 0, 0)
#define AVGPOOL1D(nm, x, y, k, s) L_(nm, GABA_NN_AVGPOOL, NONE, x, y, 1, k, 1, s, 0, 0, 0, 0)
#define GAP(nm, x, y) L_(nm, GABA_NN_GLOBAL_AVGPOOL, NONE, x, y, 0)
#define GMP(nm, x, y) L_(nm, GABA_NN_GLOBAL_MAXPOOL, NONE, x, y, 0)
#define UPSAMPLE2D(nm, x, y, s, mode) L_(nm, GABA_NN_UPSAMPLE, NONE, x, y, s, s, mode)
#define UPSAMPLE1D(nm, x, y, s, mode) L_(nm, GABA_NN_UPSAMPLE, NONE, x, y, 1, s, mode)
#define NEAREST 0
#define BILINEAR 1

#define CONCAT2(nm, a, b, y) {.name = nm, .op = GABA_NN_CONCAT, .in = {a, b}, .out = y}
#define CONCAT3(nm, a, b, c, y) {.name = nm, .op = GABA_NN_CONCAT, .in = {a, b, c}, .out = y}
#define CONCAT4(nm, a, b, c, d, y) {.name = nm, .op = GABA_NN_CONCAT, .in = {a, b, c, d}, .out = y}
#define ADD(nm, a, b, y, act) L2_(nm, GABA_NN_ADD, act, a, b, y, 0)
#define SUB(nm, a, b, y, act) L2_(nm, GABA_NN_SUB, act, a, b, y, 0)
#define MUL(nm, a, b, y, act) L2_(nm, GABA_NN_MUL, act, a, b, y, 0)
#define RESHAPE1(nm, x, y, d0) L_(nm, GABA_NN_RESHAPE, NONE, x, y, 1, d0)
#define RESHAPE2(nm, x, y, d0, d1) L_(nm, GABA_NN_RESHAPE, NONE, x, y, 2, d0, d1)
#define RESHAPE3(nm, x, y, d0, d1, d2) L_(nm, GABA_NN_RESHAPE, NONE, x, y, 3, d0, d1, d2)
#define RESHAPE4(nm, x, y, d0, d1, d2, d3) L_(nm, GABA_NN_RESHAPE, NONE, x, y, 4, d0, d1, d2, d3)
#define FLATTEN(nm, x, y) L_(nm, GABA_NN_FLATTEN, NONE, x, y, 0)
#define TRANSPOSE(nm, x, y) L_(nm, GABA_NN_TRANSPOSE, NONE, x, y, 0)
#define GRU(nm, x, y, hidden, seq) L_(nm, GABA_NN_GRU, NONE, x, y, hidden, seq)
#define ATTENTION(nm, x, y, dk) L_(nm, GABA_NN_ATTENTION, NONE, x, y, dk)
#define LAYER_NORM(nm, x, y) L_(nm, GABA_NN_LAYER_NORM, NONE, x, y, 0)

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

// One model: its inputs, output names and layer table become a gaba_zoo_def;
// modality is one of "vision", "audio", "text", "sensor" (see zoo.h).
#define GABA_ZOO_MODEL(sym, nm, cat, modality_, task_, budget)                                     \
    const gaba_zoo_def sym = {.name = nm,                                                          \
                              .category = cat,                                                     \
                              .modality = modality_,                                               \
                              .task = task_,                                                       \
                              .n_inputs = COUNT(inputs),                                           \
                              .inputs = inputs,                                                    \
                              .n_outputs = COUNT(outputs),                                         \
                              .outputs = outputs,                                                  \
                              .n_layers = COUNT(layers),                                           \
                              .layers = layers,                                                    \
                              .budget_params = budget}

#endif
