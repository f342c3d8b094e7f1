// quantize_avx2.c - AVX2 span kernels for real quantized storage: 8 floats ->
// clamped integers -> int8/uint8/int16/uint16 with saturating packs (values
// are already in range, so saturation never triggers), or 32 values -> 16
// bytes of packed nibbles (element 2i low); and the way back. Same integers
// as quantize_ref.c, hence bit-identical; tails and odd-aligned packed starts
// go to the reference.
#include "quant_kernels.h"
#include "quant_simd.h"

#include <immintrin.h>

// The clamped level as an exact integer-valued float; NaN stores zero_point.
static inline __m256 level(__m256 v, const gaba_quant_span_params *p) {
    const __m256 zp = _mm256_set1_ps(p->zero_point), sign = _mm256_set1_ps(-0.0f);
    __m256 r;
    if (p->away) {
        __m256 t = _mm256_div_ps(v, _mm256_set1_ps(p->scale));
        __m256 tr = _mm256_round_ps(t, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __m256 up = _mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_sub_ps(t, tr)),
                                  _mm256_set1_ps(0.5f), _CMP_GE_OQ);
        __m256 one = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(t, sign));
        r = _mm256_add_ps(tr, _mm256_and_ps(up, one));
    } else {
        r = _mm256_round_ps(_mm256_mul_ps(v, _mm256_set1_ps(p->inv_scale)),
                            _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    }
    __m256 q = _mm256_add_ps(r, zp);
    __m256 c = _mm256_min_ps(_mm256_max_ps(q, _mm256_set1_ps(p->qmin)), _mm256_set1_ps(p->qmax));
    return _mm256_blendv_ps(c, zp, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
}

// 8 int32 lanes -> 8 int16 (signed saturation; unsigned for U16).
static inline __m128i to_i16(__m256 c, int unsigned16) {
    __m256i v = _mm256_cvtps_epi32(c);
    __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
    return unsigned16 ? _mm_packus_epi32(lo, hi) : _mm_packs_epi32(lo, hi);
}

void gaba_quant_quantize_span_f32_avx2(int64_t n, const float *x, void *q, int64_t first,
                                       gaba_quant_storage storage,
                                       const gaba_quant_span_params *p) {
    int64_t i = 0;
    switch (storage) {
    case GABA_QUANT_S8:
    case GABA_QUANT_U8: {
        uint8_t *dst = (uint8_t *)q + first;
        for (; i + 8 <= n; i += 8) {
            __m128i w = to_i16(level(_mm256_loadu_ps(x + i), p), 0);
            __m128i b = storage == GABA_QUANT_S8 ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
            _mm_storel_epi64((__m128i *)(dst + i), b);
        }
        break;
    }
    case GABA_QUANT_S16:
    case GABA_QUANT_U16: {
        uint16_t *dst = (uint16_t *)q + first;
        for (; i + 8 <= n; i += 8)
            _mm_storeu_si128((__m128i *)(dst + i),
                             to_i16(level(_mm256_loadu_ps(x + i), p), storage == GABA_QUANT_U16));
        break;
    }
    case GABA_QUANT_S4:
    case GABA_QUANT_U4: {
        if ((first & 1) && n > 0) {
            gaba_quant_quantize_span_f32_ref(1, x, q, first, storage, p);
            i = 1;
        }
        uint8_t *dst = (uint8_t *)q + ((first + i) >> 1);
        for (; i + 32 <= n; i += 32, dst += 16) {
            __m128i a = _mm_packs_epi16(to_i16(level(_mm256_loadu_ps(x + i), p), 0),
                                        to_i16(level(_mm256_loadu_ps(x + i + 8), p), 0));
            __m128i b = _mm_packs_epi16(to_i16(level(_mm256_loadu_ps(x + i + 16), p), 0),
                                        to_i16(level(_mm256_loadu_ps(x + i + 24), p), 0));
            _mm_storeu_si128((__m128i *)dst, gaba_quant_pack_nibbles(a, b));
        }
        break;
    }
    }
    if (i < n) gaba_quant_quantize_span_f32_ref(n - i, x + i, q, first + i, storage, p);
}

static inline void store_levels(float *y, __m256i ints, const gaba_quant_span_params *p) {
    __m256 f = _mm256_sub_ps(_mm256_cvtepi32_ps(ints), _mm256_set1_ps(p->zero_point));
    _mm256_storeu_ps(y, _mm256_mul_ps(f, _mm256_set1_ps(p->scale)));
}

void gaba_quant_dequantize_span_f32_avx2(int64_t n, const void *q, int64_t first,
                                         gaba_quant_storage storage, float *y,
                                         const gaba_quant_span_params *p) {
    int64_t i = 0;
    switch (storage) {
    case GABA_QUANT_S8:
    case GABA_QUANT_U8: {
        const uint8_t *src = (const uint8_t *)q + first;
        for (; i + 8 <= n; i += 8) {
            __m128i b = _mm_loadl_epi64((const __m128i *)(src + i));
            __m256i v =
                storage == GABA_QUANT_S8 ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
            store_levels(y + i, v, p);
        }
        break;
    }
    case GABA_QUANT_S16:
    case GABA_QUANT_U16: {
        const uint16_t *src = (const uint16_t *)q + first;
        for (; i + 8 <= n; i += 8) {
            __m128i b = _mm_loadu_si128((const __m128i *)(src + i));
            store_levels(
                y + i,
                storage == GABA_QUANT_S16 ? _mm256_cvtepi16_epi32(b) : _mm256_cvtepu16_epi32(b), p);
        }
        break;
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
            for (int k = 0; k < 2; k++) {
                store_levels(y + i + 16 * k, _mm256_cvtepi8_epi32(e[k]), p);
                store_levels(y + i + 16 * k + 8, _mm256_cvtepi8_epi32(_mm_srli_si128(e[k], 8)), p);
            }
        }
        break;
    }
    }
    if (i < n) gaba_quant_dequantize_span_f32_ref(n - i, q, first + i, storage, y + i, p);
}

// Per-element parameters (a per-channel axis near the end) take the
// reference loops at this level; the AVX-512 level vectorises them.
void gaba_quant_quantize_lanes_f32_avx2(int64_t n, const float *x, void *q, int64_t first,
                                        gaba_quant_storage storage,
                                        const gaba_quant_lane_params *p) {
    gaba_quant_quantize_lanes_f32_ref(n, x, q, first, storage, p);
}

void gaba_quant_dequantize_lanes_f32_avx2(int64_t n, const void *q, int64_t first,
                                          gaba_quant_storage storage, float *y,
                                          const gaba_quant_lane_params *p) {
    gaba_quant_dequantize_lanes_f32_ref(n, q, first, storage, y, p);
}
