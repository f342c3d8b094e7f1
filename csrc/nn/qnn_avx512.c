// qnn_avx512.c - the int8 output stage, a whole add/sub row (both rescalings, the sum and the output stage in
// registers; qnn_kernels.h) and the float edge's quantization 16 lanes at a
// time with AVX-512, the tail masked; bit-exact with the scalar versions
// (qnn_avx512_impl.h).
#include "qnn_avx512_impl.h"

static inline __mmask16 tail_mask(int64_t left) {
    return left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
}

void gaba_qnn_requant_row_avx512(int64_t n, const int32_t *acc, int32_t bias, int32_t mult,
                                 int32_t shift, int32_t zp, int32_t lo, int32_t hi, int8_t *y) {
    const gaba_qnn_v16 c = gaba_qnn_v16_init(bias, mult, shift, zp, lo, hi);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m512i r = gaba_qnn_v16_requant(&c, _mm512_maskz_loadu_epi32(m, acc + i));
        _mm512_mask_cvtsepi32_storeu_epi8(y + i, m, r);
    }
}

// gaba_qnn_fp32_addsub 16 lanes at a time.
static void addsub_row_fp32(int op, int64_t n, const int8_t *a, const int8_t *b, int32_t bc,
                            const gaba_qnn_layer *q, int8_t *y) {
    const __m512 ra = _mm512_set1_ps(gaba_qnn_bits_float(q->q_mult[0])),
                 rb = _mm512_set1_ps(gaba_qnn_bits_float(q->q_mult[1])),
                 vbc = _mm512_set1_ps(gaba_qnn_bits_float(bc)),
                 lo = _mm512_set1_ps((float)(q->act_min - q->out_zp)),
                 hi = _mm512_set1_ps((float)(q->act_max - q->out_zp));
    const __m512i za = _mm512_set1_epi32(q->in_zp[0]), zb = _mm512_set1_epi32(q->in_zp[1]),
                  zy = _mm512_set1_epi32(q->out_zp);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m512i da = _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, a + i)), za);
        __m512 va = _mm512_mul_ps(_mm512_cvtepi32_ps(da), ra), vb = vbc;
        if (b) {
            __m512i db = _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, b + i)), zb);
            vb = _mm512_mul_ps(_mm512_cvtepi32_ps(db), rb);
        }
        __m512 v = op == 0 ? _mm512_add_ps(va, vb) : _mm512_sub_ps(va, vb);
        v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
        _mm512_mask_cvtsepi32_storeu_epi8(y + i, m, _mm512_add_epi32(_mm512_cvtps_epi32(v), zy));
    }
}

// An add input's rescaling MBQM((x - zp) << 20, M, shift) with 32-bit products,
// exact for d = x - zp in [-255, 255] and shift <= 0 (as qnn_addsub_avx2.c's):
// the high multiply is d Mh + floor((d Ml + 2^10) / 2^11), M = Mh 2^11 + Ml.
static inline __m512i add_input(const gaba_qnn_v16 *c, __m512i mh, __m512i ml, __m512i d) {
    __m512i lo = _mm512_srai_epi32(_mm512_add_epi32(_mm512_mullo_epi32(d, ml), _mm512_set1_epi32(1 << 10)), 11);
    return gaba_qnn_v16_rdivpot(c, _mm512_add_epi32(_mm512_mullo_epi32(d, mh), lo));
}

void gaba_qnn_addsub_row_avx512(int op, int64_t n, const int8_t *a, const int8_t *b, int32_t bc,
                                const gaba_qnn_layer *q, int8_t *y) {
    if (q->q_shift[0] == GABA_QNN_SHIFT_FP32) {
        addsub_row_fp32(op, n, a, b, bc, q, y);
        return;
    }
    const gaba_qnn_v16 ca = gaba_qnn_v16_init(0, q->q_mult[0], q->q_shift[0], 0, 0, 0);
    const gaba_qnn_v16 cb = gaba_qnn_v16_init(0, q->q_mult[1], q->q_shift[1], 0, 0, 0);
    const gaba_qnn_v16 co = gaba_qnn_v16_init(0, q->q_mult[2], q->q_shift[2], q->out_zp,
                                              q->act_min, q->act_max);
    const __m512i za = _mm512_set1_epi32(q->in_zp[0]), zb = _mm512_set1_epi32(q->in_zp[1]);
    const __m512i mha = _mm512_set1_epi32(q->q_mult[0] >> 11), mla = _mm512_set1_epi32(q->q_mult[0] & 2047);
    const __m512i mhb = _mm512_set1_epi32(q->q_mult[1] >> 11), mlb = _mm512_set1_epi32(q->q_mult[1] & 2047);
    const __m512i vbc = _mm512_set1_epi32(bc);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m512i va = _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, a + i)), za);
        va = add_input(&ca, mha, mla, va);
        __m512i vb = vbc;
        if (b) {
            vb = _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, b + i)), zb);
            vb = add_input(&cb, mhb, mlb, vb);
        }
        __m512i s = op == 0 ? _mm512_add_epi32(va, vb) : _mm512_sub_epi32(va, vb);
        _mm512_mask_cvtsepi32_storeu_epi8(y + i, m, gaba_qnn_v16_requant(&co, s));
    }
}

// gaba_qnn_quantize_f32: the same division, round half away from zero, zero
// point, clamp; NaN -> the zero point.
void gaba_qnn_quantize_f32_avx512(int64_t n, const float *x, float scale, int32_t zp, int8_t *q) {
    const __m512 vs = _mm512_set1_ps(scale), half = _mm512_set1_ps(0.5f),
                 one = _mm512_set1_ps(1.0f), sign = _mm512_set1_ps(-0.0f),
                 vzp = _mm512_set1_ps((float)zp), lo = _mm512_set1_ps(-128.0f),
                 hi = _mm512_set1_ps(127.0f);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m512 v = _mm512_div_ps(_mm512_maskz_loadu_ps(m, x + i), vs);
        __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __mmask16 away = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(v, t)), half, _CMP_GE_OQ);
        t = _mm512_mask_add_ps(t, away, t, _mm512_or_ps(one, _mm512_and_ps(sign, v)));
        t = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(t, vzp), lo), hi);
        t = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), vzp, t);
        _mm512_mask_cvtepi32_storeu_epi8(q + i, m, _mm512_cvttps_epi32(t));
    }
}
