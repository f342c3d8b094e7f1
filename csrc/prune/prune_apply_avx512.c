// prune_apply_avx512.c - the apply pass of magnitude pruning on AVX-512:
// 16 keys compared per step, the kept weights written through a mask and
// the mask bytes from the compare mask. A block holding keys equal to the
// threshold while ties remain goes to the reference, which orders them.
#include "prune_kernels.h"

#include <immintrin.h>

int64_t gaba_prune_apply_f32_avx512(int64_t n, const float *x, uint32_t tau, int64_t ties,
                                    float *out, uint8_t *mask) {
    const __m512i abs_bits = _mm512_set1_epi32(0x7fffffff), vtau = _mm512_set1_epi32((int)tau);
    const __m128i one = _mm_set1_epi8(1);
    int64_t used = 0, i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        __m512i key = _mm512_and_si512(_mm512_castps_si512(v), abs_bits);
        __mmask16 eq = _mm512_cmpeq_epu32_mask(key, vtau);
        if (eq && used < ties) {
            used += gaba_prune_apply_f32_ref(16, x + i, tau, ties - used, out + i, mask + i);
            continue;
        }
        __mmask16 keep = _mm512_cmp_epu32_mask(key, vtau, _MM_CMPINT_NLE) | eq;
        _mm512_storeu_ps(out + i, _mm512_maskz_mov_ps(keep, v));
        _mm_storeu_si128((__m128i *)(mask + i), _mm_maskz_mov_epi8(keep, one));
    }
    if (i < n) used += gaba_prune_apply_f32_ref(n - i, x + i, tau, ties - used, out + i, mask + i);
    return used;
}
