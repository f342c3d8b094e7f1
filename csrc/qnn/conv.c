// conv.c - the int8 layer ops (qnn.h): their op table functions (ops.c:
// supported, prepare, rescale, rescale_fp32, eval, eval_ref), the fast conv and dense
// kernels and the float <-> int8 edges. Conv is im2col (padding with the
// input zero point, i.e. a real 0) written packed, as unsigned x + 128 in
// groups of 4 k steps, then Y (co, HoWo) = W (co, K) x col (K, HoWo) with the output
// stage fused (gaba_qnn_gemm_fn: vpdpbusd reads the plain weight rows).
// The input zero point and the +128 are folded into the bias (bias_eff =
// bias - (zp + 128) sum_k w), so nothing per call depends on the weights.
// Dense is the same product with one column. Depthwise is a direct loop
// (gaba_nn_table.qdwconv: on AVX2 and VNNI CPUs reading the input in place,
// in the plain build over a zero-point-padded copy of each channel). The
// output stage is TFLite's per-channel requantization. Mirrors TFLite
// Micro's int8 kernels; no per-tensor-only or uint8 variants.
#include "../nn/ops.h"
#include "qnn_impl.h"

#include <math.h>
#include <string.h>

#define ALIGN64(v) (((v) + 63) / 64 * 64)

static int is_depthwise(const gaba_nn_conv_geom *g) {
    return g->groups > 1 && g->groups == g->c && g->co == g->c;
}

static int is_pointwise(const gaba_nn_conv_geom *g) {
    return g->groups == 1 && g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 &&
           g->pl == 0 && g->ho == g->h && g->wo == g->w;
}

#define dw_rows gaba_qnn_dw_rows
#define dw_cols gaba_qnn_dw_cols

// The GEMM path works on slabs of at most CHUNK output pixels: whole output
// rows, or runs of one row when a row is longer. The int8 im2col slab and
// its packed copy stay small (in cache, and out of the arena's peak)
// whatever the image size; long reductions take fewer pixels, so that the
// packed slab stays within SLAB_BYTES (a k = 5 x 48 conv would otherwise
// need 60 KB of workspace, more than its input and output together).
#define CHUNK 256
#define SLAB_BYTES 8192

static int64_t chunk_px(const gaba_nn_conv_geom *g) {
    int64_t k4 = ((g->c / g->groups) * g->kh * g->kw + 3) / 4 * 4;
    int64_t px = SLAB_BYTES / k4 / 16 * 16;
    return px < 64 ? 64 : px > CHUNK ? CHUNK : px;
}

static int64_t chunk_cols(const gaba_nn_conv_geom *g) {
    int64_t px = chunk_px(g);
    return g->wo < px ? g->wo : px;
}

static int64_t chunk_rows(const gaba_nn_conv_geom *g) {
    int64_t r = chunk_px(g) / g->wo;
    return r < 1 ? 1 : r > g->ho ? g->ho : r;
}

// The packed activations of a (k, n) slab: gaba_qnn_gemm_fn's layout.
static int64_t packed_bytes(int64_t k, int64_t n) { return (k + 3) / 4 * 4 * gaba_qnn_round16(n); }

int64_t gaba_qnn_conv_workspace(const gaba_nn_conv_geom *g) {
    if (is_depthwise(g)) { // the padded plane and its sums, or the in-place kernel's strips
        int64_t padded = ALIGN64(dw_rows(g) * dw_cols(g)) + g->ho * g->wo * 4;
        int64_t strips = gaba_qnn_dw_strips_bytes(g);
        return padded > strips ? padded : strips;
    }
    int64_t cw = chunk_rows(g) * chunk_cols(g), k = (g->c / g->groups) * g->kh * g->kw;
    return packed_bytes(k, cw);
}

void gaba_qnn_pack_u8_generic(int64_t k, int64_t n, const int8_t *src, int64_t rs, uint8_t *xp) {
    int64_t np = gaba_qnn_round16(n);
    for (int64_t g = 0; g < (k + 3) / 4; g++) {
        uint8_t *restrict d = xp + g * np * 4;
        if (4 * g + 4 <= k) {
            const int8_t *restrict r0 = src + 4 * g * rs, *restrict r1 = r0 + rs,
                                   *restrict r2 = r1 + rs, *restrict r3 = r2 + rs;
            for (int64_t j = 0; j < n; j++) {
                d[4 * j] = (uint8_t)(r0[j] ^ 0x80);
                d[4 * j + 1] = (uint8_t)(r1[j] ^ 0x80);
                d[4 * j + 2] = (uint8_t)(r2[j] ^ 0x80);
                d[4 * j + 3] = (uint8_t)(r3[j] ^ 0x80);
            }
        } else {
            for (int64_t j = 0; j < n; j++)
                for (int64_t b = 0; b < 4; b++)
                    d[4 * j + b] = 4 * g + b < k ? (uint8_t)(src[(4 * g + b) * rs + j] ^ 0x80) : 0;
        }
        memset(d + 4 * n, 0, (size_t)(4 * (np - n)));
    }
}

