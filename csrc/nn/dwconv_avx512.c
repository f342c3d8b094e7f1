// dwconv_avx512.c - the depthwise direct kernel with AVX-512, reading the
// input in place: 16 outputs of a row accumulate all kh*kw taps in one
// register, each tap a masked load whose mask drops the columns that fall
// in the padding (masked lanes are neither read nor faulted), and rows in
// the padding are skipped. Four such chunks run at once so four
// independent FMA chains hide the FMA latency; the bias starts the sums
// and the activation is applied in the store. Stride 2 loads 32 inputs and
// keeps the even lanes with one permute. 3x3 kernels have their own loop
// (dw3_channel) that shares input rows between output rows. Other strides,
// and rows too wide for the mask table, use the generic body
// (dwconv_impl.h) compiled here.
#include "dwconv_impl.h"

#include "act_avx512.h"

#include <immintrin.h>

#define DW_MAX_TAB 512 // chunks x tap columns; wider rows use the generic body
#define DW_UNITS 4
#define DW_ZERO_W 2048 // rows up to this wide take the 3x3 path

// Lanes [lo, hi) of n set (clamped to [0, n)).
static inline uint64_t lane_mask(int64_t lo, int64_t hi, int64_t n) {
    if (lo < 0) lo = 0;
    if (hi > n) hi = n;
    if (hi <= lo) return 0;
    uint64_t upto = hi >= 64 ? ~0ull : (1ull << hi) - 1;
    return upto & ~((1ull << lo) - 1);
}

// Valid lanes per (16-output chunk, tap column): two halves for stride 2,
// and the chunk's output lanes.
typedef struct dw_masks {
    __mmask16 in0[DW_MAX_TAB], in1[DW_MAX_TAB], out[DW_MAX_TAB];
} dw_masks;

static inline __attribute__((always_inline)) void
dw_channel(const gaba_nn_conv_geom *g, int64_t kh, int64_t kw, int64_t sw, const dw_masks *mk,
           const float *xc, const float *wc, float bias, float *yc, gaba_nn_act act) {
    const int64_t ho = g->ho, wo = g->wo, nch = (wo + 15) / 16, units = ho * nch;
    const __m512i even =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    // A unit is 16 outputs (row oy, chunk ch); DW_UNITS of them run at once,
    // across rows or along a row, so 1-D convs (ho == 1) fill them too.
    int64_t uy = 0, uc = 0; // the next unit's row and chunk
    for (int64_t u0 = 0; u0 < units; u0 += DW_UNITS) {
        int64_t oy[DW_UNITS], ch[DW_UNITS];
        __m512 acc[DW_UNITS];
        _Pragma("GCC unroll 4") for (int j = 0; j < DW_UNITS; j++) {
            // Past the last unit: repeat it (computed, not stored).
            oy[j] = uy, ch[j] = uc;
            if (u0 + j + 1 < units && ++uc == nch) uc = 0, uy++;
            acc[j] = _mm512_set1_ps(bias);
        }
        for (int64_t ky = 0; ky < kh; ky++) {
            // Rows in the padding read nothing.
            const float *xr[DW_UNITS];
            __mmask16 rv[DW_UNITS];
            _Pragma("GCC unroll 4") for (int j = 0; j < DW_UNITS; j++) {
                int64_t iy = oy[j] * g->sh - g->pt + ky * g->dh;
                int ok = iy >= 0 && iy < g->h;
                xr[j] = xc + (ok ? iy : 0) * g->w + ch[j] * 16 * sw - g->pl;
                rv[j] = ok ? (__mmask16)0xFFFF : 0;
            }
            for (int64_t kx = 0; kx < kw; kx++) {
                const __m512 wv = _mm512_set1_ps(wc[ky * kw + kx]);
                _Pragma("GCC unroll 4") for (int j = 0; j < DW_UNITS; j++) {
                    const float *p = xr[j] + kx * g->dw;
                    int64_t t = ch[j] * kw + kx;
                    __m512 v = _mm512_maskz_loadu_ps(mk->in0[t] & rv[j], p);
                    if (sw == 2)
                        v = _mm512_permutex2var_ps(
                            v, even, _mm512_maskz_loadu_ps(mk->in1[t] & rv[j], p + 16));
                    acc[j] = _mm512_fmadd_ps(wv, v, acc[j]);
                }
            }
        }
        _Pragma("GCC unroll 4") for (int j = 0; j < DW_UNITS; j++) if (u0 + j < units)
            _mm512_mask_storeu_ps(yc + oy[j] * wo + ch[j] * 16, mk->out[ch[j]],
                                  gaba_nn_act_avx512(acc[j], act));
    }
}

