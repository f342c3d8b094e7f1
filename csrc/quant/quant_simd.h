// quant_simd.h - internal: SSE2 nibble packing shared by the AVX2 and AVX-512
// storage kernels (static inlines only; included by ISA files). Element 2i
// goes to the low nibble of byte i, as quant.h documents.
#ifndef GABA_QUANT_SIMD_H
#define GABA_QUANT_SIMD_H

#include <immintrin.h>

// 32 values (two vectors of 16 int8 in -8..15) -> 16 bytes of nibble pairs:
// each 16-bit lane holds (e[2i], e[2i+1]) and becomes e[2i] & 15 | e[2i+1] << 4.
static inline __m128i gaba_quant_pack_nibbles(__m128i a, __m128i b) {
    const __m128i low = _mm_set1_epi16(0x0F), high = _mm_set1_epi16(0xF0);
    __m128i wa = _mm_or_si128(_mm_and_si128(a, low), _mm_and_si128(_mm_srli_epi16(a, 4), high));
    __m128i wb = _mm_or_si128(_mm_and_si128(b, low), _mm_and_si128(_mm_srli_epi16(b, 4), high));
    return _mm_packus_epi16(wa, wb);
}

// 16 bytes -> values 0..15 (e[0]) and 16..31 (e[1]) as int8, sign-extended
// from 4 bits ((v ^ 8) - 8) when `is_signed`.
static inline void gaba_quant_unpack_nibbles(__m128i bytes, int is_signed, __m128i e[2]) {
    const __m128i nib = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
    __m128i lo = _mm_and_si128(bytes, nib), hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), nib);
    e[0] = _mm_unpacklo_epi8(lo, hi);
    e[1] = _mm_unpackhi_epi8(lo, hi);
    if (is_signed) {
        e[0] = _mm_sub_epi8(_mm_xor_si128(e[0], eight), eight);
        e[1] = _mm_sub_epi8(_mm_xor_si128(e[1], eight), eight);
    }
}

// Calls the always-inlined SPAN(n, x, y, mask, p, away, with_mask) with
// compile-time flags, so each of the four loops is specialised.
#define GABA_QUANT_FQ_SPECIALISE(SPAN, n, x, y, mask, p)                                           \
    do {                                                                                           \
        if ((p)->away) {                                                                           \
            if (mask)                                                                              \
                SPAN(n, x, y, mask, p, 1, 1);                                                      \
            else                                                                                   \
                SPAN(n, x, y, mask, p, 1, 0);                                                      \
        } else {                                                                                   \
            if (mask)                                                                              \
                SPAN(n, x, y, mask, p, 0, 1);                                                      \
            else                                                                                   \
                SPAN(n, x, y, mask, p, 0, 0);                                                      \
        }                                                                                          \
    } while (0)

#endif
