// conv_avx2.c - the int8 conv/dense product with AVX2 and the output
// stage fused (qnn_kernels.h, gaba_qnn_gemm_fn), for CPUs without VNNI:
// tiles of 6 output channels x 8 pixels in 12 ymm accumulators. Exact in
// int32: vpmaddubsw would saturate (255 * 127 * 2 > INT16_MAX), so each
// pixel's 4 packed bytes (x + 128) are zero-extended to int16 and each
// weight row's 4 signed bytes multiply as int16, and vpmaddwd leaves two
// int32 partial sums per pixel (k steps 0-1 and 2-3), added pairwise once
// per tile (vphaddd). The weights of a tile's 6 rows are widened to int16
// once per call, 4-step groups of the rows side by side, so each row's group
// is one vpbroadcastq load for every pixel tile (widening in the loop cost 3
// shuffles per row and group, and spilled accumulators). A long reduction
// goes in blocks of KG groups, the partial sums of the pixels kept in
// between. A tile with fewer than 6 channels repeats its last row (computed,
// not stored). Dense is a dot product per output: 16 k steps of x + 128 and
// of a weight row per vpmaddwd, four rows sharing the x loads.
#include "qnn_avx2_impl.h"

#include <string.h>

#define MR 6
#define KG 256 // 4-step groups of weights widened at a time (12 KiB)
#define NB 256 // pixels per block of partial sums (12 KiB)

#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

typedef struct rows_stage { // the output stage of a tile's rows
    gaba_qnn_v8 rq[MR];
    __m256i bias[MR], zp, lo, hi;
} rows_stage;

// wv[g][r]: groups [g0, g0 + ng) of weight row min(r, mr - 1) from c0 as int16,
// the steps past k 0.
static void widen(const gaba_qnn_layer *q, int64_t c0, int64_t mr, int64_t k, int64_t g0,
                  int64_t ng, int16_t (*wv)[MR][4]) {
    for (int64_t r = 0; r < MR; r++) {
        const int8_t *w = q->w + (c0 + (r < mr ? r : mr - 1)) * k;
        for (int64_t g = 0; g < ng; g++) {
            int64_t at = 4 * (g0 + g), bytes = k - at < 4 ? k - at : 4;
            __m128i v = _mm_cvtepi8_epi16(_mm_cvtsi32_si128(gaba_qnn_load_k4(w + at, bytes)));
            _mm_storel_epi64((__m128i *)wv[g][r], v);
        }
    }
}

// Pixels [0, n) (n <= 8) of the tile's rows over ng groups; xp at the first
// group's first pixel. part: this tile's partial sums, read unless first and
// written unless st (then the output stage runs instead).
static void tile(const int16_t (*wv)[MR][4], int64_t ng, const uint8_t *xp, int64_t np,
                 __m256i *part, int first, const rows_stage *st, int64_t mr, int64_t n, int8_t *y,
                 int64_t rs_y) {
    // a: pixels 0-3, b: pixels 4-7, two partial sums each
#define DECL(i)                                                                                    \
    __m256i a##i = first ? _mm256_setzero_si256() : part[2 * i],                                   \
            b##i = first ? _mm256_setzero_si256() : part[2 * i + 1];
    ROWS(DECL)
    for (int64_t g = 0; g < ng; g++) {
        const uint8_t *xg = xp + g * np * 4;
        const __m256i x0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)xg));
        const __m256i x1 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(xg + 16)));
#define DOT(i)                                                                                     \
    {                                                                                              \
        const __m256i w = _mm256_broadcastq_epi64(_mm_loadl_epi64((const __m128i *)wv[g][i]));     \
        a##i = _mm256_add_epi32(a##i, _mm256_madd_epi16(x0, w));                                   \
        b##i = _mm256_add_epi32(b##i, _mm256_madd_epi16(x1, w));                                   \
    }
        ROWS(DOT)
    }
    if (!st) {
#define SAVE(i) part[2 * i] = a##i, part[2 * i + 1] = b##i;
        ROWS(SAVE)
        return;
    }
    int8_t rest[MR][8]; // a partial tile's rows, copied out after the registers are done
