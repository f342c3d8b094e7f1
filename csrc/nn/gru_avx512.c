// gru_avx512.c - the GRU's recurrence on AVX-512 (gru.c's table entries,
// gru_ref.c's formulas). W_hh comes transposed into (H, ld) rows, ld = 3H
// rounded up to 16 lanes and zero-padded (16 x 16 blocks transposed in
// registers here), so a step's recurrent product is H broadcast-FMAs into
// 3H/16 accumulators (two sums per vector, over even and odd h[i], for a
// shorter dependency chain; four measured no faster) with no horizontal
// sums; the gates then run 16 hidden units at a time with the
// sigmoid and tanh of core/exp_avx512.h, a few ulps from libm's (absolute
// error, for tanh near 0).
#include "nn_kernels.h"
#include "../core/exp_avx512.h"
#include "../core/lanes_avx512.h"

#include <string.h>

#define BLOCK 6 // vectors of the product per pass: 12 accumulators

// 16 rows of r, each 16 floats, transposed in place.
static inline void transpose16(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int k = 0; k < 8; k++) {
        t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
        t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
    }
    // u[4k + m], 128-bit lane L: rows 4k..4k+3 at column 4L + m
    for (int k = 0; k < 4; k++) {
        u[4 * k] = _mm512_shuffle_ps(t[4 * k], t[4 * k + 2], 0x44);
        u[4 * k + 1] = _mm512_shuffle_ps(t[4 * k], t[4 * k + 2], 0xEE);
        u[4 * k + 2] = _mm512_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0x44);
        u[4 * k + 3] = _mm512_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0xEE);
    }
    for (int m = 0; m < 4; m++) {
        __m512 a = _mm512_shuffle_f32x4(u[m], u[4 + m], 0x88);
        __m512 b = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0x88);
        __m512 c = _mm512_shuffle_f32x4(u[m], u[4 + m], 0xDD);
        __m512 d = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0xDD);
        r[m] = _mm512_shuffle_f32x4(a, b, 0x88);
        r[8 + m] = _mm512_shuffle_f32x4(a, b, 0xDD);
        r[4 + m] = _mm512_shuffle_f32x4(c, d, 0x88);
        r[12 + m] = _mm512_shuffle_f32x4(c, d, 0xDD);
    }
}

void gaba_nn_gru_transpose_f32_avx512(int64_t hd, const float *w_hh, float *wt) {
    const int64_t ld = gaba_nn_gru_ld(hd);
    __m512 r[16];
    for (int64_t j0 = 0; j0 < ld; j0 += 16)
        for (int64_t i0 = 0; i0 < hd; i0 += 16) {
            __mmask16 m = gaba_lanes16(hd - i0);
            for (int k = 0; k < 16; k++)
                r[k] = j0 + k < 3 * hd ? _mm512_maskz_loadu_ps(m, w_hh + (j0 + k) * hd + i0)
                                       : _mm512_setzero_ps();
            transpose16(r);
            for (int k = 0; k < 16 && i0 + k < hd; k++)
                _mm512_storeu_ps(wt + (i0 + k) * ld + j0, r[k]);
        }
}

// hp[16 v0 .. 16 (v0 + nb)) = b + wt h, nb <= BLOCK (a constant where inlined).
static inline __attribute__((always_inline)) void product(int nb, int64_t hd, int64_t ld,
                                                          const float *wt, const float *b,
                                                          const float *h, float *hp) {
    __m512 a[BLOCK], c[BLOCK];
    for (int v = 0; v < nb; v++) a[v] = _mm512_loadu_ps(b + 16 * v), c[v] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 2 <= hd; i += 2) {
        const __m512 h0 = _mm512_set1_ps(h[i]), h1 = _mm512_set1_ps(h[i + 1]);
        const float *w0 = wt + i * ld, *w1 = w0 + ld;
        for (int v = 0; v < nb; v++) {
            a[v] = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + 16 * v), h0, a[v]);
            c[v] = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + 16 * v), h1, c[v]);
        }
    }
    if (i < hd) {
        const __m512 h0 = _mm512_set1_ps(h[i]);
        for (int v = 0; v < nb; v++)
            a[v] = _mm512_fmadd_ps(_mm512_loadu_ps(wt + i * ld + 16 * v), h0, a[v]);
    }
    for (int v = 0; v < nb; v++) _mm512_storeu_ps(hp + 16 * v, _mm512_add_ps(a[v], c[v]));
}

static void gates(int64_t hd, const float *gi, const float *hp, float *h) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int64_t j = 0; j < hd; j += 16) {
        __mmask16 m = gaba_lanes16(hd - j);
#define LD(p) _mm512_maskz_loadu_ps(m, (p) + j)
        __m512 r = gaba_sigmoid512(_mm512_add_ps(LD(gi), LD(hp)));
        __m512 z = gaba_sigmoid512(_mm512_add_ps(LD(gi + hd), LD(hp + hd)));
        __m512 n = gaba_tanh512(_mm512_fmadd_ps(r, LD(hp + 2 * hd), LD(gi + 2 * hd)));
        __m512 zh = _mm512_mul_ps(z, LD(h));
#undef LD
        _mm512_mask_storeu_ps(h + j, m, _mm512_fmadd_ps(_mm512_sub_ps(one, z), n, zh));
    }
}

void gaba_nn_gru_recur_f32_avx512(int64_t hd, int64_t t, int seq, const float *xp, const float *wt,
                                  const float *b_hh, float *y, float *ws) {
    const int64_t g3 = 3 * hd, ld = gaba_nn_gru_ld(hd), nv = ld / 16;
    float *hp = ws, *b = hp + ld, *h = b + ld; // gaba_nn_gru_recur_workspace
    memcpy(b, b_hh, (size_t)g3 * sizeof(float));
    memset(b + g3, 0, (size_t)(ld - g3) * sizeof(float));
    memset(h, 0, (size_t)(hd + 15) / 16 * 16 * sizeof(float)); // with its padding lanes
    for (int64_t s = 0; s < t; s++) {
        for (int64_t v0 = 0; v0 < nv; v0 += BLOCK) {
            const float *w = wt + 16 * v0, *bv = b + 16 * v0;
            float *out = hp + 16 * v0;
            switch (nv - v0 < BLOCK ? nv - v0 : BLOCK) {
            case 1: product(1, hd, ld, w, bv, h, out); break;
            case 2: product(2, hd, ld, w, bv, h, out); break;
            case 3: product(3, hd, ld, w, bv, h, out); break;
            case 4: product(4, hd, ld, w, bv, h, out); break;
            case 5: product(5, hd, ld, w, bv, h, out); break;
            default: product(BLOCK, hd, ld, w, bv, h, out); break;
            }
        }
        gates(hd, xp + s * g3, hp, h);
        if (seq)
            for (int64_t j = 0; j < hd; j++) y[j * t + s] = h[j];
    }
    if (!seq) memcpy(y, h, (size_t)hd * sizeof(float));
}
