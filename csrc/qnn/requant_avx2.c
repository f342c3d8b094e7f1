// requant_avx2.c - the int8 output stage (qnn.h) with AVX2: 8 accumulators at a
// time (qnn_avx2_impl.h). Also the padded int8 depthwise loop (qnn_impl.h)
// compiled for AVX2 (the shapes dwconv_avx2.c leaves to it), and the packed
// im2col with its inside columns 16 at a time. Used by the AVX-512 level too.
#include "qnn_avx2_impl.h"
#include "qnn_impl.h"

void gaba_qnn_requant_row_avx2(int64_t n, const int32_t *acc, int32_t bias, int32_t mult,
                               int32_t shift, int32_t zp, int32_t lo, int32_t hi, int8_t *y) {
    const gaba_qnn_v8 c = gaba_qnn_v8_init(mult, shift);
    const __m256i vb = _mm256_set1_epi32(bias), vzp = _mm256_set1_epi32(zp),
                  vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storel_epi64((__m128i *)(y + i),
                         gaba_qnn_v8_requant(&c, _mm256_loadu_si256((const __m256i *)(acc + i)), vb,
                                             vzp, vlo, vhi));
    for (; i < n; i++)
        y[i] = gaba_qnn_clamp(
            (int64_t)gaba_qnn_mbqm((int32_t)((uint32_t)acc[i] + (uint32_t)bias), mult, shift) + zp,
            lo, hi);
}

void gaba_qnn_dwconv_s8_padded_avx2(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q,
                                    const int8_t *x, int8_t *y, void *ws) {
    gaba_qnn_dwconv_body(g, q, x, y, ws, gaba_qnn_requant_row_avx2);
}

// gaba_qnn_quantize_f32 8 at a time: the same division, round half away from
// zero, zero point, clamp; NaN -> the zero point.
void gaba_qnn_quantize_f32_avx2(int64_t n, const float *x, float scale, int32_t zp, int8_t *q) {
    const __m256 vs = _mm256_set1_ps(scale), half = _mm256_set1_ps(0.5f),
                 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f),
                 vzp = _mm256_set1_ps((float)zp), lo = _mm256_set1_ps(-128.0f),
                 hi = _mm256_set1_ps(127.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_div_ps(_mm256_loadu_ps(x + i), vs);
        __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __m256 away = _mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_sub_ps(v, t)), half, _CMP_GE_OQ);
        t = _mm256_add_ps(t, _mm256_and_ps(away, _mm256_or_ps(one, _mm256_and_ps(sign, v))));
        t = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(t, vzp), lo), hi);
        t = _mm256_blendv_ps(vzp, t, _mm256_cmp_ps(v, v, _CMP_ORD_Q));
        __m256i r = _mm256_cvttps_epi32(t);
        __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
        _mm_storel_epi64((__m128i *)(q + i), _mm_packs_epi16(p16, p16));
    }
    gaba_qnn_quantize_f32_generic(n - i, x + i, scale, zp, q + i);
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
