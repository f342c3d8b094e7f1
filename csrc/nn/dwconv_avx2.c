// dwconv_avx2.c - the depthwise direct kernel with AVX2 + FMA, reading the
// input in place (the design of dwconv_avx512.c on 8 lanes): 8 outputs of
// a row accumulate all kh*kw taps in one register, each tap a masked load
// (_mm256_maskload_ps: masked lanes are neither read nor faulted) whose
// mask drops the columns that fall in the padding, and rows in the padding
// read nothing. Four such chunks run at once so four independent FMA chains
// hide the FMA latency; the bias starts the sums and the activation is
// applied in the store (act_avx2.h). Stride 2 loads 16 inputs and keeps the
// even lanes with one in-lane shuffle; the sums stay in that lane order and
// one permute puts them right before the store. 3x3 kernels have their own
// loop (dw3_channel) that shares input rows between output rows (8 rows at
// once at stride 1) and loads without masks where a chunk lies inside the
// row; small planes whose rows would leave lanes idle run as one line
// (dw_flat). Other strides, and rows
// too wide for the mask table, use the generic body (dwconv_impl.h)
// compiled here.
#include "dwconv_impl.h"

#include "act_avx2.h"

#include <immintrin.h>
#include <stdalign.h>

#define DW_MAX_TAB 256 // chunks x tap columns; wider rows use the generic body
#define DW_UNITS 4
#define DW_ZERO_W 2048 // rows up to this wide take the 3x3 path
#define DW3_MAX_ROWS 8 // output rows of a 3x3 group

// The maskload / maskstore mask of lanes [lo, hi) of 8 (clamped to [0, 8)).
static inline __m256i lanes_between(int64_t lo, int64_t hi) {
    lo = lo < 0 ? 0 : lo > 8 ? 8 : lo;
    hi = hi < 0 ? 0 : hi > 8 ? 8 : hi;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)lo), lane),
                               _mm256_cmpgt_epi32(_mm256_set1_epi32((int)hi), lane));
}

// The lanes of the 8 columns from p on that lie inside a row of w.
static inline __m256i cols_in_row(int64_t p, int64_t w) { return lanes_between(-p, w - p); }

static inline __attribute__((always_inline)) __m256 load8(const float *p, __m256i m, int masked) {
    return masked ? _mm256_maskload_ps(p, m) : _mm256_loadu_ps(p);
}

// Columns 0, 2, .., 14 of a (columns 0-7) and b (8-15), in the lane order
// of one in-lane shuffle: outputs 0, 1, 4, 5, 2, 3, 6, 7.
static inline __m256 even_cols(__m256 a, __m256 b) { return _mm256_shuffle_ps(a, b, 0x88); }

// Puts sums kept in even_cols' order back in output order.
static inline __m256 unshuffle(__m256 v) {
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xD8));
}

// The first n (>= 1) of 8 outputs, activated; a partial chunk is a masked store.
static inline __attribute__((always_inline)) void store8(float *p, __m256 v, int64_t n,
                                                         gaba_nn_act act) {
    v = gaba_nn_act_avx2(v, act);
    if (n >= 8)
        _mm256_storeu_ps(p, v);
    else
        _mm256_maskstore_ps(p, lanes_between(0, n), v);
}

// Valid lanes per (8-output chunk, tap column): inputs 0-7 and, for stride
// 2, inputs 8-15 of the chunk.
typedef struct dw_masks {
    __m256i in0[DW_MAX_TAB], in1[DW_MAX_TAB];
} dw_masks;

