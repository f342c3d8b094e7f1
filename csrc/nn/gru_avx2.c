// gru_avx2.c - the GRU's gate arithmetic of one step on 8 hidden units at a
// time (gru.c's generic loop, gru_ref.c's formulas), as gru_avx512.c: the
// sigmoid and tanh of core/exp_avx2.h, a few ulps from libm's (absolute
// error, for tanh near 0). Tails through maskload/maskstore.
#include "nn_kernels.h"
#include "../core/exp_avx2.h"

void gaba_nn_gru_gates_f32_avx2(int64_t hd, const float *gi, const float *hp, float *h) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int64_t j = 0; j < hd; j += 8) {
        __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(hd - j >= 8 ? 8 : (int)(hd - j)), lane);
#define LD(p) _mm256_maskload_ps((p) + j, m)
        __m256 r = gaba_sigmoid256(_mm256_add_ps(LD(gi), LD(hp)));
        __m256 z = gaba_sigmoid256(_mm256_add_ps(LD(gi + hd), LD(hp + hd)));
        __m256 n = gaba_tanh256(_mm256_fmadd_ps(r, LD(hp + 2 * hd), LD(gi + 2 * hd)));
        __m256 zh = _mm256_mul_ps(z, LD(h));
#undef LD
        _mm256_maskstore_ps(h + j, m, _mm256_fmadd_ps(_mm256_sub_ps(one, z), n, zh));
    }
}
