// nn_kernels.h - internal: the layer library's kernels, reference (*_ref.c)
// and fast, with the geometry structs conv.c and pool.c fill from a layer's params.
// Declarations and static inlines only (ISA files include it).
#ifndef GABA_NN_KERNELS_H
#define GABA_NN_KERNELS_H

#include "gaba/nn.h"

typedef struct gaba_nn_conv_geom {
    int64_t c, h, w;    // input (C, H, W)
    int64_t co, ho, wo; // output (c_out, Ho, Wo)
    int64_t kh, kw, sh, sw, pt, pl, dh, dw, groups;
} gaba_nn_conv_geom;

// The kernel covers the whole unpadded input: one output per channel (a
// learned temporal pooling); the depthwise kernels run it as a dot product.
static inline int gaba_nn_dw_is_global(const gaba_nn_conv_geom *g) {
    return g->ho == 1 && g->wo == 1 && g->pt == 0 && g->pl == 0 && g->kh == g->h && g->kw == g->w &&
           g->dh == 1 && g->dw == 1;
}

typedef struct gaba_nn_pool_geom {
    int64_t c, h, w, ho, wo, kh, kw, sh, sw, pt, pl;
} gaba_nn_pool_geom;

// The geometry of a conv / pool layer on its input (checked as prepare does).
gaba_status gaba_nn_conv_geom_get(const gaba_nn_layer *l, const gaba_nn_shape *in,
                                  gaba_nn_conv_geom *g);
gaba_status gaba_nn_pool_geom_get(const gaba_nn_layer *l, const gaba_nn_shape *in,
                                  gaba_nn_pool_geom *g);

// Elementwise activation in place over n values: the reference (libm's expf
// and tanhf), and the ISA table's act_pass (vector sigmoid and tanh).
void gaba_nn_act_f32_ref(float *y, int64_t n, gaba_nn_act act);
// dx += dy * act'(x) over n values (y = act(x)); the activation op's backward.
void gaba_nn_act_backward_f32_ref(const float *x, const float *y, const float *dy, float *dx,
                                  int64_t n, gaba_nn_act act);
typedef void (*gaba_nn_act_pass_fn)(float *y, int64_t n, gaba_nn_act act);
void gaba_nn_act_pass_f32_avx2(float *y, int64_t n, gaba_nn_act act);
void gaba_nn_act_pass_f32_avx512(float *y, int64_t n, gaba_nn_act act);
// The softmax over the rows of x (rows, n): the reference (libm's expf), and
// the ISA table's (vector expf); y may be x.
typedef void (*gaba_nn_softmax_fn)(int64_t rows, int64_t n, const float *x, float *y);
void gaba_nn_softmax_f32_avx2(int64_t rows, int64_t n, const float *x, float *y);
void gaba_nn_softmax_f32_avx512(int64_t rows, int64_t n, const float *x, float *y);
// y (rows, n) = act(y + b[row]) in place; b may be NULL.
void gaba_nn_bias_act_f32(int64_t rows, int64_t n, float *y, const float *b, gaba_nn_act act);

// conv: x (C, H, W), w (co, C/groups, kh, kw), b (co), y (co, Ho, Wo).
void gaba_nn_conv2d_f32_ref(const gaba_nn_conv_geom *g, const float *x, const float *w,
                            const float *b, float *y, gaba_nn_act act);
// Fast: depthwise direct, pointwise GEMM, else im2col (ws: conv_workspace floats) + GEMM.
int64_t gaba_nn_conv2d_workspace(const gaba_nn_conv_geom *g);
gaba_status gaba_nn_conv2d_f32(const gaba_nn_conv_geom *g, const float *x, const float *w,
                               const float *b, float *y, float *ws, gaba_nn_act act);
// Backward of one sample (act NONE): adds to dx (NULL: not wanted), dw and db the
// gradients of x, w and b from dy (co, Ho, Wo). The fast one's ws: the plan's
// bwd_workspace floats (conv_workspace's, or a few rows for a depthwise conv).
void gaba_nn_conv2d_backward_f32_ref(const gaba_nn_conv_geom *g, const float *x, const float *w,
                                     const float *dy, float *dx, float *dw, float *db);
