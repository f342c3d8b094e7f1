// train.h - what training needs besides the layers' backward: losses with
// their gradients and optimizers that update a flat float32 weight block in
// place. Scalars are float64 and each enters the float32 arithmetic where
// PyTorch's does, rounded as it is. Formulas follow PyTorch's defaults (torch.nn.functional losses
// with reduction="mean", torch.optim.SGD/Adam/AdamW single-tensor updates,
// torch.nn.utils.clip_grad_norm_), so a recipe carries over unchanged.
#ifndef GABA_TRAIN_H
#define GABA_TRAIN_H

#include "gaba/gaba.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---- losses ------------------------------------------------------------------

// Every loss is the mean PyTorch takes by default, accumulated in float64;
// its gradient with respect to `pred` is already divided by that count.
typedef enum gaba_loss {
    // pred: (N, C) logits, labels: (N) in [0, C), param: label smoothing
    // eps in [0, 1]. With lse_i = log sum_j exp(pred_ij):
    //   loss = mean_i [lse_i - (1 - eps) pred_iy - eps / C sum_j pred_ij]
    //   grad = (softmax(pred) - (1 - eps) onehot(y) - eps / C) / N
    GABA_LOSS_CROSS_ENTROPY = 0,
    // pred: logits, target: probabilities, N * C of each (param unused):
    //   loss = mean [max(x, 0) - x t + log(1 + exp(-|x|))], grad = (sigmoid(x) - t) / NC
    GABA_LOSS_BCE = 1,
    GABA_LOSS_MSE = 2, // mean (p - t)^2, grad 2 (p - t) / NC
    GABA_LOSS_L1 = 3,  // mean |p - t|, grad sign(p - t) / NC (0 where p == t)
    // param: delta > 0. d = p - t:
    //   loss = mean (|d| < delta ? d^2 / 2 : delta (|d| - delta / 2)),
    //   grad = clamp(d, -delta, delta) / NC
    GABA_LOSS_HUBER = 4,
    GABA_LOSS_COUNT = 5,
} gaba_loss;

// The loss of `kind` (above) into *loss and, when grad is not NULL, its
// gradient with respect to pred. Arrays are contiguous. Cross-entropy reads
// labels and not target; the others read target and not labels. A label
// outside [0, C) or a parameter outside its range gives GABA_ERR_ARG and
// writes nothing. The mean of an empty batch (N * C = 0) is NaN. The
// log-sum-exp subtracts each row's maximum, so logits of +-1e4 stay exact;
// a NaN in pred or target makes the loss NaN.
gaba_status gaba_loss_f32(gaba_loss kind, int64_t n, int64_t c,
                          const float *pred,     // (N, C)
                          const float *target,   // (N, C), or NULL for cross-entropy
                          const int64_t *labels, // (N), cross-entropy only
                          float param, double *loss,
                          float *grad); // (N, C) or NULL

// ---- optimizers ----------------------------------------------------------------

// Each update reads the gradient block g and writes the weight block w and
// the optimizer's state in place, element by element (w and g of n floats;
// g is only read). `step` counts the updates including this one (1 for the
// first); state arrays start at zero and are saved with the model.

typedef struct gaba_sgd_params {
    double lr;           // >= 0 (a schedule may reach 0: the state still moves)
    double momentum;     // >= 0; 0 needs no buffer
    double dampening;    // applied from the second step on, as PyTorch does
    double weight_decay; // >= 0, added to the gradient (L2)
    int nesterov;        // needs momentum > 0 and dampening == 0
} gaba_sgd_params;

// torch.optim.SGD: g' = g + wd w; buf = step == 1 ? g' : momentum buf +
// (1 - dampening) g'; w -= lr (nesterov ? g' + momentum buf : buf).
gaba_status gaba_optim_sgd_f32(int64_t n, float *w, // (n)
                               const float *g,      // (n)
                               float *buf,          // (n) momentum buffer, NULL when momentum == 0
                               int64_t step, const gaba_sgd_params *p);

typedef struct gaba_adam_params {
    double lr;           // >= 0 (a schedule may reach 0: the state still moves)
    double beta1, beta2; // in [0, 1)
    double eps;          // >= 0
    double weight_decay; // >= 0
    int decoupled;       // 0: Adam (L2 added to g); 1: AdamW (w *= 1 - lr wd)
} gaba_adam_params;

// torch.optim.Adam / AdamW with bias correction (no amsgrad):
// m = lerp(m, g', 1 - beta1); v = beta2 v + (1 - beta2) g'^2;
// w -= lr / (1 - beta1^step) m / (sqrt(v) / sqrt(1 - beta2^step) + eps).
gaba_status gaba_optim_adam_f32(int64_t n, float *w, // (n)
                                const float *g,      // (n)
                                float *m, float *v,  // (n) each: first and second moments
                                int64_t step, const gaba_adam_params *p);

// torch.nn.utils.clip_grad_norm_ on one block: *norm = ||g||_2 (float64
// sum); when max_norm / (norm + 1e-6) < 1, g is scaled by that factor. As
// in PyTorch, an Inf norm scales g by 0 (Inf elements become NaN) and a NaN
// norm makes g NaN. max_norm > 0.
gaba_status gaba_optim_clip_grad_norm_f32(int64_t n, float *g, // (n)
                                          double max_norm, double *norm);

#ifdef __cplusplus
}
#endif
#endif // GABA_TRAIN_H
