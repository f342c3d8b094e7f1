// qnn_impl.h - internal: the int8 depthwise loop as a static inline body,
// compiled once per ISA file (dwconv.c baseline, dwconv_avx2.c) so the compiler
// vectorises the int32 accumulation for each level. No intrinsics here.
#ifndef GABA_QNN_IMPL_H
#define GABA_QNN_IMPL_H

#include "qnn_kernels.h"

#include <string.h>

#define GABA_QNN_ALIGN64(v) (((v) + 63) / 64 * 64)

static inline int64_t gaba_qnn_dw_rows(const gaba_nn_conv_geom *g) {
    return (g->ho - 1) * g->sh + (g->kh - 1) * g->dh + 1;
}
static inline int64_t gaba_qnn_dw_cols(const gaba_nn_conv_geom *g) {
    return (g->wo - 1) * g->sw + (g->kw - 1) * g->dw + 1;
}

static inline int64_t gaba_qnn_round16(int64_t n) { return (n + 15) / 16 * 16; }

// The packed activations of a (k, n) slab: gaba_qnn_gemm_fn's layout.
static inline int64_t gaba_qnn_packed_bytes(int64_t k, int64_t n) {
    return (k + 3) / 4 * 4 * gaba_qnn_round16(n);
}

// The in-place AVX2 depthwise (dwconv_avx2.c) reads 16 outputs of a row per
// chunk, each chunk `span` input bytes from column 16 c sw - pl. Chunks whose
// span leaves the row, the first nl and those from nr0, read instead a strip
// per input row: a copy of their columns with the zero point outside, l_len
// and r_len bytes (rows 32-byte rounded), after a row of zero points (z_len).
typedef struct gaba_qnn_dw_strips {
    int64_t span, nch, nl, nr0, l_len, r_len, l_stride, r_stride, z_len;
} gaba_qnn_dw_strips;

static inline int64_t gaba_qnn_round32(int64_t n) { return (n + 31) / 32 * 32; }

static inline int gaba_qnn_dw_chunk_inside(const gaba_nn_conv_geom *g, int64_t span, int64_t c) {
    int64_t ix = 16 * c * g->sw - g->pl;
    return ix >= 0 && ix + span <= g->w;
}

static inline gaba_qnn_dw_strips gaba_qnn_dw_strips_of(const gaba_nn_conv_geom *g) {
    gaba_qnn_dw_strips s;
    s.span = (g->sw == 1 ? 16 : 32) + (g->kw - 1) * g->dw;
    s.nch = (g->wo + 15) / 16;
    s.nl = 0;
    while (s.nl < s.nch && !gaba_qnn_dw_chunk_inside(g, s.span, s.nl)) s.nl++;
    s.nr0 = s.nch;
    while (s.nr0 > s.nl && !gaba_qnn_dw_chunk_inside(g, s.span, s.nr0 - 1)) s.nr0--;
    s.l_len = s.nl ? (s.nl - 1) * 16 * g->sw + s.span : 0;
    s.r_len = s.nr0 < s.nch ? (s.nch - 1 - s.nr0) * 16 * g->sw + s.span : 0;
    s.l_stride = gaba_qnn_round32(s.l_len), s.r_stride = gaba_qnn_round32(s.r_len);
    int64_t z = s.span > s.l_len ? s.span : s.l_len;
    s.z_len = gaba_qnn_round32(z > s.r_len ? z : s.r_len);
    return s;
}

static inline int64_t gaba_qnn_dw_strips_bytes(const gaba_nn_conv_geom *g) {
    gaba_qnn_dw_strips s = gaba_qnn_dw_strips_of(g);
    return s.z_len + g->h * (s.l_stride + s.r_stride);
}

// The im2col row kk = (ci * kh + ky) * kw + kx, as its tap.
typedef struct gaba_qnn_tap {
    int64_t ci, ky, kx;
} gaba_qnn_tap;

static inline gaba_qnn_tap gaba_qnn_tap_of(const gaba_nn_conv_geom *g, int64_t kk) {
    return (gaba_qnn_tap){kk / (g->kw * g->kh), kk / g->kw % g->kh, kk % g->kw};
}