static inline __attribute__((always_inline)) void
dw_channel(const gaba_nn_conv_geom *g, int64_t kh, int64_t kw, int64_t sw, const dw_masks *mk,
           const float *xc, const float *wc, float bias, float *yc, gaba_nn_act act) {
    const int64_t ho = g->ho, wo = g->wo, nch = (wo + 7) / 8, units = ho * nch;
    // A unit is 8 outputs (row oy, chunk ch); DW_UNITS of them run at once,
    // across rows or along a row, so 1-D convs (ho == 1) fill them too.
    int64_t uy = 0, uc = 0; // the next unit's row and chunk
    for (int64_t u0 = 0; u0 < units; u0 += DW_UNITS) {
        int64_t oy[DW_UNITS], ch[DW_UNITS];
        __m256 acc[DW_UNITS];
        _Pragma("GCC unroll 4") for (int j = 0; j < DW_UNITS; j++) {
            // Past the last unit: repeat it (computed, not stored).
            oy[j] = uy, ch[j] = uc;
            if (u0 + j + 1 < units && ++uc == nch) uc = 0, uy++;
            acc[j] = _mm256_set1_ps(bias);
        }
        for (int64_t ky = 0; ky < kh; ky++) {
            // Rows in the padding read nothing.
            const float *xr[DW_UNITS];
            __m256i rv[DW_UNITS];
            _Pragma("GCC unroll 4") for (int j = 0; j < DW_UNITS; j++) {
                int64_t iy = oy[j] * g->sh - g->pt + ky * g->dh;
                int ok = iy >= 0 && iy < g->h;
                xr[j] = xc + (ok ? iy : 0) * g->w + ch[j] * 8 * sw - g->pl;
                rv[j] = _mm256_set1_epi32(ok ? -1 : 0);
            }
            for (int64_t kx = 0; kx < kw; kx++) {
                const __m256 wv = _mm256_set1_ps(wc[ky * kw + kx]);
                _Pragma("GCC unroll 4") for (int j = 0; j < DW_UNITS; j++) {
                    const float *p = xr[j] + kx * g->dw;
                    int64_t t = ch[j] * kw + kx;
                    __m256 v = _mm256_maskload_ps(p, _mm256_and_si256(mk->in0[t], rv[j]));
                    if (sw == 2)
                        v = even_cols(
                            v, _mm256_maskload_ps(p + 8, _mm256_and_si256(mk->in1[t], rv[j])));
                    acc[j] = _mm256_fmadd_ps(wv, v, acc[j]);
                }
            }
        }
        _Pragma("GCC unroll 4") for (int j = 0; j < DW_UNITS; j++) if (u0 + j < units) store8(
            yc + oy[j] * wo + ch[j] * 8, sw == 2 ? unshuffle(acc[j]) : acc[j], wo - ch[j] * 8, act);
    }
}

// 3x3 (nearly every depthwise conv of the zoo): the nine weights stay in
// registers and rows in the padding point at a zero row instead of being
// tested. Without dilation, each input row is loaded once for all the
// output rows that use it (share 1, strides 1: 18 loads for 4 x 9 taps
// instead of 36; share 2, strides 2: 9 rows, each four loads and three
// shuffles for its three taps); share 0 loads every tap.
static const float dw_zero[DW_ZERO_W];

// The columns a chunk reads past its first (base), by share and stride.
static inline int64_t dw3_reach(int share, int64_t sw, int64_t dw) {
    if (share == 1) return 2 + 8;
    if (share == 2) return 9 + 8; // columns base + 9 .. base + 16
    return 2 * dw + 8 * sw;
}

