// qnn_gemm_avx2.c - the int8 conv/dense product with AVX2 and the output
// stage fused (qnn_kernels.h, gaba_qnn_gemm_fn), for CPUs without VNNI:
// tiles of 6 output channels x 8 pixels in 12 ymm accumulators. Exact in
// int32: vpmaddubsw would saturate (255 * 127 * 2 > INT16_MAX), so each
// pixel's 4 packed bytes (x + 128) are zero-extended to int16 and each
// weight row's 4 signed bytes sign-extended and broadcast, and vpmaddwd
// leaves two int32 partial sums per pixel (k steps 0-1 and 2-3), added
// pairwise once per tile (vphaddd). A tile with fewer than 6 channels
// repeats its last row (computed, not stored). Dense is a dot product per
// output: 16 k steps of x + 128 and of a weight row per vpmaddwd, four rows
// sharing the x loads.
#include "qnn_avx2_impl.h"

#include <string.h>

#define MR 6

#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

// The weights w[0..bytes) (1..4) as int16 in every 64-bit lane, the rest 0.
static inline __m256i bcast(const int8_t *p, int64_t bytes) {
    return _mm256_cvtepi8_epi16(_mm_set1_epi32(gaba_qnn_load_k4(p, bytes)));
}

// Pixels [0, n) (n <= 8) of the tile's rows; xp at its first pixel.
static void tile(const gaba_qnn_layer *q, int64_t c0, int64_t mr, int64_t k, const uint8_t *xp,
                 int64_t np, int64_t n, int8_t *y, int64_t rs_y) {
#define ROWPTR(i) const int8_t *w##i = q->w + (c0 + (i < mr ? i : mr - 1)) * k;
    ROWS(ROWPTR)
    // a: pixels 0-3, b: pixels 4-7, two partial sums each
#define DECL(i) __m256i a##i = _mm256_setzero_si256(), b##i = a##i;
    ROWS(DECL)
#define DOT_FROM(i, src, bytes)                                                             \
    {                                                                                       \
        __m256i wv = bcast(src, bytes);                                                     \
        a##i = _mm256_add_epi32(a##i, _mm256_madd_epi16(x0, wv));                           \
        b##i = _mm256_add_epi32(b##i, _mm256_madd_epi16(x1, wv));                           \
    }
#define DOT(i) DOT_FROM(i, w##i + 4 * g, 4)
#define DOT_TAIL(i) DOT_FROM(i, w##i + 4 * kf, r)
#define LOADX(g)                                                                            \
    const uint8_t *xg = xp + (g) * np * 4;                                                  \
    __m256i x0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)xg));               \
    __m256i x1 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(xg + 16)));
    int64_t kf = k / 4;
    for (int64_t g = 0; g < kf; g++) {
        LOADX(g)
        ROWS(DOT)
    }
    if (k % 4) { // the last group: its missing k steps are 0 in xp
        const int64_t r = k % 4;
        LOADX(kf)
        ROWS(DOT_TAIL)
    }
    int8_t part[MR][8]; // a partial tile's rows, copied out after the registers are done
#define STORE(i)                                                                            \
    if (i < mr) {                                                                           \
        int64_t c = c0 + i;                                                                 \
        const gaba_qnn_v8 rq = gaba_qnn_v8_init(q->mult[c], q->shift[c]);                  \
        /* hadd: pixels 0 1 4 5 | 2 3 6 7 */                                                \
        __m256i s = _mm256_permute4x64_epi64(_mm256_hadd_epi32(a##i, b##i), 0xD8);          \
        __m128i v = gaba_qnn_v8_requant(&rq, s, _mm256_set1_epi32(q->bias_eff[c]),          \
                                        _mm256_set1_epi32(q->out_zp),                       \
                                        _mm256_set1_epi32(q->act_min),                      \
                                        _mm256_set1_epi32(q->act_max));                     \
        _mm_storel_epi64((__m128i *)(n == 8 ? y + i * rs_y : part[i]), v);                  \
    }
    ROWS(STORE)
    if (n < 8)
        for (int64_t i = 0; i < mr; i++) memcpy(y + i * rs_y, part[i], (size_t)n);
}

void gaba_qnn_gemm_avx2(const gaba_qnn_layer *q, int64_t c0, int64_t co, int64_t k, int64_t n,
                        const uint8_t *xp, int64_t np, int8_t *y, int64_t rs_y) {
    for (int64_t j = 0; j < n; j += 8) { // np >= n rounded up to 16: 8 whole pixels to read
        int64_t nj = n - j < 8 ? n - j : 8;
        for (int64_t i = 0; i < co; i += MR)
            tile(q, c0 + i, co - i < MR ? co - i : MR, k, xp + 4 * j, np, nj, y + i * rs_y + j,
                 rs_y);
    }
}

static inline int32_t hsum(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    return _mm_cvtsi128_si32(_mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1)));
}

void gaba_qnn_gemv_avx2(int64_t n, int64_t f, const gaba_qnn_layer *q, const int8_t *x,
                        int8_t *y, void *ws) {
    const __m128i flip = _mm_set1_epi8((char)0x80);
    for (int64_t r = 0; r < n; r += 4) {
        // rows past n repeat row n - 1 (computed, not stored)
        const int8_t *w[4];
        for (int i = 0; i < 4; i++) w[i] = q->w + (r + i < n ? r + i : n - 1) * f;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        int64_t k = 0;
        for (; k + 16 <= f; k += 16) {
            __m256i xv = _mm256_cvtepu8_epi16(_mm_xor_si128(_mm_loadu_si128((const __m128i *)(x + k)), flip));
#define WROW(i) _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w[i] + k)))
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(xv, WROW(0)));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(xv, WROW(1)));
            a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(xv, WROW(2)));
            a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(xv, WROW(3)));
        }
        int32_t acc[4] = {hsum(a0), hsum(a1), hsum(a2), hsum(a3)};
        for (; k < f; k++)
            for (int i = 0; i < 4; i++) acc[i] += w[i][k] * (int32_t)(uint8_t)(x[k] ^ 0x80);
        for (int64_t i = 0; i < 4 && r + i < n; i++) {
            int32_t v = (int32_t)((uint32_t)acc[i] + (uint32_t)q->bias_eff[r + i]);
            y[r + i] = gaba_qnn_clamp((int64_t)gaba_qnn_mbqm(v, q->mult[r + i], q->shift[r + i]) + q->out_zp,
                                      q->act_min, q->act_max);
        }
    }
}
