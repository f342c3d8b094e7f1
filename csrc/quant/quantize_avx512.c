// quantize_avx512.c - AVX-512 span kernels for real quantized storage: 16
// floats -> clamped integers -> int8/uint8/int16/uint16 with vpmov
// narrowing stores, or 32 values -> 16 bytes of packed nibbles (element 2i
// low); and the way back. The integers are those of quantize_ref.c, so the
// result is bit-identical. Packed spans starting on an odd element, and
// packed tails under 32 values, go to the reference (it read-modify-writes
// the shared byte).
#include "quant_kernels.h"
#include "quant_simd.h"

#include <immintrin.h>

// The clamped level as an exact integer-valued float; NaN stores zero_point.
static inline __m512 level(__m512 v, const gaba_quant_span_params *p) {
    const __m512 zp = _mm512_set1_ps(p->zero_point);
    __m512 r;
    if (p->away) {
        __m512 t = _mm512_div_ps(v, _mm512_set1_ps(p->scale));
        __m512 tr = _mm512_roundscale_ps(t, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(t, tr)),
                                          _mm512_set1_ps(0.5f), _CMP_GE_OQ);
        __m512 one = _mm512_or_ps(_mm512_set1_ps(1.0f), _mm512_and_ps(t, _mm512_set1_ps(-0.0f)));
        r = _mm512_mask_add_ps(tr, up, tr, one);
    } else {
        r = _mm512_roundscale_ps(_mm512_mul_ps(v, _mm512_set1_ps(p->inv_scale)),
                                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    }
    __m512 q = _mm512_add_ps(r, zp);
    __m512 c = _mm512_min_ps(_mm512_max_ps(q, _mm512_set1_ps(p->qmin)), _mm512_set1_ps(p->qmax));
    return _mm512_mask_mov_ps(c, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), zp);
}

static inline __mmask16 tail_lanes(int64_t left) {
    return left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
}

void gaba_quant_quantize_span_f32_avx512(int64_t n, const float *x, void *q, int64_t first,
                                         gaba_quant_storage storage,
                                         const gaba_quant_span_params *p) {
    int64_t i = 0;
    switch (storage) {
    case GABA_QUANT_S8:
    case GABA_QUANT_U8: {
        int8_t *dst = (int8_t *)q + first;
        for (; i < n; i += 16) {
            __mmask16 lanes = tail_lanes(n - i);
            __m512i v = _mm512_cvtps_epi32(level(_mm512_maskz_loadu_ps(lanes, x + i), p));
            _mm512_mask_cvtepi32_storeu_epi8(dst + i, lanes, v);
        }
        return;
    }
    case GABA_QUANT_S16:
    case GABA_QUANT_U16: {
        int16_t *dst = (int16_t *)q + first;
        for (; i < n; i += 16) {
            __mmask16 lanes = tail_lanes(n - i);
            __m512i v = _mm512_cvtps_epi32(level(_mm512_maskz_loadu_ps(lanes, x + i), p));
            _mm512_mask_cvtepi32_storeu_epi16(dst + i, lanes, v);
        }
        return;
    }
    case GABA_QUANT_S4:
    case GABA_QUANT_U4: {
        if ((first & 1) && n > 0) {
            gaba_quant_quantize_span_f32_ref(1, x, q, first, storage, p);
            i = 1;
        }
        uint8_t *dst = (uint8_t *)q + ((first + i) >> 1);
        for (; i + 32 <= n; i += 32, dst += 16) {
            __m128i a = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(level(_mm512_loadu_ps(x + i), p)));
            __m128i b =
                _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(level(_mm512_loadu_ps(x + i + 16), p)));
            _mm_storeu_si128((__m128i *)dst, gaba_quant_pack_nibbles(a, b));
        }
        if (i < n) gaba_quant_quantize_span_f32_ref(n - i, x + i, q, first + i, storage, p);
        return;
    }
    }
}

static inline void store_levels(float *y, __mmask16 lanes, __m512i ints,
                                const gaba_quant_span_params *p) {
    __m512 f = _mm512_sub_ps(_mm512_cvtepi32_ps(ints), _mm512_set1_ps(p->zero_point));
    _mm512_mask_storeu_ps(y, lanes, _mm512_mul_ps(f, _mm512_set1_ps(p->scale)));
}

void gaba_quant_dequantize_span_f32_avx512(int64_t n, const void *q, int64_t first,
                                           gaba_quant_storage storage, float *y,
                                           const gaba_quant_span_params *p) {
    int64_t i = 0;
    switch (storage) {
    case GABA_QUANT_S8:
    case GABA_QUANT_U8: {
        const int8_t *src = (const int8_t *)q + first;
        for (; i < n; i += 16) {
            __mmask16 lanes = tail_lanes(n - i);
            __m128i b = _mm_maskz_loadu_epi8(lanes, src + i);
            __m512i v = storage == GABA_QUANT_S8 ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
            store_levels(y + i, lanes, v, p);
        }
        return;
    }
    case GABA_QUANT_S16:
    case GABA_QUANT_U16: {
        const int16_t *src = (const int16_t *)q + first;
        for (; i < n; i += 16) {
            __mmask16 lanes = tail_lanes(n - i);
            __m256i b = _mm256_maskz_loadu_epi16(lanes, src + i);
            __m512i v =
                storage == GABA_QUANT_S16 ? _mm512_cvtepi16_epi32(b) : _mm512_cvtepu16_epi32(b);
            store_levels(y + i, lanes, v, p);
        }
        return;
    }
    case GABA_QUANT_S4:
    case GABA_QUANT_U4: {
        if ((first & 1) && n > 0) {
            gaba_quant_dequantize_span_f32_ref(1, q, first, storage, y, p);
            i = 1;
        }
        const uint8_t *src = (const uint8_t *)q + ((first + i) >> 1);
        for (; i + 32 <= n; i += 32, src += 16) {
            __m128i e[2];
            gaba_quant_unpack_nibbles(_mm_loadu_si128((const __m128i *)src),
                                      storage == GABA_QUANT_S4, e);
            store_levels(y + i, 0xFFFF, _mm512_cvtepi8_epi32(e[0]), p);
            store_levels(y + i + 16, 0xFFFF, _mm512_cvtepi8_epi32(e[1]), p);
        }
        if (i < n) gaba_quant_dequantize_span_f32_ref(n - i, q, first + i, storage, y + i, p);
        return;
    }
    }
}
