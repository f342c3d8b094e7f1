// quantize_avx512.c - AVX-512 span and lanes kernels for real quantized
// storage: 16 floats -> clamped integers -> int8/uint8/int16/uint16 with
// vpmov narrowing stores, or 32 values -> 16 bytes of packed nibbles
// (element 2i low); and the way back. The integers are those of
// quantize_ref.c, so the result is bit-identical. Packed runs starting on an
// odd element, and packed tails under 32 values, go to the reference (it
// read-modify-writes the shared byte).
#include "quant_kernels.h"
#include "quant_simd.h"
#include "../core/lanes_avx512.h"

#include <immintrin.h>

// Parameters of 16 consecutive elements: one channel's broadcast (span) or
// per-element loads (lanes; masked-off lanes read scale 0 and are never stored).
typedef struct q_vecs {
    __m512 scale, inv, zp, lo, hi;
} q_vecs;

typedef struct q_source {
    const gaba_quant_span_params *span; // or NULL: use lanes
    const gaba_quant_lane_params *lanes;
    q_vecs fixed; // the span's broadcasts, made once per run
} q_source;

static inline q_source span_source(const gaba_quant_span_params *p) {
    return (q_source){p,
                      NULL,
                      {_mm512_set1_ps(p->scale), _mm512_set1_ps(p->inv_scale),
                       _mm512_set1_ps(p->zero_point), _mm512_set1_ps(p->qmin),
                       _mm512_set1_ps(p->qmax)}};
}

static inline q_source lanes_source(const gaba_quant_lane_params *p) {
    const __m512 zero = _mm512_setzero_ps();
    return (q_source){NULL, p, {zero, zero, zero, zero, zero}};
}

static inline __attribute__((always_inline)) q_vecs params_at(q_source s, int64_t i,
                                                              __mmask16 lanes) {
    if (s.span) return s.fixed;
    return (q_vecs){_mm512_maskz_loadu_ps(lanes, s.lanes->scale + i),
                    _mm512_maskz_loadu_ps(lanes, s.lanes->inv_scale + i),
                    _mm512_maskz_loadu_ps(lanes, s.lanes->zero_point + i),
                    _mm512_set1_ps(s.lanes->qmin), _mm512_set1_ps(s.lanes->qmax)};
}

// The reference for elements [i, i + n) of a run.
static void quantize_ref_at(q_source s, int64_t i, int64_t n, const float *x, void *q,
                            int64_t first, gaba_quant_storage storage) {
    if (s.span) {
        gaba_quant_quantize_span_f32_ref(n, x + i, q, first + i, storage, s.span);
    } else {
        gaba_quant_lane_params p = *s.lanes;
        p.scale += i, p.inv_scale += i, p.zero_point += i;
        gaba_quant_quantize_lanes_f32_ref(n, x + i, q, first + i, storage, &p);
    }
}

static void dequantize_ref_at(q_source s, int64_t i, int64_t n, const void *q, int64_t first,
                              gaba_quant_storage storage, float *y) {
    if (s.span) {
        gaba_quant_dequantize_span_f32_ref(n, q, first + i, storage, y + i, s.span);
    } else {
        gaba_quant_lane_params p = *s.lanes;
        p.scale += i, p.inv_scale += i, p.zero_point += i;
        gaba_quant_dequantize_lanes_f32_ref(n, q, first + i, storage, y + i, &p);
    }
}

// The clamped level as an exact integer-valued float; NaN stores zero_point.
static inline __m512 level(__m512 v, q_vecs p, int away) {
    __m512 r;
    if (away) {
        __m512 t = _mm512_div_ps(v, p.scale);
        __m512 tr = _mm512_roundscale_ps(t, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(t, tr)), _mm512_set1_ps(0.5f),
                                          _CMP_GE_OQ);
        __m512 one = _mm512_or_ps(_mm512_set1_ps(1.0f), _mm512_and_ps(t, _mm512_set1_ps(-0.0f)));
        r = _mm512_mask_add_ps(tr, up, tr, one);
    } else {
        r = _mm512_roundscale_ps(_mm512_mul_ps(v, p.inv),
                                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    }
    __m512 c = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(r, p.zp), p.lo), p.hi);
    return _mm512_mask_mov_ps(c, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), p.zp);
}

static inline __m512i level_i32(const float *x, int64_t i, __mmask16 lanes, q_source s, int away) {
    return _mm512_cvtps_epi32(
        level(_mm512_maskz_loadu_ps(lanes, x + i), params_at(s, i, lanes), away));
}

