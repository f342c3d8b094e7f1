// qnn_gemm_avx512vnni.c - the int8 conv/dense product with AVX-512 VNNI and
// the output stage fused (qnn_kernels.h, gaba_qnn_gemm_fn): tiles of up to
// 8 output channels x 48 pixels in 24 zmm accumulators. The packed
// activations (x + 128 as unsigned bytes, 4 k steps per 32-bit lane) are the
// vector operand of vpdpbusd; each weight row's 4 signed bytes are
// broadcast straight from the plain (c_out, K) weights, so nothing is
// repacked per call. The tile is requantized in registers and stored as
// int8 rows (no int32 buffer). The tile loops are unrolled (pragmas) so the
// accumulators stay in registers.
#include "qnn_avx512_impl.h"

#include <string.h>

#define MR 8
#define NV 3 // vectors of 16 pixels

static inline __attribute__((always_inline)) void tile(const gaba_qnn_layer *q, int64_t c0,
                                                       int mr, int nv, int64_t k,
                                                       const uint8_t *xp, int64_t np, int64_t n,
                                                       int8_t *y, int64_t rs_y) {
    __m512i acc[MR][NV];
    #pragma GCC unroll 8
    for (int i = 0; i < mr; i++)
        #pragma GCC unroll 8
        for (int v = 0; v < nv; v++) acc[i][v] = _mm512_setzero_si512();
    const int8_t *w = q->w + c0 * k;
    int64_t kf = k / 4;
    for (int64_t g = 0; g < kf; g++) {
        __m512i xv[NV];
        #pragma GCC unroll 8
        for (int v = 0; v < nv; v++) xv[v] = _mm512_loadu_si512(xp + (g * np + 16 * v) * 4);
        #pragma GCC unroll 8
        for (int i = 0; i < mr; i++) {
            int32_t wi;
            memcpy(&wi, w + i * k + 4 * g, 4);
            __m512i wv = _mm512_set1_epi32(wi);
            #pragma GCC unroll 8
            for (int v = 0; v < nv; v++) acc[i][v] = _mm512_dpbusd_epi32(acc[i][v], xv[v], wv);
        }
    }
    if (k % 4) { // the last group: its missing k steps are 0 in xp
        __m512i xv[NV];
        #pragma GCC unroll 8
        for (int v = 0; v < nv; v++) xv[v] = _mm512_loadu_si512(xp + (kf * np + 16 * v) * 4);
        #pragma GCC unroll 8
        for (int i = 0; i < mr; i++) {
            int32_t wi = 0;
            memcpy(&wi, w + i * k + 4 * kf, (size_t)(k % 4));
            __m512i wv = _mm512_set1_epi32(wi);
            #pragma GCC unroll 8
            for (int v = 0; v < nv; v++) acc[i][v] = _mm512_dpbusd_epi32(acc[i][v], xv[v], wv);
        }
    }
    #pragma GCC unroll 8
    for (int i = 0; i < mr; i++) {
        int64_t c = c0 + i;
        const gaba_qnn_v16 rq = gaba_qnn_v16_init(q->bias_eff[c], q->mult[c], q->shift[c],
                                                  q->out_zp, q->act_min, q->act_max);
        #pragma GCC unroll 8
        for (int v = 0; v < nv; v++) {
            int64_t left = n - 16 * v;
            __mmask16 m = left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
            _mm512_mask_cvtsepi32_storeu_epi8(y + i * rs_y + 16 * v, m,
                                              gaba_qnn_v16_requant(&rq, acc[i][v]));
        }
    }
}

// One case per row count, so each tile is compiled with constant bounds
// (the accumulators stay in registers).
#define ROWS_CASE(m)                                                                        \
    case m:                                                                                 \
        if (nv == 3) tile(q, ci, m, 3, k, xj, np, nj, yi, rs_y);                            \
        else if (nv == 2) tile(q, ci, m, 2, k, xj, np, nj, yi, rs_y);                       \
        else tile(q, ci, m, 1, k, xj, np, nj, yi, rs_y);                                    \
        break;

void gaba_qnn_gemm_avx512vnni(const gaba_qnn_layer *q, int64_t c0, int64_t co, int64_t k,
                              int64_t n, const uint8_t *xp, int64_t np, int8_t *y,
                              int64_t rs_y) {
    for (int64_t j = 0; j < n; j += 16 * NV) {
        int64_t nj = n - j < 16 * NV ? n - j : 16 * NV;
        int nv = (int)((nj + 15) / 16);
        const uint8_t *xj = xp + 4 * j;
        for (int64_t i = 0; i < co; i += MR) {
            int64_t ci = c0 + i;
            int8_t *yi = y + i * rs_y + j;
            switch (co - i < MR ? co - i : MR) {
                ROWS_CASE(1) ROWS_CASE(2) ROWS_CASE(3) ROWS_CASE(4)
                ROWS_CASE(5) ROWS_CASE(6) ROWS_CASE(7) ROWS_CASE(8)
            }
        }
    }
}
