// conv_pw_avx512.c - the conv GEMM with its epilogue fused, for the zoo's
// small shapes: Y (m, n) = act(W (m, k) x X (k, n) + b[row]), all row-major,
// X read as it lies (a pointwise conv's input, or im2col's columns). No
// packing: a tile of 6 rows x 64 columns (24 accumulators of the 32 zmm
// registers) starts from the bias, takes per k one broadcast weight per row
// and 4 loads of X, and leaves through the activation in one masked store.
// The column tiles run outermost so the X panel (k x 64) stays in L1 while
// every row tile passes over it. Mirrors gaba_nn_conv_gemm_f32_generic
// (conv.c: GEMM + bias/activation pass); sigmoid and tanh run as a pass
// after the stores.
#include "act_avx512.h"

#include <immintrin.h>

#define PW_MR 6
#define PW_NV 4 // 16-lane vectors per column tile
// Fully unrolled tile loops keep the accumulators in registers (GCC spills
// the array to the stack around a rolled epilogue loop).
#define PW_UNROLL _Pragma("GCC unroll 8")

// One tile: mr rows (<= PW_MR) x nv vectors, the last one masked by mlast.
static inline __attribute__((always_inline)) void pw_tile(int mr, int nv, int64_t k, int64_t n,
                                                          const float *w, const float *x,
                                                          const float *b, float *y, __mmask16 mlast,
                                                          gaba_nn_act act) {
    __m512 acc[PW_MR][PW_NV];
    PW_UNROLL for (int r = 0; r < mr; r++) {
        __m512 bv = _mm512_set1_ps(b ? b[r] : 0.0f);
        PW_UNROLL for (int v = 0; v < nv; v++) acc[r][v] = bv;
    }
    for (int64_t p = 0; p < k; p++) {
        const float *xp = x + p * n;
        __m512 xv[PW_NV];
        PW_UNROLL for (int v = 0; v < nv; v++)
            xv[v] = v == nv - 1 ? _mm512_maskz_loadu_ps(mlast, xp + 16 * v)
                                : _mm512_loadu_ps(xp + 16 * v);
        PW_UNROLL for (int r = 0; r < mr; r++) {
            __m512 wv = _mm512_set1_ps(w[r * k + p]);
            PW_UNROLL for (int v = 0; v < nv; v++)
                acc[r][v] = _mm512_fmadd_ps(wv, xv[v], acc[r][v]);
        }
    }
    PW_UNROLL for (int r = 0; r < mr; r++)
        PW_UNROLL for (int v = 0; v < nv; v++) {
            __m512 o = gaba_nn_act_avx512(acc[r][v], act);
            if (v == nv - 1)
                _mm512_mask_storeu_ps(y + r * n + 16 * v, mlast, o);
            else
                _mm512_storeu_ps(y + r * n + 16 * v, o);
        }
}

// The (mr, nv) pairs as compile-time constants, so each tile's registers are fixed.
#define PW_NV_CASES(MR)                                                                        \
    switch (nv) {                                                                              \
    case 1: pw_tile(MR, 1, k, n, w, x, b, y, mlast, act); break;                              \
    case 2: pw_tile(MR, 2, k, n, w, x, b, y, mlast, act); break;                              \
    case 3: pw_tile(MR, 3, k, n, w, x, b, y, mlast, act); break;                              \
    default: pw_tile(MR, 4, k, n, w, x, b, y, mlast, act); break;                             \
    }

static void pw_tile_any(int mr, int nv, int64_t k, int64_t n, const float *w, const float *x,
                        const float *b, float *y, __mmask16 mlast, gaba_nn_act act) {
    switch (mr) {
    case 1: PW_NV_CASES(1) break;
    case 2: PW_NV_CASES(2) break;
    case 3: PW_NV_CASES(3) break;
    case 4: PW_NV_CASES(4) break;
    case 5: PW_NV_CASES(5) break;
    default: PW_NV_CASES(6) break;
    }
}

static void pw_run(int64_t m, int64_t n, int64_t k, const float *w, const float *x,
                   const float *b, float *y, gaba_nn_act act) {
    for (int64_t j = 0; j < n; j += 16 * PW_NV) {
        int64_t cols = n - j < 16 * PW_NV ? n - j : 16 * PW_NV;
        int nv = (int)((cols + 15) / 16);
        int64_t tail = cols - 16 * (nv - 1);
        __mmask16 mlast = (__mmask16)(tail >= 16 ? 0xFFFF : (1u << tail) - 1);
        for (int64_t i = 0; i < m; i += PW_MR) {
            int mr = (int)(m - i < PW_MR ? m - i : PW_MR);
            pw_tile_any(mr, nv, k, n, w + i * k, x + j, b ? b + i : NULL, y + i * n + j, mlast,
                        act);
        }
    }
}

gaba_status gaba_nn_conv_gemm_f32_avx512(int64_t m, int64_t n, int64_t k, const float *w,
                                         const float *x, const float *b, float *y,
                                         gaba_nn_act act) {
    switch (act) { // the activation as a constant inside each instance
    case GABA_NN_ACT_NONE: pw_run(m, n, k, w, x, b, y, GABA_NN_ACT_NONE); break;
    case GABA_NN_ACT_RELU: pw_run(m, n, k, w, x, b, y, GABA_NN_ACT_RELU); break;
    case GABA_NN_ACT_RELU6: pw_run(m, n, k, w, x, b, y, GABA_NN_ACT_RELU6); break;
    case GABA_NN_ACT_HSWISH: pw_run(m, n, k, w, x, b, y, GABA_NN_ACT_HSWISH); break;
    default:
        pw_run(m, n, k, w, x, b, y, GABA_NN_ACT_NONE);
        gaba_nn_act_pass_f32_avx512(y, m * n, act);
    }
    return GABA_OK;
}
