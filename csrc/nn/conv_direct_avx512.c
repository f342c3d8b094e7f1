// conv_direct_avx512.c - direct convolution for convs with a short
// reduction (C * kh * kw <= GABA_NN_DIRECT_MAX_K: image stems with 1-3
// channels, small 1-D stems), where im2col + GEMM is dominated by the
// im2col copy and a GEMM with K < 64. The input is read in place: a unit
// is 16 outputs of a row, columns in the padding are masked off the loads,
// rows in the padding read a zero row. Two units x 8 output channels
// accumulate in 16 registers: per tap, two input loads (two loads and a
// permute each for stride 2) feed 16 FMAs with broadcast weights. The bias
// starts the sums, the activation is applied in the store. groups == 1,
// strides 1, 2 or 4 across (4: four loads, three permutes), kw <=
// DIRECT_MAX_KW (conv.c checks).
#include "act_avx512.h"

#include <immintrin.h>

#define DIRECT_CO 8
#define DIRECT_UNITS 2
#define DIRECT_ZERO_W GABA_NN_DIRECT_MAX_W

static const float direct_zero[DIRECT_ZERO_W];

// Lanes [lo, hi) of n set (clamped to [0, n)).
static inline uint64_t lanes(int64_t lo, int64_t hi, int64_t n) {
    if (lo < 0) lo = 0;
    if (hi > n) hi = n;
    if (hi <= lo) return 0;
    return (hi >= 64 ? ~0ull : (1ull << hi) - 1) & ~((1ull << lo) - 1);
}

// 16 inputs at stride sw from p (lanes of m): stride 2 keeps the even lanes
// of two loads, stride 4 every fourth of four (two rounds of permutes).
static inline __attribute__((always_inline)) __m512 direct_load(const float *p, uint64_t m,
                                                                int64_t sw, __m512i even) {
    __m512 v = _mm512_maskz_loadu_ps((__mmask16)m, p);
    if (sw == 1) return v;
    __m512 v1 = _mm512_maskz_loadu_ps((__mmask16)(m >> 16), p + 16);
    if (sw == 2) return _mm512_permutex2var_ps(v, even, v1);
    __m512 v2 = _mm512_maskz_loadu_ps((__mmask16)(m >> 32), p + 32);
    __m512 v3 = _mm512_maskz_loadu_ps((__mmask16)(m >> 48), p + 48);
    // even of even: lanes 0..7 from (v, v1), 8..15 from (v2, v3).
    __m512 e01 = _mm512_permutex2var_ps(v, even, v1), e23 = _mm512_permutex2var_ps(v2, even, v3);
    return _mm512_permutex2var_ps(e01, even, e23);
}

