// gemm_ukr_avx512.c - AVX-512 microkernels: a 12 x 32 register tile (24 zmm
// accumulators, two B vectors, A broadcast from memory), the same tile read
// from unpacked operands, and the GEMV dot products. Mirrors the contract of
// gemm_ukr_ref.c; the blocking and packing live in gemm_native.c.
// Why 12 x 32: 24 independent FMA chains cover the 4-cycle latency of the
// two FMA pipes three times over, and a 32-float B row keeps the k loop at
// two aligned loads per 24 FMAs. Edge columns use masks, edge rows are
// simply not stored; only the epilogue looks at strides.
#include "gemm_kernels.h"
#include "../core/lanes_avx512.h"

#include <immintrin.h>

#define MR GABA_GEMM_MR_AVX512
#define NR GABA_GEMM_NR_AVX512

// act(alpha * acc + beta * C + bias) on 16 lanes of a unit-stride row.
// max/min take the NaN operand second so NaN passes, as in the reference.
static inline void store16(float *c, __mmask16 mask, __m512 acc, const gaba_gemm_epi *e,
                           const float *bias) {
    __m512 v = _mm512_mul_ps(_mm512_set1_ps(e->alpha), acc);
    if (e->beta != 0.0f)
        v = _mm512_fmadd_ps(_mm512_set1_ps(e->beta), _mm512_maskz_loadu_ps(mask, c), v);
    if (e->last) {
        if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, bias));
        if (e->act != GABA_ACT_NONE) v = _mm512_max_ps(_mm512_setzero_ps(), v);
        if (e->act == GABA_ACT_RELU6) v = _mm512_min_ps(_mm512_set1_ps(6.0f), v);
    }
    _mm512_mask_storeu_ps(c, mask, v);
}

static inline void store_row(float *c, int64_t cs_c, int64_t nr, __m512 lo, __m512 hi,
                             const gaba_gemm_epi *e) {
    const float *bias = e->last ? e->bias : NULL;
    if (cs_c == 1) {
        store16(c, gaba_lanes16(nr), lo, e, bias);
        if (nr > 16) store16(c + 16, gaba_lanes16(nr - 16), hi, e, bias ? bias + 16 : NULL);
        return;
    }
    float t[NR];
    _mm512_storeu_ps(t, lo);
    _mm512_storeu_ps(t + 16, hi);
    for (int64_t j = 0; j < nr; j++)
        c[j * cs_c] = gaba_gemm_finish1(t[j], &c[j * cs_c], e, bias ? bias + j : NULL);
}

// Row lists: the full 12-row tile, and 8- and 4-row variants so that an
// edge tile of a few rows does not pay for twelve.
#define R4(X) X(0) X(1) X(2) X(3)
#define R8(X) R4(X) X(4) X(5) X(6) X(7)
#define R12(X) R8(X) X(8) X(9) X(10) X(11)
#define DECL(i) __m512 c##i##a = _mm512_setzero_ps(), c##i##b = _mm512_setzero_ps();
#define STORE(i)                                                                                   \
    if (i < mr) store_row(c + i * rs_c, cs_c, nr, c##i##a, c##i##b, epi);
#define FMA2(i, ai)                                                                                \
    {                                                                                              \
        __m512 a_ = _mm512_set1_ps(ai);                                                            \
        c##i##a = _mm512_fmadd_ps(a_, b0, c##i##a);                                                \
        c##i##b = _mm512_fmadd_ps(a_, b1, c##i##b);                                                \
    }
#define FMA1(i, ai) c##i##a = _mm512_fmadd_ps(_mm512_set1_ps(ai), b0, c##i##a);
#define PACKED_FMA(i) FMA2(i, a[i])
#define DIRECT_FMA2(i) FMA2(i, ar[i][off])
#define DIRECT_FMA1(i) FMA1(i, ar[i][off])

#define PACKED_KERNEL(name, ROWS)                                                                  \
    static void name(int64_t k, const float *a, const float *b, float *c, int64_t rs_c,            \
                     int64_t cs_c, int64_t mr, int64_t nr, const gaba_gemm_epi *epi) {             \
        ROWS(DECL)                                                                                 \
        for (int64_t p = 0; p < k; p++, a += MR, b += NR) {                                        \
            __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);                            \
            ROWS(PACKED_FMA)                                                                       \
        }                                                                                          \
        ROWS(STORE)                                                                                \
    }
PACKED_KERNEL(packed12, R12)
PACKED_KERNEL(packed8, R8)
PACKED_KERNEL(packed4, R4)

