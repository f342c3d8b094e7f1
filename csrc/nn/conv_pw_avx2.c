// conv_pw_avx2.c - the conv GEMM with its epilogue fused, AVX2 + FMA, for
// the zoo's small shapes: Y (m, n) = act(W (m, k) x X (k, n) + b[row]), all
// row-major, X a pointwise conv's input or im2col's columns. The AVX2
// counterpart of conv_pw_avx512.c, with X copied into contiguous panels
// (below): a tile of PW_MR rows x 8 * PW_NV columns starts from the bias,
// takes per k one broadcast weight per row and PW_NV loads of the panel, and
// leaves through the activation in the stores (the last vector of a row
// masked). The column tiles run outermost so the panel stays in L1 while
// every row tile passes over it. Sigmoid and tanh run as a pass after the
// stores.
#include "act_avx2.h"

#include <immintrin.h>

// 6 x 16: 12 accumulators, 2 X vectors and a broadcast weight of the 16 ymm
// registers (measured against 4 x 24 and 8 x 8 on the zoo's pointwise shapes).
#define PW_MR 6
#define PW_NV 2 // 8-lane vectors per column tile
// Fully unrolled tile loops keep the accumulators in registers.
#define PW_UNROLL _Pragma("GCC unroll 8")

// X is copied, PW_KC rows x PW_NC columns at a time, into panels of 8 *
// PW_NV columns laid out contiguously (row by row along X, which the
// prefetchers follow): the zoo's pointwise inputs are 1024 or 4096 floats
// wide, and a panel read in place from X has its rows 4 KiB apart, in the
// same L1 sets and each on its own page (measured 1.5x slower). Longer
// reductions run in blocks, the later ones adding to Y.
#define PW_KC 256
#define PW_NC 64
_Static_assert(PW_NC % (8 * PW_NV) == 0, "a column block is whole panels");

// The first `lanes` lanes of 8 (1..8) as a maskload/maskstore mask.
static inline __m256i pw_mask(int64_t lanes) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)lanes), idx);
}

// The column block X[0:kc, 0:nc] into its panels of 8 * PW_NV columns,
// each (kc, 8 * PW_NV), the last one's columns past nc zero.
static void pw_pack(int64_t kc, int64_t n, int64_t nc, const float *x, float *panels) {
    const int64_t full = nc / 8, tail = nc % 8, width = 8 * PW_NV;
    const __m256i mtail = pw_mask(tail);
    for (int64_t p = 0; p < kc; p++) {
        const float *xp = x + p * n;
        int64_t v = 0;
        for (; v < full; v++)
            _mm256_storeu_ps(panels + (v / PW_NV * kc + p) * width + v % PW_NV * 8,
                             _mm256_loadu_ps(xp + 8 * v));
        if (tail) {
            _mm256_storeu_ps(panels + (v / PW_NV * kc + p) * width + v % PW_NV * 8,
                             _mm256_maskload_ps(xp + 8 * v, mtail));
            v++;
        }
        for (; v % PW_NV; v++) // the last panel's unused vectors
            _mm256_storeu_ps(panels + (v / PW_NV * kc + p) * width + v % PW_NV * 8,
                             _mm256_setzero_ps());
    }
}

// One tile: mr rows (<= PW_MR) x nv vectors of the panel (kc rows), the
// last vector of a row stored masked by mlast when `masked`. The first
// k block starts from the bias, a later one from Y; the last applies act.
static inline __attribute__((always_inline)) void pw_tile(int mr, int nv, int masked, int64_t kc,
                                                          int64_t k, int64_t n, const float *w,
                                                          const float *panel, const float *b,
                                                          float *y, __m256i mlast, int first,
                                                          int last, gaba_nn_act act) {
    __m256 acc[PW_MR][PW_NV];
    PW_UNROLL for (int r = 0; r < mr; r++) {
        __m256 bv = _mm256_set1_ps(b ? b[r] : 0.0f);
        PW_UNROLL for (int v = 0; v < nv; v++)
            acc[r][v] = first ? bv
                        : masked && v == nv - 1 ? _mm256_maskload_ps(y + r * n + 8 * v, mlast)
                                                : _mm256_loadu_ps(y + r * n + 8 * v);
    }
    for (int64_t p = 0; p < kc; p++) {
        const float *xp = panel + p * 8 * PW_NV;
        __m256 xv[PW_NV];
        PW_UNROLL for (int v = 0; v < nv; v++) xv[v] = _mm256_loadu_ps(xp + 8 * v);
        PW_UNROLL for (int r = 0; r < mr; r++) {
            __m256 wv = _mm256_broadcast_ss(w + r * k + p);
            PW_UNROLL for (int v = 0; v < nv; v++)
                acc[r][v] = _mm256_fmadd_ps(wv, xv[v], acc[r][v]);
        }
    }
    PW_UNROLL for (int r = 0; r < mr; r++)
        PW_UNROLL for (int v = 0; v < nv; v++) {
            __m256 o = last ? gaba_nn_act_avx2(acc[r][v], act) : acc[r][v];
            if (masked && v == nv - 1)
                _mm256_maskstore_ps(y + r * n + 8 * v, mlast, o);
            else
                _mm256_storeu_ps(y + r * n + 8 * v, o);
        }
}

