// conv_dw_avx512.c - the depthwise direct kernel with AVX-512, reading the
// input in place: 16 outputs of a row accumulate all kh*kw taps in one
// register, each tap a masked load whose mask drops the columns that fall
// in the padding (masked lanes are neither read nor faulted), and rows in
// the padding are skipped. Four such chunks run at once so four
// independent FMA chains hide the FMA latency; the bias starts the sums
// and the activation is applied in the store. Stride 2 loads 32 inputs and
// keeps the even lanes with one permute. Other strides, and rows too wide
// for the mask table, use the generic body (dwconv_impl.h) compiled here.
#include "dwconv_impl.h"

#include "act_avx512.h"

#include <immintrin.h>

#define DW_MAX_TAB 512 // chunks x tap columns; wider rows use the generic body
#define DW_UNITS 4

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
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                           28, 30);
    // A unit is 16 outputs (row oy, chunk ch); DW_UNITS of them run at once,
    // across rows or along a row, so 1-D convs (ho == 1) fill them too.
    for (int64_t u0 = 0; u0 < units; u0 += DW_UNITS) {
        int64_t oy[DW_UNITS], ch[DW_UNITS];
        __m512 acc[DW_UNITS];
        _Pragma("GCC unroll 4") for (int j = 0; j < DW_UNITS; j++) {
            int64_t u = u0 + j < units ? u0 + j : units - 1;
            oy[j] = u / nch;
            ch[j] = u - oy[j] * nch;
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

// 3x3 at strides 1 and 2 (nearly every depthwise conv of the zoo) get
// their tap loops and stride as constants.
static void dw_run(const gaba_nn_conv_geom *g, const dw_masks *mk, const float *x,
                   const float *w, const float *b, float *y, gaba_nn_act act) {
    int k3 = g->kh == 3 && g->kw == 3;
    for (int64_t c = 0; c < g->c; c++) {
        const float *xc = x + c * g->h * g->w, *wc = w + c * g->kh * g->kw;
        float bias = b ? b[c] : 0.0f, *yc = y + c * g->ho * g->wo;
        if (k3 && g->sw == 1)
            dw_channel(g, 3, 3, 1, mk, xc, wc, bias, yc, act);
        else if (k3)
            dw_channel(g, 3, 3, 2, mk, xc, wc, bias, yc, act);
        else
            dw_channel(g, g->kh, g->kw, g->sw, mk, xc, wc, bias, yc, act);
    }
}

void gaba_nn_dwconv_f32_avx512(const gaba_nn_conv_geom *g, const float *x, const float *w,
                               const float *b, float *y, gaba_nn_act act) {
    const int64_t nch = (g->wo + 15) / 16;
    if (g->sw > 2 || nch * g->kw > DW_MAX_TAB) {
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
        gaba_nn_act_f32_ref(y, g->co * g->ho * g->wo, act);
    }
}
