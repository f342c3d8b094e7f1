// lsq_avx2.c - AVX2 span kernel of the LSQ backward, 8 elements at a time;
// tails under 8 go to the reference. grad_x and every per-element term are
// bit-identical to lsq_ref.c; the terms are summed in double (four lanes per
// accumulator), so only the summation order differs.
#include "quant_kernels.h"

#include <immintrin.h>

// Keeps the compiler from fusing a product into the next add/sub (an FMA
// would skip the rounding PyTorch does between them).
#define ROUNDED(v) __asm__("" : "+x"(v))

void gaba_quant_lsq_span_f32_avx2(int64_t n, const float *grad, const float *x, float *grad_x,
                                  const gaba_quant_lsq_params *p, double sums[2]) {
    const __m256 s = _mm256_set1_ps(p->scale), inv = _mm256_set1_ps(p->inv_scale);
    const __m256 zp = _mm256_set1_ps(p->zero_point), gf = _mm256_set1_ps(p->grad_factor);
    const __m256 lo = _mm256_set1_ps(p->qmin), hi = _mm256_set1_ps(p->qmax);
    const __m256 d_small = _mm256_set1_ps(p->d_small), d_big = _mm256_set1_ps(p->d_big);
    const __m256 zero = _mm256_setzero_ps(), sign = _mm256_set1_ps(-0.0f);
    __m256d acc_s = _mm256_setzero_pd(), acc_z = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i), dy = _mm256_loadu_ps(grad + i);
        __m256 prod = _mm256_mul_ps(v, inv);
        ROUNDED(prod);
        __m256 q =
            _mm256_round_ps(_mm256_add_ps(zp, prod), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m256 below = _mm256_cmp_ps(q, lo, _CMP_LT_OQ), above = _mm256_cmp_ps(q, hi, _CMP_GT_OQ);
        __m256 out = _mm256_or_ps(below, above);
        __m256 inside = _mm256_andnot_ps(out, _mm256_cmp_ps(q, q, _CMP_ORD_Q));
        _mm256_storeu_ps(grad_x + i, _mm256_blendv_ps(_mm256_mul_ps(dy, zero), dy, inside));
        __m256 xfq = _mm256_mul_ps(_mm256_sub_ps(_mm256_min_ps(_mm256_max_ps(q, lo), hi), zp), s);
        ROUNDED(xfq);
        __m256 t_in =
            _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(dy, _mm256_sub_ps(xfq, v)), inv), gf);
        __m256 t_lo = _mm256_mul_ps(_mm256_mul_ps(dy, d_small), gf);
        __m256 t_hi = _mm256_mul_ps(_mm256_mul_ps(dy, d_big), gf);
        __m256 t_s = _mm256_and_ps(inside, t_in);
        t_s = _mm256_blendv_ps(t_s, t_lo, below);
        t_s = _mm256_blendv_ps(t_s, t_hi, above);
        __m256 t_z = _mm256_mul_ps(_mm256_mul_ps(_mm256_xor_ps(dy, sign), s), gf);
        t_z = _mm256_and_ps(out, t_z);
        acc_s = _mm256_add_pd(acc_s, _mm256_cvtps_pd(_mm256_castps256_ps128(t_s)));
        acc_s = _mm256_add_pd(acc_s, _mm256_cvtps_pd(_mm256_extractf128_ps(t_s, 1)));
        acc_z = _mm256_add_pd(acc_z, _mm256_cvtps_pd(_mm256_castps256_ps128(t_z)));
        acc_z = _mm256_add_pd(acc_z, _mm256_cvtps_pd(_mm256_extractf128_ps(t_z, 1)));
    }
    double ls[4], lz[4];
    _mm256_storeu_pd(ls, acc_s);
    _mm256_storeu_pd(lz, acc_z);
    sums[0] += (ls[0] + ls[1]) + (ls[2] + ls[3]);
    sums[1] += (lz[0] + lz[1]) + (lz[2] + lz[3]);
    if (i < n) gaba_quant_lsq_span_f32_ref(n - i, grad + i, x + i, grad_x + i, p, sums);
}
