// quant_kernels.h - internal: the quantization family's per-ISA span kernels
// and the table quant_dispatch.c fills once. A span is a run of elements that
// share one channel's parameters; the drivers in quant.c cut tensors into
// spans and threads. Only declarations and static inlines live here: ISA
// files include it.
#ifndef GABA_QUANT_KERNELS_H
#define GABA_QUANT_KERNELS_H

#include "gaba/quant.h"

// One channel's parameters, precomputed once by the driver.
typedef struct gaba_quant_span_params {
    float scale, inv_scale; // inv_scale = 1.0f / scale, rounded once (PyTorch)
    float zero_point, qmin, qmax;
    int away; // 1: x / scale, ties away from zero (TFLite); 0: x * inv_scale, ties to even
} gaba_quant_span_params;

// Per-element parameters, for channels whose runs are too short for spans
// (a per-channel axis at or near the end): element i uses scale[i],
// inv_scale[i], zero_point[i]. The driver expands them once per call.
typedef struct gaba_quant_lane_params {
    const float *scale, *inv_scale, *zero_point; // (n,) each, indexed like x
    float qmin, qmax;
    int away;
} gaba_quant_lane_params;

// One channel's LSQ backward constants (quant.h: gaba_quant_lsq_backward_f32).
typedef struct gaba_quant_lsq_params {
    float scale, inv_scale, zero_point; // zero_point already rounded and clamped
    float qmin, qmax, d_small, d_big;   // d_small = qmin - zp, d_big = qmax - zp
    float grad_factor;
} gaba_quant_lsq_params;

// grad_x[0..n) and sums[0] += d_scale terms, sums[1] += d_zero_point terms.
typedef void (*gaba_quant_lsq_span_fn)(int64_t n, const float *grad, const float *x, float *grad_x,
                                       const gaba_quant_lsq_params *p, double sums[2]);

// y[0..n) = fake_quantize(x[0..n)); mask may be NULL.
typedef void (*gaba_quant_fq_span_fn)(int64_t n, const float *x, float *y, uint8_t *mask,
                                      const gaba_quant_span_params *p);
// Running min/max of the finite values of x[0..n) into *lo, *hi.
typedef void (*gaba_quant_minmax_span_fn)(int64_t n, const float *x, float *lo, float *hi);
// Elements [first, first + n) of the stored tensor q: quantize x[0..n) into
// them, or dequantize them into y[0..n). Packed storage: the kernel
// read-modify-writes a byte it shares with a neighbouring span.
typedef void (*gaba_quant_q_span_fn)(int64_t n, const float *x, void *q, int64_t first,
                                     gaba_quant_storage storage, const gaba_quant_span_params *p);
typedef void (*gaba_quant_dq_span_fn)(int64_t n, const void *q, int64_t first,
                                      gaba_quant_storage storage, float *y,
                                      const gaba_quant_span_params *p);
// The same four with per-element parameters; minmax lanes update lo[i], hi[i].
typedef void (*gaba_quant_fq_lanes_fn)(int64_t n, const float *x, float *y, uint8_t *mask,
                                       const gaba_quant_lane_params *p);
typedef void (*gaba_quant_minmax_lanes_fn)(int64_t n, const float *x, float *lo, float *hi);
typedef void (*gaba_quant_q_lanes_fn)(int64_t n, const float *x, void *q, int64_t first,
                                      gaba_quant_storage storage, const gaba_quant_lane_params *p);
typedef void (*gaba_quant_dq_lanes_fn)(int64_t n, const void *q, int64_t first,
                                       gaba_quant_storage storage, float *y,
                                       const gaba_quant_lane_params *p);

#define GABA_QUANT_DECLARE(isa)                                                                    \
    void gaba_quant_fake_quantize_span_f32_##isa(int64_t n, const float *x, float *y,              \
                                                 uint8_t *mask, const gaba_quant_span_params *p);  \
    void gaba_quant_minmax_span_f32_##isa(int64_t n, const float *x, float *lo, float *hi);        \
    void gaba_quant_quantize_span_f32_##isa(int64_t n, const float *x, void *q, int64_t first,     \
                                            gaba_quant_storage storage,                            \
                                            const gaba_quant_span_params *p);                      \
    void gaba_quant_dequantize_span_f32_##isa(int64_t n, const void *q, int64_t first,             \
                                              gaba_quant_storage storage, float *y,                \
                                              const gaba_quant_span_params *p);                    \
    void gaba_quant_fake_quantize_lanes_f32_##isa(int64_t n, const float *x, float *y,             \
                                                  uint8_t *mask, const gaba_quant_lane_params *p); \
    void gaba_quant_minmax_lanes_f32_##isa(int64_t n, const float *x, float *lo, float *hi);       \
    void gaba_quant_quantize_lanes_f32_##isa(int64_t n, const float *x, void *q, int64_t first,    \
                                             gaba_quant_storage storage,                           \
                                             const gaba_quant_lane_params *p);                     \
    void gaba_quant_dequantize_lanes_f32_##isa(int64_t n, const void *q, int64_t first,            \
                                               gaba_quant_storage storage, float *y,               \
                                               const gaba_quant_lane_params *p);                   \
    void gaba_quant_lsq_span_f32_##isa(int64_t n, const float *grad, const float *x,               \
                                       float *grad_x, const gaba_quant_lsq_params *p,              \
                                       double sums[2]);

GABA_QUANT_DECLARE(ref)
GABA_QUANT_DECLARE(avx2)
GABA_QUANT_DECLARE(avx512)

typedef struct gaba_quant_kernels {
    gaba_quant_fq_span_fn fake_quantize;
    gaba_quant_minmax_span_fn minmax;
    gaba_quant_q_span_fn quantize;
    gaba_quant_dq_span_fn dequantize;
    gaba_quant_fq_lanes_fn fake_quantize_lanes;
    gaba_quant_minmax_lanes_fn minmax_lanes;
    gaba_quant_q_lanes_fn quantize_lanes;
    gaba_quant_dq_lanes_fn dequantize_lanes;
    gaba_quant_lsq_span_fn lsq;
} gaba_quant_kernels;

extern gaba_quant_kernels gaba_quant_table;

#endif
