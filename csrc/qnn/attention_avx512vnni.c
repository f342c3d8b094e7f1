// attention_avx512vnni.c - the int8 attention's two int16 products with
// AVX-512 VNNI, and its softmax 16 lanes wide (the rest is
// attention_avx2.c's): vpdpwssd multiplies a
// pair row by a row's broadcast pair and adds both products to 16 int32
// lanes, exactly as vpmaddwd and an add do; tiles of 6 rows x 32 lanes in
// 12 zmm accumulators, the lanes past n masked (the pair rows are rounded
// to 8 lanes only), the output stage on the registers (qnn_avx512_impl.h).
#include "qnn_avx512_impl.h"
#include "../core/lanes_avx512.h"

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
#define MAC(i)                                                                                     \
    {                                                                                              \
        const __m512i av = _mm512_set1_epi32(a##i[t * a_ts]);                                      \
        c##i = _mm512_dpwssd_epi32(c##i, b0, av);                                                  \
        if (nv == 2) d##i = _mm512_dpwssd_epi32(d##i, b1, av);                                     \
    }
        ROWS(MAC)
    }
#define STORE(i)                                                                                   \
    if (i < mr) {                                                                                  \
        int8_t *yi = y + i * rs_y;                                                                 \
        _mm512_mask_cvtsepi32_storeu_epi8(yi, m0, gaba_qnn_v16_requant_biased(rq, c##i, clamp));   \
        if (nv == 2)                                                                               \
            _mm512_mask_cvtsepi32_storeu_epi8(yi + 16, m1,                                         \
                                              gaba_qnn_v16_requant_biased(rq, d##i, clamp));       \
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
                if (unclamped)
                    pair_tile(kt, ai, a_ms, a_ts, mr, b + j, ldb, 2, m0, m1, &rq, 0, yi, rs_y);
                else
                    pair_tile(kt, ai, a_ms, a_ts, mr, b + j, ldb, 2, m0, m1, &rq, 1, yi, rs_y);
            } else if (unclamped) {
                pair_tile(kt, ai, a_ms, a_ts, mr, b + j, ldb, 1, m0, m1, &rq, 0, yi, rs_y);
            } else {
                pair_tile(kt, ai, a_ms, a_ts, mr, b + j, ldb, 1, m0, m1, &rq, 1, yi, rs_y);
            }
        }
    }
}

// The softmax pairs (qnn_kernels.h) on 16 lanes: the exp values by one
// 16-lane gather, the quotient q = floor(num / den), num = 512 e + sum, den =
// 2 sum, from a float32 estimate (relative error below 2^-22 and q <= 256.5,
// so within 1 of q) corrected by the exact int32 remainder num - q den: q den
// <= num + den < 2^31 while sum < 2^29, i.e. for l up to
// GABA_QNN_ATTN_MAX_L (gaba_qnn_prepare's bound).
void gaba_qnn_softmax_pairs_avx512vnni(int64_t l, int64_t p0, int64_t p1, const int32_t *exp_table,
                                       const int8_t *s, int32_t *pp, int32_t *e) {
    const int64_t l8 = (l + 7) / 8 * 8, lt = (l + 1) / 2;
    const __m512i one = _mm512_set1_epi32(1), cap = _mm512_set1_epi32(255);
    for (int64_t p = p0; p < p1; p++) {
        const int8_t *sr = s + p * l;
        __m512i vmx = _mm512_set1_epi8(-128);
        for (int64_t j = 0; j < l; j += 64) {
            __mmask64 m = l - j >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (l - j)) - 1);
            vmx = _mm512_max_epi8(vmx, _mm512_mask_loadu_epi8(vmx, m, sr + j));
        }
        const __m256i m8 =
            _mm256_max_epi8(_mm512_castsi512_si256(vmx), _mm512_extracti64x4_epi64(vmx, 1));
        __m128i m4 = _mm_max_epi8(_mm256_castsi256_si128(m8), _mm256_extracti128_si256(m8, 1));
        m4 = _mm_max_epi8(m4, _mm_srli_si128(m4, 8));
        m4 = _mm_max_epi8(m4, _mm_srli_si128(m4, 4));
        m4 = _mm_max_epi8(m4, _mm_srli_si128(m4, 2));
        m4 = _mm_max_epi8(m4, _mm_srli_si128(m4, 1));
        const __m512i vm = _mm512_set1_epi32((int8_t)_mm_cvtsi128_si32(m4));
        __m512i vs = _mm512_setzero_si512();
        for (int64_t j = 0; j < l8; j += 16) { // lanes past l: e = 0
            const __mmask16 m = gaba_lanes16(l - j);
            __m512i idx =
                _mm512_sub_epi32(vm, _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, sr + j)));
            __m512i ev = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, exp_table, 4);
            _mm512_mask_storeu_epi32(e + j, gaba_lanes16(l8 - j), ev);
            vs = _mm512_add_epi32(vs, ev);
        }
        const int64_t sum = _mm512_reduce_add_epi32(vs);
        const __m512i vsum = _mm512_set1_epi32((int32_t)sum);
        const __m512i den = _mm512_set1_epi32((int32_t)(2 * sum));
        const __m512 inv = _mm512_set1_ps(1.0f / (float)(2 * sum));
        for (int64_t j = 0; j < l8; j += 16) {
            const __m512i num = _mm512_add_epi32(
                _mm512_slli_epi32(_mm512_maskz_loadu_epi32(gaba_lanes16(l8 - j), e + j), 9), vsum);
            __m512i q = _mm512_cvttps_epi32(_mm512_mul_ps(_mm512_cvtepi32_ps(num), inv));
            const __m512i r = _mm512_sub_epi32(num, _mm512_mullo_epi32(q, den));
            q = _mm512_mask_sub_epi32(q, _mm512_cmplt_epi32_mask(r, _mm512_setzero_si512()), q,
                                      one);
            q = _mm512_mask_add_epi32(q, _mm512_cmpge_epi32_mask(r, den), q, one);
            // (lane 2i, lane 2i + 1) as int16 halves of pair i
            int32_t pairs[8];
            _mm256_storeu_si256((__m256i *)pairs, _mm512_cvtepi32_epi16(_mm512_min_epi32(q, cap)));
            for (int64_t u = 0; u < 8 && j / 2 + u < lt; u++) pp[(j / 2 + u) * l8 + p] = pairs[u];
        }
    }
}

void gaba_qnn_attn_avx512vnni(int64_t d, int64_t l, int64_t dk, const gaba_qnn_layer *q,
                              const int8_t *x, int8_t *y, void *ws) {
    gaba_qnn_attn_pairs(d, l, dk, q, x, y, ws, pair_product);
}