// The (mr, nv, masked) triples as compile-time constants, so each tile's
// registers are fixed.
#define PW_NV_CASES(MR)                                                                        \
    switch (nv * 2 + masked) {                                                                 \
    case 2: pw_tile(MR, 1, 0, kc, k, n, w, panel, b, y, mlast, first, last, act); break;      \
    case 3: pw_tile(MR, 1, 1, kc, k, n, w, panel, b, y, mlast, first, last, act); break;      \
    case 4: pw_tile(MR, 2, 0, kc, k, n, w, panel, b, y, mlast, first, last, act); break;      \
    default: pw_tile(MR, 2, 1, kc, k, n, w, panel, b, y, mlast, first, last, act); break;     \
    }

static void pw_tile_any(int mr, int nv, int masked, int64_t kc, int64_t k, int64_t n,
                        const float *w, const float *panel, const float *b, float *y,
                        __m256i mlast, int first, int last, gaba_nn_act act) {
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
    float panels[PW_KC * PW_NC];
    const int64_t tiles = (m + PW_MR - 1) / PW_MR;
    for (int64_t j0 = 0; j0 < n; j0 += PW_NC) {
        const int64_t nc = n - j0 < PW_NC ? n - j0 : PW_NC;
        for (int64_t p0 = 0; p0 < k; p0 += PW_KC) {
            const int64_t kc = k - p0 < PW_KC ? k - p0 : PW_KC;
            pw_pack(kc, n, nc, x + p0 * n + j0, panels);
            for (int64_t j = 0; j < nc; j += 8 * PW_NV) {
                const int64_t cols = nc - j < 8 * PW_NV ? nc - j : 8 * PW_NV;
                const int nv = (int)((cols + 7) / 8);
                const int64_t tail = cols - 8 * (nv - 1);
                const __m256i mlast = pw_mask(tail);
                const float *panel = panels + j / (8 * PW_NV) * kc * 8 * PW_NV;
                // Rows split evenly over the tiles: a 2-row tile is load-bound.
                for (int64_t t = 0, i = 0; t < tiles; t++) {
                    const int mr = (int)(m / tiles + (t < m % tiles));
                    pw_tile_any(mr, nv, tail < 8, kc, k, n, w + i * k + p0, panel,
                                b ? b + i : NULL, y + i * n + j0 + j, mlast, p0 == 0,
                                p0 + kc == k, act);
                    i += mr;
                }
            }
        }
    }
}

// Products this large go to gaba_gemm_f32, which runs them on the thread
// pool from here on (gemm_native.c's PARALLEL_MACS); this kernel is one
// thread. Below it, measured on the zoo's shapes (m 5-128, n 25-4096, k
// 8-192, the im2col k 144 included), the fused kernel is 1.0-2.3x faster
// than gaba_gemm_f32 alone, before the bias/activation pass the generic path
// adds, except m <= 32 with n 1024-4096 and k 27-144: 0.9-0.96x, which that
// pass over Y makes even.
#define PW_GENERIC_MACS (12.0 * 1024 * 1024)

gaba_status gaba_nn_conv_gemm_f32_avx2(int64_t m, int64_t n, int64_t k, const float *w,
                                       const float *x, const float *b, float *y,
                                       gaba_nn_act act) {
    if ((double)m * (double)n * (double)k >= PW_GENERIC_MACS)
        return gaba_nn_conv_gemm_f32_generic(m, n, k, w, x, b, y, act);
    switch (act) { // the activation as a constant inside each instance
    case GABA_NN_ACT_NONE: pw_run(m, n, k, w, x, b, y, GABA_NN_ACT_NONE); break;
    case GABA_NN_ACT_RELU: pw_run(m, n, k, w, x, b, y, GABA_NN_ACT_RELU); break;
    case GABA_NN_ACT_RELU6: pw_run(m, n, k, w, x, b, y, GABA_NN_ACT_RELU6); break;
    case GABA_NN_ACT_HSWISH: pw_run(m, n, k, w, x, b, y, GABA_NN_ACT_HSWISH); break;
    default:
        pw_run(m, n, k, w, x, b, y, GABA_NN_ACT_NONE);
        gaba_nn_act_pass_f32_avx2(y, m * n, act);
    }
    return GABA_OK;
}
