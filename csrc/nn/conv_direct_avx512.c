// conv_direct_avx512.c - direct convolution for convs with a short
// reduction (C * kh * kw <= GABA_NN_DIRECT_MAX_K: image stems with 1-3
// channels, wide 1-D stems), where im2col + GEMM is dominated by the im2col
// copy and a GEMM with K < 64. All input channels are copied into a
// zero-padded scratch; 16 outputs of a row for 4 output channels accumulate
// in 4 registers that share every input load; stride 2 keeps the even lanes
// of two loads with one permute. groups == 1, strides 1 or 2 only (the
// caller checks with gaba_nn_conv_direct_ok).
#include "dwconv_impl.h"

#include <immintrin.h>
#include <string.h>

void gaba_nn_conv_direct_f32_avx512(const gaba_nn_conv_geom *g, const float *x, const float *w,
                                    const float *b, float *y, float *ws) {
    const int64_t rows = dw_pad_rows(g), cols = dw_pad_cols(g), plane = rows * cols;
    const int64_t ho = g->ho, wo = g->wo, sh = g->sh, sw = g->sw, kk = g->kh * g->kw;
    const int64_t kc = g->c * kk;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                           28, 30);
    memset(ws, 0, (size_t)(g->c * plane) * sizeof(float));
    for (int64_t c = 0; c < g->c; c++)
        for (int64_t r = 0; r < rows; r++) {
            int64_t iy = r - g->pt, n = g->w;
            if (iy < 0 || iy >= g->h) continue;
            if (g->pl + n > cols) n = cols - g->pl;
            if (n > 0)
                memcpy(ws + c * plane + r * cols + g->pl, x + (c * g->h + iy) * g->w,
                       (size_t)n * sizeof(float));
        }
    for (int64_t co0 = 0; co0 < g->co; co0 += 4) {
        int64_t nco = g->co - co0 < 4 ? g->co - co0 : 4;
        const float *wr[4];
        __m512 bias[4];
        for (int j = 0; j < 4; j++) {
            int64_t co = co0 + (j < nco ? j : nco - 1);
            wr[j] = w + co * kc;
            bias[j] = _mm512_set1_ps(b ? b[co] : 0.0f);
        }
        for (int64_t oy = 0; oy < ho; oy++)
            for (int64_t ox = 0; ox < wo; ox += 16) {
                __mmask16 m = wo - ox >= 16 ? (__mmask16)0xFFFF
                                            : (__mmask16)((1u << (wo - ox)) - 1);
                __m512 a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
                for (int64_t c = 0; c < g->c; c++)
                    for (int64_t ky = 0; ky < g->kh; ky++) {
                        const float *row = ws + c * plane + (oy * sh + ky * g->dh) * cols + ox * sw;
                        int64_t t = c * kk + ky * g->kw;
                        for (int64_t kx = 0; kx < g->kw; kx++, t++) {
                            const float *p = row + kx * g->dw;
                            __m512 v = sw == 1 ? _mm512_loadu_ps(p)
                                               : _mm512_permutex2var_ps(_mm512_loadu_ps(p), even,
                                                                        _mm512_loadu_ps(p + 16));
                            a0 = _mm512_fmadd_ps(_mm512_set1_ps(wr[0][t]), v, a0);
                            a1 = _mm512_fmadd_ps(_mm512_set1_ps(wr[1][t]), v, a1);
                            a2 = _mm512_fmadd_ps(_mm512_set1_ps(wr[2][t]), v, a2);
                            a3 = _mm512_fmadd_ps(_mm512_set1_ps(wr[3][t]), v, a3);
                        }
                    }
                float *yo = y + (co0 * ho + oy) * wo + ox;
                _mm512_mask_storeu_ps(yo, m, a0);
                if (nco > 1) _mm512_mask_storeu_ps(yo + ho * wo, m, a1);
                if (nco > 2) _mm512_mask_storeu_ps(yo + 2 * ho * wo, m, a2);
                if (nco > 3) _mm512_mask_storeu_ps(yo + 3 * ho * wo, m, a3);
            }
    }
}