// The plain version of gaba_qnn_gemm_avx512vnni: the same sums over the same
// packed operand, then the scalar output stage.
void gaba_qnn_gemm_generic(const gaba_qnn_layer *q, int64_t c0, int64_t co, int64_t k, int64_t n,
                           const uint8_t *xp, int64_t np, int8_t *y, int64_t rs_y) {
    for (int64_t i = 0; i < co; i++) {
        const int8_t *w = q->w + (c0 + i) * k;
        int32_t acc[64];
        for (int64_t j0 = 0; j0 < n; j0 += 64) {
            int64_t nj = n - j0 < 64 ? n - j0 : 64;
            for (int64_t j = 0; j < nj; j++) acc[j] = 0;
            for (int64_t p = 0; p < k; p++) {
                const uint8_t *xr = xp + ((p / 4) * np + j0) * 4 + p % 4;
                int32_t wv = w[p];
                for (int64_t j = 0; j < nj; j++) acc[j] += wv * xr[4 * j];
            }
            gaba_qnn_requant_row_generic(nj, acc, q->bias_eff[c0 + i], q->mult[c0 + i],
                                         q->shift[c0 + i], q->out_zp, q->act_min, q->act_max,
                                         y + i * rs_y + j0);
        }
    }
}

void gaba_qnn_im2col_u8_generic(const gaba_nn_conv_geom *g, const int8_t *x, int64_t c0,
                                int64_t cig, int8_t zx, int64_t oy0, int64_t n_rows, int64_t ox0,
                                int64_t nx, uint8_t *xp) {
    int64_t k = cig * g->kh * g->kw;
    for (int64_t kk = 0; kk < k; kk++)
        gaba_qnn_im2col_row(g, x, c0, zx, kk, oy0, n_rows, ox0, nx, xp);
    gaba_qnn_im2col_pad(k, n_rows * nx, xp);
}

void gaba_qnn_requant_row_generic(int64_t n, const int32_t *acc, int32_t bias, int32_t mult,
                                  int32_t shift, int32_t zp, int32_t lo, int32_t hi, int8_t *y) {
    for (int64_t i = 0; i < n; i++)
        y[i] = gaba_qnn_clamp(
            (int64_t)gaba_qnn_mbqm((int32_t)((uint32_t)acc[i] + (uint32_t)bias), mult, shift) + zp,
            lo, hi);
}

void gaba_qnn_dwconv_s8_generic(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q,
                                const int8_t *x, int8_t *y, void *ws) {
    gaba_qnn_dwconv_body(g, q, x, y, ws, gaba_qnn_requant_row_generic);
}

gaba_status gaba_qnn_conv(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q, const int8_t *x,
                          int8_t *y, void *ws) {
    if (is_depthwise(g)) {
        gaba_nn_table.qdwconv(g, q, x, y, ws);
        return GABA_OK;
    }
    int64_t hw = g->ho * g->wo, cig = g->c / g->groups, cog = g->co / g->groups;
    int64_t k = cig * g->kh * g->kw, rows = chunk_rows(g), cols = chunk_cols(g);
    uint8_t *xp = ws;
    for (int64_t oy0 = 0; oy0 < g->ho; oy0 += rows)
        for (int64_t ox0 = 0; ox0 < g->wo; ox0 += cols) {
            int64_t nr = g->ho - oy0 < rows ? g->ho - oy0 : rows;
            int64_t nx = g->wo - ox0 < cols ? g->wo - ox0 : cols;
            int64_t n = nr * nx, p0 = oy0 * g->wo + ox0; // the slab's pixels are contiguous
            for (int64_t grp = 0; grp < g->groups; grp++) {
                if (is_pointwise(g)) {
                    gaba_nn_table.qpack(k, n, x + grp * cig * hw + p0, hw, xp);
                } else {
                    gaba_nn_table.qim2col(g, x, grp * cig, cig, (int8_t)q->in_zp[0], oy0, nr, ox0,
                                          nx, xp);
                }
                gaba_nn_table.qgemm(q, grp * cog, cog, k, n, xp, gaba_qnn_round16(n),
                                    y + grp * cog * hw + p0, hw);
            }
        }
    return GABA_OK;
}

