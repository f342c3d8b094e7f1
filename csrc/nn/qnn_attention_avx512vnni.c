// qnn_attention_avx512vnni.c - the int8 attention's two int16 products with
// AVX-512 VNNI (the rest is qnn_attention_avx2.c's): vpdpwssd multiplies a
// pair row by a row's broadcast pair and adds both products to 16 int32
// lanes, exactly as vpmaddwd and an add do; tiles of 6 rows x 32 lanes in
// 12 zmm accumulators, the lanes past n masked (the pair rows are rounded
// to 8 lanes only), the output stage on the registers (qnn_avx512_impl.h).
#include "qnn_avx512_impl.h"

#define MR 6

#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

static inline __attribute__((always_inline)) void
pair_tile(int64_t kt, const int32_t *a, int64_t a_ms, int64_t a_ts, int64_t mr, const int32_t *b,
          int64_t ldb, const int nv, __mmask16 m0, __mmask16 m1, const gaba_qnn_v16 *rq,
          const int clamp, int8_t *y, int64_t rs_y) {
#define APTR(i) const int32_t *a##i = a + (i < mr ? i : mr - 1) * a_ms;
    ROWS(APTR)
#define DECL(i) __m512i c##i = _mm512_setzero_si512(), d##i = c##i;
    ROWS(DECL)
    for (int64_t t = 0; t < kt; t++) {
        const int32_t *bt = b + t * ldb;
        const __m512i b0 = _mm512_maskz_loadu_epi32(m0, bt);
        const __m512i b1 = nv == 2 ? _mm512_maskz_loadu_epi32(m1, bt + 16) : b0;
#define MAC(i)                                                                              \
    {                                                                                       \
        const __m512i av = _mm512_set1_epi32(a##i[t * a_ts]);                               \
        c##i = _mm512_dpwssd_epi32(c##i, b0, av);                                           \
        if (nv == 2) d##i = _mm512_dpwssd_epi32(d##i, b1, av);                              \
    }
        ROWS(MAC)
    }
#define STORE(i)                                                                            \
    if (i < mr) {                                                                           \
        int8_t *yi = y + i * rs_y;                                                          \
        _mm512_mask_cvtsepi32_storeu_epi8(yi, m0, gaba_qnn_v16_requant_biased(rq, c##i, clamp)); \
        if (nv == 2)                                                                        \
            _mm512_mask_cvtsepi32_storeu_epi8(yi + 16, m1, gaba_qnn_v16_requant_biased(rq, d##i, clamp)); \
    }
    ROWS(STORE)
}

static void pair_product(int64_t m, int64_t n, int64_t kt, const int32_t *a, int64_t a_ms,
                         int64_t a_ts, const int32_t *b, int64_t ldb, int32_t mult, int32_t shift,
                         int32_t zp, int8_t *y, int64_t rs_y) {
    const gaba_qnn_v16 rq = gaba_qnn_v16_init(0, mult, shift, zp, -128, 127);
    const int unclamped = gaba_qnn_v16_unclamped_ok(&rq);
    for (int64_t j = 0; j < n; j += 32) {
        const int64_t nj = n - j < 32 ? n - j : 32;
        const __mmask16 m0 = nj >= 16 ? 0xffff : (__mmask16)((1u << nj) - 1);
        const __mmask16 m1 = nj >= 32 ? 0xffff : nj <= 16 ? 0 : (__mmask16)((1u << (nj - 16)) - 1);
        for (int64_t i = 0; i < m; i += MR) {
            const int64_t mr = m - i < MR ? m - i : MR;
            const int32_t *ai = a + i * a_ms;
            int8_t *yi = y + i * rs_y + j;
            if (nj > 16) {
                if (unclamped) pair_tile(kt, ai, a_ms, a_ts, mr, b + j, ldb, 2, m0, m1, &rq, 0, yi, rs_y);
                else pair_tile(kt, ai, a_ms, a_ts, mr, b + j, ldb, 2, m0, m1, &rq, 1, yi, rs_y);
            } else if (unclamped) {
                pair_tile(kt, ai, a_ms, a_ts, mr, b + j, ldb, 1, m0, m1, &rq, 0, yi, rs_y);
            } else {
                pair_tile(kt, ai, a_ms, a_ts, mr, b + j, ldb, 1, m0, m1, &rq, 1, yi, rs_y);
            }
        }
    }
}

void gaba_qnn_attn_avx512vnni(int64_t d, int64_t l, int64_t dk, const gaba_qnn_layer *q,
                              const int8_t *x, int8_t *y, void *ws) {
    gaba_qnn_attn_pairs(d, l, dk, q, x, y, ws, pair_product);
}