static inline __attribute__((always_inline)) void direct_run(const gaba_nn_conv_geom *g, int64_t sw,
                                                             int64_t kw, const float *x,
                                                             const float *w, const float *b,
                                                             float *y, gaba_nn_act act) {
    const int64_t ho = g->ho, wo = g->wo, nch = (wo + 15) / 16, units = ho * nch;
    const int64_t kh = g->kh, kc = g->c * kh * kw;
    const __m512i even =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    int64_t uy = 0, uc = 0; // the next unit's row and chunk
    for (int64_t u0 = 0; u0 < units; u0 += DIRECT_UNITS) {
        int64_t oy[DIRECT_UNITS], ox[DIRECT_UNITS];
        uint64_t m[DIRECT_UNITS][GABA_NN_DIRECT_MAX_KW]; // valid input lanes, 16 * sw of them
        __mmask16 mout[DIRECT_UNITS];
        for (int j = 0; j < DIRECT_UNITS; j++) {
            // Past the last unit: repeat it (computed, not stored).
            oy[j] = uy, ox[j] = uc * 16;
            if (u0 + j + 1 < units && ++uc == nch) uc = 0, uy++;
            mout[j] = (__mmask16)lanes(0, wo - ox[j], 16);
            for (int64_t kx = 0; kx < kw; kx++) {
                int64_t base = ox[j] * sw + kx * g->dw - g->pl; // input column of lane 0
                m[j][kx] = lanes(-base, g->w - base, 16 * sw);
            }
        }
        for (int64_t co0 = 0; co0 < g->co; co0 += DIRECT_CO) {
            const int64_t nco = g->co - co0 < DIRECT_CO ? g->co - co0 : DIRECT_CO;
            const float *wr[DIRECT_CO];
            __m512 acc[DIRECT_CO][DIRECT_UNITS];
            _Pragma("GCC unroll 8") for (int r = 0; r < DIRECT_CO; r++) {
                int64_t co = co0 + (r < nco ? r : nco - 1); // spare rows repeat the last
                wr[r] = w + co * kc;
                _Pragma("GCC unroll 2") for (int j = 0; j < DIRECT_UNITS; j++) acc[r][j] =
                    _mm512_set1_ps(b ? b[co] : 0.0f);
            }
            for (int64_t c = 0; c < g->c; c++)
                for (int64_t ky = 0; ky < kh; ky++) {
                    const float *xr[DIRECT_UNITS];
                    _Pragma("GCC unroll 2") for (int j = 0; j < DIRECT_UNITS; j++) {
                        int64_t iy = oy[j] * g->sh - g->pt + ky * g->dh;
                        xr[j] = (iy >= 0 && iy < g->h ? x + (c * g->h + iy) * g->w : direct_zero) +
                                ox[j] * sw - g->pl;
                    }
                    const int64_t t0 = (c * kh + ky) * kw;
                    _Pragma("GCC unroll 3") for (int64_t kx = 0; kx < kw; kx++) {
                        __m512 v[DIRECT_UNITS];
                        _Pragma("GCC unroll 2") for (int j = 0; j < DIRECT_UNITS; j++) {
                            const float *p = xr[j] + kx * g->dw;
                            v[j] = direct_load(p, m[j][kx], sw, even);
                        }
                        _Pragma("GCC unroll 8") for (int r = 0; r < DIRECT_CO; r++) {
                            const __m512 wv = _mm512_set1_ps(wr[r][t0 + kx]);
                            _Pragma("GCC unroll 2") for (int j = 0; j < DIRECT_UNITS; j++)
                                acc[r][j] = _mm512_fmadd_ps(wv, v[j], acc[r][j]);
                        }
                    }
                }
            _Pragma("GCC unroll 8") for (int r = 0; r < DIRECT_CO; r++) if (r < nco)
                _Pragma("GCC unroll 2") for (int j = 0; j < DIRECT_UNITS; j++) if (u0 + j < units)
                    _mm512_mask_storeu_ps(y + ((co0 + r) * ho + oy[j]) * wo + ox[j], mout[j],
                                          gaba_nn_act_avx512(acc[r][j], act));
        }
    }
}

// The zoo's stems are 3 wide: their tap loop unrolls with the masks in
// registers. Stride 4 (patch stems) keeps a runtime tap loop.
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

void gaba_nn_conv_direct_f32_avx512(const gaba_nn_conv_geom *g, const float *x, const float *w,
                                    const float *b, float *y, gaba_nn_act act) {
    switch (act) { // the activation as a constant inside each instance
    case GABA_NN_ACT_NONE: direct_act(g, x, w, b, y, GABA_NN_ACT_NONE); break;
    case GABA_NN_ACT_RELU: direct_act(g, x, w, b, y, GABA_NN_ACT_RELU); break;
    case GABA_NN_ACT_RELU6: direct_act(g, x, w, b, y, GABA_NN_ACT_RELU6); break;
    case GABA_NN_ACT_HSWISH: direct_act(g, x, w, b, y, GABA_NN_ACT_HSWISH); break;
    default:
        direct_act(g, x, w, b, y, GABA_NN_ACT_NONE);
        gaba_nn_act_pass_f32_avx512(y, g->co * g->ho * g->wo, act);
    }
}
