// qnn.h - int8 versions of the zoo's layer ops (nn.h), TFLite Micro's
// quantization scheme: a tensor value q stands for scale * (q - zero_point)
// (asymmetric int8, one scale per tensor); conv/dense weights are symmetric
// per output channel (zero point 0, values in [-127, 127]) with int32 bias
// (scale in_scale * w_scale[c]); accumulators become int8 through a Q31
// multiplier and a power-of-two shift (gaba_gemm_quantize_multiplier, double
// rounding: gemmlowp's rounding doubling high multiply, then a rounding
// right shift), then the output zero point and the activation clamp.
// Every op has a reference kernel (plain loops, the oracle) and a fast one
// (im2col into a packed operand + a product with the output stage fused for
// conv and dense, direct loops for depthwise, tables for sigmoid/tanh/
// hard-swish); both are integer-exact, so they agree bit for bit.
#ifndef GABA_QNN_H
#define GABA_QNN_H

#include "gaba/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

// How conv and dense (attention projections included) requantize.
// DOUBLE: TFLite's Q31 multiplier and shift with double rounding (above).
// FP32: XNNPACK's and ONNX Runtime's (QLinearConv) scheme: the scale
// s_c = in_scale * w_scale[c] / out_scale computed in float32, then
// y = clamp(zp + rint(float(acc) * s_c)): the int32 accumulator converted to
// float32, one float32 product, rounded once, half to even. A channel's
// fp32 scale is stored in its mult/shift slots: shift GABA_QNN_SHIFT_FP32 and
// mult the float's bits (gaba_qnn_fp32_multiplier), so every kernel's output
// stage reads either scheme from the same arrays. With FP32, add/sub rescale
// in float32 too: y = clamp(zp + rint((a - za) r_a +- (b - zb) r_b)), r_i =
// s_i / s_y in float32, each product and the sum rounded once; mul
// requantizes its integer product by s_a s_b / s_y as conv does
// (gaba_qnn_set_rescale_fp32). Concat, pooling and the attention's inner
// products keep TFLite's arithmetic.
typedef enum gaba_qnn_requant_mode {
    GABA_QNN_REQUANT_DOUBLE = 0,
    GABA_QNN_REQUANT_FP32 = 1
} gaba_qnn_requant_mode;
#define GABA_QNN_SHIFT_FP32 127

// Per-input requantization slots of the elementwise ops.
#define GABA_QNN_MAX_Q (GABA_NN_MAX_INPUTS + 1)

struct gaba_qnn_attention;

typedef struct gaba_qnn_layer {
    gaba_nn_layer layer; // op, act and p[] exactly as the float op (nn.h)
    float in_scale[GABA_NN_MAX_INPUTS], out_scale;
    int32_t in_zp[GABA_NN_MAX_INPUTS], out_zp;
    int32_t act_min, act_max; // the fused activation as a clamp of the output
    // EMBEDDING: w the (vocab, dim) table in the output's parameters (ids stay int32).
    // CONV2D/CONV1D/DENSE: w (co, C/groups, kh, kw) or (n, F) int8, bias (co) int32
    // in units of in_scale * w_scale[c], bias_eff = bias - (in_zp + 128) * sum_k w[c, k]
    // (what the fast kernels add: they read x + 128 as unsigned bytes),
    // mult/shift (co) the per-channel requantization.
    const int8_t *w;
    const int32_t *bias, *bias_eff, *mult, *shift;
    // ADD/SUB: q_mult/q_shift[i] rescale input i (left-shifted by 20, TFLite's
    // scheme), [n_in] the sum to the output. MUL: [0] the product to the output.
    // CONCAT: [i] input i (left-shifted by 20) to the output scale.
    int32_t q_mult[GABA_QNN_MAX_Q], q_shift[GABA_QNN_MAX_Q];
    // ACT with sigmoid, tanh or hard-swish: y = lut[x + 128], the table
    // gaba_qnn_build_lut makes (TFLite's int8 lookup-table activations).
    // CONCAT (optional, the fast kernel's): n_in tables, input i's at lut + 256 i,
    // entry x + 128 its code x rescaled (gaba_qnn_build_concat_luts).
    const int8_t *lut;
    // SOFTMAX (TFLite's int8 softmax, docs/int8.md; the output scale 1/256, zp -128):
    // q_mult/q_shift[0] the input multiplier and left shift, exp_table[d] (256) the
    // Q0.31 exp of a difference of d input codes to the row's max, 0 past the cut-off.
    const int32_t *exp_table;
    // ATTENTION: its projections and the requantization between them.
    const struct gaba_qnn_attention *attn;
    // GRU (x (F, T) int8 -> y (H) or (H, T) int8): the input projections of
    // all steps in int8, the recurrence in float32 (TFLite's hybrid RNN
    // scheme). w is W_ih (3H, F) with per-row scales, packed as
    // [ceil(F / 4)][ld][4] (row j, input k at ((k / 4) ld + j) 4 + k % 4, zero
    // padded; ld = 3H rounded up to 16), bias/bias_eff as conv's; row j of
    // step t's projection is (float)(bias[j] + sum_k w(j, k) (x[k, t] - in_zp))
    // * acc_scale[j] (acc_scale = in_scale * w_scale[j] in float32); then the
    // float recurrence (PyTorch's gates, h0 = 0) on gru_wt, W_hh transposed to
    // (H, ld), and gru_b_hh (3H), and every state quantized to the output
    // (gaba_qnn_quantize_f32).
    const float *acc_scale, *gru_wt, *gru_b_hh;
    // LAYER_NORM (docs/int8.md): ln_gb (2C) the float32 gamma[c] / out_scale, then
    // beta[c] / out_scale; ln_eps = round(C^2 eps / in_scale^2), at least 1: the epsilon
    // in squared input codes (gaba_qnn_layer_norm_init).
    const float *ln_gb;
    int64_t ln_eps;
} gaba_qnn_layer;

