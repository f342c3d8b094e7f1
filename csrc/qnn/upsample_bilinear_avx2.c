// upsample_bilinear_avx2.c - the int8 bilinear upsample
// (gaba_qnn_upsample_bilinear_ref) by 2 across and 1 or 2 down with AVX2, in
// int16 on the codes themselves, in registers. Input row i gives output
// rows 2i and 2i + 1 (one row when not scaled down), 8 input columns at a
// time: the low 128-bit lane holds the even row's vertical blend 3 r_i +
// r_(i-1) + 2, the high lane the odd row's 3 r_i + r_(i+1) + 2 (clamped
// rows; 4 r_i + 2 when not scaled down), and vpalignr with the neighbouring
// blocks gives each column's left and right neighbours (at the row ends the
// end value itself: the clamped taps), blended across as v_(j-1) + 3 v_j
// and 3 v_j + v_(j+1). The weights sum to 16, the +2s to the 8 of
// rounding, and 16 zp divides, so the reference's rounding is (acc - [acc <
// 16 zp + 8]) >> 4; vpacksswb + vpshufb interleave the even and odd
// outputs. A last partial block reads a copy of its columns padded with
// the row's last value. Other factors run the reference.
#include "qnn_kernels.h"

#include <immintrin.h>

// The blend down of columns j.. of rows a (centre), b0 (even row's), b1 (odd row's).
static inline __m256i blend_down(const int8_t *a, const int8_t *b0, const int8_t *b1) {
    __m128i va = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)a));
    va = _mm_add_epi16(_mm_add_epi16(va, va), _mm_add_epi16(va, _mm_set1_epi16(2)));
    __m128i v0 = _mm_add_epi16(va, _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)b0)));
    __m128i v1 = _mm_add_epi16(va, _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)b1)));
    return _mm256_inserti128_si256(_mm256_castsi128_si256(v0), v1, 1);
}

// The output pairs of block c (8 columns per lane) with neighbours' blocks p and n, rounded
// against thr: per lane e0 o0 e1 o1 ... e7 o7.
static inline __m256i blend_across(__m256i p, __m256i c, __m256i n, __m256i thr) {
    const __m256i order = _mm256_setr_epi8(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15, 0,
                                           8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
    __m256i l = _mm256_alignr_epi8(c, p, 14), r = _mm256_alignr_epi8(n, c, 2);
    __m256i c3 = _mm256_add_epi16(_mm256_add_epi16(c, c), c);
    __m256i e = _mm256_add_epi16(l, c3), o = _mm256_add_epi16(c3, r);
    e = _mm256_srai_epi16(_mm256_add_epi16(e, _mm256_cmpgt_epi16(thr, e)), 4);
    o = _mm256_srai_epi16(_mm256_add_epi16(o, _mm256_cmpgt_epi16(thr, o)), 4);
    return _mm256_shuffle_epi8(_mm256_packs_epi16(e, o), order);
}

// Per lane: every column the block's first (0) or last (7) column.
static inline __m256i spread(__m256i v, int col) {
    __m128i i = _mm_set1_epi16((int16_t)(2 * col | (2 * col + 1) << 8));
    return _mm256_shuffle_epi8(v, _mm256_broadcastsi128_si256(i));
}

// Output rows y0 (and y1 unless NULL) of input row a, with its rows b0, b1.
static void row_pair(int64_t w, const int8_t *a, const int8_t *b0, const int8_t *b1, __m256i thr,
                     int8_t *y0, int8_t *y1) {
    int64_t full = w / 8, m = w % 8;
    int8_t tail[3][8]; // the last partial block, padded with each row's last value
    if (m) {
        const int8_t *src[3] = {a, b0, b1};
        for (int r = 0; r < 3; r++)
            for (int k = 0; k < 8; k++) tail[r][k] = src[r][8 * full + (k < m ? k : m - 1)];
    }
    int64_t nb = full + (m > 0);
    __m256i c = full ? blend_down(a, b0, b1) : blend_down(tail[0], tail[1], tail[2]);
    __m256i p = spread(c, 0);
    for (int64_t b = 0; b < nb; b++) {
        __m256i n = b + 1 < full ? blend_down(a + 8 * b + 8, b0 + 8 * b + 8, b1 + 8 * b + 8)
                    : b + 1 < nb ? blend_down(tail[0], tail[1], tail[2])
                                 : spread(c, 7);
        __m256i out = blend_across(p, c, n, thr);
        if (b < full) {
            _mm_storeu_si128((__m128i *)(y0 + 16 * b), _mm256_castsi256_si128(out));
            if (y1) _mm_storeu_si128((__m128i *)(y1 + 16 * b), _mm256_extracti128_si256(out, 1));
        } else {
            int8_t buf[32];
            _mm256_storeu_si256((__m256i *)buf, out);
            memcpy(y0 + 16 * b, buf, (size_t)(2 * m));
            if (y1) memcpy(y1 + 16 * b, buf + 16, (size_t)(2 * m));
        }
        p = c, c = n;
    }
}

void gaba_qnn_upsample_bilinear_avx2(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw,
                                     int32_t zp, const int8_t *x, int8_t *y) {
    if (sw != 2 || sh > 2) {
        gaba_qnn_upsample_bilinear_ref(c, h, w, sh, sw, zp, x, y);
        return;
    }
    const __m256i thr = _mm256_set1_epi16((int16_t)(16 * zp + 8));
    int64_t wo = 2 * w;
    for (int64_t ch = 0; ch < c; ch++) {
        const int8_t *xc = x + ch * h * w;
        int8_t *yc = y + ch * h * sh * wo;
        for (int64_t i = 0; i < h; i++) {
            const int8_t *a = xc + i * w;
            if (sh == 1) {
                row_pair(w, a, a, a, thr, yc + i * wo, NULL);
                continue;
            }
            // even rows blend the row above (weights 1, 3), odd ones the row below
            row_pair(w, a, i > 0 ? a - w : a, i + 1 < h ? a + w : a, thr, yc + 2 * i * wo,
                     yc + (2 * i + 1) * wo);
        }
    }
}
