// lsq_ref.c - portable reference span kernel of the LSQ backward (Esser et
// al. 2020): per element exactly as PyTorch's
// fake_quantize_learnable_tensor_grad_kernel_cpu, with q = nearbyint(zp + x * inv)
// (zp added before rounding, as PyTorch's backward does); the scale and zero
// point terms are summed in double. NaN inputs contribute nothing.
#include "quant_kernels.h"

#include <math.h>

void gaba_quant_lsq_span_f32_ref(int64_t n, const float *grad, const float *x, float *grad_x,
                                 const gaba_quant_lsq_params *p, double sums[2]) {
    const float s = p->scale, inv = p->inv_scale, zp = p->zero_point, gf = p->grad_factor;
    double sum_s = 0.0, sum_z = 0.0;
    for (int64_t i = 0; i < n; i++) {
        float v = x[i], dy = grad[i];
        float q = nearbyintf(zp + v * inv);
        if (isnan(q)) {
            grad_x[i] = dy * 0.0f;
        } else if (q < p->qmin || q > p->qmax) {
            grad_x[i] = dy * 0.0f;
            sum_z += (double)(dy * -1.0f * s * gf);
            sum_s += (double)((q < p->qmin ? dy * p->d_small : dy * p->d_big) * gf);
        } else {
            grad_x[i] = dy;
            float xfq = (q - zp) * s;
            sum_s += (double)(dy * (xfq - v) * inv * gf);
        }
    }
    sums[0] += sum_s;
    sums[1] += sum_z;
}
