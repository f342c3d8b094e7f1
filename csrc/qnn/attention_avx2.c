// attention_avx2.c - the int8 attention with AVX2 (gaba_qnn_attention in
// qnn.h), the same integers as attention_ref.c. The four projections go
// through the int8 conv (the table's GEMM). The two attention products are
// int16 GEMMs on vpmaddwd: q - zq, k - zk, v - zv and probs + 128 all lie in
// [-255, 255], so each pair of products sums exactly in int32. Their
// operands are "pair rows": int32 lanes of two int16, reduction steps 2t and
// 2t + 1 (a missing odd step is 0). Tiles of 6 rows x 16 lanes in 12 ymm
// accumulators, the output stage on the registers. The integer softmax runs
// 8 lanes wide: the exp table through vpgatherdd, the quotient
// floor((512 e + sum) / (2 sum)) from a double reciprocal corrected exactly
// (every double is an integer below 2^53), written straight into the
// context product's pair rows.
#include "qnn_avx2_impl.h"

#define ALIGN64(v) (((v) + 63) / 64 * 64)
#define MR 6

#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

// The pair rows' lane count: positions rounded up to whole vectors.
static int64_t lanes(int64_t l) { return (l + 7) / 8 * 8; }

// Y rows [0, mr) x lanes [0, nj) (nj <= 8 nv) = requant(sum_t A(i, t) B_t):
// A(i, t) the int32 at a[i a_ms + t a_ts], B_t the pair row at b + t ldb. A
// tile with fewer than 6 rows repeats its last row (computed, not stored).
static inline __attribute__((always_inline)) void pair_tile(int64_t kt, const int32_t *a,
                                                            int64_t a_ms, int64_t a_ts, int64_t mr,
                                                            const int32_t *b, int64_t ldb, int nv,
                                                            const gaba_qnn_v8 *rq, int32_t zp,
                                                            int8_t *y, int64_t rs_y, int64_t nj) {
#define APTR(i) const int32_t *a##i = a + (i < mr ? i : mr - 1) * a_ms;
    ROWS(APTR)
#define DECL(i) __m256i c##i = _mm256_setzero_si256(), d##i = c##i;
    ROWS(DECL)
    for (int64_t t = 0; t < kt; t++) {
        const int32_t *bt = b + t * ldb;
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)bt);
        const __m256i b1 = nv == 2 ? _mm256_loadu_si256((const __m256i *)(bt + 8)) : b0;
#define MAC(i)                                                                                     \
    {                                                                                              \
        const __m256i av = _mm256_set1_epi32(a##i[t * a_ts]);                                      \
        c##i = _mm256_add_epi32(c##i, _mm256_madd_epi16(b0, av));                                  \
        if (nv == 2) d##i = _mm256_add_epi32(d##i, _mm256_madd_epi16(b1, av));                     \
    }
        ROWS(MAC)
    }
    const __m256i z = _mm256_setzero_si256(), vzp = _mm256_set1_epi32(zp),
                  lo = _mm256_set1_epi32(-128), hi = _mm256_set1_epi32(127);
    int8_t part[16];
