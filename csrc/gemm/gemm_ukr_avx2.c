// gemm_ukr_avx2.c - AVX2+FMA microkernels: a 6 x 16 register tile (12 ymm
// accumulators, two B vectors, one broadcast), the same tile read from
// unpacked operands, and the GEMV dot products. Mirrors gemm_ukr_ref.c; the
// blocking and packing live in gemm_native.c. 6 x 16 is the classic Haswell
// shape: 12 FMA chains hide the 2 x 4-cycle FMA latency with 3 registers
// to spare. Edge columns go through maskload/maskstore.
#include "gemm_kernels.h"

#include <immintrin.h>

#define MR GABA_GEMM_MR_AVX2
#define NR GABA_GEMM_NR_AVX2

static const int32_t mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

// A mask of the first n lanes (n clamped to 0..8).
static inline __m256i lanes(int64_t n) {
    n = n < 0 ? 0 : n > 8 ? 8 : n;
    return _mm256_loadu_si256((const __m256i *)(mask_table + 8 - n));
}

static inline void store8(float *c, int64_t n, __m256 acc, const gaba_gemm_epi *e,
                          const float *bias) {
    __m256i mask = lanes(n);
    __m256 v = _mm256_mul_ps(_mm256_set1_ps(e->alpha), acc);
    if (e->beta != 0.0f)
        v = _mm256_fmadd_ps(_mm256_set1_ps(e->beta), _mm256_maskload_ps(c, mask), v);
    if (e->last) {
        if (bias) v = _mm256_add_ps(v, _mm256_maskload_ps(bias, mask));
        if (e->act != GABA_ACT_NONE) v = _mm256_max_ps(_mm256_setzero_ps(), v);
        if (e->act == GABA_ACT_RELU6) v = _mm256_min_ps(_mm256_set1_ps(6.0f), v);
    }
    if (n >= 8)
        _mm256_storeu_ps(c, v);
    else
        _mm256_maskstore_ps(c, mask, v);
}

static inline void store_row(float *c, int64_t cs_c, int64_t nr, __m256 lo, __m256 hi,
                             const gaba_gemm_epi *e) {
    const float *bias = e->last ? e->bias : NULL;
    if (cs_c == 1) {
        store8(c, nr, lo, e, bias);
        if (nr > 8) store8(c + 8, nr - 8, hi, e, bias ? bias + 8 : NULL);
        return;
    }
    float t[NR];
    _mm256_storeu_ps(t, lo);
    _mm256_storeu_ps(t + 8, hi);
    for (int64_t j = 0; j < nr; j++)
        c[j * cs_c] = gaba_gemm_finish1(t[j], &c[j * cs_c], e, bias ? bias + j : NULL);
}

#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define DECL(i) __m256 c##i##a = _mm256_setzero_ps(), c##i##b = _mm256_setzero_ps();
#define STORE(i)                                                                                   \
    if (i < mr) store_row(c + i * rs_c, cs_c, nr, c##i##a, c##i##b, epi);

void gaba_gemm_ukr_f32_avx2(int64_t k, const float *a, const float *b, float *c, int64_t rs_c,
                            int64_t cs_c, int64_t mr, int64_t nr, const gaba_gemm_epi *epi) {
    ROWS(DECL)
#define FMA(i)                                                                                     \
    {                                                                                              \
        __m256 ai = _mm256_broadcast_ss(a + i);                                                    \
        c##i##a = _mm256_fmadd_ps(ai, b0, c##i##a);                                                \
        c##i##b = _mm256_fmadd_ps(ai, b1, c##i##b);                                                \
    }
    for (int64_t p = 0; p < k; p++, a += MR, b += NR) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        ROWS(FMA)
    }
    ROWS(STORE)
}

void gaba_gemm_ukr_direct_f32_avx2(int64_t k, const float *a, int64_t rs_a, int64_t cs_a,
                                   const float *b, int64_t rs_b, float *c, int64_t rs_c,
                                   int64_t cs_c, int64_t mr, int64_t nr, const gaba_gemm_epi *epi) {
    ROWS(DECL)
    // Rows past mr re-read the last real row; their sums are never stored.
    const float *ar[MR];
    for (int i = 0; i < MR; i++) ar[i] = a + (i < mr ? i : mr - 1) * rs_a;
    __m256i m0 = lanes(nr), m1 = lanes(nr - 8);
    for (int64_t p = 0, off = 0; p < k; p++, off += cs_a, b += rs_b) {
        __m256 b0 = _mm256_maskload_ps(b, m0), b1 = _mm256_maskload_ps(b + 8, m1);
#undef FMA
#define FMA(i)                                                                                     \
    {                                                                                              \
        __m256 ai = _mm256_broadcast_ss(&ar[i][off]);                                              \
        c##i##a = _mm256_fmadd_ps(ai, b0, c##i##a);                                                \
        c##i##b = _mm256_fmadd_ps(ai, b1, c##i##b);                                                \
    }
        ROWS(FMA)
    }
#undef FMA
    ROWS(STORE)
}

void gaba_gemm_gemv_f32_avx2(int64_t n, int64_t k, const float *x, int64_t inc_x, const float *b,
                             int64_t rs_b, int64_t cs_b, float *t) {
    if (cs_b != 1 && n > 1) {
        gaba_gemm_gemv_f32_ref(n, k, x, inc_x, b, rs_b, cs_b, t);
        return;
    }
    int64_t j = 0;
    for (; j + 32 <= n; j += 32) {
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        for (int64_t p = 0; p < k; p++) {
            __m256 xp = _mm256_set1_ps(x[p * inc_x]);
            const float *row = b + p * rs_b + j;
            s0 = _mm256_fmadd_ps(xp, _mm256_loadu_ps(row), s0);
            s1 = _mm256_fmadd_ps(xp, _mm256_loadu_ps(row + 8), s1);
            s2 = _mm256_fmadd_ps(xp, _mm256_loadu_ps(row + 16), s2);
            s3 = _mm256_fmadd_ps(xp, _mm256_loadu_ps(row + 24), s3);
        }
        _mm256_storeu_ps(t + j, s0);
        _mm256_storeu_ps(t + j + 8, s1);
        _mm256_storeu_ps(t + j + 16, s2);
        _mm256_storeu_ps(t + j + 24, s3);
    }
    for (; j < n; j += 8) {
        __m256i mask = lanes(n - j);
        __m256 s = _mm256_setzero_ps();
        for (int64_t p = 0; p < k; p++)
            s = _mm256_fmadd_ps(_mm256_set1_ps(x[p * inc_x]),
                                _mm256_maskload_ps(b + p * rs_b + j, mask), s);
        _mm256_maskstore_ps(t + j, mask, s);
    }
}
