// layer_norm_impl.h - internal: the two scalar steps every int8 LayerNorm
// kernel shares, so the reference and the SIMD kernels agree bit for bit
// (docs/int8.md): a position's reciprocal square root from its integer sums,
// and one output code.
#ifndef GABA_QNN_LAYER_NORM_IMPL_H
#define GABA_QNN_LAYER_NORM_IMPL_H

#include "qnn_kernels.h"

#include <math.h>

// The int8 LayerNorm takes at most this many channels: the sum of squares
// C 255^2 fits int32 and d = C (x - zp) - S (|d| < 2^24) is exact in float32.
#define GABA_QNN_LAYER_NORM_MAX_C 32768

// r = 1 / sqrt(V + E) of a position with S = sum(x - zp), Q = sum((x - zp)^2)
// over its c channels: V = c Q - S^2 = c^2 var (exact in int64), the square
// root and the quotient in double (correctly rounded), rounded once to float32.
static inline float gaba_qnn_layer_norm_rsqrt(int64_t c, int32_t s, int32_t q, int64_t e) {
    int64_t v = c * q - (int64_t)s * s;
    return (float)(1.0 / sqrt((double)(v + e)));
}

// One output: t = ((float)d r) g + b, each step rounded once in float32 (no
// fused multiply-add), held to [-256, 256], rounded half to even, + zp, clamped.
static inline int8_t gaba_qnn_layer_norm_out(int32_t d, float r, float g, float b, int32_t zp) {
    float t = (float)d * r;
    t = t * g;
    t = t + b;
    t = fminf(fmaxf(t, -256.0f), 256.0f);
    return gaba_qnn_clamp((int64_t)nearbyintf(t) + zp, -128, 127);
}

#endif // GABA_QNN_LAYER_NORM_IMPL_H