// Fetches the C tile while the k loop runs: with beta != 0, or from the
// second k block on, the epilogue reads it, and C rarely sits in L1.
static inline void prefetch_c(const float *c, int64_t rs_c, int64_t cs_c, int64_t mr, int64_t nr) {
    for (int64_t i = 0; i < mr; i++) {
        _mm_prefetch((const char *)(c + i * rs_c), _MM_HINT_T0);
        if (cs_c == 1 && nr > 16) _mm_prefetch((const char *)(c + i * rs_c + 16), _MM_HINT_T0);
    }
}

void gaba_gemm_ukr_f32_avx512(int64_t k, const float *a, const float *b, float *c, int64_t rs_c,
                              int64_t cs_c, int64_t mr, int64_t nr, const gaba_gemm_epi *epi) {
    if (epi->beta != 0.0f) prefetch_c(c, rs_c, cs_c, mr, nr);
    if (mr > 8)
        packed12(k, a, b, c, rs_c, cs_c, mr, nr, epi);
    else if (mr > 4)
        packed8(k, a, b, c, rs_c, cs_c, mr, nr, epi);
    else
        packed4(k, a, b, c, rs_c, cs_c, mr, nr, epi);
}

// Rows past mr re-read the last real row (their sums are never stored), so
// the loop has no branches and reads nothing outside A. Half-width tiles
// (nr <= 16) do only the low vector's work.
#define DIRECT_KERNEL(name, ROWS, NROWS)                                                           \
    static void name(int64_t k, const float *a, int64_t rs_a, int64_t cs_a, const float *b,        \
                     int64_t rs_b, float *c, int64_t rs_c, int64_t cs_c, int64_t mr, int64_t nr,   \
                     const gaba_gemm_epi *epi) {                                                   \
        ROWS(DECL)                                                                                 \
        const float *ar[NROWS];                                                                    \
        for (int i = 0; i < NROWS; i++) ar[i] = a + (i < mr ? i : mr - 1) * rs_a;                  \
        if (nr > 16) {                                                                             \
            __mmask16 m1 = gaba_lanes16(nr - 16);                                                  \
            for (int64_t p = 0, off = 0; p < k; p++, off += cs_a, b += rs_b) {                     \
                __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_maskz_loadu_ps(m1, b + 16);            \
                ROWS(DIRECT_FMA2)                                                                  \
            }                                                                                      \
        } else {                                                                                   \
            __mmask16 m0 = gaba_lanes16(nr);                                                       \
            for (int64_t p = 0, off = 0; p < k; p++, off += cs_a, b += rs_b) {                     \
                __m512 b0 = _mm512_maskz_loadu_ps(m0, b);                                          \
                ROWS(DIRECT_FMA1)                                                                  \
            }                                                                                      \
        }                                                                                          \
        ROWS(STORE)                                                                                \
    }
DIRECT_KERNEL(direct12, R12, 12)
DIRECT_KERNEL(direct8, R8, 8)
DIRECT_KERNEL(direct4, R4, 4)

void gaba_gemm_ukr_direct_f32_avx512(int64_t k, const float *a, int64_t rs_a, int64_t cs_a,
                                     const float *b, int64_t rs_b, float *c, int64_t rs_c,
                                     int64_t cs_c, int64_t mr, int64_t nr,
                                     const gaba_gemm_epi *epi) {
    if (epi->beta != 0.0f) prefetch_c(c, rs_c, cs_c, mr, nr);
    if (mr > 8)
        direct12(k, a, rs_a, cs_a, b, rs_b, c, rs_c, cs_c, mr, nr, epi);
    else if (mr > 4)
        direct8(k, a, rs_a, cs_a, b, rs_b, c, rs_c, cs_c, mr, nr, epi);
    else
        direct4(k, a, rs_a, cs_a, b, rs_b, c, rs_c, cs_c, mr, nr, epi);
}

// ---- packing -------------------------------------------------------------------