// Dense through the conv product with one column (the table's plain and AVX2 levels).
void gaba_qnn_gemv_generic(int64_t n, int64_t f, const gaba_qnn_layer *q, const int8_t *x,
                           int8_t *y, void *ws) {
    gaba_qnn_pack_u8_generic(f, 1, x, 1, ws);
    gaba_nn_table.qgemm(q, 0, n, f, 1, ws, 16, y, 1);
}

gaba_status gaba_qnn_dense(int64_t n, int64_t f, const gaba_qnn_layer *q, const int8_t *x,
                           int8_t *y, void *ws) {
    gaba_nn_table.qgemv(n, f, q, x, y, ws);
    return GABA_OK;
}

static int act_ok(gaba_nn_act a) {
    return a == GABA_NN_ACT_NONE || a == GABA_NN_ACT_RELU || a == GABA_NN_ACT_RELU6;
}

int gaba_qnn_is_lut_act(gaba_nn_act a) {
    return a == GABA_NN_ACT_SIGMOID || a == GABA_NN_ACT_TANH || a == GABA_NN_ACT_HSWISH;
}

void gaba_qnn_build_lut(gaba_nn_act act, float in_scale, int32_t in_zp, float out_scale,
                        int32_t out_zp, int8_t *lut) {
    for (int32_t q = -128; q < 128; q++) {
        double x = (double)in_scale * (q - in_zp), f;
        if (act == GABA_NN_ACT_SIGMOID)
            f = 1.0 / (1.0 + exp(-x));
        else if (act == GABA_NN_ACT_TANH)
            f = tanh(x);
        else
            f = x * (x + 3.0 < 0.0 ? 0.0 : x + 3.0 > 6.0 ? 6.0 : x + 3.0) / 6.0;
        double v = round(f / (double)out_scale) + out_zp;
        lut[q + 128] = (int8_t)(v < -128.0 ? -128 : v > 127.0 ? 127 : v);
    }
}

void gaba_qnn_fp32_multiplier(float scale, int32_t *mult, int32_t *shift) {
    *mult = gaba_qnn_float_bits(scale);
    *shift = GABA_QNN_SHIFT_FP32;
}

void gaba_qnn_set_rescale_fp32(gaba_qnn_layer *q) {
    gaba_nn_op op = q->layer.op;
    if ((unsigned)op < GABA_NN_OP_COUNT && gaba_nn_ops[op].q_rescale_fp32)
        gaba_nn_ops[op].q_rescale_fp32(q);
}

void gaba_qnn_addsub_rescale_fp32(gaba_qnn_layer *q) {
    for (int i = 0; i < 2; i++)
        gaba_qnn_fp32_multiplier(q->in_scale[i] / q->out_scale, &q->q_mult[i], &q->q_shift[i]);
    q->q_mult[2] = q->q_shift[2] = 0;
}

void gaba_qnn_mul_rescale_fp32(gaba_qnn_layer *q) {
    gaba_qnn_fp32_multiplier(q->in_scale[0] * q->in_scale[1] / q->out_scale, &q->q_mult[0],
                             &q->q_shift[0]);
}

int gaba_qnn_concat_rescales(const gaba_qnn_layer *q, int n_in) {
    for (int i = 0; i < n_in; i++)
        if (!gaba_qnn_concat_copies(q, i)) return 1;
    return 0;
}

// Each input's 256 codes through the reference concat, as a one-input concat.
void gaba_qnn_build_concat_luts(const gaba_qnn_layer *q, int n_in, int8_t *luts) {
    int8_t codes[256];
    for (int v = 0; v < 256; v++) codes[v] = (int8_t)(v - 128);
    const int8_t *x[1] = {codes};
    const int64_t count = 256;
    for (int i = 0; i < n_in; i++) {
        gaba_qnn_layer one = *q;
        one.in_scale[0] = q->in_scale[i], one.in_zp[0] = q->in_zp[i];
        one.q_mult[0] = q->q_mult[i], one.q_shift[0] = q->q_shift[i];
        gaba_qnn_concat_ref(1, &count, &one, x, luts + 256 * i);
    }
}

