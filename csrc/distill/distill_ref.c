// distill_ref.c - the reference distillation row: scalar C, libm expf/log,
// float64 sums. Mirrors PyTorch's log_softmax + kl_div(batchmean) * T^2 and
// cross_entropy, fused into three passes over the row (max, sums, gradient).
// It is the oracle the AVX-512 kernel is tested against; it is not fast.
#include "distill_kernels.h"

#include <math.h>

double gaba_distill_row_f32_ref(const float *s, const float *t, int64_t label,
                                const gaba_distill_params *p, float *grad) {
    const int64_t c = p->c;
    float ms = s[0], mt = t[0];
    for (int64_t j = 1; j < c; j++) {
        ms = s[j] > ms ? s[j] : ms;
        mt = t[j] > mt ? t[j] : mt;
    }
    // Shifted, scaled logits xs = (s - max) / T <= 0, so exp never overflows.
    double sum_s = 0.0, sum_t = 0.0, dot = 0.0, sum_1 = 0.0;
    for (int64_t j = 0; j < c; j++) {
        float xs = (s[j] - ms) * p->inv_t, xt = (t[j] - mt) * p->inv_t;
        float et = expf(xt);
        sum_s += expf(xs);
        sum_t += et;
        if (et > 0.0f) dot += (double)et * (double)(xt - xs); // p_j = 0 adds nothing
    }
    // KL = sum_j p_j ((xt_j - log sum_t) - (xs_j - log sum_s)).
    double lse_s = log(sum_s), lse_t = log(sum_t);
    double loss = p->w_soft * p->t2 * (dot / sum_t - lse_t + lse_s);
    double lse_1 = lse_s; // log sum exp(s - ms) at T = 1
    if (label >= 0) {
        if (!p->unit_t) {
            for (int64_t j = 0; j < c; j++) sum_1 += expf(s[j] - ms);
            lse_1 = log(sum_1);
        }
        loss += p->w_hard * (lse_1 - (double)(s[label] - ms));
    }
    if (grad) {
        float inv_s = (float)(1.0 / sum_s), inv_t = (float)(1.0 / sum_t);
        float inv_1 = (float)exp(-lse_1);
        for (int64_t j = 0; j < c; j++) {
            float xs = (s[j] - ms) * p->inv_t, xt = (t[j] - mt) * p->inv_t;
            float g = p->g_soft * (expf(xs) * inv_s - expf(xt) * inv_t);
            if (label >= 0) g += p->g_hard * (expf(s[j] - ms) * inv_1);
            grad[j] = g;
        }
        if (label >= 0) grad[label] -= p->g_hard;
    }
    return loss;
}
