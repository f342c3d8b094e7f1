// qnn_kernels.h - internal: the int8 kernels of qnn.h, reference (*_ref.c)
// and fast (each op's files in csrc/qnn/), and the requantization step they share.
// Declarations and static inlines only.
#ifndef GABA_QNN_KERNELS_H
#define GABA_QNN_KERNELS_H

#include "gaba/gemm.h"
#include "gaba/qnn.h"
#include "../nn/nn_kernels.h"

#include <math.h>
#include <string.h>

// The first `bytes` (1..4) weights at p as one little-endian int32, the rest
// 0: the product kernels' 4-step weight groups, the tail one included. No
// library call for the tail (a memcpy call in a tile spills its accumulators).
static inline int32_t gaba_qnn_load_k4(const int8_t *p, int64_t bytes) {
    if (bytes == 4) {
        int32_t v;
        memcpy(&v, p, 4); // one load
        return v;
    }
    uint32_t u = 0;
    for (int64_t b = 0; b < bytes; b++) u |= (uint32_t)(uint8_t)p[b] << (8 * b);
    return (int32_t)u;
}

static inline int8_t gaba_qnn_clamp(int64_t v, int32_t lo, int32_t hi) {
    return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

static inline float gaba_qnn_bits_float(int32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

// 2^e for a normal float exponent e (-126..127), without a libm call.
static inline float gaba_qnn_pow2f(int e) { return gaba_qnn_bits_float((127 + e) << 23); }

static inline int32_t gaba_qnn_float_bits(float f) {
    int32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

// fp32 requantization (qnn.h): rint(float(x) * scale), the product clamped first
// to +-(2^31 - 128) so that the conversion and a later + zp cannot overflow.
#define GABA_QNN_FP32_BOUND 2147483520.0f
static inline int32_t gaba_qnn_fp32_requant(int32_t x, int32_t scale_bits) {
    float v = (float)x * gaba_qnn_bits_float(scale_bits);
    v = v < -GABA_QNN_FP32_BOUND  ? -GABA_QNN_FP32_BOUND
        : v > GABA_QNN_FP32_BOUND ? GABA_QNN_FP32_BOUND
                                  : v;
    return (int32_t)lrintf(v); // the default rounding mode: half to even
}

// The fp32 add/sub (qnn.h) of the rescaled inputs va = (a - za) r_a and
// vb = (b - zb) r_b: their sum or difference, clamped in float, rounded once.
static inline int8_t gaba_qnn_fp32_addsub(int op, float va, float vb, int32_t zp, int32_t lo,
                                          int32_t hi) {
    float v = op == 0 ? va + vb : va - vb;
    float flo = (float)(lo - zp), fhi = (float)(hi - zp);
    v = v < flo ? flo : v > fhi ? fhi : v;
    return (int8_t)(lrintf(v) + zp);
}

// 1 when concat input i shares the output's parameters (it is copied, not rescaled).
static inline int gaba_qnn_concat_copies(const gaba_qnn_layer *q, int i) {
    return q->in_zp[i] == q->out_zp && q->in_scale[i] == q->out_scale;
}

// TFLite's rounded mean of n int8 values summing to sum: half away from zero.
static inline int8_t gaba_qnn_round_mean(int64_t sum, int64_t n) {
    return (int8_t)(sum > 0 ? (sum + n / 2) / n : (sum - n / 2) / n);
}

// zp + MBQM(acc, mult, shift), clamped: TFLite's output stage (or the fp32 one).
static inline int8_t gaba_qnn_requant(int32_t acc, int32_t mult, int32_t shift, int32_t zp,
                                      int32_t lo, int32_t hi) {
    int32_t r = shift == GABA_QNN_SHIFT_FP32
                    ? gaba_qnn_fp32_requant(acc, mult)
                    : gaba_gemm_multiply_by_quantized_multiplier(acc, mult, shift);
    return gaba_qnn_clamp((int64_t)r + zp, lo, hi);
}

// gemmlowp's SaturatingRoundingDoublingHighMul: a b / 2^31 rounded to nearest
// (ties away from zero), INT32_MIN squared saturated.
static inline int32_t gaba_qnn_srdhm(int32_t a, int32_t b) {
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    int64_t ab = (int64_t)a * b;
    int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

// gemmlowp's RoundingDivideByPOT: x / 2^e (e 0..31) rounded to nearest, ties away from zero.
static inline int32_t gaba_qnn_rdbp(int32_t x, int e) {
    int32_t mask = (int32_t)(((int64_t)1 << e) - 1);
    int32_t rem = x & mask, thr = (mask >> 1) + (x < 0);
    return (x >> e) + (rem > thr);
}

// The same MultiplyByQuantizedMultiplier, inlined for the fast kernels'
// output loops (the tests hold it bit-exact to the library's).
static inline int32_t gaba_qnn_mbqm(int32_t x, int32_t mult, int32_t shift) {
    if (shift == GABA_QNN_SHIFT_FP32) return gaba_qnn_fp32_requant(x, mult);
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    int32_t hm = gaba_qnn_srdhm((int32_t)((uint32_t)x << left), mult);
    return right ? gaba_qnn_rdbp(hm, right) : hm;
}

void gaba_qnn_conv_ref(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q, const int8_t *x,
                       int8_t *y);
void gaba_qnn_dense_ref(int64_t n, int64_t f, const gaba_qnn_layer *q, const int8_t *x, int8_t *y);
void gaba_qnn_maxpool_ref(const gaba_nn_pool_geom *g, const int8_t *x, int8_t *y);
void gaba_qnn_avgpool_ref(const gaba_nn_pool_geom *g, const int8_t *x, int8_t *y);
void gaba_qnn_global_pool_ref(int64_t c, int64_t s, const int8_t *x, int8_t *y, int is_max);
// The table's qgpool: the reference, AVX2 (32 values a step: vpmaxsb, vpsadbw
// sums) and AVX-512 (64 a step, masked tails).
void gaba_qnn_global_pool_avx2(int64_t c, int64_t s, const int8_t *x, int8_t *y, int is_max);
void gaba_qnn_global_pool_avx512(int64_t c, int64_t s, const int8_t *x, int8_t *y, int is_max);
// Unpadded pooling, the table's qpool: plain loops, AVX2 and AVX-512 (2-wide stride-2 max).
void gaba_qnn_pool_generic(const gaba_nn_pool_geom *g, const int8_t *x, int8_t *y, int is_max);
void gaba_qnn_pool_avx2(const gaba_nn_pool_geom *g, const int8_t *x, int8_t *y, int is_max);
void gaba_qnn_pool_avx512(const gaba_nn_pool_geom *g, const int8_t *x, int8_t *y, int is_max);
// op 0 add, 1 sub, 2 mul; b (C, S) or per channel (C).
void gaba_qnn_binary_ref(int op, int64_t c, int64_t s, const gaba_qnn_layer *q, const int8_t *a,
                         const int8_t *b, int b_per_channel, int8_t *y);
void gaba_qnn_concat_ref(int n_in, const int64_t *numel, const gaba_qnn_layer *q,
                         const int8_t *const *x, int8_t *y);
void gaba_qnn_clamp_ref(int64_t n, const int8_t *x, int32_t lo, int32_t hi, int8_t *y);
void gaba_qnn_lut_ref(int64_t n, const int8_t *x, const int8_t *lut, int8_t *y);
// The same lookup 64 bytes at a time with vpermi2b (act_avx512vbmi.c).
void gaba_qnn_lut_avx512vbmi(int64_t n, const int8_t *x, const int8_t *lut, int8_t *y);
// 32 bytes at a time with vpshufb (act_avx2.c).
void gaba_qnn_lut_avx2(int64_t n, const int8_t *x, const int8_t *lut, int8_t *y);
gaba_status gaba_qnn_embedding_ref(int64_t l, int64_t dim, int64_t vocab, const int32_t *ids,
                                   const int8_t *table, int8_t *y);
void gaba_qnn_upsample_nearest_ref(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw,
                                   const int8_t *x, int8_t *y);
void gaba_qnn_upsample_nearest_avx2(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw,
                                    const int8_t *x, int8_t *y);
// Bilinear (half-pixel) with the input's parameters for the output: any factors in the
// reference, by 2 across and 1 or 2 down in the AVX2 kernel (others: the reference).
void gaba_qnn_upsample_bilinear_ref(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw,
                                    int32_t zp, const int8_t *x, int8_t *y);
void gaba_qnn_upsample_bilinear_avx2(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw,
                                     int32_t zp, const int8_t *x, int8_t *y);
void gaba_qnn_transpose_ref(int64_t a, int64_t b, const int8_t *x, int8_t *y);
// The int8 softmax of each of `rows` rows of n scores (gaba_qnn_attention);
// the fast attention runs it too.
void gaba_qnn_softmax_ref(int64_t rows, int64_t n, const int32_t *exp_table, const int8_t *x,
                          int8_t *y);
// The int8 attention's longest sequence: a row's l exp values (each at most
// 2^16) then sum below 2^29, as the 16-lane softmax's int32 remainder needs
// (attention_avx512vnni.c).
#define GABA_QNN_ATTN_MAX_L 8192
// The int8 attention (gaba_qnn_attention) over x (d, l); ws: gaba_qnn_attention_workspace
// bytes, laid out qkv (3dk, l), scores/probs (l, l), ctx (dk, l), then the fast path's scratch.
int64_t gaba_qnn_attention_workspace(int64_t d, int64_t l, int64_t dk);
// The projections' geometry: a pointwise conv of c channels to co over l positions.
void gaba_qnn_attention_geom(int64_t c, int64_t co, int64_t l, gaba_nn_conv_geom *g);
void gaba_qnn_attn_ref(int64_t d, int64_t l, int64_t dk, const gaba_qnn_layer *q, const int8_t *x,
                       int8_t *y, void *ws);
// The fast one through the ISA table, its baseline kernel (attention.c)
// and the AVX2 one (attention_avx2.c, also the AVX-512 level's, whose
// two products take AVX-512 VNNI where the CPU has it).
void gaba_qnn_attn(int64_t d, int64_t l, int64_t dk, const gaba_qnn_layer *q, const int8_t *x,
                   int8_t *y, void *ws);
void gaba_qnn_attn_generic(int64_t d, int64_t l, int64_t dk, const gaba_qnn_layer *q,
                           const int8_t *x, int8_t *y, void *ws);
void gaba_qnn_attn_avx2(int64_t d, int64_t l, int64_t dk, const gaba_qnn_layer *q, const int8_t *x,
                        int8_t *y, void *ws);
// Y (m, n), rows rs_y apart, = requant(A B) with a zero bias, zero point zp and
// the int8 range: A(i, t) the int32 at a[i a_ms + t a_ts], B kt pair rows (ldb
// apart) of >= n lanes rounded up to 8 (attention_avx2.c).
typedef void (*gaba_qnn_pair_product_fn)(int64_t m, int64_t n, int64_t kt, const int32_t *a,
                                         int64_t a_ms, int64_t a_ts, const int32_t *b, int64_t ldb,
                                         int32_t mult, int32_t shift, int32_t zp, int8_t *y,
                                         int64_t rs_y);
// gaba_qnn_softmax_ref of rows [p0, p1) of the scores s (l, l), as probs + 128
// = min(floor((512 e + sum) / (2 sum)), 255), into the pair rows pp (lt rows of
// l8 lanes, lane p row p's pair t); e: l8 int32 of scratch. The ISA table's
// qsoftmax_pairs (NULL in the plain build): AVX2 8 lanes, the quotient in
// double (attention_avx2.c); AVX-512 VNNI 16 lanes, the quotient from a
// float estimate (attention_avx512vnni.c).
void gaba_qnn_softmax_pairs_avx2(int64_t l, int64_t p0, int64_t p1, const int32_t *exp_table,
                                 const int8_t *s, int32_t *pp, int32_t *e);
void gaba_qnn_softmax_pairs_avx512vnni(int64_t l, int64_t p0, int64_t p1, const int32_t *exp_table,
                                       const int8_t *s, int32_t *pp, int32_t *e);
// The AVX2 attention with its two products by `product` (AVX-512 VNNI's at
// that level: attention_avx512vnni.c, vpdpwssd, 32 lanes a row) and the
// table's softmax.
void gaba_qnn_attn_pairs(int64_t d, int64_t l, int64_t dk, const gaba_qnn_layer *q, const int8_t *x,
                         int8_t *y, void *ws, gaba_qnn_pair_product_fn product);
void gaba_qnn_attn_avx512vnni(int64_t d, int64_t l, int64_t dk, const gaba_qnn_layer *q,
                              const int8_t *x, int8_t *y, void *ws);
// The AVX2 attention's int16 operands, in the conv scratch between the
// projections: q, k as (dk + 1) / 2 pair rows and the probs as (l + 1) / 2,
// each of l rounded up to 8 lanes, v's dk rows of (l + 1) / 2 pairs, and the
// softmax's row of exp values.
static inline int64_t gaba_qnn_attn_pair_bytes(int64_t l, int64_t dk) {
    int64_t l8 = (l + 7) / 8 * 8, kt = (dk + 1) / 2, lt = (l + 1) / 2;
    return 4 * ((2 * kt + lt) * l8 + dk * lt + l8);
}

// The int8 GRU (qnn.h, gru.c): the workspace bytes, laid out xp (T, 3H)
// float32, the recurrence's scratch, the float states, then the fast
// projection's packed input.
int64_t gaba_qnn_gru_workspace(int64_t f, int64_t t, int64_t hd, int seq);
// xp (T, 3H) = the float32 input projections of x (F, T) (qnn.h's formula);
// scratch: the packed input's bytes. The reference (plain loops, also the
// table's plain and AVX2 entry) and AVX-512 VNNI's (gru_avx512vnni.c).
typedef void (*gaba_qnn_gru_proj_fn)(const gaba_qnn_layer *q, int64_t f, int64_t t, const int8_t *x,
                                     float *xp, void *scratch);
void gaba_qnn_gru_proj_ref(const gaba_qnn_layer *q, int64_t f, int64_t t, const int8_t *x,
                           float *xp, void *scratch);
void gaba_qnn_gru_proj_avx512vnni(const gaba_qnn_layer *q, int64_t f, int64_t t, const int8_t *x,
                                  float *xp, void *scratch);
gaba_status gaba_qnn_gru(const gaba_qnn_layer *q, int64_t f, int64_t t, const int8_t *x, int8_t *y,
                         void *ws, int ref);

// The output stage over one row: y[i] = clamp(zp + MBQM(acc[i] + bias, mult, shift)).
typedef void (*gaba_qnn_requant_row_fn)(int64_t n, const int32_t *acc, int32_t bias, int32_t mult,
                                        int32_t shift, int32_t zp, int32_t lo, int32_t hi,
                                        int8_t *y);
void gaba_qnn_requant_row_generic(int64_t n, const int32_t *acc, int32_t bias, int32_t mult,
                                  int32_t shift, int32_t zp, int32_t lo, int32_t hi, int8_t *y);
void gaba_qnn_requant_row_avx2(int64_t n, const int32_t *acc, int32_t bias, int32_t mult,
                               int32_t shift, int32_t zp, int32_t lo, int32_t hi, int8_t *y);
void gaba_qnn_requant_row_avx512(int64_t n, const int32_t *acc, int32_t bias, int32_t mult,
                                 int32_t shift, int32_t zp, int32_t lo, int32_t hi, int8_t *y);
typedef void (*gaba_qnn_dwconv_fn)(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q,
                                   const int8_t *x, int8_t *y, void *ws);
void gaba_qnn_dwconv_generic(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q, const int8_t *x,
                             int8_t *y, void *ws);
// In place (dwconv_avx2.c); other shapes through the padded loop of qnn_impl.h.
void gaba_qnn_dwconv_avx2(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q, const int8_t *x,
                          int8_t *y, void *ws);
void gaba_qnn_dwconv_padded_avx2(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q,
                                 const int8_t *x, int8_t *y, void *ws);
void gaba_qnn_dwconv_avx512vnni(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q,
                                const int8_t *x, int8_t *y, void *ws);

void gaba_qnn_quantize_f32_generic(int64_t n, const float *x, float scale, int32_t zp, int8_t *q);
void gaba_qnn_quantize_f32_avx2(int64_t n, const float *x, float scale, int32_t zp, int8_t *q);
void gaba_qnn_quantize_f32_avx512(int64_t n, const float *x, float scale, int32_t zp, int8_t *q);

// One row of the int8 add/sub (op 0/1): y = requant(A(a) +- B(b)) with A, B
// TFLite's input rescaling (q_mult/q_shift[0], [1]) and the output's [2];
// b NULL: every element's B(b) is bc. With fp32 (q_shift[0] ==
// GABA_QNN_SHIFT_FP32) A and B are the float32 products (x - zp) r and bc the
// bits of that float (gaba_qnn_fp32_addsub).
typedef void (*gaba_qnn_addsub_row_fn)(int op, int64_t n, const int8_t *a, const int8_t *b,
                                       int32_t bc, const gaba_qnn_layer *q, int8_t *y);
void gaba_qnn_addsub_row_generic(int op, int64_t n, const int8_t *a, const int8_t *b, int32_t bc,
                                 const gaba_qnn_layer *q, int8_t *y);
void gaba_qnn_addsub_row_avx2(int op, int64_t n, const int8_t *a, const int8_t *b, int32_t bc,
                              const gaba_qnn_layer *q, int8_t *y);
void gaba_qnn_addsub_row_avx512(int op, int64_t n, const int8_t *a, const int8_t *b, int32_t bc,
                                const gaba_qnn_layer *q, int8_t *y);
// The int8 mul over (c, s), b (c, s) or per channel (c): y = requant((a - za)
// (b - zb)) by q_mult/q_shift[0] (the ISA table's qmul).
void gaba_qnn_mul_generic(int64_t c, int64_t s, const gaba_qnn_layer *q, const int8_t *a,
                          const int8_t *b, int b_per_channel, int8_t *y);
void gaba_qnn_mul_avx512(int64_t c, int64_t s, const gaba_qnn_layer *q, const int8_t *a,
                         const int8_t *b, int b_per_channel, int8_t *y);
// Fast add/sub/mul (op 0/1/2) over (c, s), b (c, s) or per channel (c).
void gaba_qnn_binary(int op, int64_t c, int64_t s, const gaba_qnn_layer *q, const int8_t *a,
                     const int8_t *b, int b_per_channel, int8_t *y);

// Y (co rows of c_out channels from c0, n pixels; rows rs_y apart) =
// requant(bias_eff + W x) for rows c0.. of the plain weights q->w (co, k)
// and the packed activations xp: per group g of 4 k steps, np (a multiple
// of 16, >= n) lanes of 4 unsigned bytes x + 128 at xp[(g * np + j) * 4];
// k steps past k are 0.
typedef void (*gaba_qnn_gemm_fn)(const gaba_qnn_layer *q, int64_t c0, int64_t co, int64_t k,
                                 int64_t n, const uint8_t *xp, int64_t np, int8_t *y, int64_t rs_y);
void gaba_qnn_gemm_generic(const gaba_qnn_layer *q, int64_t c0, int64_t co, int64_t k, int64_t n,
                           const uint8_t *xp, int64_t np, int8_t *y, int64_t rs_y);
void gaba_qnn_gemm_avx2(const gaba_qnn_layer *q, int64_t c0, int64_t co, int64_t k, int64_t n,
                        const uint8_t *xp, int64_t np, int8_t *y, int64_t rs_y);
void gaba_qnn_gemm_avx512vnni(const gaba_qnn_layer *q, int64_t c0, int64_t co, int64_t k, int64_t n,
                              const uint8_t *xp, int64_t np, int8_t *y, int64_t rs_y);

// A pointwise conv's slab src (k rows of n pixels, rows rs apart) packed as
// gaba_qnn_gemm_fn reads it: per group of 4 rows, np (n rounded up to 16)
// lanes of 4 bytes x + 128; rows past k and lanes past n are 0.
typedef void (*gaba_qnn_pack_fn)(int64_t k, int64_t n, const int8_t *src, int64_t rs, uint8_t *xp);
void gaba_qnn_pack_u8_generic(int64_t k, int64_t n, const int8_t *src, int64_t rs, uint8_t *xp);
void gaba_qnn_pack_u8_avx512(int64_t k, int64_t n, const int8_t *src, int64_t rs, uint8_t *xp);

// The im2col matrix of output rows [oy0, oy0 + n_rows), columns [ox0, ox0 +
// nx) of channels [c0, c0 + cig), written straight into the packed layout
// of gaba_qnn_gemm_fn (np = n rounded up to 16), outside cells zx.
typedef void (*gaba_qnn_im2col_fn)(const gaba_nn_conv_geom *g, const int8_t *x, int64_t c0,
                                   int64_t cig, int8_t zx, int64_t oy0, int64_t n_rows, int64_t ox0,
                                   int64_t nx, uint8_t *xp);
void gaba_qnn_im2col_u8_generic(const gaba_nn_conv_geom *g, const int8_t *x, int64_t c0,
                                int64_t cig, int8_t zx, int64_t oy0, int64_t n_rows, int64_t ox0,
                                int64_t nx, uint8_t *xp);
void gaba_qnn_im2col_u8_avx2(const gaba_nn_conv_geom *g, const int8_t *x, int64_t c0, int64_t cig,
                             int8_t zx, int64_t oy0, int64_t n_rows, int64_t ox0, int64_t nx,
                             uint8_t *xp);
// Every column in vectors: a masked load and a vpermb per tap and 16 columns
// (width stride up to 4; larger strides take the generic one).
void gaba_qnn_im2col_u8_avx512vbmi(const gaba_nn_conv_geom *g, const int8_t *x, int64_t c0,
                                   int64_t cig, int8_t zx, int64_t oy0, int64_t n_rows, int64_t ox0,
                                   int64_t nx, uint8_t *xp);

// Dense y (n) = requant(bias_eff + W (n, f) x) with the plain weights; ws:
// gaba_qnn_prepare's scratch (the generic one packs x there).
typedef void (*gaba_qnn_gemv_fn)(int64_t n, int64_t f, const gaba_qnn_layer *q, const int8_t *x,
                                 int8_t *y, void *ws);
void gaba_qnn_gemv_generic(int64_t n, int64_t f, const gaba_qnn_layer *q, const int8_t *x,
                           int8_t *y, void *ws);
void gaba_qnn_gemv_avx2(int64_t n, int64_t f, const gaba_qnn_layer *q, const int8_t *x, int8_t *y,
                        void *ws);
void gaba_qnn_gemv_avx512vnni(int64_t n, int64_t f, const gaba_qnn_layer *q, const int8_t *x,
                              int8_t *y, void *ws);

// Fast: bytes of scratch, and the kernels.
int64_t gaba_qnn_conv_workspace(const gaba_nn_conv_geom *g);
gaba_status gaba_qnn_conv(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q, const int8_t *x,
                          int8_t *y, void *ws);
gaba_status gaba_qnn_dense(int64_t n, int64_t f, const gaba_qnn_layer *q, const int8_t *x,
                           int8_t *y, void *ws);

// The largest of n >= 1 int8 values.
static inline int32_t gaba_qnn_max_s8(int64_t n, const int8_t *x) {
    int32_t m = -128;
    for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

// TFLite's int8 softmax (docs/int8.md, "Softmax") of rows of n values, with q's
// q_mult/q_shift[0] (gaba_qnn_softmax_rescale): exp(diff) of a difference to
// the row's max as Q0.31 (diff >= gaba_qnn_softmax_diff_min(shift), <= 0); the
// reciprocal of a row's sum of exp values with 12 integer bits (sum >= 2^19) as
// Q0.31 and the output's rounding exponent (23..31); an output from them and an
// exp value. A sum at or past GABA_QNN_SOFTMAX_SUM_MAX (512: TFLite's exponent
// check fails there) gets reciprocal 0: its row is -128 throughout.
#define GABA_QNN_SOFTMAX_SUM_MAX ((int64_t)1 << 28)
int32_t gaba_qnn_softmax_exp(int32_t diff, int32_t mult, int32_t shift);
int32_t gaba_qnn_softmax_diff_min(int32_t shift);
int32_t gaba_qnn_softmax_recip(int64_t sum, int *exponent);
static inline int8_t gaba_qnn_softmax_out(int32_t recip, int32_t e, int exponent) {
    return gaba_qnn_clamp((int64_t)gaba_qnn_rdbp(gaba_qnn_srdhm(recip, e), exponent) - 128, -128,
                          127);
}
// The oracle (softmax_ref.c), every exp from the routines above; the fast one
// (softmax.c) reads them from q->exp_table.
void gaba_qnn_softmax_rows_ref(int64_t rows, int64_t n, const gaba_qnn_layer *q, const int8_t *x,
                               int8_t *y);
void gaba_qnn_softmax_rows(int64_t rows, int64_t n, const gaba_qnn_layer *q, const int8_t *x,
                           int8_t *y);

// LayerNorm of x (c, s) (docs/int8.md): the reference over positions [p0, p1),
// and the ISA table's qlayer_norm over all of them (csrc/qnn/layer_norm*.c).
void gaba_qnn_layer_norm_ref(int64_t c, int64_t s, int64_t p0, int64_t p1, const gaba_qnn_layer *q,
                             const int8_t *x, int8_t *y);
void gaba_qnn_layer_norm_generic(int64_t c, int64_t s, const gaba_qnn_layer *q, const int8_t *x,
                                 int8_t *y);
void gaba_qnn_layer_norm_avx2(int64_t c, int64_t s, const gaba_qnn_layer *q, const int8_t *x,
                              int8_t *y);
void gaba_qnn_layer_norm_avx512(int64_t c, int64_t s, const gaba_qnn_layer *q, const int8_t *x,
                                int8_t *y);

#endif