void gaba_qnn_build_exp_table(float score_scale, int32_t *table) {
    for (int d = 0; d < 256; d++)
        table[d] = (int32_t)round(65536.0 * exp(-(double)score_scale * d));
}

// Unpadded max/avg pooling, row by row over chunks of output columns (the
// reference checks every tap's bounds; here there are none to check).
void gaba_qnn_pool_s8_generic(const gaba_nn_pool_geom *g, const int8_t *x, int8_t *y, int is_max) {
    int32_t sum[256];
    int32_t count = (int32_t)(g->kh * g->kw);
    for (int64_t c = 0; c < g->c; c++)
        for (int64_t oy = 0; oy < g->ho; oy++)
            for (int64_t o0 = 0; o0 < g->wo; o0 += 256) {
                int64_t n = g->wo - o0 < 256 ? g->wo - o0 : 256;
                int8_t *restrict yr = y + (c * g->ho + oy) * g->wo + o0;
                for (int64_t ky = 0; ky < g->kh; ky++)
                    for (int64_t kx = 0; kx < g->kw; kx++) {
                        const int8_t *restrict xr =
                            x + (c * g->h + oy * g->sh + ky) * g->w + o0 * g->sw + kx;
                        int first = ky == 0 && kx == 0;
                        if (is_max)
                            for (int64_t i = 0; i < n; i++) {
                                int8_t v = xr[i * g->sw];
                                yr[i] = first || v > yr[i] ? v : yr[i];
                            }
                        else
                            for (int64_t i = 0; i < n; i++)
                                sum[i] = (first ? 0 : sum[i]) + xr[i * g->sw];
                    }
                if (!is_max)
                    for (int64_t i = 0; i < n; i++) {
                        int32_t t = sum[i];
                        yr[i] = gaba_qnn_round_mean(t, count);
                    }
            }
}

int gaba_qnn_supported(const gaba_nn_layer *l) {
    return (unsigned)l->op < GABA_NN_OP_COUNT && gaba_nn_ops[l->op].q_supported &&
           gaba_nn_ops[l->op].q_supported(l);
}

// conv, dense, add/sub/mul: a clamp after the requantization
int gaba_qnn_fused_act_supported(const gaba_nn_layer *l) { return act_ok(l->act); }

int gaba_qnn_act_supported(const gaba_nn_layer *l) {
    return act_ok(l->act) || gaba_qnn_is_lut_act(l->act);
}

int gaba_qnn_always_supported(const gaba_nn_layer *l) {
    (void)l;
    return 1;
}

int gaba_qnn_no_act_supported(const gaba_nn_layer *l) { return l->act == GABA_NN_ACT_NONE; }

gaba_status gaba_qnn_prepare(const gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in,
                             gaba_nn_shape *out, int64_t *ws_bytes) {
    if (!q || !gaba_qnn_supported(&q->layer)) return GABA_ERR_NO_IMPL;
    const gaba_nn_op_def *op = &gaba_nn_ops[q->layer.op];
    gaba_nn_dtype in_dtype[GABA_NN_MAX_INPUTS];
    for (int i = 0; i < GABA_NN_MAX_INPUTS; i++) in_dtype[i] = op->in_dtype;
    gaba_nn_plan pl;
    gaba_status st = gaba_nn_prepare(&q->layer, n_in, in, in_dtype, &pl);
    if (st != GABA_OK) return st;
    *out = pl.out;
    *ws_bytes = 0;
    return op->q_prepare ? op->q_prepare(q, in, ws_bytes) : GABA_OK;
}

gaba_status gaba_qnn_conv_prepare(const gaba_qnn_layer *q, const gaba_nn_shape *in,
                                  int64_t *ws_bytes) {
    gaba_nn_conv_geom g;
    gaba_status st = gaba_nn_conv_geom_get(&q->layer, &in[0], &g);
    if (st == GABA_OK) *ws_bytes = gaba_qnn_conv_workspace(&g);
    return st;
}

gaba_status gaba_qnn_dense_prepare(const gaba_qnn_layer *q, const gaba_nn_shape *in,
                                   int64_t *ws_bytes) {
    (void)q;
    *ws_bytes = packed_bytes(gaba_nn_numel(&in[0]), 1);
    return GABA_OK;
}

