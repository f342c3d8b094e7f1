// gru_avx512.c - the GRU's gate arithmetic of one step on 16 hidden units
// at a time (gru.c's generic loop, gru_ref.c's formulas): the sigmoid and
// tanh of core/exp_avx512.h, a few ulps from libm's (absolute error, for
// tanh near 0).
#include "nn_kernels.h"
#include "../core/exp_avx512.h"

void gaba_nn_gru_gates_f32_avx512(int64_t hd, const float *gi, const float *hp, float *h) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int64_t j = 0; j < hd; j += 16) {
        __mmask16 m = hd - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (hd - j)) - 1);
#define LD(p) _mm512_maskz_loadu_ps(m, (p) + j)
        __m512 r = gaba_sigmoid512(_mm512_add_ps(LD(gi), LD(hp)));
        __m512 z = gaba_sigmoid512(_mm512_add_ps(LD(gi + hd), LD(hp + hd)));
        __m512 n = gaba_tanh512(_mm512_fmadd_ps(r, LD(hp + 2 * hd), LD(gi + 2 * hd)));
        __m512 zh = _mm512_mul_ps(z, LD(h));
#undef LD
        _mm512_mask_storeu_ps(h + j, m, _mm512_fmadd_ps(_mm512_sub_ps(one, z), n, zh));
    }
}
