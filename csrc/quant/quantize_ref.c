// quantize_ref.c - portable reference span kernels for real quantized
// storage: float32 -> clamped integers (8/16-bit, or nibbles packed two per
// byte, element 2i low) and back. The integer is the same q as
// fake_quant_ref.c's, so dequantize(quantize(x)) == fake_quantize(x) bit for
// bit; NaN has no integer and is stored as the zero point.
#include "quant_kernels.h"

#include <math.h>

static inline int32_t quant_int(float v, const gaba_quant_span_params *p) {
    if (isnan(v)) return (int32_t)p->zero_point;
    float q = p->away ? roundf(v / p->scale) + p->zero_point
                      : nearbyintf(v * p->inv_scale) + p->zero_point;
    float c = q < p->qmin ? p->qmin : q > p->qmax ? p->qmax : q;
    return (int32_t)c;
}

void gaba_quant_quantize_span_f32_ref(int64_t n, const float *x, void *q, int64_t first,
                                      gaba_quant_storage storage, const gaba_quant_span_params *p) {
    switch (storage) {
    case GABA_QUANT_S8:
    case GABA_QUANT_U8:
        for (int64_t i = 0; i < n; i++) ((uint8_t *)q)[first + i] = (uint8_t)quant_int(x[i], p);
        break;
    case GABA_QUANT_S16:
    case GABA_QUANT_U16:
        for (int64_t i = 0; i < n; i++) ((uint16_t *)q)[first + i] = (uint16_t)quant_int(x[i], p);
        break;
    case GABA_QUANT_S4:
    case GABA_QUANT_U4:
        for (int64_t i = 0; i < n; i++) {
            int64_t e = first + i;
            uint8_t *byte = (uint8_t *)q + (e >> 1);
            unsigned nib = (unsigned)quant_int(x[i], p) & 0xFu;
            *byte = (e & 1) ? (uint8_t)((*byte & 0x0Fu) | (nib << 4))
                            : (uint8_t)((*byte & 0xF0u) | nib);
        }
        break;
    }
}

static inline int32_t stored_int(const void *q, int64_t e, gaba_quant_storage storage) {
    switch (storage) {
    case GABA_QUANT_S8: return ((const int8_t *)q)[e];
    case GABA_QUANT_U8: return ((const uint8_t *)q)[e];
    case GABA_QUANT_S16: return ((const int16_t *)q)[e];
    case GABA_QUANT_U16: return ((const uint16_t *)q)[e];
    case GABA_QUANT_S4: {
        int32_t nib = (((const uint8_t *)q)[e >> 1] >> ((e & 1) * 4)) & 0xF;
        return (nib ^ 8) - 8; // sign-extend the nibble
    }
    case GABA_QUANT_U4: return (((const uint8_t *)q)[e >> 1] >> ((e & 1) * 4)) & 0xF;
    }
    return 0;
}

void gaba_quant_dequantize_span_f32_ref(int64_t n, const void *q, int64_t first,
                                        gaba_quant_storage storage, float *y,
                                        const gaba_quant_span_params *p) {
    for (int64_t i = 0; i < n; i++)
        y[i] = ((float)stored_int(q, first + i, storage) - p->zero_point) * p->scale;
}
