// conv_dw_avx512.c - the depthwise direct kernel with AVX-512: each channel
// is first copied into a zero-padded scratch (so the inner loop has no
// bounds tests), then 16 outputs of a row accumulate all kh*kw taps in one
// register before a single (masked) store. Stride 2 loads 32 inputs and
// keeps the even lanes with one permute. Other strides use the generic
// body (dwconv_impl.h), compiled here with AVX-512 flags.
#include "dwconv_impl.h"

#include <immintrin.h>
#include <string.h>

void gaba_nn_dwconv_f32_avx512(const gaba_nn_conv_geom *g, const float *x, const float *w,
                               const float *b, float *y, float *ws) {
    if (g->sw > 2 || !ws) {
        gaba_nn_dwconv_body(g, x, w, b, y);
        return;
    }
    const int64_t rows = dw_pad_rows(g), cols = dw_pad_cols(g);
    const int64_t ho = g->ho, wo = g->wo, sh = g->sh, sw = g->sw;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                           28, 30);
    for (int64_t c = 0; c < g->c; c++) {
        // Scratch row r holds input row r - pt, column j holds input column j - pl.
        memset(ws, 0, (size_t)(rows * cols) * sizeof(float));
        const float *xc = x + c * g->h * g->w;
        for (int64_t r = 0; r < rows; r++) {
            int64_t iy = r - g->pt;
            if (iy < 0 || iy >= g->h) continue;
            int64_t j0 = g->pl, n = g->w;
            if (j0 + n > cols) n = cols - j0;
            if (n > 0) memcpy(ws + r * cols + j0, xc + iy * g->w, (size_t)n * sizeof(float));
        }
        const float *wc = w + c * g->kh * g->kw;
        const __m512 bias = _mm512_set1_ps(b ? b[c] : 0.0f);
        float *yc = y + c * ho * wo;
        for (int64_t oy = 0; oy < ho; oy++) {
            for (int64_t ox = 0; ox < wo; ox += 16) {
                __mmask16 m = wo - ox >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (wo - ox)) - 1);
                __m512 acc = bias;
                for (int64_t ky = 0; ky < g->kh; ky++) {
                    const float *row = ws + (oy * sh + ky * g->dh) * cols + ox * sw;
                    for (int64_t kx = 0; kx < g->kw; kx++) {
                        const float *p = row + kx * g->dw;
                        __m512 v = sw == 1 ? _mm512_loadu_ps(p)
                                           : _mm512_permutex2var_ps(_mm512_loadu_ps(p), even,
                                                                    _mm512_loadu_ps(p + 16));
                        acc = _mm512_fmadd_ps(_mm512_set1_ps(wc[ky * g->kw + kx]), v, acc);
                    }
                }
                _mm512_mask_storeu_ps(yc + oy * wo + ox, m, acc);
            }
        }
    }
}
