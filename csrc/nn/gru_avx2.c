// gru_avx2.c - one GRU step on AVX2 (gru.c's generic loops, gru_ref.c's
// formulas): the recurrent product, and the gate arithmetic on 8 hidden
// units at a time, as gru_avx512.c: the sigmoid and tanh of
// core/exp_avx2.h, a few ulps from libm's (absolute error, for tanh near
// 0). Tails through maskload/maskstore.
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

// hp (3H) = w_hh (3H, H) h + b_hh: four rows at a time, 8-lane partial sums
// of each reduced together at the end (a GEMM call per step cost more than
// the product itself at these sizes).
static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

void gaba_nn_gru_matvec_f32_avx2(int64_t hd, const float *w_hh, const float *b_hh,
                                 const float *h, float *hp) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    int64_t rows = 3 * hd, j = 0;
    for (; j + 4 <= rows; j += 4) {
        const float *w0 = w_hh + j * hd, *w1 = w0 + hd, *w2 = w1 + hd, *w3 = w2 + hd;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int64_t i = 0; i < hd; i += 8) {
            __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(hd - i >= 8 ? 8 : (int)(hd - i)), lane);
            __m256 hv = _mm256_maskload_ps(h + i, m);
            a0 = _mm256_fmadd_ps(_mm256_maskload_ps(w0 + i, m), hv, a0);
            a1 = _mm256_fmadd_ps(_mm256_maskload_ps(w1 + i, m), hv, a1);
            a2 = _mm256_fmadd_ps(_mm256_maskload_ps(w2 + i, m), hv, a2);
            a3 = _mm256_fmadd_ps(_mm256_maskload_ps(w3 + i, m), hv, a3);
        }
        hp[j] = b_hh[j] + hsum8(a0), hp[j + 1] = b_hh[j + 1] + hsum8(a1);
        hp[j + 2] = b_hh[j + 2] + hsum8(a2), hp[j + 3] = b_hh[j + 3] + hsum8(a3);
    }
    for (; j < rows; j++) {
        float acc = 0.0f;
        for (int64_t i = 0; i < hd; i++) acc += w_hh[j * hd + i] * h[i];
        hp[j] = b_hh[j] + acc;
    }
}
