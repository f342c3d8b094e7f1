// dense_avx2.c - the int8 fully connected layer with AVX2 (gaba_qnn_gemv_fn),
// for CPUs without VNNI: a dot product per output, 16 k steps of x + 128 and
// of a weight row per vpmaddwd, four rows sharing the x loads.
#include "qnn_avx2_impl.h"

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
