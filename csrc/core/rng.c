// rng.c - PCG32 (XSH-RR variant, O'Neill 2014) and the normal draws used to
// He-initialise weights. Deterministic across platforms and compilers: the
// zoo's `create(name, seed)` gives the same weights everywhere. Not a
// cryptographic generator.
#include "gaba/gaba.h"

#include <math.h>

#define PCG_MULT 6364136223846793005ULL

uint32_t gaba_rng_u32(gaba_rng *rng) {
    uint64_t old = rng->state;
    rng->state = old * PCG_MULT + rng->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

void gaba_rng_seed(gaba_rng *rng, uint64_t seed, uint64_t stream) {
    rng->state = 0;
    rng->inc = (stream << 1u) | 1u;
    gaba_rng_u32(rng);
    rng->state += seed;
    gaba_rng_u32(rng);
}

float gaba_rng_uniform(gaba_rng *rng) { return (float)(gaba_rng_u32(rng) >> 8) * 0x1.0p-24f; }

float gaba_rng_normal(gaba_rng *rng) {
    // Box-Muller in double, so the tails are right; u1 in (0, 1] avoids log(0).
    double u1 = ((double)(gaba_rng_u32(rng) >> 8) + 1.0) * 0x1.0p-24;
    double u2 = (double)(gaba_rng_u32(rng) >> 8) * 0x1.0p-24;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

void gaba_rng_fill_normal(gaba_rng *rng, float *dst, int64_t n, float stddev) {
    for (int64_t i = 0; i < n; i++) dst[i] = stddev * gaba_rng_normal(rng);
}
