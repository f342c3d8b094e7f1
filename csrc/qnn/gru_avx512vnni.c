// gru_avx512vnni.c - the int8 GRU's input projections with AVX-512 VNNI
// (qnn_kernels.h, gaba_qnn_gru_proj_fn; gru.c's reference loops): the
// input as the conv's packed operand (x + 128, 4 inputs per 32-bit lane,
// one row of steps per quadruple), each step's quadruple broadcast against
// 16 gate rows of the packed W_ih per vpdpbusd. Tiles of 4 steps x 6
// vectors (96 gate rows) in 24 accumulators; each is written as a row of
// xp (T, 3H), the layout the recurrence reads, as float32 of
// (sum + bias_eff) * acc_scale.
#include "qnn_avx512_impl.h"
#include "qnn_impl.h"
#include "../core/lanes_avx512.h"

#define NB 6 // vectors of gate rows per tile
#define NS 4 // steps per tile

// Steps s0 .. s0 + ns of gate rows 16 v0 .. 16 (v0 + nb); ns, nb constants where inlined.
static inline __attribute__((always_inline)) void tile(const gaba_qnn_layer *q, int ns, int nb,
                                                       int64_t g4, int64_t ld, int64_t g3,
                                                       const uint8_t *xq, int64_t np, int64_t s0,
                                                       int64_t v0, float *xp) {
    __m512i acc[NS][NB];
    for (int u = 0; u < ns; u++)
        for (int v = 0; v < nb; v++) acc[u][v] = _mm512_setzero_si512();
    const int8_t *w = q->w + 64 * v0;
    for (int64_t g = 0; g < g4; g++, w += 4 * ld) {
        __m512i x[NS];
        for (int u = 0; u < ns; u++) {
            int32_t quad;
            memcpy(&quad, xq + (g * np + s0 + u) * 4, 4);
            x[u] = _mm512_set1_epi32(quad);
        }
        for (int v = 0; v < nb; v++) {
            const __m512i wv = _mm512_loadu_si512(w + 64 * v);
            for (int u = 0; u < ns; u++) acc[u][v] = gaba_qnn_dpbusd(acc[u][v], x[u], wv);
        }
    }
    for (int v = 0; v < nb; v++) {
        const int64_t j = 16 * (v0 + v);
        const __mmask16 m = gaba_lanes16(g3 - j);
        const __m512i beff = _mm512_maskz_loadu_epi32(m, q->bias_eff + j);
        const __m512 scale = _mm512_maskz_loadu_ps(m, q->acc_scale + j);
        for (int u = 0; u < ns; u++)
            _mm512_mask_storeu_ps(
                xp + (s0 + u) * g3 + j, m,
                _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(acc[u][v], beff)), scale));
    }
}

#define TILES(ns)                                                                                  \
    switch (nb) {                                                                                  \
    case 1: tile(q, ns, 1, g4, ld, g3, xq, np, s0, v0, xp); break;                                 \
    case 2: tile(q, ns, 2, g4, ld, g3, xq, np, s0, v0, xp); break;                                 \
    case 3: tile(q, ns, 3, g4, ld, g3, xq, np, s0, v0, xp); break;                                 \
    case 4: tile(q, ns, 4, g4, ld, g3, xq, np, s0, v0, xp); break;                                 \
    case 5: tile(q, ns, 5, g4, ld, g3, xq, np, s0, v0, xp); break;                                 \
    default: tile(q, ns, NB, g4, ld, g3, xq, np, s0, v0, xp); break;                               \
    }

void gaba_qnn_gru_proj_avx512vnni(const gaba_qnn_layer *q, int64_t f, int64_t t, const int8_t *x,
                                  float *xp, void *scratch) {
    const int64_t hd = q->layer.p[0], g3 = 3 * hd, ld = gaba_nn_gru_ld(hd), nv = ld / 16;
    const int64_t g4 = (f + 3) / 4, np = gaba_qnn_round16(t);
    uint8_t *xq = scratch;
    gaba_nn_table.qpack(f, t, x, t, xq); // x (F, T): k = the inputs, n = the steps
    for (int64_t v0 = 0; v0 < nv; v0 += NB) {
        const int64_t nb = nv - v0 < NB ? nv - v0 : NB;
        int64_t s0 = 0;
        for (; s0 + NS <= t; s0 += NS) TILES(NS)
        for (; s0 < t; s0++) TILES(1)
    }
}
