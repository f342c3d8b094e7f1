// lsq_avx512.c - AVX-512 span kernel of the LSQ backward, 16 elements at a
// time, masked tail. grad_x is bit-identical to lsq_ref.c; every per-element
// term is too, and the terms are summed in double (eight lanes per
// accumulator), so only the summation order differs from the reference.
#include "quant_kernels.h"

#include <immintrin.h>

// Keeps the compiler from fusing a product into the next add/sub (an FMA
// would skip the rounding PyTorch does between them).
#define ROUNDED(v) __asm__("" : "+v"(v))

void gaba_quant_lsq_span_f32_avx512(int64_t n, const float *grad, const float *x, float *grad_x,
                                    const gaba_quant_lsq_params *p, double sums[2]) {
    const __m512 s = _mm512_set1_ps(p->scale), inv = _mm512_set1_ps(p->inv_scale);
    const __m512 zp = _mm512_set1_ps(p->zero_point), gf = _mm512_set1_ps(p->grad_factor);
    const __m512 lo = _mm512_set1_ps(p->qmin), hi = _mm512_set1_ps(p->qmax);
    const __m512 d_small = _mm512_set1_ps(p->d_small), d_big = _mm512_set1_ps(p->d_big);
    __m512d acc_s = _mm512_setzero_pd(), acc_z = _mm512_setzero_pd();
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 lanes = n - i >= 16 ? 0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(lanes, x + i);
        __m512 dy = _mm512_maskz_loadu_ps(lanes, grad + i);
        __m512 prod = _mm512_mul_ps(v, inv);
        ROUNDED(prod);
        __m512 q = _mm512_roundscale_ps(_mm512_add_ps(zp, prod),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __mmask16 below = lanes & _mm512_cmp_ps_mask(q, lo, _CMP_LT_OQ);
        __mmask16 above = lanes & _mm512_cmp_ps_mask(q, hi, _CMP_GT_OQ);
        __mmask16 inside = lanes & _mm512_cmp_ps_mask(q, q, _CMP_ORD_Q) & ~(below | above);
        __m512 gx = _mm512_mask_mov_ps(_mm512_mul_ps(dy, _mm512_setzero_ps()), inside, dy);
        _mm512_mask_storeu_ps(grad_x + i, lanes, gx);
        __m512 xfq = _mm512_mul_ps(_mm512_sub_ps(_mm512_min_ps(_mm512_max_ps(q, lo), hi), zp), s);
        ROUNDED(xfq);
        __m512 t_in =
            _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dy, _mm512_sub_ps(xfq, v)), inv), gf);
        __m512 t_lo = _mm512_mul_ps(_mm512_mul_ps(dy, d_small), gf);
        __m512 t_hi = _mm512_mul_ps(_mm512_mul_ps(dy, d_big), gf);
        __m512 t_s = _mm512_maskz_mov_ps(inside, t_in);
        t_s = _mm512_mask_mov_ps(t_s, below, t_lo);
        t_s = _mm512_mask_mov_ps(t_s, above, t_hi);
        __m512 neg = _mm512_xor_ps(dy, _mm512_set1_ps(-0.0f)); // dy * -1, exactly
        __m512 t_z = _mm512_mul_ps(_mm512_mul_ps(neg, s), gf);
        t_z = _mm512_maskz_mov_ps(below | above, t_z);
        acc_s = _mm512_add_pd(acc_s, _mm512_cvtps_pd(_mm512_castps512_ps256(t_s)));
        acc_s = _mm512_add_pd(acc_s, _mm512_cvtps_pd(_mm512_extractf32x8_ps(t_s, 1)));
        acc_z = _mm512_add_pd(acc_z, _mm512_cvtps_pd(_mm512_castps512_ps256(t_z)));
        acc_z = _mm512_add_pd(acc_z, _mm512_cvtps_pd(_mm512_extractf32x8_ps(t_z, 1)));
    }
    sums[0] += _mm512_reduce_add_pd(acc_s);
    sums[1] += _mm512_reduce_add_pd(acc_z);
}