gaba_status gaba_qnn_attention_prepare(const gaba_qnn_layer *q, const gaba_nn_shape *in,
                                       int64_t *ws_bytes) {
    if (in[0].d[1] > GABA_QNN_ATTN_MAX_L) return GABA_ERR_SHAPE;
    *ws_bytes = gaba_qnn_attention_workspace(in[0].d[0], in[0].d[1], q->layer.p[0]);
    return GABA_OK;
}

gaba_status gaba_qnn_gru_prepare(const gaba_qnn_layer *q, const gaba_nn_shape *in,
                                 int64_t *ws_bytes) {
    *ws_bytes = gaba_qnn_gru_workspace(in[0].d[0], in[0].d[1], q->layer.p[0], q->layer.p[1]);
    return GABA_OK;
}

gaba_status gaba_qnn_eval(const gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in,
                          const int8_t *const *x, int8_t *y, void *ws, gaba_nn_impl impl) {
    if ((unsigned)q->layer.op >= GABA_NN_OP_COUNT || !gaba_nn_ops[q->layer.op].q_eval)
        return GABA_ERR_NO_IMPL;
    const gaba_nn_op_def *op = &gaba_nn_ops[q->layer.op];
    return (impl == GABA_NN_IMPL_REF ? op->q_eval_ref : op->q_eval)(q, n_in, in, x, y, ws);
}

// The int8 evals' arguments, as gaba_qnn_eval's.
#define QEVAL_ARGS                                                                                 \
    const gaba_qnn_layer *q, int n_in, const gaba_nn_shape *in, const int8_t *const *x, int8_t *y, \
        void *ws

gaba_status gaba_qnn_conv_eval(QEVAL_ARGS) {
    (void)n_in;
    gaba_nn_conv_geom g;
    gaba_status st = gaba_nn_conv_geom_get(&q->layer, &in[0], &g);
    return st != GABA_OK ? st : gaba_qnn_conv(&g, q, x[0], y, ws);
}

gaba_status gaba_qnn_conv_eval_ref(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    gaba_nn_conv_geom g;
    gaba_status st = gaba_nn_conv_geom_get(&q->layer, &in[0], &g);
    if (st == GABA_OK) gaba_qnn_conv_ref(&g, q, x[0], y);
    return st;
}

gaba_status gaba_qnn_dense_eval(QEVAL_ARGS) {
    (void)n_in;
    return gaba_qnn_dense(q->layer.p[0], gaba_nn_numel(&in[0]), q, x[0], y, ws);
}

gaba_status gaba_qnn_dense_eval_ref(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    gaba_qnn_dense_ref(q->layer.p[0], gaba_nn_numel(&in[0]), q, x[0], y);
    return GABA_OK;
}

gaba_status gaba_qnn_act_eval(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    int64_t numel = gaba_nn_numel(&in[0]);
    if (gaba_qnn_is_lut_act(q->layer.act))
        gaba_nn_table.qlut(numel, x[0], q->lut, y);
    else
        gaba_qnn_clamp_ref(numel, x[0], q->act_min, q->act_max, y);
    return GABA_OK;
}

gaba_status gaba_qnn_act_eval_ref(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    int64_t numel = gaba_nn_numel(&in[0]);
    if (gaba_qnn_is_lut_act(q->layer.act))
        gaba_qnn_lut_ref(numel, x[0], q->lut, y);
    else
        gaba_qnn_clamp_ref(numel, x[0], q->act_min, q->act_max, y);
    return GABA_OK;
}

gaba_status gaba_qnn_pool_eval_ref(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    gaba_nn_pool_geom g;
    gaba_status st = gaba_nn_pool_geom_get(&q->layer, &in[0], &g);
    if (st == GABA_OK)
        (q->layer.op == GABA_NN_MAXPOOL ? gaba_qnn_maxpool_ref : gaba_qnn_avgpool_ref)(&g, x[0], y);
    return st;
}

// the fast kernel covers unpadded windows, the reference the rest
gaba_status gaba_qnn_pool_eval(QEVAL_ARGS) {
    gaba_nn_pool_geom g;
    gaba_status st = gaba_nn_pool_geom_get(&q->layer, &in[0], &g);
    if (st != GABA_OK) return st;
    if (g.pt || g.pl || (g.ho - 1) * g.sh + g.kh > g.h || (g.wo - 1) * g.sw + g.kw > g.w)
        return gaba_qnn_pool_eval_ref(q, n_in, in, x, y, ws);
    gaba_nn_table.qpool(&g, x[0], y, q->layer.op == GABA_NN_MAXPOOL);
    return GABA_OK;
}

