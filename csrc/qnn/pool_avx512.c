// pool_avx512.c - unpadded int8 pooling with AVX-512: the kernels of
// pool_avx2.c with 64-byte vectors and masked loads and stores for every
// tail (no scalar tails: the zoo's rows are 5 to 64 values). Max pooling
// with 2-wide, stride-2 windows takes 32 outputs per step (the window's rows
// reduced with vpmaxsb, each byte pair with its neighbour, vpmovwb packs the
// even bytes); average pooling at width stride 1 16 outputs a step; global
// pooling 64 values a step (vpmaxsb; vpsadbw sums of x + 128, the
// masked-off bytes 0). Same results as the reference.
#include "qnn_kernels.h"
#include "../core/lanes_avx512.h"

#include <immintrin.h>

static inline __mmask64 mask_below(int64_t n) {
    return n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1);
}

// Average pooling at width stride 1, 16 outputs a step: the window's sums in
// int32 lanes, then gaba_qnn_round_mean's trunc((|sum| + n / 2) / n) with the
// sign, the quotient a float32 division: exact for n <= AVG_MAX_N (sums below
// 2^24, and a quotient within 1/n of an integer stays below it).
#define AVG_MAX_N 4096
static void avg_rows(const gaba_nn_pool_geom *g, const int8_t *x, int8_t *y) {
    const int32_t n = (int32_t)(g->kh * g->kw);
    const __m512 vn = _mm512_set1_ps((float)n);
    const __m512i half = _mm512_set1_epi32(n / 2);
    for (int64_t c = 0; c < g->c; c++)
        for (int64_t oy = 0; oy < g->ho; oy++) {
            const int8_t *x0 = x + (c * g->h + oy * g->sh) * g->w;
            int8_t *yr = y + (c * g->ho + oy) * g->wo;
            for (int64_t ox = 0; ox < g->wo; ox += 16) {
                const __mmask16 m = gaba_lanes16(g->wo - ox);
                __m512i sum = _mm512_setzero_si512();
                for (int64_t ky = 0; ky < g->kh; ky++)
                    for (int64_t kx = 0; kx < g->kw; kx++)
                        sum = _mm512_add_epi32(sum, _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(
                                                        m, x0 + ky * g->w + ox + kx)));
                __m512i a = _mm512_add_epi32(_mm512_abs_epi32(sum), half);
                __m512i q = _mm512_cvttps_epi32(_mm512_div_ps(_mm512_cvtepi32_ps(a), vn));
                q = _mm512_mask_sub_epi32(q, _mm512_movepi32_mask(sum), _mm512_setzero_si512(), q);
                _mm512_mask_cvtsepi32_storeu_epi8(yr + ox, m, q);
            }
        }
}

void gaba_qnn_pool_avx512(const gaba_nn_pool_geom *g, const int8_t *x, int8_t *y, int is_max) {
    if (!is_max && g->sw == 1 && g->kh * g->kw <= AVG_MAX_N) {
        avg_rows(g, x, y);
        return;
    }
    if (!is_max || g->kw != 2 || g->sw != 2) {
        gaba_qnn_pool_generic(g, x, y, is_max);
        return;
    }
    const __m512i low = _mm512_set1_epi16(0x00FF);
    for (int64_t c = 0; c < g->c; c++)
        for (int64_t oy = 0; oy < g->ho; oy++) {
            const int8_t *x0 = x + (c * g->h + oy * g->sh) * g->w;
            int8_t *yr = y + (c * g->ho + oy) * g->wo;
            for (int64_t ox = 0; ox < g->wo; ox += 32) {
                const int64_t n = g->wo - ox < 32 ? g->wo - ox : 32; // outputs; 2 n input bytes
                const __mmask64 m = mask_below(2 * n);
                __m512i v = _mm512_maskz_loadu_epi8(m, x0 + 2 * ox);
                for (int64_t ky = 1; ky < g->kh; ky++)
                    v = _mm512_max_epi8(v, _mm512_maskz_loadu_epi8(m, x0 + ky * g->w + 2 * ox));
                __m512i p = _mm512_and_si512(_mm512_max_epi8(v, _mm512_srli_epi16(v, 8)), low);
                _mm256_mask_storeu_epi8(yr + ox, (__mmask32)mask_below(n), _mm512_cvtepi16_epi8(p));
            }
        }
}

void gaba_qnn_global_pool_avx512(int64_t c, int64_t s, const int8_t *x, int8_t *y, int is_max) {
    const __m512i flip = _mm512_set1_epi8((char)0x80), lowest = _mm512_set1_epi8(-128);
    for (int64_t i = 0; i < c; i++) {
        const int8_t *xi = x + i * s;
        if (is_max) {
            __m512i vmax = lowest;
            for (int64_t j = 0; j < s; j += 64)
                vmax = _mm512_max_epi8(vmax,
                                       _mm512_mask_loadu_epi8(lowest, mask_below(s - j), xi + j));
            __m256i m32 =
                _mm256_max_epi8(_mm512_castsi512_si256(vmax), _mm512_extracti64x4_epi64(vmax, 1));
            __m128i m = _mm_max_epi8(_mm256_castsi256_si128(m32), _mm256_extracti128_si256(m32, 1));
            m = _mm_max_epi8(m, _mm_srli_si128(m, 8));
            m = _mm_max_epi8(m, _mm_srli_si128(m, 4));
            m = _mm_max_epi8(m, _mm_srli_si128(m, 2));
            m = _mm_max_epi8(m, _mm_srli_si128(m, 1));
            y[i] = (int8_t)_mm_cvtsi128_si32(m);
        } else {
            __m512i vsum = _mm512_setzero_si512(); // 8 sums of x + 128
            for (int64_t j = 0; j < s; j += 64) {
                const __mmask64 m = mask_below(s - j);
                __m512i v = _mm512_maskz_mov_epi8(
                    m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, xi + j), flip));
                vsum = _mm512_add_epi64(vsum, _mm512_sad_epu8(v, _mm512_setzero_si512()));
            }
            y[i] = gaba_qnn_round_mean(_mm512_reduce_add_epi64(vsum) - 128 * s, s);
        }
    }
}
