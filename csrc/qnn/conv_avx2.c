// conv_avx2.c - the int8 conv product with AVX2 and the output
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
// not stored). Also the packed im2col with its inside columns 16 at a time.
// Dense runs dense_avx2.c instead.
#include "qnn_avx2_impl.h"
#include "qnn_impl.h"

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

// 16 source bytes of a row at width stride 1 or 2 (the even bytes of 32), + 128.
static inline __m128i im2col_load16(const int8_t *src, int64_t sw) {
    const __m128i flip = _mm_set1_epi8((char)0x80);
    if (sw == 1) return _mm_xor_si128(_mm_loadu_si128((const __m128i *)src), flip);
    const __m128i even = _mm_set1_epi16(0x00ff);
    __m128i lo = _mm_and_si128(_mm_loadu_si128((const __m128i *)src), even);
    __m128i hi = _mm_and_si128(_mm_loadu_si128((const __m128i *)(src + 16)), even);
    return _mm_xor_si128(_mm_packus_epi16(lo, hi), flip);
}

// Lanes [j0, j1) of one im2col row: src[(j - a) * sw] + 128 inside [a, b), zu outside.
static inline void im2col_span(uint8_t *restrict r, const int8_t *restrict src, int64_t a,
                               int64_t b, int64_t sw, uint8_t zu, int64_t j0, int64_t j1) {
    int64_t ia = a < j0 ? j0 : a > j1 ? j1 : a, ib = b > j1 ? j1 : b < ia ? ia : b;
    for (int64_t j = j0; j < ia; j++) r[4 * j] = zu;
    for (int64_t j = ia; j < ib; j++) r[4 * j] = (uint8_t)(src[(j - a) * sw] ^ 0x80);
    for (int64_t j = ib; j < j1; j++) r[4 * j] = zu;
}

// gaba_qnn_im2col_u8_generic with the columns where all four rows of a group
// read the input (width stride 1 or 2) done 16 at a time: four 16-byte rows
// interleaved into 64 bytes of lanes. The other columns row by row.
void gaba_qnn_im2col_u8_avx2(const gaba_nn_conv_geom *g, const int8_t *x, int64_t c0, int64_t cig,
                             int8_t zx, int64_t oy0, int64_t n_rows, int64_t ox0, int64_t nx,
                             uint8_t *xp) {
    int64_t k = cig * g->kh * g->kw, np = gaba_qnn_round16(n_rows * nx);
    if (g->sw > 2) {
        gaba_qnn_im2col_u8_generic(g, x, c0, cig, zx, oy0, n_rows, ox0, nx, xp);
        return;
    }
    const uint8_t zu = (uint8_t)(zx ^ 0x80);
    gaba_qnn_tap next = {0, 0, 0};
    for (int64_t g4 = 0; g4 < k / 4; g4++) {
        gaba_qnn_tap tap[4];
        for (int q = 0; q < 4; q++) tap[q] = next, gaba_qnn_tap_next(g, &next);
        for (int64_t oy = oy0; oy < oy0 + n_rows; oy++) {
            const int8_t *src[4];
            int64_t a[4], b[4], lo = 0, hi = nx;
            for (int q = 0; q < 4; q++) {
                src[q] = gaba_qnn_im2col_src(g, x, c0, tap[q], oy, ox0, nx, &a[q], &b[q]);
                lo = a[q] > lo ? a[q] : lo;
                hi = b[q] < hi ? b[q] : hi;
            }
            uint8_t *r = xp + (g4 * np + (oy - oy0) * nx) * 4;
            // the vector part must not read past a row's inside span: whole 16s in [lo, hi)
            // (stride 2 loads one byte past its last column)
            int64_t vhi = g->sw == 2 ? hi - 1 : hi;
            int64_t vend = lo < vhi ? lo + (vhi - lo) / 16 * 16 : lo;
            for (int64_t j = lo; j < vend; j += 16) {
                __m128i v0 = im2col_load16(src[0] + (j - a[0]) * g->sw, g->sw);
                __m128i v1 = im2col_load16(src[1] + (j - a[1]) * g->sw, g->sw);
                __m128i v2 = im2col_load16(src[2] + (j - a[2]) * g->sw, g->sw);
                __m128i v3 = im2col_load16(src[3] + (j - a[3]) * g->sw, g->sw);
                __m128i p01l = _mm_unpacklo_epi8(v0, v1), p01h = _mm_unpackhi_epi8(v0, v1);
                __m128i p23l = _mm_unpacklo_epi8(v2, v3), p23h = _mm_unpackhi_epi8(v2, v3);
                _mm_storeu_si128((__m128i *)(r + 4 * j), _mm_unpacklo_epi16(p01l, p23l));
                _mm_storeu_si128((__m128i *)(r + 4 * j + 16), _mm_unpackhi_epi16(p01l, p23l));
                _mm_storeu_si128((__m128i *)(r + 4 * j + 32), _mm_unpacklo_epi16(p01h, p23h));
                _mm_storeu_si128((__m128i *)(r + 4 * j + 48), _mm_unpackhi_epi16(p01h, p23h));
            }
            for (int q = 0; q < 4; q++) { // the columns [0, lo) and [vend, nx), row by row
                im2col_span(r + q, src[q], a[q], b[q], g->sw, zu, 0, lo);
                im2col_span(r + q, src[q], a[q], b[q], g->sw, zu, vend, nx);
            }
        }
    }
    for (int64_t kk = k / 4 * 4; kk < k; kk++)
        gaba_qnn_im2col_row(g, x, c0, zx, kk, oy0, n_rows, ox0, nx, xp);
    gaba_qnn_im2col_pad(k, n_rows * nx, xp);
}
