// conv_avx512vnni.c - the int8 conv product with AVX-512 VNNI and
// the output stage fused (qnn_kernels.h, gaba_qnn_gemm_fn): tiles of 8
// output channels x up to 48 pixels in 24 zmm accumulators. The packed
// activations (x + 128 as unsigned bytes, 4 k steps per 32-bit lane) are the
// vector operand of vpdpbusd; each weight row's 4 signed bytes are
// broadcast straight from the plain (c_out, K) weights, so nothing is
// repacked per call. A tile with fewer than 8 channels repeats its last row
// (computed, not stored). The accumulators start at the bias; the tile is
// requantized in registers (each row's output stage set up once per call;
// no float clamp where it is int8's range: the stores saturate) and stored
// as int8 rows (no int32 buffer). Dense runs dense_avx512vnni.c instead.
#include "qnn_avx512_impl.h"

#include <string.h>

#define MR 8

#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

// The first `bytes` (1..4) bytes at p in every lane, the rest 0.
static inline __m512i bcast(const int8_t *p, int64_t bytes) {
    return _mm512_set1_epi32(gaba_qnn_load_k4(p, bytes));
}

#define dpbusd gaba_qnn_dpbusd

// nv (1..3) vectors of 16 pixels; the named accumulators stay in registers.
static inline __attribute__((always_inline)) void tile(const gaba_qnn_layer *q, int64_t c0,
                                                       int64_t mr, const gaba_qnn_v16 *rq,
                                                       const int nv, const int clamp, int64_t k,
                                                       const uint8_t *xp, int64_t np, int64_t n,
                                                       int8_t *y, int64_t rs_y) {
#define ROWPTR(i) const int8_t *w##i = q->w + (c0 + (i < mr ? i : mr - 1)) * k;
    ROWS(ROWPTR)
#define DECL(i)                                                                                    \
    __m512i a##i##0 = _mm512_set1_epi32(rq[i].bias), a##i##1 = a##i##0, a##i##2 = a##i##0;
    ROWS(DECL)
#define DOT_FROM(i, src, bytes)                                                                    \
    {                                                                                              \
        __m512i wv = bcast(src, bytes);                                                            \
        a##i##0 = dpbusd(a##i##0, x0, wv);                                                         \
        if (nv > 1) a##i##1 = dpbusd(a##i##1, x1, wv);                                             \
        if (nv > 2) a##i##2 = dpbusd(a##i##2, x2, wv);                                             \
    }
#define DOT(i) DOT_FROM(i, w##i + 4 * g, 4)
#define DOT_TAIL(i) DOT_FROM(i, w##i + 4 * kf, r)
    int64_t kf = k / 4;
    for (int64_t g = 0; g < kf; g++) {
        const uint8_t *xg = xp + g * np * 4;
        __m512i x0 = _mm512_loadu_si512(xg), x1 = x0, x2 = x0;
        if (nv > 1) x1 = _mm512_loadu_si512(xg + 64);
        if (nv > 2) x2 = _mm512_loadu_si512(xg + 128);
        ROWS(DOT)
    }
    if (k % 4) { // the last group: its missing k steps are 0 in xp
        const int64_t r = k % 4;
        const uint8_t *xg = xp + kf * np * 4;
        __m512i x0 = _mm512_loadu_si512(xg), x1 = x0, x2 = x0;
        if (nv > 1) x1 = _mm512_loadu_si512(xg + 64);
        if (nv > 2) x2 = _mm512_loadu_si512(xg + 128);
        ROWS(DOT_TAIL)
    }
    __mmask16 m0 = n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1);
    __mmask16 m1 = n >= 32 ? 0xffff : n <= 16 ? 0 : (__mmask16)((1u << (n - 16)) - 1);
    __mmask16 m2 = n >= 48 ? 0xffff : n <= 32 ? 0 : (__mmask16)((1u << (n - 32)) - 1);
#define STORE(i)                                                                                   \
    if (i < mr) {                                                                                  \
        int8_t *yr = y + i * rs_y;                                                                 \
        _mm512_mask_cvtsepi32_storeu_epi8(yr, m0,                                                  \
                                          gaba_qnn_v16_requant_biased(&rq[i], a##i##0, clamp));    \
        if (nv > 1)                                                                                \
            _mm512_mask_cvtsepi32_storeu_epi8(                                                     \
                yr + 16, m1, gaba_qnn_v16_requant_biased(&rq[i], a##i##1, clamp));                 \
        if (nv > 2)                                                                                \
            _mm512_mask_cvtsepi32_storeu_epi8(                                                     \
                yr + 32, m2, gaba_qnn_v16_requant_biased(&rq[i], a##i##2, clamp));                 \
    }
    ROWS(STORE)
}

void gaba_qnn_gemm_avx512vnni(const gaba_qnn_layer *q, int64_t c0, int64_t co, int64_t k, int64_t n,
                              const uint8_t *xp, int64_t np, int8_t *y, int64_t rs_y) {
    for (int64_t i = 0; i < co; i += MR) {
        int64_t mr = co - i < MR ? co - i : MR;
        gaba_qnn_v16 rq[MR]; // the rows' output stages, set up once for all their pixels
        int unclamped = 1;   // every row's stage may skip the clamp: the stores saturate
        for (int64_t r = 0; r < MR; r++) {
            int64_t c = c0 + i + (r < mr ? r : mr - 1);
            rq[r] = gaba_qnn_v16_init(q->bias_eff[c], q->mult[c], q->shift[c], q->out_zp,
                                      q->act_min, q->act_max);
            unclamped &= gaba_qnn_v16_unclamped_ok(&rq[r]);
        }
        for (int64_t j = 0; j < n; j += 48) {
            int64_t nj = n - j < 48 ? n - j : 48;
            const uint8_t *xj = xp + 4 * j;
            int8_t *yi = y + i * rs_y + j;
            if (unclamped) {
                if (nj > 32)
                    tile(q, c0 + i, mr, rq, 3, 0, k, xj, np, nj, yi, rs_y);
                else if (nj > 16)
                    tile(q, c0 + i, mr, rq, 2, 0, k, xj, np, nj, yi, rs_y);
                else
                    tile(q, c0 + i, mr, rq, 1, 0, k, xj, np, nj, yi, rs_y);
            } else if (nj > 32)
                tile(q, c0 + i, mr, rq, 3, 1, k, xj, np, nj, yi, rs_y);
            else if (nj > 16)
                tile(q, c0 + i, mr, rq, 2, 1, k, xj, np, nj, yi, rs_y);
            else
                tile(q, c0 + i, mr, rq, 1, 1, k, xj, np, nj, yi, rs_y);
        }
    }
}
