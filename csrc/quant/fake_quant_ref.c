// fake_quant_ref.c - portable reference span kernels: fake quantization of
// one channel's run of elements and the finite-only min/max reduction the
// observers use. Mirrors PyTorch's fake_quantize_tensor_cachemask_kernel
// (aten/.../quantized/cpu/kernels/QuantizedOpKernels.cpp) element by element,
// but saturates +-Inf and huge values and lets NaN through (see quant.h).
// Plain scalar C: the test oracle the SIMD variants must match bit for bit.
// The *_lanes variants (per-element parameters) apply the span kernels to one
// element at a time; the storage lanes live here too, beside their spans'
// one-element definition in quantize_ref.c.
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

static inline gaba_quant_span_params lane(const gaba_quant_lane_params *p, int64_t i) {
    return (gaba_quant_span_params){p->scale[i], p->inv_scale[i], p->zero_point[i],
                                    p->qmin,     p->qmax,         p->away};
}

void gaba_quant_fake_quantize_lanes_f32_ref(int64_t n, const float *x, float *y, uint8_t *mask,
                                            const gaba_quant_lane_params *p) {
    for (int64_t i = 0; i < n; i++) {
        gaba_quant_span_params one = lane(p, i);
        gaba_quant_fake_quantize_span_f32_ref(1, x + i, y + i, mask ? mask + i : NULL, &one);
    }
}

void gaba_quant_minmax_lanes_f32_ref(int64_t n, const float *x, float *lo, float *hi) {
    for (int64_t i = 0; i < n; i++) gaba_quant_minmax_span_f32_ref(1, x + i, lo + i, hi + i);
}

void gaba_quant_quantize_lanes_f32_ref(int64_t n, const float *x, void *q, int64_t first,
                                       gaba_quant_storage storage,
                                       const gaba_quant_lane_params *p) {
    for (int64_t i = 0; i < n; i++) {
        gaba_quant_span_params one = lane(p, i);
        gaba_quant_quantize_span_f32_ref(1, x + i, q, first + i, storage, &one);
    }
}

void gaba_quant_dequantize_lanes_f32_ref(int64_t n, const void *q, int64_t first,
                                         gaba_quant_storage storage, float *y,
                                         const gaba_quant_lane_params *p) {
    for (int64_t i = 0; i < n; i++) {
        gaba_quant_span_params one = lane(p, i);
        gaba_quant_dequantize_span_f32_ref(1, q, first + i, storage, y + i, &one);
    }
}
