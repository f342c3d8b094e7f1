// quant.h - uniform affine quantization of float32 tensors: fake quantization
// (bit-exact with PyTorch's fake_quantize_per_tensor/per_channel_affine), the
// straight-through and LSQ gradients, min/max observers, and real quantized
// storage (8/16-bit integers, 2..4-bit values packed two per byte).
//
// Layout: every tensor is seen as a C-ordered block (outer, channels, inner):
// per-tensor parameters use channels = 1 (outer = 1, inner = numel); a
// per-channel axis k of shape (d0..dn) gives outer = d0*..*d(k-1),
// channels = dk, inner = d(k+1)*..*dn. Parameter arrays hold one value per
// channel. Element i belongs to channel (i / inner) % channels.
//
// Numerics (docs/compression/quantization.md has the full contract):
//   half_even: q_f = zp + nearbyint(x * (1/scale)), 1/scale rounded once to float32;
//   half_away: q_f = zp + round_half_away(x / scale) (TFLite's quantizer);
//   q = clamp(q_f, qmin, qmax); y = (q - zp) * scale, one float32 rounding.
//   mask = qmin <= q_f <= qmax (taken before clamping, as PyTorch does).
//   NaN gives y = NaN and mask 0; +-Inf saturate to qmax/qmin with mask 0.
#ifndef GABA_QUANT_H
#define GABA_QUANT_H

#include "gaba/gaba.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gaba_quant_round {
    GABA_QUANT_ROUND_HALF_EVEN = 0, // x * (1/scale), ties to even (PyTorch)
    GABA_QUANT_ROUND_HALF_AWAY = 1, // x / scale, ties away from zero (TFLite)
} gaba_quant_round;

// How quantize() stores integers. Packed kinds put element 2i in the low
// nibble (bits 0-3) and element 2i+1 in the high nibble of byte i, as ONNX
// int4 does; signed nibbles are two's complement. An odd count leaves the
// last high nibble 0.
typedef enum gaba_quant_storage {
    GABA_QUANT_S8 = 0,  // int8, one per byte
    GABA_QUANT_U8 = 1,  // uint8
    GABA_QUANT_S16 = 2, // int16
    GABA_QUANT_U16 = 3, // uint16
    GABA_QUANT_S4 = 4,  // signed nibbles, two per byte (qmin >= -8, qmax <= 7)
    GABA_QUANT_U4 = 5,  // unsigned nibbles (qmin >= 0, qmax <= 15)
} gaba_quant_storage;

// The integer grid: qmin < qmax, qmin <= 0 <= qmax, both within [-2^16, 2^16].
typedef struct gaba_quant_grid {
    int32_t qmin, qmax;
    gaba_quant_round rounding;
} gaba_quant_grid;

// Bytes that quantize() writes for n values in `storage`.
int64_t gaba_quant_storage_bytes(gaba_quant_storage storage, int64_t n);

// y = fake_quantize(x), optionally mask = [qmin <= q_f <= qmax] as 0/1 bytes.
// y may equal x (in place); otherwise no overlap. scale[c] must be finite and
// > 0 with 1/scale[c] finite; zero_point[c] within [qmin, qmax].
gaba_status gaba_quant_fake_quantize_f32(float *y,      // (outer, channels, inner)
                                         uint8_t *mask, // (outer, channels, inner) or NULL
                                         int64_t outer, int64_t channels, int64_t inner,
                                         const float *x,            // (outer, channels, inner)
                                         const float *scale,        // (channels,)
                                         const int32_t *zero_point, // (channels,)
                                         gaba_quant_grid grid);

// Per-channel minimum and maximum of the finite values of x (NaN and +-Inf
// are skipped); a channel without finite values gets +Inf / -Inf.
gaba_status gaba_quant_minmax_f32(float *min_val, // (channels,)
                                  float *max_val, // (channels,)
                                  int64_t outer, int64_t channels, int64_t inner,
                                  const float *x); // (outer, channels, inner)