// 3x3 (nearly every depthwise conv of the zoo): the nine weights stay in
// registers, the column masks of a chunk in mask registers, and rows in the
// padding point at a zero row instead of being tested. Without dilation,
// each input row is loaded once for all the output rows that use it
// (share 1, strides 1: 18 loads for 4 x 9 taps instead of 36; share 2,
// strides 2: 9 rows, each three loads and three shuffles for its three
// taps); share 0 loads every tap.
static const float dw_zero[DW_ZERO_W];

static inline __attribute__((always_inline)) void
dw3_channel(const gaba_nn_conv_geom *g, int64_t sw, int share, const float *xc, const float *wc,
            float bias, float *yc, gaba_nn_act act) {
    const int64_t ho = g->ho, wo = g->wo, dw = g->dw, dh = g->dh, sh = g->sh;
    const __m512i even =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    __m512 wv[9];
    _Pragma("GCC unroll 9") for (int t = 0; t < 9; t++) wv[t] = _mm512_set1_ps(wc[t]);
    for (int64_t ox = 0; ox < wo; ox += 16) {
        const __mmask16 mout = (__mmask16)lane_mask(0, wo - ox, 16);
        const int64_t base = ox * sw - g->pl; // input column of lane 0, tap column 0
        __mmask16 m0[3], m1[3];
        _Pragma("GCC unroll 3") for (int kx = 0; kx < 3; kx++) {
            uint64_t m = lane_mask(-(base + kx * dw), g->w - base - kx * dw, 16 * sw);
            m0[kx] = (__mmask16)m;
            m1[kx] = (__mmask16)(m >> 16);
        }
        // share 2: the validity of column base + 32 (tap 2 of the last lane).
        const __mmask16 m2 = (__mmask16)lane_mask(-(base + 32), g->w - base - 32, 1);
        for (int64_t oy0 = 0; oy0 < ho; oy0 += DW_UNITS) {
            __m512 acc[DW_UNITS];
            _Pragma("GCC unroll 4") for (int j = 0; j < DW_UNITS; j++) acc[j] =
                _mm512_set1_ps(bias);
            if (share == 1) { // input row oy0 - pt + r feeds output rows oy0 + r - ky
                _Pragma("GCC unroll 6") for (int r = 0; r < DW_UNITS + 2; r++) {
                    int64_t iy = oy0 - g->pt + r;
                    const float *xr = (iy >= 0 && iy < g->h ? xc + iy * g->w : dw_zero) + base;
                    _Pragma("GCC unroll 3") for (int kx = 0; kx < 3; kx++) {
                        __m512 v = _mm512_maskz_loadu_ps(m0[kx], xr + kx);
                        _Pragma("GCC unroll 3") for (int ky = 0; ky < 3; ky++) {
                            int j = r - ky;
                            if (j >= 0 && j < DW_UNITS)
                                acc[j] = _mm512_fmadd_ps(wv[ky * 3 + kx], v, acc[j]);
                        }
                    }
                }
            } else if (share == 2) { // input row 2 oy0 - pt + r feeds output rows (r - ky) / 2
                _Pragma("GCC unroll 9") for (int r = 0; r < 2 * DW_UNITS + 1; r++) {
                    int64_t iy = 2 * oy0 - g->pt + r;
                    const float *xr = (iy >= 0 && iy < g->h ? xc + iy * g->w : dw_zero) + base;
                    // Columns base + 2i (tap 0), + 1 (tap 1), + 2 (tap 2: tap 0's lanes
                    // moved down one, column base + 32 entering at the top).
                    __m512 a = _mm512_maskz_loadu_ps(m0[0], xr);
                    __m512 bv = _mm512_maskz_loadu_ps(m1[0], xr + 16);
                    __m512 c = _mm512_maskz_loadu_ps(m2, xr + 32);
                    __m512 v[3];
                    v[0] = _mm512_permutex2var_ps(a, even, bv);
                    v[1] = _mm512_permutex2var_ps(a, odd, bv);
                    v[2] = _mm512_castsi512_ps(
                        _mm512_alignr_epi32(_mm512_castps_si512(c), _mm512_castps_si512(v[0]), 1));
                    _Pragma("GCC unroll 3") for (int ky = 0; ky < 3; ky++) {
                        int j = (r - ky) / 2;
                        if (r >= ky && (r - ky) % 2 == 0 && j < DW_UNITS)
                            _Pragma("GCC unroll 3") for (int kx = 0; kx < 3; kx++) acc[j] =
                                _mm512_fmadd_ps(wv[ky * 3 + kx], v[kx], acc[j]);
                    }
                }
            } else {
                _Pragma("GCC unroll 4") for (int j = 0; j < DW_UNITS; j++)
                    _Pragma("GCC unroll 3") for (int ky = 0; ky < 3; ky++) {
                    int64_t iy = (oy0 + j) * sh - g->pt + ky * dh;
                    const float *xr = (iy >= 0 && iy < g->h ? xc + iy * g->w : dw_zero) + base;
                    _Pragma("GCC unroll 3") for (int kx = 0; kx < 3; kx++) {
                        const float *p = xr + kx * dw;
                        __m512 v = _mm512_maskz_loadu_ps(m0[kx], p);
                        if (sw == 2)
                            v = _mm512_permutex2var_ps(v, even,
                                                       _mm512_maskz_loadu_ps(m1[kx], p + 16));
                        acc[j] = _mm512_fmadd_ps(wv[ky * 3 + kx], v, acc[j]);
                    }
                }
            }
            _Pragma("GCC unroll 4") for (int j = 0; j < DW_UNITS; j++) if (oy0 + j < ho)
                _mm512_mask_storeu_ps(yc + (oy0 + j) * wo + ox, mout,
                                      gaba_nn_act_avx512(acc[j], act));
        }
    }
}