gaba_status gaba_qnn_global_pool_eval(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    gaba_nn_table.qgpool(in[0].d[0], gaba_nn_numel(&in[0]) / in[0].d[0], x[0], y,
                         q->layer.op == GABA_NN_GLOBAL_MAXPOOL);
    return GABA_OK;
}

gaba_status gaba_qnn_global_pool_eval_ref(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    gaba_qnn_global_pool_ref(in[0].d[0], gaba_nn_numel(&in[0]) / in[0].d[0], x[0], y,
                             q->layer.op == GABA_NN_GLOBAL_MAXPOOL);
    return GABA_OK;
}

// (C, H, W) or (C, L) as H = 1, and the scales
#define UPSAMPLE_GEOM                                                                              \
    in[0].d[0], in[0].ndim == 3 ? in[0].d[1] : 1, in[0].d[in[0].ndim - 1], q->layer.p[0],          \
        q->layer.p[1]

gaba_status gaba_qnn_upsample_eval(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    if (q->layer.p[2] == 1)
        gaba_nn_table.qbilinear(UPSAMPLE_GEOM, q->in_zp[0], x[0], y);
    else
        gaba_nn_table.qupsample(UPSAMPLE_GEOM, x[0], y);
    return GABA_OK;
}

gaba_status gaba_qnn_upsample_eval_ref(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    if (q->layer.p[2] == 1)
        gaba_qnn_upsample_bilinear_ref(UPSAMPLE_GEOM, q->in_zp[0], x[0], y);
    else
        gaba_qnn_upsample_nearest_ref(UPSAMPLE_GEOM, x[0], y);
    return GABA_OK;
}

gaba_status gaba_qnn_concat_eval_ref(QEVAL_ARGS) {
    (void)ws;
    int64_t counts[GABA_NN_MAX_INPUTS];
    for (int i = 0; i < n_in; i++) counts[i] = gaba_nn_numel(&in[i]);
    gaba_qnn_concat_ref(n_in, counts, q, x, y);
    return GABA_OK;
}

// inputs whose parameters differ from the output's go through their rescale table
gaba_status gaba_qnn_concat_eval(QEVAL_ARGS) {
    if (!q->lut) return gaba_qnn_concat_eval_ref(q, n_in, in, x, y, ws);
    for (int i = 0; i < n_in; i++) {
        int64_t count = gaba_nn_numel(&in[i]);
        if (gaba_qnn_concat_copies(q, i))
            memcpy(y, x[i], (size_t)count);
        else
            gaba_nn_table.qlut(count, x[i], q->lut + 256 * i, y);
        y += count;
    }
    return GABA_OK;
}

// add, sub, mul: the op's offset from add; b per channel when its size differs
#define BINARY_ARGS                                                                                \
    q->layer.op - GABA_NN_ADD, in[0].d[0], gaba_nn_numel(&in[0]) / in[0].d[0], q, x[0], x[1],      \
        gaba_nn_numel(&in[1]) != gaba_nn_numel(&in[0]), y

gaba_status gaba_qnn_binary_eval(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    gaba_qnn_binary(BINARY_ARGS);
    return GABA_OK;
}

gaba_status gaba_qnn_binary_eval_ref(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    gaba_qnn_binary_ref(BINARY_ARGS);
    return GABA_OK;
}

gaba_status gaba_qnn_copy_eval(QEVAL_ARGS) {
    (void)q, (void)n_in, (void)ws;
    memcpy(y, x[0], (size_t)gaba_nn_numel(&in[0]));
    return GABA_OK;
}

gaba_status gaba_qnn_embedding_eval(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    return gaba_qnn_embedding_ref(gaba_nn_numel(&in[0]), q->layer.p[0], q->layer.p[1],
                                  (const int32_t *)x[0], q->w, y);
}

gaba_status gaba_qnn_transpose_eval(QEVAL_ARGS) {
    (void)q, (void)n_in, (void)ws;
    gaba_qnn_transpose_ref(in[0].d[0], in[0].d[1], x[0], y);
    return GABA_OK;
}

gaba_status gaba_qnn_attention_eval(QEVAL_ARGS) {
    (void)n_in;
    if (!q->attn) return GABA_ERR_ARG;
    gaba_qnn_attn(in[0].d[0], in[0].d[1], q->layer.p[0], q, x[0], y, ws);
    return GABA_OK;
}