gaba_status gaba_nn_conv2d_backward_f32(const gaba_nn_conv_geom *g, const float *x, const float *w,
                                        const float *dy, float *dx, float *dw, float *db,
                                        float *ws);
// Depthwise direct kernel (the fast path's), per ISA, bias and activation
// included. No workspace: it reads the input in place.
typedef void (*gaba_nn_dwconv_fn)(const gaba_nn_conv_geom *g, const float *x, const float *w,
                                  const float *b, float *y, gaba_nn_act act);
void gaba_nn_dwconv_f32_generic(const gaba_nn_conv_geom *g, const float *x, const float *w,
                                const float *b, float *y, gaba_nn_act act);
void gaba_nn_dwconv_f32_avx2(const gaba_nn_conv_geom *g, const float *x, const float *w,
                             const float *b, float *y, gaba_nn_act act);
void gaba_nn_dwconv_f32_avx512(const gaba_nn_conv_geom *g, const float *x, const float *w,
                               const float *b, float *y, gaba_nn_act act);

// dense: x (f), w (n, f), b (n), y (n).
void gaba_nn_dense_f32_ref(int64_t n, int64_t f, const float *x, const float *w, const float *b,
                           float *y, gaba_nn_act act);
gaba_status gaba_nn_dense_f32(int64_t n, int64_t f, const float *x, const float *w, const float *b,
                              float *y, gaba_nn_act act);
// Backward (act NONE), adding to dx (NULL: not wanted), dw and db: of one sample (the
// reference), of nb samples back to back (fast: two GEMMs over the batch).
void gaba_nn_dense_backward_f32_ref(int64_t n, int64_t f, const float *x, const float *w,
                                    const float *dy, float *dx, float *dw, float *db);
gaba_status gaba_nn_dense_backward_f32(int64_t nb, int64_t n, int64_t f, const float *x,
                                       const float *w, const float *dy, float *dx, float *dw,
                                       float *db);

// embedding: ids (L), table (vocab, dim), y (dim, L).
gaba_status gaba_nn_embedding_f32_ref(int64_t l, int64_t dim, int64_t vocab, const int32_t *ids,
                                      const float *table, float *y);
// dtable (vocab, dim): row ids[t] += column t of dy (dim, L); ids checked as the forward does.
gaba_status gaba_nn_embedding_backward_f32_ref(int64_t l, int64_t dim, int64_t vocab,
                                               const int32_t *ids, const float *dy, float *dtable);

// pooling: x (C, H, W) -> y (C, Ho, Wo); global: x (C, S) -> y (C).
void gaba_nn_maxpool_f32_ref(const gaba_nn_pool_geom *g, const float *x, float *y);
void gaba_nn_avgpool_f32_ref(const gaba_nn_pool_geom *g, const float *x, float *y);
// Fast path: unpadded windows (others fall back to the reference); the ISA
// table's kernel (pool_impl.h, baseline, AVX2 and AVX-512 builds).
void gaba_nn_pool_f32(const gaba_nn_pool_geom *g, const float *x, float *y, int is_max);
typedef void (*gaba_nn_pool_fn)(const gaba_nn_pool_geom *g, const float *x, float *y, int is_max);
void gaba_nn_pool_f32_generic(const gaba_nn_pool_geom *g, const float *x, float *y, int is_max);
void gaba_nn_pool_f32_avx2(const gaba_nn_pool_geom *g, const float *x, float *y, int is_max);
void gaba_nn_pool_f32_avx512(const gaba_nn_pool_geom *g, const float *x, float *y, int is_max);
void gaba_nn_global_pool_f32_ref(int64_t c, int64_t s, const float *x, float *y, int is_max);
// dx (C, H, W) += pooling's gradient from dy (C, Ho, Wo): max routes each output's to the
// first maximum of its window (PyTorch's choice among ties), avg spreads it over the
// window's cells that are not padding. Global pooling is the one window over a (C, 1, S).
void gaba_nn_pool_backward_f32_ref(const gaba_nn_pool_geom *g, const float *x, const float *dy,
                                   float *dx, int is_max);

