// pool_avx2.c - unpadded int8 pooling on AVX2: max pooling with 2-wide,
// stride-2 windows across (the zoo's pools, 1-D and 2-D) takes 16 outputs
// per step: the window's rows reduced with vpmaxsb, then each byte pair
// with its neighbour shifted down, the even bytes packed. Other windows
// and average pooling run the plain kernel. Global pooling reduces 32
// values a step (vpmaxsb; vpsadbw sums of x + 128). Same results as the
// reference.
#include "qnn_kernels.h"

#include <immintrin.h>

static void max_row_k2s2(const gaba_nn_pool_geom *g, const int8_t *x0, int8_t *yr) {
    const __m256i low = _mm256_set1_epi16(0x00FF);
    int64_t ox = 0;
    for (; ox + 16 <= g->wo; ox += 16) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(x0 + 2 * ox));
        for (int64_t ky = 1; ky < g->kh; ky++)
            v = _mm256_max_epi8(v, _mm256_loadu_si256((const __m256i *)(x0 + ky * g->w + 2 * ox)));
        __m256i m = _mm256_and_si256(_mm256_max_epi8(v, _mm256_srli_epi16(v, 8)), low);
        __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi16(m, m), 0x08);
        _mm_storeu_si128((__m128i *)(yr + ox), _mm256_castsi256_si128(p));
    }
    for (; ox < g->wo; ox++) {
        int8_t v = x0[2 * ox];
        for (int64_t ky = 0; ky < g->kh; ky++)
            for (int64_t kx = 0; kx < 2; kx++) {
                int8_t t = x0[ky * g->w + 2 * ox + kx];
                v = t > v ? t : v;
            }
        yr[ox] = v;
    }
}

void gaba_qnn_pool_avx2(const gaba_nn_pool_geom *g, const int8_t *x, int8_t *y, int is_max) {
    if (!is_max || g->kw != 2 || g->sw != 2) {
        gaba_qnn_pool_generic(g, x, y, is_max);
        return;
    }
    for (int64_t c = 0; c < g->c; c++)
        for (int64_t oy = 0; oy < g->ho; oy++)
            max_row_k2s2(g, x + (c * g->h + oy * g->sh) * g->w, y + (c * g->ho + oy) * g->wo);
}

void gaba_qnn_global_pool_avx2(int64_t c, int64_t s, const int8_t *x, int8_t *y, int is_max) {
    const __m256i flip = _mm256_set1_epi8((char)0x80), zero = _mm256_setzero_si256();
    for (int64_t i = 0; i < c; i++) {
        const int8_t *xi = x + i * s;
        __m256i vmax = _mm256_set1_epi8(-128), vsum = zero; // vsum: 4 sums of x + 128
        int64_t j = 0;
        for (; j + 32 <= s; j += 32) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(xi + j));
            vmax = _mm256_max_epi8(vmax, v);
            vsum = _mm256_add_epi64(vsum, _mm256_sad_epu8(_mm256_xor_si256(v, flip), zero));
        }
        int64_t lanes[4];
        _mm256_storeu_si256((__m256i *)lanes, vsum);
        int64_t sum = lanes[0] + lanes[1] + lanes[2] + lanes[3] - 128 * j;
        __m128i m = _mm_max_epi8(_mm256_castsi256_si128(vmax), _mm256_extracti128_si256(vmax, 1));
        m = _mm_max_epi8(m, _mm_srli_si128(m, 8));
        m = _mm_max_epi8(m, _mm_srli_si128(m, 4));
        m = _mm_max_epi8(m, _mm_srli_si128(m, 2));
        m = _mm_max_epi8(m, _mm_srli_si128(m, 1));
        int8_t mx = (int8_t)_mm_cvtsi128_si32(m);
        for (; j < s; j++) {
            mx = xi[j] > mx ? xi[j] : mx;
            sum += xi[j];
        }
        y[i] = is_max ? mx : gaba_qnn_round_mean(sum, s);
    }
}
