// batchnorm_train.c - batch norm in training mode (trainer.h): the batch's
// per-channel mean and biased variance normalize it, the running averages
// take the unbiased variance (PyTorch's BatchNorm), and backward goes through
// the statistics. Sums in double: a channel holds batch x positions values.
#include "gaba/nn.h"

#include <math.h>

void gaba_nn_batchnorm_train_f32(int64_t nb, int64_t c, int64_t s, const float *x,
                                 const float *gamma, const float *beta, float eps, float momentum,
                                 float *run_mean, float *run_var, float *saved, float *y) {
    const int64_t count = nb * s;
    for (int64_t ch = 0; ch < c; ch++) {
        double sum = 0.0, sq = 0.0;
        for (int64_t b = 0; b < nb; b++) {
            const float *xr = x + (b * c + ch) * s;
            for (int64_t i = 0; i < s; i++) sum += xr[i];
        }
        const double mean = sum / (double)count;
        for (int64_t b = 0; b < nb; b++) {
            const float *xr = x + (b * c + ch) * s;
            for (int64_t i = 0; i < s; i++) sq += ((double)xr[i] - mean) * ((double)xr[i] - mean);
        }
        const double var = sq / (double)count;
        const float inv = (float)(1.0 / sqrt(var + (double)eps));
        saved[ch] = (float)mean;
        saved[c + ch] = inv;
        const float scale = gamma[ch] * inv, shift = beta[ch] - (float)mean * scale;
        for (int64_t b = 0; b < nb; b++) {
            const float *xr = x + (b * c + ch) * s;
            float *yr = y + (b * c + ch) * s;
            for (int64_t i = 0; i < s; i++) yr[i] = xr[i] * scale + shift;
        }
        const double unbiased = count > 1 ? sq / (double)(count - 1) : var;
        run_mean[ch] = (1.0f - momentum) * run_mean[ch] + momentum * (float)mean;
        run_var[ch] = (1.0f - momentum) * run_var[ch] + momentum * (float)unbiased;
    }
}

void gaba_nn_batchnorm_train_backward_f32(int64_t nb, int64_t c, int64_t s, const float *x,
                                          const float *gamma, const float *saved, const float *dy,
                                          float *dx, float *dgamma, float *dbeta) {
    const int64_t count = nb * s;
    for (int64_t ch = 0; ch < c; ch++) {
        const float mean = saved[ch], inv = saved[c + ch];
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (int64_t b = 0; b < nb; b++) {
            const float *xr = x + (b * c + ch) * s, *gr = dy + (b * c + ch) * s;
            for (int64_t i = 0; i < s; i++) {
                sum_dy += gr[i];
                sum_dy_xhat += (double)gr[i] * (double)((xr[i] - mean) * inv);
            }
        }
        dgamma[ch] += (float)sum_dy_xhat;
        dbeta[ch] += (float)sum_dy;
        if (!dx) continue;
        // dx = gamma / std * (dy - mean(dy) - xhat * mean(dy * xhat))
        const float k = gamma[ch] * inv, m_dy = (float)(sum_dy / (double)count),
                    m_dyx = (float)(sum_dy_xhat / (double)count);
        for (int64_t b = 0; b < nb; b++) {
            const float *xr = x + (b * c + ch) * s, *gr = dy + (b * c + ch) * s;
            float *dr = dx + (b * c + ch) * s;
            for (int64_t i = 0; i < s; i++)
                dr[i] += k * (gr[i] - m_dy - (xr[i] - mean) * inv * m_dyx);
        }
    }
}