#define STORE(i)                                                                                   \
    if (i < mr) {                                                                                  \
        /* hadd: pixels 0 1 4 5 | 2 3 6 7 */                                                       \
        __m256i s = _mm256_permute4x64_epi64(_mm256_hadd_epi32(a##i, b##i), 0xD8);                 \
        __m128i v = gaba_qnn_v8_requant(&st->rq[i], s, st->bias[i], st->zp, st->lo, st->hi);       \
        _mm_storel_epi64((__m128i *)(n == 8 ? y + i * rs_y : rest[i]), v);                         \
    }
    ROWS(STORE)
    if (n < 8)
        for (int64_t i = 0; i < mr; i++) memcpy(y + i * rs_y, rest[i], (size_t)n);
}

void gaba_qnn_gemm_avx2(const gaba_qnn_layer *q, int64_t c0, int64_t co, int64_t k, int64_t n,
                        const uint8_t *xp, int64_t np, int8_t *y, int64_t rs_y) {
    _Alignas(32) int16_t wv[KG][MR][4];
    __m256i part[NB / 8][2 * MR];
    rows_stage st;
    st.zp = _mm256_set1_epi32(q->out_zp);
    st.lo = _mm256_set1_epi32(q->act_min), st.hi = _mm256_set1_epi32(q->act_max);
    const int64_t groups = (k + 3) / 4;
    for (int64_t j0 = 0; j0 < n; j0 += NB) { // np >= n rounded up to 16: 8 whole pixels to read
        const int64_t nb = n - j0 < NB ? n - j0 : NB;
        for (int64_t i = 0; i < co; i += MR) {
            const int64_t mr = co - i < MR ? co - i : MR;
            for (int64_t r = 0; r < mr; r++) {
                const int64_t c = c0 + i + r;
                st.rq[r] = gaba_qnn_v8_init(q->mult[c], q->shift[c]);
                st.bias[r] = _mm256_set1_epi32(q->bias_eff[c]);
            }
            for (int64_t g0 = 0; g0 < groups; g0 += KG) {
                const int64_t ng = groups - g0 < KG ? groups - g0 : KG;
                widen(q, c0 + i, mr, k, g0, ng, wv);
                for (int64_t j = 0; j < nb; j += 8)
                    tile((const int16_t (*)[MR][4])wv, ng, xp + (g0 * np + j0 + j) * 4, np,
                         part[j / 8], g0 == 0, g0 + ng == groups ? &st : NULL, mr,
                         nb - j < 8 ? nb - j : 8, y + i * rs_y + j0 + j, rs_y);
            }
        }
    }
}

void gaba_qnn_gemv_avx2(int64_t n, int64_t f, const gaba_qnn_layer *q, const int8_t *x, int8_t *y,
                        void *ws) {
    const __m128i flip = _mm_set1_epi8((char)0x80);
    for (int64_t r = 0; r < n; r += 4) {
        // rows past n repeat row n - 1 (computed, not stored)
        const int8_t *w[4];
        for (int i = 0; i < 4; i++) w[i] = q->w + (r + i < n ? r + i : n - 1) * f;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        int64_t k = 0;
        for (; k + 16 <= f; k += 16) {
            __m256i xv = _mm256_cvtepu8_epi16(
                _mm_xor_si128(_mm_loadu_si128((const __m128i *)(x + k)), flip));
#define WROW(i) _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w[i] + k)))
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(xv, WROW(0)));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(xv, WROW(1)));
            a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(xv, WROW(2)));
            a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(xv, WROW(3)));
        }
        int32_t acc[4] = {gaba_qnn_hsum_epi32(a0), gaba_qnn_hsum_epi32(a1), gaba_qnn_hsum_epi32(a2),
                          gaba_qnn_hsum_epi32(a3)};
        for (; k < f; k++)
            for (int i = 0; i < 4; i++) acc[i] += w[i][k] * (int32_t)(uint8_t)(x[k] ^ 0x80);
        for (int64_t i = 0; i < 4 && r + i < n; i++) {
            int32_t v = (int32_t)((uint32_t)acc[i] + (uint32_t)q->bias_eff[r + i]);
            y[r + i] = gaba_qnn_clamp((int64_t)gaba_qnn_mbqm(v, q->mult[r + i], q->shift[r + i]) +
                                          q->out_zp,
                                      q->act_min, q->act_max);
        }
    }
}