// upsample: x (C, H, W) -> y (C, H*sh, W*sw); mode 0 nearest, 1 bilinear.
void gaba_nn_upsample_f32_ref(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw, int mode,
                              const float *x, float *y);
// dx (C, H, W) += upsampling's gradient from dy (C, H*sh, W*sw).
void gaba_nn_upsample_backward_f32_ref(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw,
                                       int mode, const float *dy, float *dx);

// Fast: the ISA table's kernel (upsample_impl.h, baseline, AVX2 and AVX-512 builds).
void gaba_nn_upsample_f32(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw, int mode,
                          const float *x, float *y);
typedef void (*gaba_nn_upsample_fn)(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw,
                                    int mode, const float *x, float *y);
void gaba_nn_upsample_f32_generic(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw, int mode,
                                  const float *x, float *y);
void gaba_nn_upsample_f32_avx2(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw, int mode,
                               const float *x, float *y);
void gaba_nn_upsample_f32_avx512(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw, int mode,
                                 const float *x, float *y);

// batch norm, run alone: x (C, S), scale (C), shift (C).
void gaba_nn_batchnorm_f32_ref(int64_t c, int64_t s, const float *x, const float *scale,
                               const float *shift, float *y, gaba_nn_act act);
// Its backward from dy (C, S): dx += (NULL: not wanted), dscale, dshift (C) +=.
void gaba_nn_batchnorm_backward_f32_ref(int64_t c, int64_t s, const float *x, const float *scale,
                                        const float *dy, float *dx, float *dscale, float *dshift);
// softmax over rows of length n: x (rows, n).
void gaba_nn_softmax_f32_ref(int64_t rows, int64_t n, const float *x, float *y);
// dx (rows, n) += the softmax's gradient from its output y and y's gradient dy.
void gaba_nn_softmax_backward_f32_ref(int64_t rows, int64_t n, const float *y, const float *dy,
                                      float *dx);
// LayerNorm over the c channels of each of the s positions of x (c, s) (nn.h):
// the oracle (double sums) and the ISA table's layer_norm (float32 sums).
typedef void (*gaba_nn_layer_norm_fn)(int64_t c, int64_t s, const float *x, const float *gamma,
                                      const float *beta, float eps, float *y);
void gaba_nn_layer_norm_f32_ref(int64_t c, int64_t s, const float *x, const float *gamma,
                                const float *beta, float eps, float *y);
// Its backward from dy (c, s): dx += (NULL: not wanted), dgamma, dbeta (c) +=; the oracle.
void gaba_nn_layer_norm_backward_f32_ref(int64_t c, int64_t s, const float *x, const float *gamma,
                                         float eps, const float *dy, float *dx, float *dgamma,
                                         float *dbeta);
void gaba_nn_layer_norm_f32_avx2(int64_t c, int64_t s, const float *x, const float *gamma,
                                 const float *beta, float eps, float *y);
void gaba_nn_layer_norm_f32_avx512(int64_t c, int64_t s, const float *x, const float *gamma,
                                   const float *beta, float eps, float *y);
// binary: op 0 add, 1 sub, 2 mul; a (C, S); b (C, S) or (C) when b_per_channel.
void gaba_nn_binary_f32_ref(int op, int64_t c, int64_t s, const float *a, const float *b,
                            int b_per_channel, float *y, gaba_nn_act act);
void gaba_nn_binary_f32(int op, int64_t c, int64_t s, const float *a, const float *b,
                        int b_per_channel, float *y, gaba_nn_act act);