// The int8 single-head self-attention (x (D, L) -> y (D, L), nn.h), TFLite's
// scheme: q, k, v (dk, L) = requant(W x + b), three pointwise convs over x
// (proj[0..2]: rows 0, dk, 2dk of W_qkv, each with its own output scale/zp);
// scores (L, L) = requant(sum_k (q - zq)(k - zk)) by s_q s_k / (sqrt(dk) s_s);
// probs = the integer softmax of each scores row (scale 1/256, zp -128):
// e_j = exp_table[max - s_j], p_j = floor((512 e_j + sum e) / (2 sum e)) - 128,
// at most 127; ctx (dk, L) = requant(sum_j (p_j + 128)(v_j - zv)) by
// s_v / (256 s_ctx); y = requant(W_o ctx + b_o) (proj[3], a pointwise conv).
typedef struct gaba_qnn_attention {
    gaba_qnn_layer proj[4];
    float score_scale;
    int32_t score_zp, score_mult, score_shift;
    int32_t ctx_mult, ctx_shift; // ctx's scale/zp: proj[3].in_scale[0]/in_zp[0]
    // [d] = round(2^16 exp(-score_scale d)) for d = 0..255 (in double, half away from 0)
    const int32_t *exp_table;
} gaba_qnn_attention;

void gaba_qnn_build_exp_table(float score_scale, int32_t *table);

// The attention's integer softmax alone (tests): the l rows of the scores s
// (l, l) to probs y (l, l, zero point -128), by the fast kernel the attention
// runs at this ISA level, or the reference (ref 1); l at most 8192 (the int8
// attention's bound).
gaba_status gaba_qnn_attention_softmax(int64_t l, const int32_t *exp_table, const int8_t *s,
                                       int8_t *y, int ref);

// The int8 GRU's layouts (gaba_qnn_layer): W_ih packed (bytes) for f inputs,
// W_ih (3H, f) int8 packed into them, the gate rows' stride ld, and W_hh
// (3H, H) transposed into wt (H, ld).
int64_t gaba_qnn_gru_packed_bytes(int64_t f, int64_t hidden);
void gaba_qnn_gru_pack(int64_t f, int64_t hidden, const int8_t *w_ih, int8_t *packed);
int64_t gaba_qnn_gru_ld(int64_t hidden);
void gaba_qnn_gru_transpose(int64_t hidden, const float *w_hh, float *wt);

// Activations an int8 ACT runs as a 256-entry table (sigmoid, tanh, hard-swish).
int gaba_qnn_is_lut_act(gaba_nn_act act);

// lut[q + 128] = clamp(round(f(in_scale * (q - in_zp)) / out_scale) + out_zp)
// for every int8 q, f evaluated in double (round half away from zero).
void gaba_qnn_build_lut(gaba_nn_act act, float in_scale, int32_t in_zp, float out_scale,
                        int32_t out_zp, int8_t *lut);

// 1 when a CONCAT rescales any input (its parameters differ from the output's);
// then luts[256 i + x + 128] = the reference's rescaled value of input i's code x,
// for the n_in inputs (after gaba_qnn_set_rescale). A rescaled value depends on
// the code alone, so the fast concat looks every one up.
int gaba_qnn_concat_rescales(const gaba_qnn_layer *q, int n_in);
void gaba_qnn_build_concat_luts(const gaba_qnn_layer *q, int n_in, int8_t *luts);