static inline void transpose8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xee);
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xee);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xee);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xee);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// One full 12-row sliver of a row-major A (cs_a == 1): dst[p * 12 + i] =
// a[i * rs_a + p]. The transpose runs in registers, 8 k at a time (rows
// 0-7 as an 8 x 8 block, rows 8-11 as two 4 x 4 blocks), where a scalar
// loop would pay a load and a store per element.
void gaba_gemm_pack_a12_f32_avx512(int64_t kc, const float *a, int64_t rs_a, float *dst) {
    int64_t p = 0;
    for (; p + 8 <= kc; p += 8, dst += 8 * MR) {
        __m256 r[8];
        for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(a + i * rs_a + p);
        transpose8(r);
        for (int q = 0; q < 8; q++) _mm256_storeu_ps(dst + q * MR, r[q]);
        __m256 h0 = _mm256_loadu_ps(a + 8 * rs_a + p), h1 = _mm256_loadu_ps(a + 9 * rs_a + p);
        __m256 h2 = _mm256_loadu_ps(a + 10 * rs_a + p), h3 = _mm256_loadu_ps(a + 11 * rs_a + p);
        __m256 t0 = _mm256_unpacklo_ps(h0, h1), t1 = _mm256_unpackhi_ps(h0, h1);
        __m256 t2 = _mm256_unpacklo_ps(h2, h3), t3 = _mm256_unpackhi_ps(h2, h3);
        __m256 k0 = _mm256_shuffle_ps(t0, t2, 0x44), k1 = _mm256_shuffle_ps(t0, t2, 0xee);
        __m256 k2 = _mm256_shuffle_ps(t1, t3, 0x44), k3 = _mm256_shuffle_ps(t1, t3, 0xee);
        // k0 holds (p, p+4) rows 8-11, k1 (p+1, p+5), k2 (p+2, p+6), k3 (p+3, p+7).
        __m256 ks[4] = {k0, k1, k2, k3};
        for (int q = 0; q < 4; q++) {
            _mm_storeu_ps(dst + q * MR + 8, _mm256_castps256_ps128(ks[q]));
            _mm_storeu_ps(dst + (q + 4) * MR + 8, _mm256_extractf128_ps(ks[q], 1));
        }
    }
    for (; p < kc; p++, dst += MR)
        for (int i = 0; i < MR; i++) dst[i] = a[i * rs_a + p];
}

void gaba_gemm_gemv_f32_avx512(int64_t n, int64_t k, const float *x, int64_t inc_x, const float *b,
                               int64_t rs_b, int64_t cs_b, float *t) {
    if (cs_b == 1 || n == 1) {
        // Rows of B are contiguous: t += x[p] * B[p, :], 64 columns of t in
        // four registers, even and odd k in separate sums (eight FMA chains).
        for (int64_t j = 0; j < n; j += 64) {
            __mmask16 m[4];
            for (int q = 0; q < 4; q++) m[q] = gaba_lanes16(n - j - 16 * q);
            __m512 s[8];
            for (int q = 0; q < 8; q++) s[q] = _mm512_setzero_ps();
            const float *col = b + j * cs_b;
            int64_t p = 0;
            for (; p + 2 <= k; p += 2) {
                __m512 x0 = _mm512_set1_ps(x[p * inc_x]), x1 = _mm512_set1_ps(x[(p + 1) * inc_x]);
                const float *r0 = col + p * rs_b, *r1 = r0 + rs_b;
                for (int q = 0; q < 4; q++) {
                    s[q] = _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(m[q], r0 + 16 * q), s[q]);
                    s[q + 4] =
                        _mm512_fmadd_ps(x1, _mm512_maskz_loadu_ps(m[q], r1 + 16 * q), s[q + 4]);
                }
            }
            if (p < k) {
                __m512 x0 = _mm512_set1_ps(x[p * inc_x]);
                for (int q = 0; q < 4; q++)
                    s[q] = _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(m[q], col + p * rs_b + 16 * q),
                                           s[q]);
            }
            for (int q = 0; q < 4; q++)
                _mm512_mask_storeu_ps(t + j + 16 * q, m[q], _mm512_add_ps(s[q], s[q + 4]));
        }
        return;
    }
    if (rs_b == 1 && inc_x == 1) {
        // Columns of B are contiguous (a dense layer's W^T): four dot
        // products at a time, 16 k per step, the k tail under a mask.
        int64_t j = 0;
        for (; j + 4 <= n; j += 4) {
            const float *b0 = b + j * cs_b, *b1 = b0 + cs_b, *b2 = b1 + cs_b, *b3 = b2 + cs_b;
            __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
            for (int64_t p = 0; p < k; p += 16) {
                __mmask16 mask = gaba_lanes16(k - p);
                __m512 xv = _mm512_maskz_loadu_ps(mask, x + p);
                s0 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(mask, b0 + p), s0);
                s1 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(mask, b1 + p), s1);
                s2 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(mask, b2 + p), s2);
                s3 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(mask, b3 + p), s3);
            }
            t[j] = _mm512_reduce_add_ps(s0);
            t[j + 1] = _mm512_reduce_add_ps(s1);
            t[j + 2] = _mm512_reduce_add_ps(s2);
            t[j + 3] = _mm512_reduce_add_ps(s3);
        }
        for (; j < n; j++) {
            __m512 s = _mm512_setzero_ps();
            for (int64_t p = 0; p < k; p += 16) {
                __mmask16 mask = gaba_lanes16(k - p);
                s = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, x + p),
                                    _mm512_maskz_loadu_ps(mask, b + j * cs_b + p), s);
            }
            t[j] = _mm512_reduce_add_ps(s);
        }
        return;
    }
    gaba_gemm_gemv_f32_ref(n, k, x, inc_x, b, rs_b, cs_b, t);
}
