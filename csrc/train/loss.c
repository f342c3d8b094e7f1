// loss.c - the training losses of train.h and their gradients, mean-reduced
// as PyTorch's defaults. Elementwise terms are float32 as in PyTorch, sums
// float64 in index order (the same result on any machine and thread count).
// Plain C with no ISA variants: the losses cost O(N C), noise next to a
// model's backward.
#include "gaba/train.h"

#include <math.h>

// One cross-entropy row: its loss, and its gradient times `scale` into g.
static double cross_entropy_row(const float *x, int64_t c, int64_t label, float eps, float scale,
                                float *g) {
    float m = x[0];
    for (int64_t j = 1; j < c; j++) m = x[j] > m ? x[j] : m;
    // Shifted logits are <= 0: exp never overflows and the log-sum-exp keeps
    // the small probabilities.
    double sum = 0.0, sum_x = 0.0;
    for (int64_t j = 0; j < c; j++) {
        sum += expf(x[j] - m);
        sum_x += x[j] - m;
    }
    double lse = log(sum);
    double loss = lse - (1.0 - eps) * (double)(x[label] - m) - eps / (double)c * sum_x;
    if (g) {
        float inv_sum = (float)(1.0 / sum), smooth = eps / (float)c;
        for (int64_t j = 0; j < c; j++) g[j] = (expf(x[j] - m) * inv_sum - smooth) * scale;
        g[label] -= (1.0f - eps) * scale;
    }
    return loss;
}

static double cross_entropy(int64_t n, int64_t c, const float *x, const int64_t *labels, float eps,
                            float *g) {
    float scale = (float)(1.0 / (double)n);
    double total = 0.0;
    for (int64_t i = 0; i < n; i++)
        total += cross_entropy_row(x + i * c, c, labels[i], eps, scale, g ? g + i * c : NULL);
    return total;
}

static double bce(int64_t count, const float *x, const float *t, float scale, float *g) {
    double total = 0.0;
    for (int64_t i = 0; i < count; i++) {
        double xi = x[i];
        total += fmax(xi, 0.0) - xi * t[i] + log1p(exp(-fabs(xi)));
    }
    if (g)
        for (int64_t i = 0; i < count; i++) {
            float e = expf(-fabsf(x[i])); // sigmoid without overflow on either side
            float s = x[i] >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
            g[i] = (s - t[i]) * scale;
        }
    return total;
}

static double mse(int64_t count, const float *p, const float *t, float scale, float *g) {
    double total = 0.0;
    for (int64_t i = 0; i < count; i++) {
        float d = p[i] - t[i];
        total += (double)d * d;
    }
    if (g)
        for (int64_t i = 0; i < count; i++) g[i] = 2.0f * (p[i] - t[i]) * scale;
    return total;
}

static double l1(int64_t count, const float *p, const float *t, float scale, float *g) {
    double total = 0.0;
    for (int64_t i = 0; i < count; i++) total += fabsf(p[i] - t[i]);
    if (g)
        for (int64_t i = 0; i < count; i++) {
            float d = p[i] - t[i];
            g[i] = (float)((d > 0.0f) - (d < 0.0f)) * scale;
        }
    return total;
}

static double huber(int64_t count, const float *p, const float *t, float delta, float scale,
                    float *g) {
    double total = 0.0;
    for (int64_t i = 0; i < count; i++) {
        double d = fabsf(p[i] - t[i]);
        total += d < delta ? 0.5 * d * d : delta * (d - 0.5 * delta);
    }
    if (g)
        for (int64_t i = 0; i < count; i++) {
            float d = p[i] - t[i];
            g[i] = (d < -delta ? -delta : d > delta ? delta : d) * scale;
        }
    return total;
}

gaba_status gaba_loss_f32(gaba_loss kind, int64_t n, int64_t c, const float *pred,
                          const float *target, const int64_t *labels, float param, double *loss,
                          float *grad) {
    if (n < 0 || c < 0 || (kind == GABA_LOSS_CROSS_ENTROPY && c < 1)) return GABA_ERR_SHAPE;
    if (!loss || (int)kind < 0 || kind >= GABA_LOSS_COUNT) return GABA_ERR_ARG;
    if (n > 0 && c > 0 && !pred) return GABA_ERR_ARG;
    if (kind == GABA_LOSS_CROSS_ENTROPY) {
        if (!(param >= 0.0f && param <= 1.0f) || (n > 0 && !labels)) return GABA_ERR_ARG;
        for (int64_t i = 0; i < n; i++)
            if (labels[i] < 0 || labels[i] >= c) return GABA_ERR_ARG;
    } else if ((n > 0 && c > 0 && !target) ||
               (kind == GABA_LOSS_HUBER && !(param > 0.0f && isfinite(param)))) {
        return GABA_ERR_ARG;
    }
    if (c > INT64_MAX / (n > 0 ? n : 1)) return GABA_ERR_SHAPE;
    int64_t count = n * c;
    if (count == 0) {
        *loss = NAN; // the mean of nothing, as PyTorch gives it
        return GABA_OK;
    }
    float scale = (float)(1.0 / (double)count);
    double total = 0.0;
    switch (kind) {
    case GABA_LOSS_CROSS_ENTROPY:
        total = cross_entropy(n, c, pred, labels, param, grad);
        count = n;
        break;
    case GABA_LOSS_BCE: total = bce(count, pred, target, scale, grad); break;
    case GABA_LOSS_MSE: total = mse(count, pred, target, scale, grad); break;
    case GABA_LOSS_L1: total = l1(count, pred, target, scale, grad); break;
    default: total = huber(count, pred, target, param, scale, grad); break;
    }
    *loss = total / (double)count;
    return GABA_OK;
}
