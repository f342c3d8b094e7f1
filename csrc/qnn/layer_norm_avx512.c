// layer_norm_avx512.c - the int8 LayerNorm on 16 positions at a time, as
// layer_norm_avx2.c on 8: integer sums in int32 lanes, the reference's scalar
// reciprocal square roots, the same float32 output steps lane by lane (bit
// for bit the reference's codes). The last S % 16 positions by the reference.
#include "layer_norm_impl.h"

#include <immintrin.h>

static inline __m512i load16(const int8_t *p, __m512i zx) {
    return _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)p)), zx);
}

void gaba_qnn_layer_norm_avx512(int64_t c, int64_t s, const gaba_qnn_layer *q, const int8_t *x,
                                int8_t *y) {
    const __m512i zx = _mm512_set1_epi32(q->in_zp[0]), vc = _mm512_set1_epi32((int32_t)c);
    const __m512i zy = _mm512_set1_epi32(q->out_zp);
    const __m512 lo = _mm512_set1_ps(-256.0f), hi = _mm512_set1_ps(256.0f);
    int64_t p = 0;
    for (; p + 16 <= s; p += 16) {
        __m512i sum = _mm512_setzero_si512(), sq = _mm512_setzero_si512();
        for (int64_t j = 0; j < c; j++) {
            __m512i v = load16(x + j * s + p, zx);
            sum = _mm512_add_epi32(sum, v);
            sq = _mm512_add_epi32(sq, _mm512_mullo_epi32(v, v));
        }
        int32_t ss[16], qq[16];
        float rr[16];
        _mm512_storeu_si512(ss, sum);
        _mm512_storeu_si512(qq, sq);
        for (int i = 0; i < 16; i++) rr[i] = gaba_qnn_layer_norm_rsqrt(c, ss[i], qq[i], q->ln_eps);
        const __m512 r = _mm512_loadu_ps(rr);
        for (int64_t j = 0; j < c; j++) {
            __m512i d = _mm512_sub_epi32(_mm512_mullo_epi32(load16(x + j * s + p, zx), vc), sum);
            __m512 t = _mm512_mul_ps(_mm512_cvtepi32_ps(d), r);
            t = _mm512_mul_ps(t, _mm512_set1_ps(q->ln_gb[j]));
            t = _mm512_add_ps(t, _mm512_set1_ps(q->ln_gb[c + j]));
            t = _mm512_min_ps(_mm512_max_ps(t, lo), hi);
            __m512i v = _mm512_add_epi32(_mm512_cvtps_epi32(t), zy);
            _mm_storeu_si128((__m128i *)(y + j * s + p), _mm512_cvtsepi32_epi8(v));
        }
    }
    if (p < s) gaba_qnn_layer_norm_ref(c, s, p, s, q, x, y);
}