gaba_status gaba_qnn_attention_eval_ref(QEVAL_ARGS) {
    (void)n_in;
    if (!q->attn) return GABA_ERR_ARG;
    gaba_qnn_attn_ref(in[0].d[0], in[0].d[1], q->layer.p[0], q, x[0], y, ws);
    return GABA_OK;
}

gaba_status gaba_qnn_gru_eval(QEVAL_ARGS) {
    (void)n_in;
    return gaba_qnn_gru(q, in[0].d[0], in[0].d[1], x[0], y, ws, 0);
}

gaba_status gaba_qnn_gru_eval_ref(QEVAL_ARGS) {
    (void)n_in;
    return gaba_qnn_gru(q, in[0].d[0], in[0].d[1], x[0], y, ws, 1);
}

void gaba_qnn_quantize_f32(int64_t n, const float *x, float scale, int32_t zp, int8_t *q) {
    gaba_nn_table.qquantize(n, x, scale, zp, q);
}

void gaba_qnn_quantize_f32_generic(int64_t n, const float *x, float scale, int32_t zp, int8_t *q) {
    for (int64_t i = 0; i < n; i++) {
        float v = x[i] / scale, t = truncf(v);
        t += fabsf(v - t) >= 0.5f ? (v < 0.0f ? -1.0f : 1.0f) : 0.0f; // roundf: half away from 0
        t += (float)zp;
        t = t < -128.0f ? -128.0f : t > 127.0f ? 127.0f : t;
        q[i] = t == t ? (int8_t)(int32_t)t : (int8_t)zp; // NaN -> the zero point
    }
}

void gaba_qnn_dequantize_f32(int64_t n, const int8_t *q, float scale, int32_t zp, float *x) {
    for (int64_t i = 0; i < n; i++) x[i] = scale * (float)(q[i] - zp);
}

void gaba_qnn_set_clamp(gaba_qnn_layer *q) {
    gaba_nn_act act = q->layer.act;
    int32_t zp = q->out_zp;
    q->act_min = -128, q->act_max = 127;
    if (act == GABA_NN_ACT_RELU || act == GABA_NN_ACT_RELU6) q->act_min = zp > -128 ? zp : -128;
    if (act == GABA_NN_ACT_RELU6) {
        double top = zp + round(6.0 / q->out_scale);
        q->act_max = top < 127 ? (int32_t)top : 127;
        if (q->act_max < q->act_min) q->act_max = q->act_min;
    }
}

gaba_status gaba_qnn_set_rescale(gaba_qnn_layer *q, int n_in) {
    gaba_nn_op op = q->layer.op;
    return (unsigned)op < GABA_NN_OP_COUNT && gaba_nn_ops[op].q_rescale
               ? gaba_nn_ops[op].q_rescale(q, n_in)
               : GABA_OK;
}

// a and b scaled to twice the larger input scale, shifted left by 20 bits (TFLite's add)
gaba_status gaba_qnn_addsub_rescale(gaba_qnn_layer *q, int n_in) {
    (void)n_in;
    double twice = 2.0 * (q->in_scale[0] > q->in_scale[1] ? q->in_scale[0] : q->in_scale[1]);
    gaba_status st =
        gaba_gemm_quantize_multiplier(q->in_scale[0] / twice, &q->q_mult[0], &q->q_shift[0]);
    if (st == GABA_OK)
        st = gaba_gemm_quantize_multiplier(q->in_scale[1] / twice, &q->q_mult[1], &q->q_shift[1]);
    if (st == GABA_OK)
        st = gaba_gemm_quantize_multiplier(twice / ((double)(1 << 20) * q->out_scale),
                                           &q->q_mult[2], &q->q_shift[2]);
    return st;
}

gaba_status gaba_qnn_mul_rescale(gaba_qnn_layer *q, int n_in) {
    (void)n_in;
    return gaba_gemm_quantize_multiplier((double)q->in_scale[0] * q->in_scale[1] / q->out_scale,
                                         &q->q_mult[0], &q->q_shift[0]);
}

// inputs shifted left by 20 bits, as add's: one fine rounding
gaba_status gaba_qnn_concat_rescale(gaba_qnn_layer *q, int n_in) {
    gaba_status st = GABA_OK;
    for (int i = 0; i < n_in && st == GABA_OK; i++)
        st = gaba_gemm_quantize_multiplier((double)q->in_scale[i] /
                                               ((double)(1 << 20) * q->out_scale),
                                           &q->q_mult[i], &q->q_shift[i]);
    return st;
}

