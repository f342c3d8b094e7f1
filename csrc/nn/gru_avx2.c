// gru_avx2.c - the GRU's recurrence on AVX2 (gru.c's step loop, gru_ref.c's
// formulas): per step the recurrent product, and the gate arithmetic on 8
// hidden units at a time: the sigmoid and tanh of core/exp_avx2.h, a few
// ulps from libm's (absolute error, for tanh near 0). Tails through
// maskload/maskstore.
#include "nn_kernels.h"
#include "../core/exp_avx2.h"

static void gates(int64_t hd, const float *gi, const float *hp, float *h) {
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

// hp (3H) = b_hh + wt^T h: broadcasts of h[i] into up to four 8-lane sums
// at a time (wt's rows are padded to 16 lanes, b_hh is read masked).
static void matvec(int64_t hd, const float *wt, const float *b_hh, const float *h, float *hp) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const int64_t ld = gaba_nn_gru_ld(hd), g3 = 3 * hd;
    for (int64_t j0 = 0; j0 < ld; j0 += 32) {
        int nb = ld - j0 >= 32 ? 4 : 2;
        __m256 a[4];
        for (int v = 0; v < nb; v++) {
            int64_t left = g3 - j0 - 8 * v;
            __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(left > 8 ? 8 : (int)left), lane);
            a[v] = _mm256_maskload_ps(b_hh + j0 + 8 * v, m);
        }
        for (int64_t i = 0; i < hd; i++) {
            const __m256 hb = _mm256_set1_ps(h[i]);
            for (int v = 0; v < nb; v++)
                a[v] = _mm256_fmadd_ps(_mm256_loadu_ps(wt + i * ld + j0 + 8 * v), hb, a[v]);
        }
        for (int v = 0; v < nb; v++) _mm256_storeu_ps(hp + j0 + 8 * v, a[v]);
    }
}

void gaba_nn_gru_recur_f32_avx2(int64_t hd, int64_t t, int seq, const float *xp, const float *wt,
                                const float *b_hh, float *y, float *ws) {
    gaba_nn_gru_steps(hd, t, seq, xp, wt, b_hh, y, ws, matvec, gates);
}
