// conv.c - the int8 convolution (qnn.h): its prepare and evals (ops.c), its
// workspace, the plain packing, im2col and product, and the driver over
// slabs of output pixels. Conv is im2col (padding with the
// input zero point, i.e. a real 0) written packed, as unsigned x + 128 in
// groups of 4 k steps, then Y (co, HoWo) = W (co, K) x col (K, HoWo) with the output
// stage fused (gaba_qnn_gemm_fn: vpdpbusd reads the plain weight rows).
// The input zero point and the +128 are folded into the bias (bias_eff =
// bias - (zp + 128) sum_k w), so nothing per call depends on the weights.
// Dense (dense.c) is the same product with one column. Depthwise is a direct loop
// (dwconv*.c, gaba_nn_table.qdwconv: on AVX2 and VNNI CPUs reading the input in place,
// in the plain build over a zero-point-padded copy of each channel). The
// output stage is TFLite's per-channel requantization. Mirrors TFLite
// Micro's int8 kernels; no per-tensor-only or uint8 variants.
#include "../nn/ops.h"
#include "qnn_impl.h"

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

int64_t gaba_qnn_conv_workspace(const gaba_nn_conv_geom *g) {
    if (is_depthwise(g)) { // the padded plane and its sums, or the in-place kernel's strips
        int64_t padded = ALIGN64(dw_rows(g) * dw_cols(g)) + g->ho * g->wo * 4;
        int64_t strips = gaba_qnn_dw_strips_bytes(g);
        return padded > strips ? padded : strips;
    }
    int64_t cw = chunk_rows(g) * chunk_cols(g), k = (g->c / g->groups) * g->kh * g->kw;
    return gaba_qnn_packed_bytes(k, cw);
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

gaba_status gaba_qnn_conv_prepare(const gaba_qnn_layer *q, const gaba_nn_shape *in,
                                  int64_t *ws_bytes) {
    gaba_nn_conv_geom g;
    gaba_status st = gaba_nn_conv_geom_get(&q->layer, &in[0], &g);
    if (st == GABA_OK) *ws_bytes = gaba_qnn_conv_workspace(&g);
    return st;
}

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
