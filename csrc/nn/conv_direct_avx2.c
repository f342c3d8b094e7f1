// conv_direct_avx2.c - direct convolution for convs with a short reduction
// (C * kh * kw <= GABA_NN_DIRECT_MAX_K: image stems with 1-3 channels, small
// 1-D stems), AVX2 + FMA, the counterpart of conv_direct_avx512.c: the input
// is read in place, a unit is 8 outputs of a row, rows in the padding read a
// zero row. DIRECT_UNITS units x DIRECT_CO output channels accumulate in
// registers: per tap, one input vector per unit feeds DIRECT_CO FMAs with
// broadcast weights (copied tap-major per pass, one pointer for them all).
// Stride 2 builds the input vector from two loads and one in-lane
// shuffle, stride 4 from four loads and three, so the lanes hold the
// outputs in a fixed permuted order that one permute undoes in the store.
// Units whose taps all lie inside the row load plainly; the others mask
// their loads to the row. The bias starts the sums, the activation is
// applied in the store. groups == 1, strides 1, 2 or 4 across, kw <=
// DIRECT_MAX_KW (conv.c checks).
#include "act_avx2.h"

#include <immintrin.h>

// 1 unit x 8 channels: 8 accumulators, the input and a broadcast, the
// zoo's stems having 8 or 16 channels (measured 1.3-2x faster on them than
// 2 x 6, 3 x 4, 2 x 4 and 2 x 8, which spills).
#define DIRECT_CO 8
#define DIRECT_UNITS 1

static const float direct_zero[GABA_NN_DIRECT_MAX_W];

// Lanes i of 8 with lo <= i < hi, as a maskload mask.
static inline __m256i direct_lanes(int64_t lo, int64_t hi) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    lo = lo < 0 ? 0 : lo > 8 ? 8 : lo;
    hi = hi < 0 ? 0 : hi > 8 ? 8 : hi;
    return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)lo), idx),
                               _mm256_cmpgt_epi32(_mm256_set1_epi32((int)hi), idx));
}

// Load q of 8 from p: masked by m[q] or plain.
static inline __attribute__((always_inline)) __m256 direct_load1(const float *p, int q,
                                                                 const __m256i *m, int masked) {
    return masked ? _mm256_maskload_ps(p + 8 * q, m[q]) : _mm256_loadu_ps(p + 8 * q);
}

// 8 inputs at stride sw from p, in the lane order direct_unpermute undoes:
// stride 2 holds outputs 0 1 4 5 2 3 6 7, stride 4 outputs 0 2 4 6 1 3 5 7.
static inline __attribute__((always_inline)) __m256 direct_load(const float *p, const __m256i *m,
                                                                int64_t sw, int masked) {
    __m256 v0 = direct_load1(p, 0, m, masked);
    if (sw == 1) return v0;
    __m256 v1 = direct_load1(p, 1, m, masked);
    if (sw == 2) return _mm256_shuffle_ps(v0, v1, _MM_SHUFFLE(2, 0, 2, 0));
    __m256 v2 = direct_load1(p, 2, m, masked), v3 = direct_load1(p, 3, m, masked);
    return _mm256_shuffle_ps(_mm256_unpacklo_ps(v0, v1), _mm256_unpacklo_ps(v2, v3),
                             _MM_SHUFFLE(1, 0, 1, 0));
}

static inline __attribute__((always_inline)) __m256 direct_unpermute(__m256 v, int64_t sw) {
    if (sw == 2)
        return _mm256_castpd_ps(
            _mm256_permute4x64_pd(_mm256_castps_pd(v), _MM_SHUFFLE(3, 1, 2, 0)));
    if (sw == 4) return _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    return v;
}

// One group of units at rows oy, columns ox (the masks m when `masked`),
// output channels [co0, co0 + nco): their weights wt (kc, DIRECT_CO), bias
// bt (DIRECT_CO).
static inline __attribute__((always_inline)) void
direct_group(const gaba_nn_conv_geom *g, int64_t sw, int64_t kw, int masked, const int64_t *oy,
             const int64_t *ox, int nu, __m256i (*m)[GABA_NN_DIRECT_MAX_KW][4], const float *x,
             const float *wt, const float *bt, int64_t co0, int64_t nco, float *y,
             gaba_nn_act act) {
    const int64_t ho = g->ho, wo = g->wo, kh = g->kh;
    __m256 acc[DIRECT_CO][DIRECT_UNITS];
    _Pragma("GCC unroll 8") for (int r = 0; r < DIRECT_CO; r++)
        _Pragma("GCC unroll 4") for (int j = 0; j < DIRECT_UNITS; j++) acc[r][j] =
            _mm256_broadcast_ss(bt + r);
    for (int64_t c = 0; c < g->c; c++)
        for (int64_t ky = 0; ky < kh; ky++) {
            const float *xr[DIRECT_UNITS];
            _Pragma("GCC unroll 4") for (int j = 0; j < DIRECT_UNITS; j++) {
                int64_t iy = oy[j] * g->sh - g->pt + ky * g->dh;
                xr[j] = (iy >= 0 && iy < g->h ? x + (c * g->h + iy) * g->w : direct_zero) +
                        ox[j] * sw - g->pl;
            }
            const float *wk = wt + (c * kh + ky) * kw * DIRECT_CO;
            _Pragma("GCC unroll 3") for (int64_t kx = 0; kx < kw; kx++) {
                __m256 v[DIRECT_UNITS];
                _Pragma("GCC unroll 4") for (int j = 0; j < DIRECT_UNITS; j++) v[j] =
                    direct_load(xr[j] + kx * g->dw, masked ? m[j][kx] : NULL, sw, masked);
                _Pragma("GCC unroll 8") for (int r = 0; r < DIRECT_CO; r++) {
                    const __m256 wv = _mm256_broadcast_ss(wk + kx * DIRECT_CO + r);
                    _Pragma("GCC unroll 4") for (int j = 0; j < DIRECT_UNITS; j++) acc[r][j] =
                        _mm256_fmadd_ps(wv, v[j], acc[r][j]);
                }
            }
        }
    _Pragma("GCC unroll 4") for (int j = 0; j < DIRECT_UNITS; j++) if (j < nu) {
        const int64_t lanes = wo - ox[j] < 8 ? wo - ox[j] : 8;
        const __m256i mout = direct_lanes(0, lanes);
        _Pragma("GCC unroll 8") for (int r = 0; r < DIRECT_CO; r++) if (r < nco) {
            float *yp = y + ((co0 + r) * ho + oy[j]) * wo + ox[j];
            __m256 o = direct_unpermute(gaba_nn_act_avx2(acc[r][j], act), sw);
            if (lanes == 8)
                _mm256_storeu_ps(yp, o);
            else
                _mm256_maskstore_ps(yp, mout, o);
        }
    }
}