// da (C, S) += and db (as b) += the gradients of a op b from dy (C, S); NULL: not wanted.
void gaba_nn_binary_backward_f32_ref(int op, int64_t c, int64_t s, const float *a, const float *b,
                                     int b_per_channel, const float *dy, float *da, float *db);
// transpose: x (a, b) -> y (b, a).
void gaba_nn_transpose_f32_ref(int64_t a, int64_t b, const float *x, float *y);
// y (b, a) += x (a, b) transposed.
void gaba_nn_transpose_add_f32_ref(int64_t a, int64_t b, const float *x, float *y);

// GRU: x (F, T) -> y (H) or (H, T); weights as nn.h. ws: gru_workspace floats.
int64_t gaba_nn_gru_workspace(int64_t f, int64_t t, int64_t hidden);
void gaba_nn_gru_f32_ref(int64_t f, int64_t t, int64_t hidden, int seq, const float *x,
                         const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh,
                         float *y, float *ws);
gaba_status gaba_nn_gru_f32(int64_t f, int64_t t, int64_t hidden, int seq, const float *x,
                            const float *w_ih, const float *w_hh, const float *b_ih,
                            const float *b_hh, float *y, float *ws);
// Backward of one sample through time, from dy (H) or (H, T) (seq): adds the gradients to dx
// (F, T) (NULL: not wanted) and to dw_ih, dw_hh, db_ih, db_hh (the weights' shapes); recomputes
// the forward's gates. ws: gru_backward_ref_workspace floats.
int64_t gaba_nn_gru_backward_ref_workspace(int64_t t, int64_t hidden);
void gaba_nn_gru_backward_f32_ref(int64_t f, int64_t t, int64_t hidden, int seq, const float *x,
                                  const float *w_ih, const float *w_hh, const float *b_ih,
                                  const float *b_hh, const float *dy, float *dx, float *dw_ih,
                                  float *dw_hh, float *db_ih, float *db_hh, float *ws);

// The recurrence once the input projections are made: xp (T, 3H) holds
// W_ih x_t + b_ih of every step (gates r, z, n), h0 = 0; wt (H, ld) is W_hh
// transposed (the table's gru_transpose), ld = gaba_nn_gru_ld(H) (3H rounded
// up to 16 lanes, the columns past 3H zero); y (H) the last state or (H, T)
// every state (seq). ws: gru_recur_workspace floats, 64-byte aligned. The
// int8 GRU (gru.c) runs it on its dequantized int8 projections, with wt
// made once when the model is quantized.
int64_t gaba_nn_gru_ld(int64_t hidden);
int64_t gaba_nn_gru_recur_workspace(int64_t hidden);
typedef void (*gaba_nn_gru_transpose_fn)(int64_t hd, const float *w_hh, float *wt);
void gaba_nn_gru_transpose_f32_generic(int64_t hd, const float *w_hh, float *wt);
void gaba_nn_gru_transpose_f32_avx512(int64_t hd, const float *w_hh, float *wt);
typedef void (*gaba_nn_gru_recur_fn)(int64_t hd, int64_t t, int seq, const float *xp,
                                     const float *wt, const float *b_hh, float *y, float *ws);
void gaba_nn_gru_recur_f32_generic(int64_t hd, int64_t t, int seq, const float *xp, const float *wt,
                                   const float *b_hh, float *y, float *ws);
void gaba_nn_gru_recur_f32_avx2(int64_t hd, int64_t t, int seq, const float *xp, const float *wt,
                                const float *b_hh, float *y, float *ws);
void gaba_nn_gru_recur_f32_avx512(int64_t hd, int64_t t, int seq, const float *xp, const float *wt,
                                  const float *b_hh, float *y, float *ws);

// The step loop of the generic and AVX2 recurrences: per step the recurrent
// product hp (3H) = b_hh + wt^T h, then the gates (gi, hp (3H) the input and
// recurrent projections (r, z, n), h (H) updated in place).
typedef void (*gaba_nn_gru_matvec_fn)(int64_t hd, const float *wt, const float *b_hh,
                                      const float *h, float *hp);