#define STORE(i)                                                                                   \
    if (i < mr) {                                                                                  \
        int8_t *yi = y + i * rs_y;                                                                 \
        __m128i v = gaba_qnn_v8_requant(rq, c##i, z, vzp, lo, hi);                                 \
        if (nv == 2) v = _mm_unpacklo_epi64(v, gaba_qnn_v8_requant(rq, d##i, z, vzp, lo, hi));     \
        if (nj == 16) {                                                                            \
            _mm_storeu_si128((__m128i *)yi, v);                                                    \
        } else if (nj == 8) {                                                                      \
            _mm_storel_epi64((__m128i *)yi, v);                                                    \
        } else {                                                                                   \
            _mm_storeu_si128((__m128i *)part, v);                                                  \
            for (int64_t j = 0; j < nj; j++) yi[j] = part[j];                                      \
        }                                                                                          \
    }
    ROWS(STORE)
}

// Y (m, n), rows rs_y apart, = requant(A B) with a zero bias, zero point zp
// and the int8 range; A as in pair_tile, B: kt pair rows of >= n rounded up
// to 8 lanes.
static void pair_product(int64_t m, int64_t n, int64_t kt, const int32_t *a, int64_t a_ms,
                         int64_t a_ts, const int32_t *b, int64_t ldb, int32_t mult, int32_t shift,
                         int32_t zp, int8_t *y, int64_t rs_y) {
    const gaba_qnn_v8 rq = gaba_qnn_v8_init(mult, shift);
    for (int64_t j = 0; j < n; j += 16) {
        const int64_t nj = n - j < 16 ? n - j : 16;
        for (int64_t i = 0; i < m; i += MR) {
            const int64_t mr = m - i < MR ? m - i : MR;
            if (nj > 8)
                pair_tile(kt, a + i * a_ms, a_ms, a_ts, mr, b + j, ldb, 2, &rq, zp,
                          y + i * rs_y + j, rs_y, nj);
            else
                pair_tile(kt, a + i * a_ms, a_ms, a_ts, mr, b + j, ldb, 1, &rq, zp,
                          y + i * rs_y + j, rs_y, nj);
        }
    }
}

// x (rows, l) int8 less its zero point z -> the pair rows of consecutive
// rows: p[t l8 + j] = (x[2t][j] - z, x[2t + 1][j] - z), lanes past l 0.
static void pack_row_pairs(int64_t rows, int64_t l, const int8_t *x, int32_t z, int32_t *p) {
    const int64_t l8 = lanes(l);
    const __m256i vz = _mm256_set1_epi32(z), low = _mm256_set1_epi32(0xFFFF);
    for (int64_t t = 0; t < (rows + 1) / 2; t++) {
        const int8_t *r0 = x + 2 * t * l, *r1 = 2 * t + 1 < rows ? r0 + l : NULL;
        int32_t *pt = p + t * l8;
        int64_t j = 0;
        for (; j + 8 <= l; j += 8) {
            __m256i v0 = _mm256_sub_epi32(
                _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(r0 + j))), vz);
            __m256i v1 =
                r1 ? _mm256_sub_epi32(
                         _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(r1 + j))), vz)
                   : _mm256_setzero_si256();
            _mm256_storeu_si256((__m256i *)(pt + j), _mm256_or_si256(_mm256_and_si256(v0, low),
                                                                     _mm256_slli_epi32(v1, 16)));
        }
        for (; j < l; j++) {
            int32_t v0 = r0[j] - z, v1 = r1 ? r1[j] - z : 0;
            pt[j] = (int32_t)(((uint32_t)v0 & 0xFFFF) | ((uint32_t)v1 << 16));
        }
        for (; j < l8; j++) pt[j] = 0;
    }
}

// x (rows, l) int8 less z -> each row as (l + 1) / 2 pairs of consecutive
// values (a missing last one 0): p[r lt + t] = (x[r][2t] - z, x[r][2t + 1] - z).
static void pack_col_pairs(int64_t rows, int64_t l, const int8_t *x, int32_t z, int32_t *p) {
    const int64_t lt = (l + 1) / 2;
    const __m256i vz = _mm256_set1_epi16((int16_t)z);
    for (int64_t r = 0; r < rows; r++) {
        const int8_t *xr = x + r * l;
        int16_t *pr = (int16_t *)(p + r * lt);
        int64_t j = 0;
        for (; j + 16 <= l; j += 16)
            _mm256_storeu_si256(
                (__m256i *)(pr + j),
                _mm256_sub_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(xr + j))),
                                 vz));
        for (; j < l; j++) pr[j] = (int16_t)(xr[j] - z);
        if (l % 2) pr[l] = 0;
    }
}

