// layer_norm_avx2.c - the int8 LayerNorm on 8 positions at a time (a
// position's channels are a column of x (C, S)): the integer sums in int32
// lanes, the reciprocal square roots through the reference's scalar step,
// the outputs through the same float32 steps lane by lane, so the codes
// equal the reference's bit for bit. The last S % 8 positions by the reference.
#include "layer_norm_impl.h"

#include <immintrin.h>

static inline __m256i load8(const int8_t *p, __m256i zx) {
    return _mm256_sub_epi32(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)), zx);
}

void gaba_qnn_layer_norm_avx2(int64_t c, int64_t s, const gaba_qnn_layer *q, const int8_t *x,
                              int8_t *y) {
    const __m256i zx = _mm256_set1_epi32(q->in_zp[0]), vc = _mm256_set1_epi32((int32_t)c);
    const __m256i zy = _mm256_set1_epi32(q->out_zp);
    const __m256 lo = _mm256_set1_ps(-256.0f), hi = _mm256_set1_ps(256.0f);
    int64_t p = 0;
    for (; p + 8 <= s; p += 8) {
        __m256i sum = _mm256_setzero_si256(), sq = _mm256_setzero_si256();
        for (int64_t j = 0; j < c; j++) {
            __m256i v = load8(x + j * s + p, zx);
            sum = _mm256_add_epi32(sum, v);
            sq = _mm256_add_epi32(sq, _mm256_mullo_epi32(v, v));
        }
        int32_t ss[8], qq[8];
        float rr[8];
        _mm256_storeu_si256((__m256i *)ss, sum);
        _mm256_storeu_si256((__m256i *)qq, sq);
        for (int i = 0; i < 8; i++) rr[i] = gaba_qnn_layer_norm_rsqrt(c, ss[i], qq[i], q->ln_eps);
        const __m256 r = _mm256_loadu_ps(rr);
        for (int64_t j = 0; j < c; j++) {
            __m256i d = _mm256_sub_epi32(_mm256_mullo_epi32(load8(x + j * s + p, zx), vc), sum);
            __m256 t = _mm256_mul_ps(_mm256_cvtepi32_ps(d), r);
            t = _mm256_mul_ps(t, _mm256_set1_ps(q->ln_gb[j]));
            t = _mm256_add_ps(t, _mm256_set1_ps(q->ln_gb[c + j]));
            t = _mm256_min_ps(_mm256_max_ps(t, lo), hi);
            __m256i v = _mm256_add_epi32(_mm256_cvtps_epi32(t), zy);
            __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
            _mm_storel_epi64((__m128i *)(y + j * s + p), _mm_packs_epi16(w, w));
        }
    }
    if (p < s) gaba_qnn_layer_norm_ref(c, s, p, s, q, x, y);
}