// PyTorch's observer rule (UniformQuantizationObserverBase._calculate_qparams),
// in float32: lo = min(min_val, 0), hi = max(max_val, 0);
//   symmetric:  scale = max(-lo, hi) / ((qmax - qmin) / 2), zero_point = 0;
//   asymmetric: scale = (hi - lo) / (qmax - qmin),
//               zero_point = clamp(qmin - nearbyint(lo / scale), qmin, qmax);
// scale is then raised to at least FLT_EPSILON. +Inf/-Inf bounds (no data)
// count as 0, so an empty or all-zero channel gets scale FLT_EPSILON.
gaba_status gaba_quant_qparams_f32(float *scale,        // (channels,)
                                   int32_t *zero_point, // (channels,)
                                   int64_t channels,
                                   const float *min_val, // (channels,)
                                   const float *max_val, // (channels,)
                                   int32_t qmin, int32_t qmax, int symmetric);

// Observer step on running bounds (channels,) from a batch x:
// averaging_constant < 0 keeps the running min/max (MinMaxObserver); else the
// first batch (count == 0) initialises and later ones move the bounds by
// run += c * (batch - run) in float32 (MovingAverageMinMaxObserver). A channel
// whose batch holds no finite value keeps its running bounds.
gaba_status gaba_quant_observe_f32(float *run_min, float *run_max, // (channels,)
                                   int64_t count, float averaging_constant, int64_t outer,
                                   int64_t channels, int64_t inner,
                                   const float *x); // (outer, channels, inner)

// q = clamp(zp + round(x / scale)) stored as `storage` in q_out (zeroed
// first; gaba_quant_storage_bytes(storage, n) bytes). NaN stores zero_point.
gaba_status gaba_quant_quantize_f32(void *q_out, gaba_quant_storage storage, int64_t outer,
                                    int64_t channels, int64_t inner,
                                    const float *x,            // (outer, channels, inner)
                                    const float *scale,        // (channels,)
                                    const int32_t *zero_point, // (channels,)
                                    gaba_quant_grid grid);

// y = (q - zero_point) * scale, bit-identical to fake_quantize for finite x.
gaba_status gaba_quant_dequantize_f32(float *y, // (outer, channels, inner)
                                      int64_t outer, int64_t channels, int64_t inner, const void *q,
                                      gaba_quant_storage storage,
                                      const float *scale,         // (channels,)
                                      const int32_t *zero_point); // (channels,)

// Straight-through estimator: grad_x = grad * mask (a float multiply, as
// PyTorch's cachemask backward: NaN/Inf gradients under mask 0 give NaN).
gaba_status gaba_quant_ste_backward_f32(float *grad_x, // (n,)
                                        int64_t n,
                                        const float *grad,    // (n,)
                                        const uint8_t *mask); // (n,)

// LSQ gradients (Esser et al. 2020) exactly as PyTorch's
// _fake_quantize_learnable_per_{tensor,channel}_affine_backward computes them
// per element, with q_i = nearbyint(zp + x * (1/scale)):
//   grad_x = grad * [qmin <= q_i <= qmax]
//   inside:  d_scale = grad * (xfq - x) * (1/scale) * grad_factor, d_zp = 0
//   below:   d_scale = grad * (qmin - zp) * grad_factor, d_zp = -grad * scale * grad_factor
//   above:   same with qmax;
// grad_scale[c], grad_zero_point[c] sum the channel's terms in double.
// zero_point is float here (learnable) and is rounded half-even and clamped
// to [qmin, qmax] first, as PyTorch does. Half-even rounding only.
gaba_status gaba_quant_lsq_backward_f32(float *grad_x,          // (outer, channels, inner)
                                        float *grad_scale,      // (channels,)
                                        float *grad_zero_point, // (channels,)
                                        int64_t outer, int64_t channels, int64_t inner,
                                        const float *grad,       // (outer, channels, inner)
                                        const float *x,          // (outer, channels, inner)
                                        const float *scale,      // (channels,)
                                        const float *zero_point, // (channels,)
                                        int32_t qmin, int32_t qmax, float grad_factor);

#ifdef __cplusplus
}
#endif
#endif // GABA_QUANT_H