// x[i] = MBQM((q[i] - zp) << 20, mult, shift): the first step of the int8 add.
static void add_input(int64_t n, const int8_t *q, int32_t zp, int32_t mult, int32_t shift,
                      int32_t *x) {
    for (int64_t i = 0; i < n; i++) x[i] = gaba_qnn_mbqm((q[i] - zp) * (1 << 20), mult, shift);
}

void gaba_qnn_addsub_row_generic(int op, int64_t n, const int8_t *a, const int8_t *b, int32_t bc,
                                 const gaba_qnn_layer *q, int8_t *y) {
    if (q->q_shift[0] == GABA_QNN_SHIFT_FP32) {
        const float ra = gaba_qnn_bits_float(q->q_mult[0]), rb = gaba_qnn_bits_float(q->q_mult[1]);
        for (int64_t j = 0; j < n; j++)
            y[j] =
                gaba_qnn_fp32_addsub(op, (float)(a[j] - q->in_zp[0]) * ra,
                                     b ? (float)(b[j] - q->in_zp[1]) * rb : gaba_qnn_bits_float(bc),
                                     q->out_zp, q->act_min, q->act_max);
        return;
    }
    int32_t ta[256], tb[256];
    for (int64_t j = 0; j < n; j += 256) {
        int64_t m = n - j < 256 ? n - j : 256;
        add_input(m, a + j, q->in_zp[0], q->q_mult[0], q->q_shift[0], ta);
        if (b) add_input(m, b + j, q->in_zp[1], q->q_mult[1], q->q_shift[1], tb);
        for (int64_t k = 0; k < m; k++) {
            int32_t v = b ? tb[k] : bc;
            ta[k] = op == 0 ? ta[k] + v : ta[k] - v;
        }
        gaba_nn_table.qrequant_row(m, ta, 0, q->q_mult[2], q->q_shift[2], q->out_zp, q->act_min,
                                   q->act_max, y + j);
    }
}

// The products, requantized by q_mult[0] 256 at a time across channels.
void gaba_qnn_mul_generic(int64_t c, int64_t s, const gaba_qnn_layer *q, const int8_t *a,
                          const int8_t *b, int b_per_channel, int8_t *y) {
    const int32_t za = q->in_zp[0], zb = q->in_zp[1];
    int32_t t[256];
    int64_t i = 0, j = 0; // the channel and position of the next value
    for (int64_t k0 = 0; k0 < c * s; k0 += 256) {
        int64_t n = c * s - k0 < 256 ? c * s - k0 : 256;
        for (int64_t k = 0; k < n;) { // runs within one channel (vector loops)
            int64_t run = n - k < s - j ? n - k : s - j;
            const int8_t *ak = a + k0 + k, *bk = b + k0 + k;
            if (b_per_channel) {
                const int32_t bi = b[i] - zb;
                for (int64_t r = 0; r < run; r++) t[k + r] = (ak[r] - za) * bi;
            } else {
                for (int64_t r = 0; r < run; r++) t[k + r] = (ak[r] - za) * (bk[r] - zb);
            }
            k += run, j += run;
            if (j == s) j = 0, i++;
        }
        gaba_nn_table.qrequant_row(n, t, 0, q->q_mult[0], q->q_shift[0], q->out_zp, q->act_min,
                                   q->act_max, y + k0);
    }
}

void gaba_qnn_binary(int op, int64_t c, int64_t s, const gaba_qnn_layer *q, const int8_t *a,
                     const int8_t *b, int b_per_channel, int8_t *y) {
    if (op == 2) {
        gaba_nn_table.qmul(c, s, q, a, b, b_per_channel, y);
        return;
    }
    const int32_t zb = q->in_zp[1];
    if (!b_per_channel) { // one row over all channels: the row's setup once
        gaba_nn_table.qaddsub_row(op, c * s, a, b, 0, q, y);
        return;
    }
    for (int64_t i = 0; i < c; i++) {
        // a per-channel b's rescaled value (fp32: the float's bits, as the rows read it)
        int32_t bc =
            q->q_shift[1] == GABA_QNN_SHIFT_FP32
                ? gaba_qnn_float_bits((float)(b[i] - zb) * gaba_qnn_bits_float(q->q_mult[1]))
                : gaba_qnn_mbqm((b[i] - zb) * (1 << 20), q->q_mult[1], q->q_shift[1]);
        gaba_nn_table.qaddsub_row(op, s, a + i * s, NULL, bc, q, y + i * s);
    }
}