typedef void (*gaba_nn_gru_gates_fn)(int64_t hd, const float *gi, const float *hp, float *h);
void gaba_nn_gru_steps(int64_t hd, int64_t t, int seq, const float *xp, const float *wt,
                       const float *b_hh, float *y, float *ws, gaba_nn_gru_matvec_fn matvec,
                       gaba_nn_gru_gates_fn gates);

// attention: x (D, L) -> y (D, L). ws: attention_workspace floats. Both kernels
// leave in ws qkv (L, 3dk) (rows [q k v] of each position), then the softmax
// probabilities (L, L), then ctx (L, dk): the int8 calibration reads them.
int64_t gaba_nn_attention_workspace(int64_t d, int64_t l, int64_t dk);
void gaba_nn_attention_f32_ref(int64_t d, int64_t l, int64_t dk, const float *x, const float *w_qkv,
                               const float *b_qkv, const float *w_o, const float *b_o, float *y,
                               float *ws);
gaba_status gaba_nn_attention_f32(int64_t d, int64_t l, int64_t dk, const float *x,
                                  const float *w_qkv, const float *b_qkv, const float *w_o,
                                  const float *b_o, float *y, float *ws);
// Backward of one sample from dy (D, L): adds the gradients to dx (D, L) (NULL: not wanted)
// and to dw_qkv, db_qkv, dw_o, db_o (the weights' shapes); recomputes q, k, v and the softmax.
// ws: attention_backward_workspace floats (the fast backward's too).
int64_t gaba_nn_attention_backward_workspace(int64_t l, int64_t dk);
void gaba_nn_attention_backward_f32_ref(int64_t d, int64_t l, int64_t dk, const float *x,
                                        const float *w_qkv, const float *b_qkv, const float *w_o,
                                        const float *dy, float *dx, float *dw_qkv, float *db_qkv,
                                        float *dw_o, float *db_o, float *ws);
// The softmax's backward in place: dp (L, L), the gradient of the probabilities p (L, L) of
// each row, becomes that of the scores.
void gaba_nn_attention_softmax_backward(int64_t l, const float *p, float *dp);

// Direct convolution for a short reduction (conv_direct_*.c), bias and
// activation included, no workspace; NULL in the table where no ISA variant
// exists. Shapes: groups == 1, strides 1, 2 or 4 across, kw <= DIRECT_MAX_KW,
// rows at most DIRECT_MAX_W wide, C * kh * kw <= DIRECT_MAX_K.
#define GABA_NN_DIRECT_MAX_K 64
#define GABA_NN_DIRECT_MAX_KW 16
#define GABA_NN_DIRECT_MAX_W 2048
typedef void (*gaba_nn_conv_direct_fn)(const gaba_nn_conv_geom *g, const float *x, const float *w,
                                       const float *b, float *y, gaba_nn_act act);
void gaba_nn_conv_direct_f32_avx2(const gaba_nn_conv_geom *g, const float *x, const float *w,
                                  const float *b, float *y, gaba_nn_act act);
void gaba_nn_conv_direct_f32_avx512(const gaba_nn_conv_geom *g, const float *x, const float *w,
                                    const float *b, float *y, gaba_nn_act act);

// The conv GEMM with bias and activation: Y (m, n) = act(W (m, k) x X (k, n)
// + b[row]), all row-major and dense (b may be NULL). Generic: gaba_gemm_f32
// then one bias/activation pass; AVX2 and AVX-512: conv_pw_avx2.c and
// conv_pw_avx512.c, fused.
typedef gaba_status (*gaba_nn_conv_gemm_fn)(int64_t m, int64_t n, int64_t k, const float *w,
                                            const float *x, const float *b, float *y,
                                            gaba_nn_act act);
gaba_status gaba_nn_conv_gemm_f32_generic(int64_t m, int64_t n, int64_t k, const float *w,
                                          const float *x, const float *b, float *y,
                                          gaba_nn_act act);
