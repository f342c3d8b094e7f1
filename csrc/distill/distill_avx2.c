// distill_avx2.c - the distillation row on AVX2 + FMA: the AVX-512 kernel's
// algorithm 8 logits per step (see distill_avx512.c), tails through
// maskload/maskstore; expf is core/exp_avx2.h's, which sets arguments below
// -87.3 to exactly 0: the loss then differs from libm's by < 1e-37.
#include "distill_kernels.h"

#include "../core/exp_avx2.h"

#include <immintrin.h>
#include <math.h>

static inline __m256i tail_mask(int64_t left) {
    int k = left >= 8 ? 8 : (int)left;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline double hsum(__m256 v) {
    __m256d d = _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)),
                              _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(d), _mm256_extractf128_pd(d, 1));
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}

static inline float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}

double gaba_distill_row_f32_avx2(const float *s, const float *t, int64_t label,
                                 const gaba_distill_params *p, float *grad) {
    const int64_t c = p->c;
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256 vms = ninf, vmt = ninf;
    for (int64_t j = 0; j < c; j += 8) {
        __m256i m = tail_mask(c - j);
        __m256 mf = _mm256_castsi256_ps(m);
        vms = _mm256_max_ps(vms, _mm256_blendv_ps(ninf, _mm256_maskload_ps(s + j, m), mf));
        vmt = _mm256_max_ps(vmt, _mm256_blendv_ps(ninf, _mm256_maskload_ps(t + j, m), mf));
    }
    const float ms = hmax(vms), mt = hmax(vmt);
    const __m256 bms = _mm256_set1_ps(ms), bmt = _mm256_set1_ps(mt);
    const __m256 inv_t = _mm256_set1_ps(p->inv_t), zero = _mm256_setzero_ps();

    __m256 acc_s = zero, acc_t = zero, acc_dot = zero, acc_1 = zero;
    const int need_1 = label >= 0 && !p->unit_t;
    for (int64_t j = 0; j < c; j += 8) {
        __m256i m = tail_mask(c - j);
        __m256 mf = _mm256_castsi256_ps(m);
        __m256 vs = _mm256_maskload_ps(s + j, m), vt = _mm256_maskload_ps(t + j, m);
        __m256 ds = _mm256_sub_ps(vs, bms);
        __m256 xs = _mm256_mul_ps(ds, inv_t);
        __m256 xt = _mm256_mul_ps(_mm256_sub_ps(vt, bmt), inv_t);
        __m256 es = _mm256_and_ps(mf, gaba_exp256(xs)), et = _mm256_and_ps(mf, gaba_exp256(xt));
        acc_s = _mm256_add_ps(acc_s, es);
        acc_t = _mm256_add_ps(acc_t, et);
        // p_j = 0 adds nothing (avoids 0 * -inf when the teacher logit is -inf).
        __m256 live = _mm256_cmp_ps(et, zero, _CMP_GT_OQ);
        acc_dot =
            _mm256_add_ps(acc_dot, _mm256_and_ps(live, _mm256_mul_ps(et, _mm256_sub_ps(xt, xs))));
        if (need_1) acc_1 = _mm256_add_ps(acc_1, _mm256_and_ps(mf, gaba_exp256(ds)));
    }
    double sum_s = hsum(acc_s), sum_t = hsum(acc_t), dot = hsum(acc_dot);
    double lse_s = log(sum_s), lse_t = log(sum_t);
    double loss = p->w_soft * p->t2 * (dot / sum_t - lse_t + lse_s);
    double lse_1 = need_1 ? log(hsum(acc_1)) : lse_s;
    if (label >= 0) loss += p->w_hard * (lse_1 - (double)(s[label] - ms));

    if (grad) {
        const __m256 gq = _mm256_set1_ps(p->g_soft * (float)(1.0 / sum_s));
        const __m256 gp = _mm256_set1_ps(p->g_soft * (float)(1.0 / sum_t));
        const __m256 g1 = _mm256_set1_ps(label >= 0 ? p->g_hard * (float)exp(-lse_1) : 0.0f);
        for (int64_t j = 0; j < c; j += 8) {
            __m256i m = tail_mask(c - j);
            __m256 vs = _mm256_maskload_ps(s + j, m), vt = _mm256_maskload_ps(t + j, m);
            __m256 ds = _mm256_sub_ps(vs, bms);
            __m256 es = gaba_exp256(_mm256_mul_ps(ds, inv_t));
            __m256 et = gaba_exp256(_mm256_mul_ps(_mm256_sub_ps(vt, bmt), inv_t));
            __m256 g = _mm256_fmsub_ps(gq, es, _mm256_mul_ps(gp, et));
            if (label >= 0) g = _mm256_fmadd_ps(g1, p->unit_t ? es : gaba_exp256(ds), g);
            _mm256_maskstore_ps(grad + j, m, g);
        }
        if (label >= 0) grad[label] -= p->g_hard;
    }
    return loss;
}