// 3x3 stride 1 on a plane narrower than 16 that keeps its size (the small
// maps at the end of the backbones, 5x5 to 12x12): the plane is one line
// and 16 consecutive outputs, across rows, share a register, so no lane
// idles at the row ends. Tap t reads the line shifted by off[t]; mask[q][t]
// keeps the lanes of chunk q whose tap falls inside the plane.
#define DW_FLAT_MAX 256 // plane size of the one-line path

typedef struct dw_flat {
    int64_t nq, off[9];
    __mmask16 mask[DW_FLAT_MAX / 16][9], out[DW_FLAT_MAX / 16];
} dw_flat;

static int dw_flat_ok(const gaba_nn_conv_geom *g) {
    return g->kh == 3 && g->kw == 3 && g->sh == 1 && g->sw == 1 && g->dh == 1 && g->dw == 1 &&
           g->ho == g->h && g->wo == g->w && g->w < 16 && g->h * g->w <= DW_FLAT_MAX;
}

static void dw_flat_init(const gaba_nn_conv_geom *g, dw_flat *f) {
    const int64_t hw = g->h * g->w;
    f->nq = (hw + 15) / 16;
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512 inv_w = _mm512_set1_ps(1.0f / (float)g->w);
    for (int t = 0; t < 9; t++) f->off[t] = (t / 3 - g->pt) * g->w + (t % 3 - g->pl);
    for (int64_t q = 0; q < f->nq; q++) {
        __m512i p = _mm512_add_epi32(lane, _mm512_set1_epi32((int)(16 * q)));
        // oy = p / w, exact in float for planes this small (p + 0.5 keeps the floor off the edge)
        __m512i oy = _mm512_cvttps_epi32(
            _mm512_mul_ps(_mm512_add_ps(_mm512_cvtepi32_ps(p), _mm512_set1_ps(0.5f)), inv_w));
        __m512i ox = _mm512_sub_epi32(p, _mm512_mullo_epi32(oy, _mm512_set1_epi32((int)g->w)));
        f->out[q] = (__mmask16)lane_mask(0, hw - 16 * q, 16);
        for (int t = 0; t < 9; t++) {
            // (unsigned) (v + d) < n tests 0 <= v + d < n in one compare.
            __m512i iy = _mm512_add_epi32(oy, _mm512_set1_epi32((int)(t / 3 - g->pt)));
            __m512i ix = _mm512_add_epi32(ox, _mm512_set1_epi32((int)(t % 3 - g->pl)));
            f->mask[q][t] = f->out[q] & _mm512_cmplt_epu32_mask(iy, _mm512_set1_epi32((int)g->h)) &
                            _mm512_cmplt_epu32_mask(ix, _mm512_set1_epi32((int)g->w));
        }
    }
}

