// distill_avx512.c - the distillation row on AVX-512: 16 logits per step,
// the row tail under a mask, expf from core/exp_avx512.h (Cephes'
// polynomial, vscalefps for the power of two). Lane sums
// are float32 over one row (C/16 terms per lane), then added in float64;
// rows and the batch sum are float64 as in the reference. Differs from
// distill_ref.c only by expf rounding (about 2 ulp).
#include "distill_kernels.h"
#include "../core/exp_avx512.h"
#include "../core/lanes_avx512.h"

#include <immintrin.h>
#include <math.h>

static inline double hsum(__m512 v) {
    __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
    __m512d hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
    return _mm512_reduce_add_pd(_mm512_add_pd(lo, hi));
}

double gaba_distill_row_f32_avx512(const float *s, const float *t, int64_t label,
                                   const gaba_distill_params *p, float *grad) {
    const int64_t c = p->c;
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    __m512 vms = ninf, vmt = ninf;
    for (int64_t j = 0; j < c; j += 16) {
        __mmask16 m = gaba_lanes16(c - j);
        vms = _mm512_max_ps(vms, _mm512_mask_loadu_ps(ninf, m, s + j));
        vmt = _mm512_max_ps(vmt, _mm512_mask_loadu_ps(ninf, m, t + j));
    }
    const float ms = _mm512_reduce_max_ps(vms), mt = _mm512_reduce_max_ps(vmt);
    const __m512 bms = _mm512_set1_ps(ms), bmt = _mm512_set1_ps(mt);
    const __m512 inv_t = _mm512_set1_ps(p->inv_t), zero = _mm512_setzero_ps();

    __m512 acc_s = zero, acc_t = zero, acc_dot = zero, acc_1 = zero;
    const int need_1 = label >= 0 && !p->unit_t;
    for (int64_t j = 0; j < c; j += 16) {
        __mmask16 m = gaba_lanes16(c - j);
        __m512 vs = _mm512_maskz_loadu_ps(m, s + j), vt = _mm512_maskz_loadu_ps(m, t + j);
        __m512 ds = _mm512_sub_ps(vs, bms);
        __m512 xs = _mm512_mul_ps(ds, inv_t);
        __m512 xt = _mm512_mul_ps(_mm512_sub_ps(vt, bmt), inv_t);
        __m512 es = gaba_exp512(xs), et = gaba_exp512(xt);
        acc_s = _mm512_mask_add_ps(acc_s, m, acc_s, es);
        acc_t = _mm512_mask_add_ps(acc_t, m, acc_t, et);
        // p_j = 0 adds nothing (avoids 0 * -inf when the teacher logit is -inf).
        __mmask16 live = _mm512_mask_cmp_ps_mask(m, et, zero, _CMP_GT_OQ);
        acc_dot = _mm512_mask3_fmadd_ps(et, _mm512_sub_ps(xt, xs), acc_dot, live);
        if (need_1) acc_1 = _mm512_mask_add_ps(acc_1, m, acc_1, gaba_exp512(ds));
    }
    double sum_s = hsum(acc_s), sum_t = hsum(acc_t), dot = hsum(acc_dot);
    double lse_s = log(sum_s), lse_t = log(sum_t);
    double loss = p->w_soft * p->t2 * (dot / sum_t - lse_t + lse_s);
    double lse_1 = need_1 ? log(hsum(acc_1)) : lse_s;
    if (label >= 0) loss += p->w_hard * (lse_1 - (double)(s[label] - ms));

    if (grad) {
        const __m512 gq = _mm512_set1_ps(p->g_soft * (float)(1.0 / sum_s));
        const __m512 gp = _mm512_set1_ps(p->g_soft * (float)(1.0 / sum_t));
        const __m512 g1 = _mm512_set1_ps(label >= 0 ? p->g_hard * (float)exp(-lse_1) : 0.0f);
        for (int64_t j = 0; j < c; j += 16) {
            __mmask16 m = gaba_lanes16(c - j);
            __m512 vs = _mm512_maskz_loadu_ps(m, s + j), vt = _mm512_maskz_loadu_ps(m, t + j);
            __m512 ds = _mm512_sub_ps(vs, bms);
            __m512 es = gaba_exp512(_mm512_mul_ps(ds, inv_t));
            __m512 et = gaba_exp512(_mm512_mul_ps(_mm512_sub_ps(vt, bmt), inv_t));
            __m512 g = _mm512_fmsub_ps(gq, es, _mm512_mul_ps(gp, et));
            if (label >= 0) g = _mm512_fmadd_ps(g1, p->unit_t ? es : gaba_exp512(ds), g);
            _mm512_mask_storeu_ps(grad + j, m, g);
        }
        if (label >= 0) grad[label] -= p->g_hard;
    }
    return loss;
}