gaba_status gaba_nn_conv_gemm_f32_avx2(int64_t m, int64_t n, int64_t k, const float *w,
                                       const float *x, const float *b, float *y, gaba_nn_act act);
gaba_status gaba_nn_conv_gemm_f32_avx512(int64_t m, int64_t n, int64_t k, const float *w,
                                         const float *x, const float *b, float *y, gaba_nn_act act);

// The family's per-ISA table.
struct gaba_nn_conv_geom;
struct gaba_qnn_layer;
typedef struct gaba_nn_kernels {
    gaba_nn_dwconv_fn dwconv;
    gaba_nn_conv_direct_fn conv_direct;
    gaba_nn_conv_gemm_fn conv_gemm;
    gaba_nn_upsample_fn upsample;
    gaba_nn_gru_transpose_fn gru_transpose;
    gaba_nn_gru_recur_fn gru_recur;
    gaba_nn_pool_fn pool;
    gaba_nn_act_pass_fn act_pass;
    gaba_nn_softmax_fn softmax;
    gaba_nn_layer_norm_fn layer_norm;
    // int8 (qnn_kernels.h): the output stage over a row, and the depthwise loop.
    void (*qrequant_row)(int64_t n, const int32_t *acc, int32_t bias, int32_t mult, int32_t shift,
                         int32_t zp, int32_t lo, int32_t hi, int8_t *y);
    void (*qdwconv)(const gaba_nn_conv_geom *g, const struct gaba_qnn_layer *q, const int8_t *x,
                    int8_t *y, void *ws);
    void (*qquantize)(int64_t n, const float *x, float scale, int32_t zp, int8_t *q);
    void (*qgemm)(const struct gaba_qnn_layer *q, int64_t c0, int64_t co, int64_t k, int64_t n,
                  const uint8_t *xp, int64_t np, int8_t *y, int64_t rs_y);
    void (*qaddsub_row)(int op, int64_t n, const int8_t *a, const int8_t *b, int32_t bc,
                        const struct gaba_qnn_layer *q, int8_t *y);
    void (*qgemv)(int64_t n, int64_t f, const struct gaba_qnn_layer *q, const int8_t *x, int8_t *y,
                  void *ws);
    void (*qpack)(int64_t k, int64_t n, const int8_t *src, int64_t rs, uint8_t *xp);
    void (*qim2col)(const gaba_nn_conv_geom *g, const int8_t *x, int64_t c0, int64_t cig, int8_t zx,
                    int64_t oy0, int64_t n_rows, int64_t ox0, int64_t nx, uint8_t *xp);
    void (*qlut)(int64_t n, const int8_t *x, const int8_t *lut, int8_t *y);
    void (*qpool)(const gaba_nn_pool_geom *g, const int8_t *x, int8_t *y, int is_max);
    void (*qgpool)(int64_t c, int64_t s, const int8_t *x, int8_t *y, int is_max);
    void (*qupsample)(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw, const int8_t *x,
                      int8_t *y);
    void (*qbilinear)(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw, int32_t zp,
                      const int8_t *x, int8_t *y);
    void (*qattn)(int64_t d, int64_t l, int64_t dk, const struct gaba_qnn_layer *q, const int8_t *x,
                  int8_t *y, void *ws);
    void (*qgru_proj)(const struct gaba_qnn_layer *q, int64_t f, int64_t t, const int8_t *x,
                      float *xp, void *scratch);
    void (*qsoftmax_pairs)(int64_t l, int64_t p0, int64_t p1, const int32_t *exp_table,
                           const int8_t *s, int32_t *pp, int32_t *e);
    void (*qmul)(int64_t c, int64_t s, const struct gaba_qnn_layer *q, const int8_t *a,
                 const int8_t *b, int b_per_channel, int8_t *y);
    void (*qlayer_norm)(int64_t c, int64_t s, const struct gaba_qnn_layer *q, const int8_t *x,
                        int8_t *y);
} gaba_nn_kernels;
extern gaba_nn_kernels gaba_nn_table;

#endif
