// distill.h - knowledge-distillation loss (Hinton, Vinyals & Dean 2015) on
// float32 logits, with its gradient with respect to the student's logits.
//
// Per sample i, with T the temperature, p = softmax(t_i / T) (teacher),
// q = softmax(s_i / T) (student):
//   soft_i = T^2 * KL(p || q) = T^2 * sum_j p_j (log p_j - log q_j)
//   hard_i = CE(s_i, y_i)     = logsumexp(s_i) - s_i[y_i]   (at T = 1)
//   loss_i = alpha * soft_i + (1 - alpha) * hard_i   with labels,
//   loss_i = soft_i                                   without.
// Reductions: batchmean = sum_i loss_i / N, sum, none (loss_i per sample).
// d loss_i / d s_i = alpha * T * (q - p) + (1 - alpha) * (softmax(s_i) - onehot(y_i)),
// scaled by 1/N for batchmean ("none" gives the gradient of sum_i loss_i).
//
// Log-softmax subtracts the row maximum first, so logits of +-1e4 neither
// overflow nor lose the small probabilities' logs; per-sample losses and
// the batch sum are accumulated in float64. A NaN or Inf logit makes its
// sample's loss (and gradient row) NaN; rows are independent.
#ifndef GABA_DISTILL_H
#define GABA_DISTILL_H

#include "gaba/gaba.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gaba_reduction {
    GABA_REDUCTION_BATCHMEAN = 0, // sum over samples / N (PyTorch's kl_div batchmean)
    GABA_REDUCTION_SUM = 1,
    GABA_REDUCTION_NONE = 2, // one loss per sample
} gaba_reduction;

// Rows are unit-stride; rs_* are row strides in elements (>= C).
// labels may be NULL (soft term only); each label must be in [0, C).
// With reduction NONE, per_sample receives the N losses (loss may be NULL);
// otherwise *loss receives the reduced value (per_sample may be NULL).
// grad may be NULL (no gradient). temperature > 0, 0 <= alpha <= 1, C >= 1.
gaba_status gaba_distill_loss_f32(int64_t n, int64_t c, const float *student,
                                  int64_t rs_s,                       // (N, C)
                                  const float *teacher, int64_t rs_t, // (N, C)
                                  const int64_t *labels,              // (N) or NULL
                                  float temperature, float alpha, gaba_reduction reduction,
                                  double *loss,               // (1) or NULL
                                  float *per_sample,          // (N) or NULL
                                  float *grad, int64_t rs_g); // (N, C) or NULL

#ifdef __cplusplus
}
#endif
#endif // GABA_DISTILL_H