// Output rows [oy0, oy0 + rows) of one chunk of 8 outputs (columns from
// ox, input column base for lane 0 and tap column 0); rows past ho are
// computed, not stored. masked: the chunk reaches into the padding and
// loads through the masks m; else every load lies in the row.
static inline __attribute__((always_inline)) void
dw3_rows(const gaba_nn_conv_geom *g, int64_t sw, int share, int masked, const __m256i *m, int rows,
         int64_t oy0, int64_t ox, int64_t base, const float *xc, const __m256 *wv, float bias,
         float *yc, gaba_nn_act act) {
    const int64_t ho = g->ho, wo = g->wo, dw = g->dw, dh = g->dh, sh = g->sh;
    __m256 acc[DW3_MAX_ROWS];
    _Pragma("GCC unroll 8") for (int j = 0; j < rows; j++) acc[j] = _mm256_set1_ps(bias);
    if (share == 1) { // input row oy0 - pt + r feeds output rows oy0 + r - ky
        _Pragma("GCC unroll 10") for (int r = 0; r < rows + 2; r++) {
            int64_t iy = oy0 - g->pt + r;
            const float *xr = (iy >= 0 && iy < g->h ? xc + iy * g->w : dw_zero) + base;
            _Pragma("GCC unroll 3") for (int kx = 0; kx < 3; kx++) {
                __m256 v = load8(xr + kx, m[kx], masked);
                _Pragma("GCC unroll 3") for (int ky = 0; ky < 3; ky++) {
                    int j = r - ky;
                    if (j >= 0 && j < rows) acc[j] = _mm256_fmadd_ps(wv[ky * 3 + kx], v, acc[j]);
                }
            }
        }
    } else if (share == 2) { // input row 2 oy0 - pt + r feeds output rows (r - ky) / 2
        _Pragma("GCC unroll 17") for (int r = 0; r < 2 * rows + 1; r++) {
            int64_t iy = 2 * oy0 - g->pt + r;
            const float *xr = (iy >= 0 && iy < g->h ? xc + iy * g->w : dw_zero) + base;
            // Tap 0: the even columns of base .. base + 15; taps 1 and 2: the
            // even and odd columns of base + 1 .. base + 16.
            __m256 a = load8(xr, m[0], masked), b = load8(xr + 8, m[1], masked);
            __m256 a1 = load8(xr + 1, m[2], masked), b1 = load8(xr + 9, m[3], masked);
            __m256 v[3];
            v[0] = even_cols(a, b);
            v[1] = even_cols(a1, b1);
            v[2] = _mm256_shuffle_ps(a1, b1, 0xDD);
            _Pragma("GCC unroll 3") for (int ky = 0; ky < 3; ky++) {
                int j = (r - ky) / 2;
                if (r >= ky && (r - ky) % 2 == 0 && j < rows)
                    _Pragma("GCC unroll 3") for (int kx = 0; kx < 3; kx++) acc[j] =
                        _mm256_fmadd_ps(wv[ky * 3 + kx], v[kx], acc[j]);
            }
        }
    } else {
        _Pragma("GCC unroll 4") for (int j = 0; j < rows; j++)
            _Pragma("GCC unroll 3") for (int ky = 0; ky < 3; ky++) {
            int64_t iy = (oy0 + j) * sh - g->pt + ky * dh;
            const float *xr = (iy >= 0 && iy < g->h ? xc + iy * g->w : dw_zero) + base;
            _Pragma("GCC unroll 3") for (int kx = 0; kx < 3; kx++) {
                const float *p = xr + kx * dw;
                __m256 v = load8(p, m[kx], masked);
                if (sw == 2) v = even_cols(v, load8(p + 8, m[3 + kx], masked));
                acc[j] = _mm256_fmadd_ps(wv[ky * 3 + kx], v, acc[j]);
            }
        }
    }
    _Pragma("GCC unroll 4") for (int j = 0; j < rows; j++) if (oy0 + j < ho)
        store8(yc + (oy0 + j) * wo + ox, sw == 2 ? unshuffle(acc[j]) : acc[j], wo - ox, act);
}

// One chunk over all output rows: share 1 in groups of 8 rows (8 FMA
// chains, each input row loaded once for 8 / 10 of its uses; some weights
// then live in memory), the rest and the other shares in groups of 4.
static inline __attribute__((always_inline)) void
dw3_chunk(const gaba_nn_conv_geom *g, int64_t sw, int share, int masked, const __m256i *m,
          int64_t ox, int64_t base, const float *xc, const __m256 *wv, float bias, float *yc,
          gaba_nn_act act) {
    int64_t oy0 = 0;
    if (share == 1)
        for (; oy0 + 8 <= g->ho; oy0 += 8)
            dw3_rows(g, sw, share, masked, m, 8, oy0, ox, base, xc, wv, bias, yc, act);
    for (; oy0 < g->ho; oy0 += 4)
        dw3_rows(g, sw, share, masked, m, 4, oy0, ox, base, xc, wv, bias, yc, act);
}

