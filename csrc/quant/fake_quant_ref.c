// fake_quant_ref.c - portable reference span kernels: fake quantization of
// one channel's run of elements and the finite-only min/max reduction the
// observers use. Mirrors PyTorch's fake_quantize_tensor_cachemask_kernel
// (aten/.../quantized/cpu/kernels/QuantizedOpKernels.cpp) element by element,
// but saturates +-Inf and huge values and lets NaN through (see quant.h).
// Plain scalar C: the test oracle the SIMD variants must match bit for bit.
#include "quant_kernels.h"

#include <math.h>

// The q_f of quant.h: float32 arithmetic throughout. zp + round(v) is exact
// for |v| < 2^24, and beyond that it is clamped anyway.
static inline float quant_level(float x, const gaba_quant_span_params *p) {
    if (p->away) return roundf(x / p->scale) + p->zero_point;
    return nearbyintf(x * p->inv_scale) + p->zero_point;
}

void gaba_quant_fake_quantize_span_f32_ref(int64_t n, const float *x, float *y, uint8_t *mask,
                                           const gaba_quant_span_params *p) {
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        float q = quant_level(v, p);
        if (mask) mask[i] = (uint8_t)(q >= p->qmin && q <= p->qmax);
        float c = q < p->qmin ? p->qmin : q > p->qmax ? p->qmax : q;
        y[i] = isnan(v) ? v : (c - p->zero_point) * p->scale;
    }
}

void gaba_quant_minmax_span_f32_ref(int64_t n, const float *x, float *lo, float *hi) {
    float mn = *lo, mx = *hi;
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        if (!isfinite(v)) continue;
        mn = v < mn ? v : mn;
        mx = v > mx ? v : mx;
    }
    *lo = mn;
    *hi = mx;
}