static inline __attribute__((always_inline)) void dw_flat_channel(const dw_flat *f, const float *xc,
                                                                  const float *wc, float bias,
                                                                  float *yc, gaba_nn_act act) {
    __m512 wv[9];
    _Pragma("GCC unroll 9") for (int t = 0; t < 9; t++) wv[t] = _mm512_set1_ps(wc[t]);
    for (int64_t q = 0; q < f->nq; q += 2) {
        const int64_t q1 = q + 1 < f->nq ? q + 1 : q; // a lone last chunk runs twice, stored once
        __m512 a0 = _mm512_set1_ps(bias), a1 = a0;
        _Pragma("GCC unroll 9") for (int t = 0; t < 9; t++) {
            const float *p = xc + f->off[t];
            a0 = _mm512_fmadd_ps(wv[t], _mm512_maskz_loadu_ps(f->mask[q][t], p + 16 * q), a0);
            a1 = _mm512_fmadd_ps(wv[t], _mm512_maskz_loadu_ps(f->mask[q1][t], p + 16 * q1), a1);
        }
        _mm512_mask_storeu_ps(yc + 16 * q, f->out[q], gaba_nn_act_avx512(a0, act));
        if (q1 != q) _mm512_mask_storeu_ps(yc + 16 * q1, f->out[q1], gaba_nn_act_avx512(a1, act));
    }
}

static void dw_run(const gaba_nn_conv_geom *g, const dw_masks *mk, const float *x, const float *w,
                   const float *b, float *y, gaba_nn_act act) {
    int k3 = g->kh == 3 && g->kw == 3 && g->w <= DW_ZERO_W, flat = dw_flat_ok(g);
    dw_flat f;
    if (flat) dw_flat_init(g, &f);
    for (int64_t c = 0; c < g->c; c++) {
        const float *xc = x + c * g->h * g->w, *wc = w + c * g->kh * g->kw;
        float bias = b ? b[c] : 0.0f, *yc = y + c * g->ho * g->wo;
        if (flat)
            dw_flat_channel(&f, xc, wc, bias, yc, act);
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

void gaba_nn_dwconv_f32_avx512(const gaba_nn_conv_geom *g, const float *x, const float *w,
                               const float *b, float *y, gaba_nn_act act) {
    const int64_t nch = (g->wo + 15) / 16;
    if (g->sw > 2 || nch * g->kw > DW_MAX_TAB || gaba_nn_dw_is_global(g)) {
        gaba_nn_dwconv_body(g, x, w, b, y);
        gaba_nn_bias_act_f32(1, g->co * g->ho * g->wo, y, NULL, act);
        return;
    }
    dw_masks mk;
    for (int64_t ch = 0; ch < nch; ch++) {
        mk.out[ch] = (__mmask16)lane_mask(0, g->wo - ch * 16, 16);
        for (int64_t kx = 0; kx < g->kw; kx++) {
            int64_t base = ch * 16 * g->sw + kx * g->dw - g->pl; // input column of lane 0
            uint64_t m = lane_mask(-base, g->w - base, 16 * g->sw);
            mk.in0[ch * g->kw + kx] = (__mmask16)m;
            mk.in1[ch * g->kw + kx] = (__mmask16)(m >> 16);
        }
    }
    switch (act) { // the activation as a constant inside each instance
    case GABA_NN_ACT_NONE: dw_run(g, &mk, x, w, b, y, GABA_NN_ACT_NONE); break;
    case GABA_NN_ACT_RELU: dw_run(g, &mk, x, w, b, y, GABA_NN_ACT_RELU); break;
    case GABA_NN_ACT_RELU6: dw_run(g, &mk, x, w, b, y, GABA_NN_ACT_RELU6); break;
    case GABA_NN_ACT_HSWISH: dw_run(g, &mk, x, w, b, y, GABA_NN_ACT_HSWISH); break;
    default:
        dw_run(g, &mk, x, w, b, y, GABA_NN_ACT_NONE);
        gaba_nn_act_pass_f32_avx512(y, g->co * g->ho * g->wo, act);
    }
}