static inline __attribute__((always_inline)) void quantize_run(int64_t n, const float *x, void *q,
                                                               int64_t first,
                                                               gaba_quant_storage storage,
                                                               q_source s, int away) {
    int64_t i = 0;
    switch (storage) {
    case GABA_QUANT_S8:
    case GABA_QUANT_U8:
        for (; i < n; i += 16) {
            __mmask16 lanes = gaba_lanes16(n - i);
            _mm512_mask_cvtepi32_storeu_epi8((int8_t *)q + first + i, lanes,
                                             level_i32(x, i, lanes, s, away));
        }
        return;
    case GABA_QUANT_S16:
    case GABA_QUANT_U16:
        for (; i < n; i += 16) {
            __mmask16 lanes = gaba_lanes16(n - i);
            _mm512_mask_cvtepi32_storeu_epi16((int16_t *)q + first + i, lanes,
                                              level_i32(x, i, lanes, s, away));
        }
        return;
    case GABA_QUANT_S4:
    case GABA_QUANT_U4:
        if ((first & 1) && n > 0) quantize_ref_at(s, i++, 1, x, q, first, storage);
        for (; i + 32 <= n; i += 32) {
            __m128i a = _mm512_cvtepi32_epi8(level_i32(x, i, 0xFFFF, s, away));
            __m128i b = _mm512_cvtepi32_epi8(level_i32(x, i + 16, 0xFFFF, s, away));
            _mm_storeu_si128((__m128i *)((uint8_t *)q + ((first + i) >> 1)),
                             gaba_quant_pack_nibbles(a, b));
        }
        if (i < n) quantize_ref_at(s, i, n - i, x, q, first, storage);
        return;
    }
}

static inline void store_levels(float *y, __mmask16 lanes, __m512i ints, q_vecs p) {
    __m512 f = _mm512_sub_ps(_mm512_cvtepi32_ps(ints), p.zp);
    _mm512_mask_storeu_ps(y, lanes, _mm512_mul_ps(f, p.scale));
}

static inline __attribute__((always_inline)) void dequantize_run(int64_t n, const void *q,
                                                                 int64_t first,
                                                                 gaba_quant_storage storage,
                                                                 float *y, q_source s) {
    int64_t i = 0;
    switch (storage) {
    case GABA_QUANT_S8:
    case GABA_QUANT_U8:
        for (; i < n; i += 16) {
            __mmask16 lanes = gaba_lanes16(n - i);
            __m128i b = _mm_maskz_loadu_epi8(lanes, (const int8_t *)q + first + i);
            __m512i v =
                storage == GABA_QUANT_S8 ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
            store_levels(y + i, lanes, v, params_at(s, i, lanes));
        }
        return;
    case GABA_QUANT_S16:
    case GABA_QUANT_U16:
        for (; i < n; i += 16) {
            __mmask16 lanes = gaba_lanes16(n - i);
            __m256i b = _mm256_maskz_loadu_epi16(lanes, (const int16_t *)q + first + i);
            __m512i v =
                storage == GABA_QUANT_S16 ? _mm512_cvtepi16_epi32(b) : _mm512_cvtepu16_epi32(b);
            store_levels(y + i, lanes, v, params_at(s, i, lanes));
        }
        return;
    case GABA_QUANT_S4:
    case GABA_QUANT_U4:
        if ((first & 1) && n > 0) dequantize_ref_at(s, i++, 1, q, first, storage, y);
        for (; i + 32 <= n; i += 32) {
            __m128i e[2];
            const uint8_t *src = (const uint8_t *)q + ((first + i) >> 1);
            gaba_quant_unpack_nibbles(_mm_loadu_si128((const __m128i *)src),
                                      storage == GABA_QUANT_S4, e);
            store_levels(y + i, 0xFFFF, _mm512_cvtepi8_epi32(e[0]), params_at(s, i, 0xFFFF));
            store_levels(y + i + 16, 0xFFFF, _mm512_cvtepi8_epi32(e[1]),
                         params_at(s, i + 16, 0xFFFF));
        }
        if (i < n) dequantize_ref_at(s, i, n - i, q, first, storage, y);
        return;
    }
}

void gaba_quant_quantize_span_f32_avx512(int64_t n, const float *x, void *q, int64_t first,
                                         gaba_quant_storage storage,
                                         const gaba_quant_span_params *p) {
    q_source s = span_source(p);
    if (p->away)
        quantize_run(n, x, q, first, storage, s, 1);
    else
        quantize_run(n, x, q, first, storage, s, 0);
}

void gaba_quant_quantize_lanes_f32_avx512(int64_t n, const float *x, void *q, int64_t first,
                                          gaba_quant_storage storage,
                                          const gaba_quant_lane_params *p) {
    q_source s = lanes_source(p);
    if (p->away)
        quantize_run(n, x, q, first, storage, s, 1);
    else
        quantize_run(n, x, q, first, storage, s, 0);
}

void gaba_quant_dequantize_span_f32_avx512(int64_t n, const void *q, int64_t first,
                                           gaba_quant_storage storage, float *y,
                                           const gaba_quant_span_params *p) {
    dequantize_run(n, q, first, storage, y, span_source(p));
}

void gaba_quant_dequantize_lanes_f32_avx512(int64_t n, const void *q, int64_t first,
                                            gaba_quant_storage storage, float *y,
                                            const gaba_quant_lane_params *p) {
    dequantize_run(n, q, first, storage, y, lanes_source(p));
}
