// lanes_avx512.h - internal: the mask of the first n of 16 lanes (none for
// n <= 0, all from 16 on), the tails of the AVX-512 loops. Include only from
// files compiled with the AVX-512 flags.
#ifndef GABA_CORE_LANES_AVX512_H
#define GABA_CORE_LANES_AVX512_H

#include <immintrin.h>
#include <stdint.h>

static inline __mmask16 gaba_lanes16(int64_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

#endif