static inline __attribute__((always_inline)) void direct_run(const gaba_nn_conv_geom *g, int64_t sw,
                                                             int64_t kw, const float *x,
                                                             const float *w, const float *b,
                                                             float *y, gaba_nn_act act) {
    const int64_t nch = (g->wo + 7) / 8, units = g->ho * nch, kc = g->c * g->kh * kw;
    // One broadcast pointer for all the channels of a pass: its weights
    // tap-major, spare channels repeating the last.
    float wt[GABA_NN_DIRECT_MAX_K * DIRECT_CO], bt[DIRECT_CO];
    for (int64_t co0 = 0; co0 < g->co; co0 += DIRECT_CO) {
        const int64_t nco = g->co - co0 < DIRECT_CO ? g->co - co0 : DIRECT_CO;
        for (int r = 0; r < DIRECT_CO; r++) {
            const int64_t co = co0 + (r < nco ? r : nco - 1);
            bt[r] = b ? b[co] : 0.0f;
            for (int64_t t = 0; t < kc; t++) wt[t * DIRECT_CO + r] = w[co * kc + t];
        }
        int64_t uy = 0, uc = 0; // the next unit's row and chunk
        for (int64_t u0 = 0; u0 < units; u0 += DIRECT_UNITS) {
            int64_t oy[DIRECT_UNITS], ox[DIRECT_UNITS];
            __m256i m[DIRECT_UNITS][GABA_NN_DIRECT_MAX_KW][4]; // valid lanes of each load
            int inside = 1; // every tap of every unit within the row
            const int nu = units - u0 < DIRECT_UNITS ? (int)(units - u0) : DIRECT_UNITS;
            for (int j = 0; j < DIRECT_UNITS; j++) {
                // Past the last unit: repeat it (computed, not stored).
                oy[j] = uy, ox[j] = uc * 8;
                if (u0 + j + 1 < units && ++uc == nch) uc = 0, uy++;
                const int64_t base = ox[j] * sw - g->pl; // input column of lane 0, tap 0
                inside &= base >= 0 && base + (kw - 1) * g->dw + 8 * sw <= g->w;
            }
            if (!inside)
                for (int j = 0; j < DIRECT_UNITS; j++)
                    for (int64_t kx = 0; kx < kw; kx++) {
                        const int64_t base = ox[j] * sw + kx * g->dw - g->pl;
                        for (int q = 0; q < sw; q++)
                            m[j][kx][q] = direct_lanes(-base - 8 * q, g->w - base - 8 * q);
                    }
            if (inside)
                direct_group(g, sw, kw, 0, oy, ox, nu, m, x, wt, bt, co0, nco, y, act);
            else
                direct_group(g, sw, kw, 1, oy, ox, nu, m, x, wt, bt, co0, nco, y, act);
        }
    }
}

// The zoo's stems are 3 wide: their tap loop unrolls. Stride 4 (patch
// stems) keeps a runtime tap loop.
static void direct_act(const gaba_nn_conv_geom *g, const float *x, const float *w, const float *b,
                       float *y, gaba_nn_act act) {
    if (g->sw == 4)
        direct_run(g, 4, g->kw, x, w, b, y, act);
    else if (g->kw == 3)
        g->sw == 1 ? direct_run(g, 1, 3, x, w, b, y, act) : direct_run(g, 2, 3, x, w, b, y, act);
    else
        g->sw == 1 ? direct_run(g, 1, g->kw, x, w, b, y, act)
                   : direct_run(g, 2, g->kw, x, w, b, y, act);
}

void gaba_nn_conv_direct_f32_avx2(const gaba_nn_conv_geom *g, const float *x, const float *w,
                                  const float *b, float *y, gaba_nn_act act) {
    switch (act) { // the activation as a constant inside each instance
    case GABA_NN_ACT_NONE: direct_act(g, x, w, b, y, GABA_NN_ACT_NONE); break;
    case GABA_NN_ACT_RELU: direct_act(g, x, w, b, y, GABA_NN_ACT_RELU); break;
    case GABA_NN_ACT_RELU6: direct_act(g, x, w, b, y, GABA_NN_ACT_RELU6); break;
    case GABA_NN_ACT_HSWISH: direct_act(g, x, w, b, y, GABA_NN_ACT_HSWISH); break;
    default:
        direct_act(g, x, w, b, y, GABA_NN_ACT_NONE);
        gaba_nn_act_pass_f32_avx2(y, g->co * g->ho * g->wo, act);
    }
}
