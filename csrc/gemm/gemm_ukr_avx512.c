// gemm_ukr_avx512.c - AVX-512 microkernels: a 12 x 32 register tile (24 zmm
// accumulators, two B vectors, A broadcast from memory), the same tile read
// from unpacked operands, and the GEMV dot products. Mirrors the contract of
// gemm_ukr_ref.c; the blocking and packing live in gemm_native.c.
// Why 12 x 32: 24 independent FMA chains cover the 4-cycle latency of the
// two FMA pipes three times over, and a 32-float B row keeps the k loop at
// two aligned loads per 24 FMAs. Edge columns use masks, edge rows are
// simply not stored; only the epilogue looks at strides.
#include "gemm_kernels.h"

#include <immintrin.h>

#define MR GABA_GEMM_MR_AVX512
#define NR GABA_GEMM_NR_AVX512

static inline __mmask16 lanes(int64_t n) {
    return n >= 16 ? (__mmask16)0xffff : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

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
        store16(c, lanes(nr), lo, e, bias);
        if (nr > 16) store16(c + 16, lanes(nr - 16), hi, e, bias ? bias + 16 : NULL);
        return;
    }
    float t[NR];
    _mm512_storeu_ps(t, lo);
    _mm512_storeu_ps(t + 16, hi);
    for (int64_t j = 0; j < nr; j++)
        c[j * cs_c] = gaba_gemm_finish1(t[j], &c[j * cs_c], e, bias ? bias + j : NULL);
}

#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define DECL(i) __m512 c##i##a = _mm512_setzero_ps(), c##i##b = _mm512_setzero_ps();
#define STORE(i) \
    if (i < mr) store_row(c + i * rs_c, cs_c, nr, c##i##a, c##i##b, epi);

void gaba_gemm_ukr_f32_avx512(int64_t k, const float *a, const float *b, float *c,
                              int64_t rs_c, int64_t cs_c, int64_t mr, int64_t nr,
                              const gaba_gemm_epi *epi) {
    ROWS(DECL)
#define FMA(i)                                                                              \
    {                                                                                       \
        __m512 ai = _mm512_set1_ps(a[i]);                                                   \
        c##i##a = _mm512_fmadd_ps(ai, b0, c##i##a);                                         \
        c##i##b = _mm512_fmadd_ps(ai, b1, c##i##b);                                         \
    }
    for (int64_t p = 0; p < k; p++, a += MR, b += NR) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
        ROWS(FMA)
    }
#undef FMA
    ROWS(STORE)
}

void gaba_gemm_ukr_direct_f32_avx512(int64_t k, const float *a, int64_t rs_a, int64_t cs_a,
                                     const float *b, int64_t rs_b, float *c, int64_t rs_c,
                                     int64_t cs_c, int64_t mr, int64_t nr,
                                     const gaba_gemm_epi *epi) {
    ROWS(DECL)
    // Rows past mr re-read the last real row (their sums are never stored),
    // so the loop has no branches and reads nothing outside A.
    const float *ar[MR];
    for (int i = 0; i < MR; i++) ar[i] = a + (i < mr ? i : mr - 1) * rs_a;
    __mmask16 m0 = lanes(nr), m1 = lanes(nr - 16);
#define FMA(i)                                                                              \
    {                                                                                       \
        __m512 ai = _mm512_set1_ps(ar[i][off]);                                             \
        c##i##a = _mm512_fmadd_ps(ai, b0, c##i##a);                                         \
        c##i##b = _mm512_fmadd_ps(ai, b1, c##i##b);                                         \
    }
    if (nr > 16) {
        for (int64_t p = 0, off = 0; p < k; p++, off += cs_a, b += rs_b) {
            __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_maskz_loadu_ps(m1, b + 16);
            ROWS(FMA)
        }
    } else {
        // Half-width tile: only the low vector does work.
#undef FMA
#define FMA(i) c##i##a = _mm512_fmadd_ps(_mm512_set1_ps(ar[i][off]), b0, c##i##a);
        for (int64_t p = 0, off = 0; p < k; p++, off += cs_a, b += rs_b) {
            __m512 b0 = _mm512_maskz_loadu_ps(m0, b);
            ROWS(FMA)
        }
    }
#undef FMA
    ROWS(STORE)
}

void gaba_gemm_gemv_f32_avx512(int64_t n, int64_t k, const float *x, int64_t inc_x,
                               const float *b, int64_t rs_b, int64_t cs_b, float *t) {
    if (cs_b == 1 || n == 1) {
        // Rows of B are contiguous: t += x[p] * B[p, :], eight vectors of
        // t in registers (eight FMA chains) per pass over k.
        int64_t j = 0;
        for (; j + 128 <= n; j += 128) {
            __m512 s[8];
            for (int q = 0; q < 8; q++) s[q] = _mm512_setzero_ps();
            for (int64_t p = 0; p < k; p++) {
                __m512 xp = _mm512_set1_ps(x[p * inc_x]);
                const float *row = b + p * rs_b + j;
                for (int q = 0; q < 8; q++)
                    s[q] = _mm512_fmadd_ps(xp, _mm512_loadu_ps(row + 16 * q), s[q]);
            }
            for (int q = 0; q < 8; q++) _mm512_storeu_ps(t + j + 16 * q, s[q]);
        }
        for (; j < n; j += 16) {
            __mmask16 mask = lanes(n - j);
            __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
            int64_t p = 0;
            for (; p + 2 <= k; p += 2) {
                s0 = _mm512_fmadd_ps(_mm512_set1_ps(x[p * inc_x]),
                                     _mm512_maskz_loadu_ps(mask, b + p * rs_b + j), s0);
                s1 = _mm512_fmadd_ps(_mm512_set1_ps(x[(p + 1) * inc_x]),
                                     _mm512_maskz_loadu_ps(mask, b + (p + 1) * rs_b + j), s1);
            }
            if (p < k)
                s0 = _mm512_fmadd_ps(_mm512_set1_ps(x[p * inc_x]),
                                     _mm512_maskz_loadu_ps(mask, b + p * rs_b + j), s0);
            _mm512_mask_storeu_ps(t + j, mask, _mm512_add_ps(s0, s1));
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
                __mmask16 mask = lanes(k - p);
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
                __mmask16 mask = lanes(k - p);
                s = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, x + p),
                                    _mm512_maskz_loadu_ps(mask, b + j * cs_b + p), s);
            }
            t[j] = _mm512_reduce_add_ps(s);
        }
        return;
    }
    gaba_gemm_gemv_f32_ref(n, k, x, inc_x, b, rs_b, cs_b, t);
}