static inline __attribute__((always_inline)) void
dw3_channel(const gaba_nn_conv_geom *g, int64_t sw, int share, const float *xc, const float *wc,
            float bias, float *yc, gaba_nn_act act) {
    const int64_t dw = g->dw, reach = dw3_reach(share, sw, dw);
    __m256 wv[9];
    _Pragma("GCC unroll 9") for (int t = 0; t < 9; t++) wv[t] = _mm256_set1_ps(wc[t]);
    for (int64_t ox = 0; ox < g->wo; ox += 8) {
        const int64_t base = ox * sw - g->pl; // input column of lane 0, tap column 0
        __m256i m[6]; // the masks of the loads at the columns dw3_chunk reads from
        if (share == 2) {
            m[0] = cols_in_row(base, g->w), m[1] = cols_in_row(base + 8, g->w);
            m[2] = cols_in_row(base + 1, g->w), m[3] = cols_in_row(base + 9, g->w);
        } else {
            _Pragma("GCC unroll 3") for (int kx = 0; kx < 3; kx++) {
                m[kx] = cols_in_row(base + kx * dw, g->w);
                m[3 + kx] = cols_in_row(base + kx * dw + 8, g->w);
            }
        }
        if (base >= 0 && base + reach <= g->w) // inside the row: plain loads
            dw3_chunk(g, sw, share, 0, m, ox, base, xc, wv, bias, yc, act);
        else
            dw3_chunk(g, sw, share, 1, m, ox, base, xc, wv, bias, yc, act);
    }
}

// 3x3 stride 1 on a plane narrower than 16 that keeps its size and whose
// rows would leave lanes idle (the small maps at the end of the backbones,
// 5x5 to 12x12): the plane is one line and 8 consecutive outputs, across
// rows, share a register. Tap t reads the line shifted by off[t]; mask[q][t]
// keeps the lanes of chunk q whose tap falls inside the plane.
#define DW_FLAT_MAX 256 // plane size of the one-line path

typedef struct dw_flat {
    int64_t nq, hw, off[9];
    alignas(32) int32_t mask[DW_FLAT_MAX / 8][9][8];
} dw_flat;

static int dw_flat_ok(const gaba_nn_conv_geom *g) {
    return g->kh == 3 && g->kw == 3 && g->sh == 1 && g->sw == 1 && g->dh == 1 && g->dw == 1 &&
           g->ho == g->h && g->wo == g->w && g->w < 16 && g->w != 8 && g->h * g->w <= DW_FLAT_MAX;
}

static void dw_flat_init(const gaba_nn_conv_geom *g, dw_flat *f) {
    f->hw = g->h * g->w;
    f->nq = (f->hw + 7) / 8;
    for (int t = 0; t < 9; t++) f->off[t] = (t / 3 - g->pt) * g->w + (t % 3 - g->pl);
    for (int64_t q = 0; q < f->nq; q++)
        for (int lane = 0; lane < 8; lane++) {
            int64_t p = 8 * q + lane, oy = p / g->w, ox = p % g->w;
            for (int t = 0; t < 9; t++) {
                int64_t iy = oy + t / 3 - g->pt, ix = ox + t % 3 - g->pl;
                int ok = p < f->hw && iy >= 0 && iy < g->h && ix >= 0 && ix < g->w;
                f->mask[q][t][lane] = ok ? -1 : 0;
            }
        }
}

static inline __m256i flat_mask(const dw_flat *f, int64_t q, int t) {
    return _mm256_load_si256((const __m256i *)f->mask[q][t]);
}

static inline __attribute__((always_inline)) void dw_flat_channel(const dw_flat *f, const float *xc,
                                                                  const float *wc, float bias,
                                                                  float *yc, gaba_nn_act act) {
    __m256 wv[9];
    _Pragma("GCC unroll 9") for (int t = 0; t < 9; t++) wv[t] = _mm256_set1_ps(wc[t]);
    for (int64_t q = 0; q < f->nq; q += 2) {
        const int64_t q1 = q + 1 < f->nq ? q + 1 : q; // a lone last chunk runs twice, stored once
        // Two sums a chunk (taps 0-4, 5-8) so four FMA chains run at once:
        // s[0], s[1] for chunk q, s[2], s[3] for q1.
        __m256 s[4] = {_mm256_set1_ps(bias), _mm256_setzero_ps(), _mm256_set1_ps(bias),
                       _mm256_setzero_ps()};
        _Pragma("GCC unroll 9") for (int t = 0; t < 9; t++) {
            const float *p = xc + f->off[t];
            const int h = t >= 5;
            s[h] = _mm256_fmadd_ps(wv[t], _mm256_maskload_ps(p + 8 * q, flat_mask(f, q, t)), s[h]);
            s[2 + h] = _mm256_fmadd_ps(wv[t], _mm256_maskload_ps(p + 8 * q1, flat_mask(f, q1, t)),
                                       s[2 + h]);
        }
        store8(yc + 8 * q, _mm256_add_ps(s[0], s[1]), f->hw - 8 * q, act);
        if (q1 != q) store8(yc + 8 * q1, _mm256_add_ps(s[2], s[3]), f->hw - 8 * q1, act);
    }
}