// The tap of row kk + 1 (no division).
static inline void gaba_qnn_tap_next(const gaba_nn_conv_geom *g, gaba_qnn_tap *t) {
    if (++t->kx == g->kw) {
        t->kx = 0;
        if (++t->ky == g->kh) t->ky = 0, t->ci++;
    }
}

// Row t of the im2col matrix of channels from c0, at output row oy, columns
// [ox0, ox0 + nx): the columns j in [*a, *b) (counted from ox0) read
// src[(j - *a) * sw], the others are outside (the zero point).
static inline const int8_t *gaba_qnn_im2col_src(const gaba_nn_conv_geom *g, const int8_t *x,
                                                int64_t c0, gaba_qnn_tap t, int64_t oy, int64_t ox0,
                                                int64_t nx, int64_t *a, int64_t *b) {
    int64_t kx = t.kx, ky = t.ky, ci = t.ci;
    int64_t off = kx * g->dw - g->pl; // ix = ox * sw + off
    int64_t lo = off >= 0 ? 0 : (-off + g->sw - 1) / g->sw;
    int64_t hi = g->w - 1 - off < 0 ? 0 : (g->w - 1 - off) / g->sw + 1;
    lo = lo < ox0 ? ox0 : lo > ox0 + nx ? ox0 + nx : lo;
    hi = hi > ox0 + nx ? ox0 + nx : hi < lo ? lo : hi;
    int64_t iy = oy * g->sh - g->pt + ky * g->dh;
    if (iy < 0 || iy >= g->h) {
        *a = *b = nx;
        return x;
    }
    *a = lo - ox0, *b = hi - ox0;
    return x + ((c0 + ci) * g->h + iy) * g->w + off + lo * g->sw;
}

// Writes row kk of the im2col matrix (rows [oy0, oy0 + n_rows), columns
// [ox0, ox0 + nx)) into the packed layout of gaba_qnn_gemm_fn: byte kk % 4
// of the lanes of group kk / 4, as x + 128; outside cells are zx (a real 0).
static inline void gaba_qnn_im2col_row(const gaba_nn_conv_geom *g, const int8_t *x, int64_t c0,
                                       int8_t zx, int64_t kk, int64_t oy0, int64_t n_rows,
                                       int64_t ox0, int64_t nx, uint8_t *xp) {
    int64_t np = gaba_qnn_round16(n_rows * nx);
    const uint8_t zu = (uint8_t)(zx ^ 0x80);
    const gaba_qnn_tap t = gaba_qnn_tap_of(g, kk);
    for (int64_t oy = oy0; oy < oy0 + n_rows; oy++) {
        int64_t a, b;
        const int8_t *restrict src = gaba_qnn_im2col_src(g, x, c0, t, oy, ox0, nx, &a, &b);
        uint8_t *restrict r = xp + (kk / 4) * np * 4 + kk % 4 + 4 * (oy - oy0) * nx;
        for (int64_t j = 0; j < a; j++) r[4 * j] = zu;
        for (int64_t j = a; j < b; j++) r[4 * j] = (uint8_t)(src[(j - a) * g->sw] ^ 0x80);
        for (int64_t j = b; j < nx; j++) r[4 * j] = zu;
    }
}

// The packed (k, n) matrix's padding: the last group's missing rows and the
// lanes past n are 0.
static inline void gaba_qnn_im2col_pad(int64_t k, int64_t n, uint8_t *xp) {
    int64_t np = gaba_qnn_round16(n);
    for (int64_t kk = k; kk < (k + 3) / 4 * 4; kk++)
        for (int64_t j = 0; j < n; j++) xp[((kk / 4) * np + j) * 4 + kk % 4] = 0;
    for (int64_t gi = 0; gi < (k + 3) / 4; gi++)
        memset(xp + (gi * np + n) * 4, 0, (size_t)(4 * (np - n)));
}

