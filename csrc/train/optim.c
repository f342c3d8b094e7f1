// optim.c - the optimizers of train.h: torch.optim.SGD, Adam and AdamW
// (single-tensor updates, no amsgrad, no maximize) and clip_grad_norm_ on
// one flat weight block. Each update does PyTorch's float32 operations in
// PyTorch's order, scalars rounded to float32 where PyTorch rounds them, so
// a run tracks PyTorch's to float32 rounding. The loops are elementwise with
// restrict pointers, which the compiler vectorizes with the baseline SSE2
// every build has; one file serves every ISA level.
#include "gaba/train.h"

#include <math.h>

#define ADAM_BLOCK 256 // floats of square roots on the stack: 1 KiB

static int is_real(double x) { return isfinite(x); }

gaba_status gaba_optim_sgd_f32(int64_t n, float *restrict w, const float *restrict g,
                               float *restrict buf, int64_t step, const gaba_sgd_params *p) {
    if (!p || n < 0 || step < 1) return GABA_ERR_ARG;
    if (!(p->lr >= 0.0) || !is_real(p->lr) || !(p->momentum >= 0.0) || !is_real(p->momentum) ||
        !(p->weight_decay >= 0.0) || !is_real(p->weight_decay) || !is_real(p->dampening) ||
        (p->nesterov && (p->momentum <= 0.0 || p->dampening != 0.0)))
        return GABA_ERR_ARG;
    if (n > 0 && (!w || !g || (p->momentum > 0.0 && !buf))) return GABA_ERR_ARG;
    const float neg_lr = (float)-p->lr, wd = (float)p->weight_decay;
    const float mom = (float)p->momentum, keep = (float)(1.0 - p->dampening);
    if (p->momentum == 0.0) {
        for (int64_t i = 0; i < n; i++) w[i] += neg_lr * (g[i] + wd * w[i]);
        return GABA_OK;
    }
    for (int64_t i = 0; i < n; i++) {
        float gi = g[i] + wd * w[i];
        // PyTorch's buffer starts as a copy of the first gradient (no dampening).
        float b = step == 1 ? gi : buf[i] * mom + keep * gi;
        buf[i] = b;
        w[i] += neg_lr * (p->nesterov ? gi + mom * b : b);
    }
    return GABA_OK;
}

gaba_status gaba_optim_adam_f32(int64_t n, float *restrict w, const float *restrict g,
                                float *restrict m, float *restrict v, int64_t step,
                                const gaba_adam_params *p) {
    if (!p || n < 0 || step < 1) return GABA_ERR_ARG;
    if (!(p->lr >= 0.0) || !is_real(p->lr) || !(p->beta1 >= 0.0 && p->beta1 < 1.0) ||
        !(p->beta2 >= 0.0 && p->beta2 < 1.0) || !(p->eps >= 0.0) || !is_real(p->eps) ||
        !(p->weight_decay >= 0.0) || !is_real(p->weight_decay))
        return GABA_ERR_ARG;
    if (n > 0 && (!w || !g || !m || !v)) return GABA_ERR_ARG;
    // Python-side scalars of torch.optim.Adam, in float64.
    double bias1 = 1.0 - pow(p->beta1, (double)step), bias2 = 1.0 - pow(p->beta2, (double)step);
    const float neg_step = (float)(-(p->lr / bias1)), bias2_sqrt = (float)pow(bias2, 0.5);
    const float w1 = (float)(1.0 - p->beta1), w2 = (float)(1.0 - p->beta2);
    const float beta2 = (float)p->beta2, eps = (float)p->eps;
    const float l2 = p->decoupled ? 0.0f : (float)p->weight_decay;
    const float shrink = (float)(1.0 - p->lr * p->weight_decay);
    const int small_w1 = w1 < 0.5f; // torch.lerp's two forms, exact at either end
    if (p->decoupled && p->weight_decay != 0.0)
        for (int64_t i = 0; i < n; i++) w[i] *= shrink;
    // Blocks of three passes: sqrtf keeps its errno branch (no -fno-math-errno
    // here), which would keep the whole loop scalar; alone it costs little.
    float root[ADAM_BLOCK];
    for (int64_t i0 = 0; i0 < n; i0 += ADAM_BLOCK) {
        const int64_t len = n - i0 < ADAM_BLOCK ? n - i0 : ADAM_BLOCK;
        float *restrict wb = w + i0, *restrict mb = m + i0, *restrict vb = v + i0;
        const float *restrict gb = g + i0;
        for (int64_t i = 0; i < len; i++) {
            float gi = gb[i] + l2 * wb[i];
            float d = gi - mb[i];
            mb[i] = small_w1 ? mb[i] + w1 * d : gi - d * (1.0f - w1);
            vb[i] = vb[i] * beta2 + w2 * gi * gi;
        }
        for (int64_t i = 0; i < len; i++) root[i] = sqrtf(vb[i]);
        for (int64_t i = 0; i < len; i++) wb[i] += neg_step * mb[i] / (root[i] / bias2_sqrt + eps);
    }
    return GABA_OK;
}

gaba_status gaba_optim_clip_grad_norm_f32(int64_t n, float *restrict g, double max_norm,
                                          double *norm) {
    if (n < 0 || !norm || !(max_norm > 0.0) || (n > 0 && !g)) return GABA_ERR_ARG;
    // Eight running sums, added in a fixed order: vectorizable and the same
    // result everywhere.
    double acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += (double)g[i + k] * g[i + k];
    for (; i < n; i++) acc[0] += (double)g[i] * g[i];
    double sum = 0.0;
    for (int k = 0; k < 8; k++) sum += acc[k];
    *norm = sqrt(sum);
    // PyTorch's coefficient, float32: max_norm / (norm + 1e-6) clamped to 1.
    float coef = (float)max_norm / ((float)*norm + 1e-6f);
    if (!(coef >= 1.0f))
        for (i = 0; i < n; i++) g[i] *= coef;
    return GABA_OK;
}