static inline __attribute__((always_inline)) void
dw_run(const gaba_nn_conv_geom *g, const dw_masks *mk, const dw_flat *f, const float *x,
       const float *w, const float *b, float *y, gaba_nn_act act) {
    int k3 = g->kh == 3 && g->kw == 3 && g->w <= DW_ZERO_W;
    for (int64_t c = 0; c < g->c; c++) {
        const float *xc = x + c * g->h * g->w, *wc = w + c * g->kh * g->kw;
        float bias = b ? b[c] : 0.0f, *yc = y + c * g->ho * g->wo;
        if (f)
            dw_flat_channel(f, xc, wc, bias, yc, act);
        else if (k3 && g->sw == 1 && g->sh == 1 && g->dh == 1 && g->dw == 1)
            dw3_channel(g, 1, 1, xc, wc, bias, yc, act);
        else if (k3 && g->sw == 2 && g->sh == 2 && g->dh == 1 && g->dw == 1)
            dw3_channel(g, 2, 2, xc, wc, bias, yc, act);
        else if (k3 && g->sw == 1)
            dw3_channel(g, 1, 0, xc, wc, bias, yc, act);
        else if (k3)
            dw3_channel(g, 2, 0, xc, wc, bias, yc, act);
        else
            dw_channel(g, g->kh, g->kw, g->sw, mk, xc, wc, bias, yc, act);
    }
}

void gaba_nn_dwconv_f32_avx2(const gaba_nn_conv_geom *g, const float *x, const float *w,
                             const float *b, float *y, gaba_nn_act act) {
    const int64_t nch = (g->wo + 7) / 8;
    if (g->sw > 2 || nch * g->kw > DW_MAX_TAB || gaba_nn_dw_is_global(g)) {
        gaba_nn_dwconv_body(g, x, w, b, y);
        gaba_nn_bias_act_f32(1, g->co * g->ho * g->wo, y, NULL, act);
        return;
    }
    dw_flat flat, *f = NULL;
    dw_masks mk;
    if (dw_flat_ok(g)) {
        dw_flat_init(g, &flat);
        f = &flat;
    } else if (!(g->kh == 3 && g->kw == 3 && g->w <= DW_ZERO_W)) {
        for (int64_t ch = 0; ch < nch; ch++)
            for (int64_t kx = 0; kx < g->kw; kx++) {
                int64_t base = ch * 8 * g->sw + kx * g->dw - g->pl; // input column of lane 0
                mk.in0[ch * g->kw + kx] = cols_in_row(base, g->w);
                mk.in1[ch * g->kw + kx] = cols_in_row(base + 8, g->w);
            }
    }
    switch (act) { // the activation as a constant inside each instance
    case GABA_NN_ACT_NONE: dw_run(g, &mk, f, x, w, b, y, GABA_NN_ACT_NONE); break;
    case GABA_NN_ACT_RELU: dw_run(g, &mk, f, x, w, b, y, GABA_NN_ACT_RELU); break;
    case GABA_NN_ACT_RELU6: dw_run(g, &mk, f, x, w, b, y, GABA_NN_ACT_RELU6); break;
    case GABA_NN_ACT_HSWISH: dw_run(g, &mk, f, x, w, b, y, GABA_NN_ACT_HSWISH); break;
    default:
        dw_run(g, &mk, f, x, w, b, y, GABA_NN_ACT_NONE);
        gaba_nn_act_pass_f32_avx2(y, g->co * g->ho * g->wo, act);
    }
}