// Each channel is copied into a zero-point-padded plane (a padded tap then adds
// zp * w, which bias_eff removes), accumulated tap by tap over whole output rows.
// The loop reads x itself, not x + 128: 128 sum_k w goes back into the bias.
static inline void gaba_qnn_dwconv_body(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q,
                                        const int8_t *x, int8_t *y, void *ws,
                                        gaba_qnn_requant_row_fn requant) {
    int64_t hp = gaba_qnn_dw_rows(g), wp = gaba_qnn_dw_cols(g), hw = g->ho * g->wo;
    int8_t *pad = ws;
    int32_t *acc = (int32_t *)((char *)ws + GABA_QNN_ALIGN64(hp * wp));
    int8_t zx = (int8_t)q->in_zp[0];
    for (int64_t c = 0; c < g->c; c++) {
        memset(pad, zx, (size_t)(hp * wp));
        for (int64_t iy = 0; iy < g->h && iy + g->pt < hp; iy++) {
            int64_t n = g->w;
            if (g->pl + n > wp) n = wp - g->pl;
            if (n > 0)
                memcpy(pad + (iy + g->pt) * wp + g->pl, x + (c * g->h + iy) * g->w, (size_t)n);
        }
        const int8_t *wc = q->w + c * g->kh * g->kw;
        int32_t wsum = 0;
        for (int64_t t = 0; t < g->kh * g->kw; t++) wsum += wc[t];
        const int32_t bias = (int32_t)((uint32_t)q->bias_eff[c] + 128u * (uint32_t)wsum);
        if (g->kh == 3 && g->kw == 3 && (g->sw == 1 || g->sw == 2)) {
            // 3x3 (any dilation): all nine taps per output in registers, one pass over the row.
            const int64_t d = g->dw, e = 2 * g->dw;
            const int32_t w0 = wc[0], w1 = wc[1], w2 = wc[2], w3 = wc[3], w4 = wc[4], w5 = wc[5],
                          w6 = wc[6], w7 = wc[7], w8 = wc[8];
            for (int64_t oy = 0; oy < g->ho; oy++) {
                const int8_t *restrict r0 = pad + oy * g->sh * wp, *restrict r1 = r0 + g->dh * wp,
                                       *restrict r2 = r1 + g->dh * wp;
                int32_t *restrict a = acc + oy * g->wo;
                if (g->sw == 1)
                    for (int64_t ox = 0; ox < g->wo; ox++)
                        a[ox] = w0 * r0[ox] + w1 * r0[ox + d] + w2 * r0[ox + e] + w3 * r1[ox] +
                                w4 * r1[ox + d] + w5 * r1[ox + e] + w6 * r2[ox] + w7 * r2[ox + d] +
                                w8 * r2[ox + e];
                else
                    for (int64_t ox = 0; ox < g->wo; ox++)
                        a[ox] = w0 * r0[2 * ox] + w1 * r0[2 * ox + d] + w2 * r0[2 * ox + e] +
                                w3 * r1[2 * ox] + w4 * r1[2 * ox + d] + w5 * r1[2 * ox + e] +
                                w6 * r2[2 * ox] + w7 * r2[2 * ox + d] + w8 * r2[2 * ox + e];
            }
            requant(hw, acc, bias, q->mult[c], q->shift[c], q->out_zp, q->act_min, q->act_max,
                    y + c * hw);
            continue;
        }
        for (int64_t i = 0; i < hw; i++) acc[i] = 0;
        for (int64_t ky = 0; ky < g->kh; ky++)
            for (int64_t kx = 0; kx < g->kw; kx++) {
                int32_t wv = wc[ky * g->kw + kx];
                for (int64_t oy = 0; oy < g->ho; oy++) {
                    // restrict: int8_t is a character type, which may alias the int32 row
                    const int8_t *restrict src = pad + (oy * g->sh + ky * g->dh) * wp + kx * g->dw;
                    int32_t *restrict a = acc + oy * g->wo;
                    if (g->sw == 1)
                        for (int64_t ox = 0; ox < g->wo; ox++) a[ox] += wv * src[ox];
                    else
                        for (int64_t ox = 0; ox < g->wo; ox++) a[ox] += wv * src[ox * g->sw];
                }
            }
        requant(hw, acc, bias, q->mult[c], q->shift[c], q->out_zp, q->act_min, q->act_max,
                y + c * hw);
    }
}

#endif