// The int8 weights of one layer as gaba_qnn_layer_init takes them (NULL where the op
// has none). CONV2D/CONV1D/DENSE: w (co, per), bias, mult, shift (co) as gaba_qnn_layer's.
// EMBEDDING: w the (vocab, dim) table. GRU: w W_ih (3H, F) unpacked, bias (3H) int32,
// acc_scale and b_hh (3H) and w_hh (3H, H) float32. ATTENTION: attn, with proj[i]'s
// scales, zero points, w, bias, mult and shift and score_scale/score_zp set; the rest
// of it is filled in. LAYER_NORM: gamma and beta (C) float32.
typedef struct gaba_qnn_weights {
    const int8_t *w;
    const int32_t *bias, *mult, *shift;
    const float *acc_scale, *w_hh, *b_hh, *gamma, *beta;
    struct gaba_qnn_attention *attn;
} gaba_qnn_weights;

// Bytes of the buffer gaba_qnn_layer_init needs for this layer and these input
// shapes (at most: a concat takes its tables only when it rescales), and in *align
// (unless NULL) the alignment it needs, 16 or 64; -1 when the int8 kernels do not
// run the layer on them.
int64_t gaba_qnn_layer_bytes(const gaba_nn_layer *layer, int n_in, const gaba_nn_shape *in,
                             int64_t *align);

// Completes q, whose layer, in_scale/in_zp (n_in) and out_scale/out_zp are set: every
// other field is filled: the clamp, the rescale (requant: add/sub/mul in float32 with
// GABA_QNN_REQUANT_FP32), bias_eff, the GRU's packed W_ih and W_hh^T, the tables (LUT
// activations, a rescaling concat's, the attention's and the softmax's exp tables). buf:
// the caller's, as long and aligned as gaba_qnn_layer_bytes says (64 bytes always do);
// *used (unless NULL) gets the bytes taken from its start. q points into buf, into w's arrays (all
// but w_hh, copied) and into w->attn: the caller keeps them while q is in use and
// frees them after; nothing else is allocated. GABA_ERR_ARG when the scales give no
// multiplier (a softmax: output parameters other than 1/256 and -128), or an array the op
// needs is NULL; the float op's status when it does not take the shapes.
gaba_status gaba_qnn_layer_init(gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in,
                                const gaba_qnn_weights *w, gaba_qnn_requant_mode requant, void *buf,
                                int64_t *used);

// 1 when the op (with its activation) has an int8 kernel: conv, dense (act none,
// relu, relu6), max/avg/global pooling, add/sub/mul (none/relu/relu6), concat,
// reshape/flatten/transpose, act relu/relu6/none, nearest and bilinear upsample,
// attention, GRU (its recurrence in float32), layer_norm, softmax.
int gaba_qnn_supported(const gaba_nn_layer *layer);

// The shape checks and output shape are the float op's (gaba_nn_prepare);
// *ws_bytes: scratch eval needs.
gaba_status gaba_qnn_prepare(const gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in,
                             gaba_nn_shape *out, int64_t *ws_bytes);

// One sample: x[i] int8 inputs, y int8 output, ws ws_bytes of 64-byte aligned scratch.
gaba_status gaba_qnn_eval(const gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in,
                          const int8_t *const *x, int8_t *y, void *ws, gaba_nn_impl impl);

// Fills act_min/act_max from layer.act and the output parameters: ReLU clamps
// at out_zp (real 0), ReLU6 also at out_zp + round(6 / out_scale).
void gaba_qnn_set_clamp(gaba_qnn_layer *q);
// Fills q_mult/q_shift of ADD/SUB/MUL/CONCAT from the scales (TFLite's
// formulas: add/sub 2 * max(s_a, s_b) as the common scale with inputs shifted
// left by 20 bits; mul s_a s_b / s_out; concat s_i / s_out, inputs shifted
// left by 20 bits too, so the double rounding stays fine).
gaba_status gaba_qnn_set_rescale(gaba_qnn_layer *q, int n_in);
// ADD/SUB/MUL with fp32 requantization: q_mult/q_shift[0] (and [1] for add/sub)
// become the float32 ratios (gaba_qnn_fp32_multiplier); other ops are left as they are.
void gaba_qnn_set_rescale_fp32(gaba_qnn_layer *q);

// mult/shift of one channel with fp32 requantization by `scale` (float32).
void gaba_qnn_fp32_multiplier(float scale, int32_t *mult, int32_t *shift);

// The edges: q = clamp(round(x / scale) + zp) (round half away from zero, as
// TFLite) and x = scale * (q - zp).
void gaba_qnn_quantize_f32(int64_t n, const float *x, float scale, int32_t zp, int8_t *q);
void gaba_qnn_dequantize_f32(int64_t n, const int8_t *q, float scale, int32_t zp, float *x);

#ifdef __cplusplus
}
#endif
#endif // GABA_QNN_H