// floor(num / den) for 4 exact integer doubles num >= 0, den > 0: the estimate
// num * inv is off by at most one, corrected by comparing exact products.
static inline __m128i quotient4(__m256d num, __m256d den, __m256d inv) {
    const __m256d one = _mm256_set1_pd(1.0);
    __m256d q = _mm256_round_pd(_mm256_mul_pd(num, inv), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    q = _mm256_add_pd(
        q, _mm256_and_pd(_mm256_cmp_pd(_mm256_mul_pd(_mm256_add_pd(q, one), den), num, _CMP_LE_OQ),
                         one));
    q = _mm256_sub_pd(q, _mm256_and_pd(_mm256_cmp_pd(_mm256_mul_pd(q, den), num, _CMP_GT_OQ), one));
    return _mm256_cvttpd_epi32(q);
}

void gaba_qnn_softmax_pairs_avx2(int64_t l, int64_t p0, int64_t p1, const int32_t *exp_table,
                                 const int8_t *s, int32_t *pp, int32_t *e) {
    const int64_t l8 = lanes(l), lt = (l + 1) / 2;
    const __m256i cap = _mm256_set1_epi32(255), evens = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
    // lanes past l stay 0: an odd l's last pair takes its missing value as 0
    for (int64_t j = l; j < l8; j++) e[j] = 0;
    for (int64_t p = p0; p < p1; p++) {
        const int8_t *sr = s + p * l;
        __m128i vmx = _mm_set1_epi8(-128);
        int64_t j = 0;
        for (; j + 16 <= l; j += 16)
            vmx = _mm_max_epi8(vmx, _mm_loadu_si128((const __m128i *)(sr + j)));
        vmx = _mm_max_epi8(vmx, _mm_srli_si128(vmx, 8));
        vmx = _mm_max_epi8(vmx, _mm_srli_si128(vmx, 4));
        vmx = _mm_max_epi8(vmx, _mm_srli_si128(vmx, 2));
        vmx = _mm_max_epi8(vmx, _mm_srli_si128(vmx, 1));
        int32_t mx = (int8_t)_mm_cvtsi128_si32(vmx);
        for (; j < l; j++) mx = sr[j] > mx ? sr[j] : mx;
        const __m256i vm = _mm256_set1_epi32(mx);
        __m256i vs = _mm256_setzero_si256();
        for (j = 0; j + 8 <= l; j += 8) {
            __m256i idx = _mm256_sub_epi32(
                vm, _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(sr + j))));
            __m256i ev = _mm256_i32gather_epi32(exp_table, idx, 4);
            _mm256_storeu_si256((__m256i *)(e + j), ev);
            vs = _mm256_add_epi32(vs, ev); // at most l / 8 + 1 values of <= 2^16 per lane
        }
        int64_t sum = gaba_qnn_hsum_epi32(vs);
        for (; j < l; j++) sum += e[j] = exp_table[mx - sr[j]];
        const __m256d dsum = _mm256_set1_pd((double)sum), den = _mm256_set1_pd(2.0 * (double)sum),
                      inv = _mm256_set1_pd(1.0 / (2.0 * (double)sum)), c512 = _mm256_set1_pd(512.0);
        for (j = 0; j < l8; j += 8) {
            const __m256i ev = _mm256_loadu_si256((const __m256i *)(e + j));
            __m128i q0 = quotient4(
                _mm256_fmadd_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(ev)), c512, dsum), den,
                inv);
            __m128i q1 = quotient4(
                _mm256_fmadd_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(ev, 1)), c512, dsum),
                den, inv);
            __m256i pr = _mm256_min_epi32(_mm256_set_m128i(q1, q0), cap);
            // (lane 2i, lane 2i + 1) as one int32 in lane 2i, then lanes 0 2 4 6 first
            pr = _mm256_or_si256(pr, _mm256_srli_epi64(pr, 16));
            int32_t pairs[8];
            _mm256_storeu_si256((__m256i *)pairs, _mm256_permutevar8x32_epi32(pr, evens));
            for (int64_t u = 0; u < 4 && j / 2 + u < lt; u++) pp[(j / 2 + u) * l8 + p] = pairs[u];
        }
    }
}

void gaba_qnn_attn_pairs(int64_t d, int64_t l, int64_t dk, const gaba_qnn_layer *q, const int8_t *x,
                         int8_t *y, void *ws, gaba_qnn_pair_product_fn product) {
    const gaba_qnn_attention *a = q->attn;
    int8_t *qkv = ws, *sc = qkv + 3 * dk * l, *ctx = sc + l * l;
    void *cws = (char *)ws + ALIGN64(4 * dk * l + l * l) + ALIGN64(4 * l);
    gaba_nn_conv_geom gx, gc;
    gaba_qnn_attention_geom(d, dk, l, &gx);
    gaba_qnn_attention_geom(dk, d, l, &gc);
    for (int i = 0; i < 3; i++) gaba_qnn_conv(&gx, &a->proj[i], x, qkv + i * dk * l, cws);
    // The pair operands live in the conv's scratch between the projections.
    const int64_t l8 = lanes(l), kt = (dk + 1) / 2, lt = (l + 1) / 2;
    int32_t *qp = cws, *kp = qp + kt * l8, *pp = kp + kt * l8, *vp = pp + lt * l8,
            *e = vp + dk * lt;
    pack_row_pairs(dk, l, qkv, a->proj[0].out_zp, qp);
    pack_row_pairs(dk, l, qkv + dk * l, a->proj[1].out_zp, kp);
    pack_col_pairs(dk, l, qkv + 2 * dk * l, a->proj[2].out_zp, vp);
    // scores (l, l): row p, lane j = sum_k (q_kp - zq) (k_kj - zk)
    product(l, l, kt, qp, 1, l8, kp, l8, a->score_mult, a->score_shift, a->score_zp, sc, l);
    for (int64_t t = 0; t < lt; t++) // lanes past l of the probs' pair rows
        for (int64_t p = l; p < l8; p++) pp[t * l8 + p] = 0;
    gaba_nn_table.qsoftmax_pairs(l, 0, l, a->exp_table, sc, pp, e);
    // ctx (dk, l): row k, lane p = sum_j (v_kj - zv) (probs_pj + 128)
    product(dk, l, lt, vp, lt, 1, pp, l8, a->ctx_mult, a->ctx_shift, a->proj[3].in_zp[0], ctx, l);
    gaba_qnn_conv(&gc, &a->proj[3], ctx, y, cws);
}

void gaba_qnn_attn_avx2(int64_t d, int64_t l, int64_t dk, const gaba_qnn_layer *q, const int8_t *x,
                        int8_t *y, void *ws) {
    gaba_qnn_attn_pairs(d, l, dk, q, x, y, ws, pair_product);
}
