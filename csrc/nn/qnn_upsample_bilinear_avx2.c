// qnn_upsample_bilinear_avx2.c - the int8 bilinear upsample
// (gaba_qnn_upsample_bilinear_ref) by 2 across and 1 or 2 down with AVX2, in
// int16 on the codes themselves. Down: input row i gives output rows 2i and
// 2i + 1 as v = 3 r_i + r_(i -+ 1) (the clamped rows above and below; 4 r_i
// when not scaled down), plus 2; a block of rows is blended down into the
// workspace, each row with its end values repeated at both ends, then
// across: v_(j-1) + 3 v_j and 3 v_j + v_(j+1) (the clamped taps), 16 output
// pairs at a time. The weights sum to 16, the +2s to the 8 of rounding, and
// 16 zp divides, so the reference's rounding is (acc - [acc < 16 zp + 8])
// >> 4; vpacksswb + vpshufb interleave the even and odd outputs. Other
// factors run the reference.
#include "qnn_kernels.h"

#include <immintrin.h>

// v0 = 3 a + b0 + 2, v1 = 3 a + b1 + 2 over j < w; each with v[-1] = v[0], v[w] = v[w - 1].
static inline void blend_down(int64_t w, const int8_t *a, const int8_t *b0, const int8_t *b1,
                              int16_t *v0, int16_t *v1) {
    const __m256i two = _mm256_set1_epi16(2);
    int64_t j = 0;
    for (; j + 16 <= w; j += 16) {
        __m256i va = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + j)));
        va = _mm256_add_epi16(_mm256_add_epi16(va, va), _mm256_add_epi16(va, two));
        __m256i vb0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b0 + j)));
        __m256i vb1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b1 + j)));
        _mm256_storeu_si256((__m256i *)(v0 + j), _mm256_add_epi16(va, vb0));
        _mm256_storeu_si256((__m256i *)(v1 + j), _mm256_add_epi16(va, vb1));
    }
    for (; j + 8 <= w; j += 8) {
        __m128i va = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(a + j)));
        va = _mm_add_epi16(_mm_add_epi16(va, va), _mm_add_epi16(va, _mm256_castsi256_si128(two)));
        __m128i vb0 = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(b0 + j)));
        __m128i vb1 = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(b1 + j)));
        _mm_storeu_si128((__m128i *)(v0 + j), _mm_add_epi16(va, vb0));
        _mm_storeu_si128((__m128i *)(v1 + j), _mm_add_epi16(va, vb1));
    }
    for (; j < w; j++) {
        v0[j] = (int16_t)(3 * a[j] + b0[j] + 2);
        v1[j] = (int16_t)(3 * a[j] + b1[j] + 2);
    }
    v0[-1] = v0[0], v0[w] = v0[w - 1], v1[-1] = v1[0], v1[w] = v1[w - 1];
}

// y[2j] = (e - [e < thr]) >> 4 for e = v[j - 1] + 3 v[j], y[2j + 1] the same of
// 3 v[j] + v[j + 1], j < w.
static inline void blend_across(int64_t w, const int16_t *v, int16_t thr, int8_t *y) {
    const __m256i t = _mm256_set1_epi16(thr);
    // per 128-bit lane: even outputs in bytes 0-7, odd in 8-15 -> e0 o0 e1 o1 ...
    const __m256i order = _mm256_setr_epi8(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15,
                                           0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
    int64_t j = 0;
    for (; j + 16 <= w; j += 16) {
        __m256i l = _mm256_loadu_si256((const __m256i *)(v + j - 1));
        __m256i c = _mm256_loadu_si256((const __m256i *)(v + j));
        __m256i r = _mm256_loadu_si256((const __m256i *)(v + j + 1));
        __m256i c3 = _mm256_add_epi16(_mm256_add_epi16(c, c), c);
        __m256i e = _mm256_add_epi16(l, c3), o = _mm256_add_epi16(c3, r);
        e = _mm256_srai_epi16(_mm256_add_epi16(e, _mm256_cmpgt_epi16(t, e)), 4);
        o = _mm256_srai_epi16(_mm256_add_epi16(o, _mm256_cmpgt_epi16(t, o)), 4);
        _mm256_storeu_si256((__m256i *)(y + 2 * j), _mm256_shuffle_epi8(_mm256_packs_epi16(e, o), order));
    }
    for (; j + 8 <= w; j += 8) {
        __m128i l = _mm_loadu_si128((const __m128i *)(v + j - 1));
        __m128i c = _mm_loadu_si128((const __m128i *)(v + j));
        __m128i r = _mm_loadu_si128((const __m128i *)(v + j + 1));
        __m128i c3 = _mm_add_epi16(_mm_add_epi16(c, c), c), t4 = _mm256_castsi256_si128(t);
        __m128i e = _mm_add_epi16(l, c3), o = _mm_add_epi16(c3, r);
        e = _mm_srai_epi16(_mm_add_epi16(e, _mm_cmpgt_epi16(t4, e)), 4);
        o = _mm_srai_epi16(_mm_add_epi16(o, _mm_cmpgt_epi16(t4, o)), 4);
        _mm_storeu_si128((__m128i *)(y + 2 * j),
                         _mm_shuffle_epi8(_mm_packs_epi16(e, o), _mm256_castsi256_si128(order)));
    }
    for (; j < w; j++) {
        int32_t e = v[j - 1] + 3 * v[j], o = 3 * v[j] + v[j + 1];
        y[2 * j] = (int8_t)((e - (e < thr)) >> 4);
        y[2 * j + 1] = (int8_t)((o - (o < thr)) >> 4);
    }
}

void gaba_qnn_upsample_bilinear_avx2(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw,
                                     int32_t zp, const int8_t *x, int8_t *y, void *ws) {
    if (sw != 2 || sh > 2) {
        gaba_qnn_upsample_bilinear_ref(c, h, w, sh, sw, zp, x, y, ws);
        return;
    }
    // blocks of input rows, flat over the channels: all blended down, then across
    int64_t wo = 2 * w, stride = w + 2, rows = gaba_qnn_upsample_bilinear_rows(w) / sh;
    int64_t i = 0; // the row within its channel
    const int8_t *xc = x;
    int16_t *v = (int16_t *)ws + 1;
    for (int64_t r0 = 0; r0 < c * h; r0 += rows) {
        int64_t n = c * h - r0 < rows ? c * h - r0 : rows;
        for (int64_t k = 0; k < n; k++) {
            const int8_t *a = xc + i * w;
            const int8_t *up = sh == 1 || i == 0 ? a : a - w, *dn = sh == 1 || i == h - 1 ? a : a + w;
            // not scaled down: the second row is a scratch copy of the first
            blend_down(w, a, up, dn, v + sh * k * stride, v + (sh * k + sh - 1) * stride);
            if (++i == h) i = 0, xc += h * w;
        }
        for (int64_t k = 0; k < sh * n; k++)
            blend_across(w, v + k * stride, (int16_t)(16 * zp + 8), y + (sh * r0 + k) * wo);
    }
}
