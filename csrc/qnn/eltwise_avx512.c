// eltwise_avx512.c - the int8 add/sub row (the double-rounded sum from a
// float32 estimate, or both rescalings, the sum and the output stage in
// registers; qnn_kernels.h) and the mul (the products and their output stage
// in registers) 16 lanes at a time with AVX-512, the tail masked; bit-exact
// with eltwise.c's plain versions (qnn_avx512_impl.h).
#include "qnn_avx512_impl.h"
#include "../core/lanes_avx512.h"

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
        __mmask16 m = gaba_lanes16(n - i);
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
// exact for d = x - zp in [-255, 255] and shift <= 0 (as eltwise_avx2.c's):
// the high multiply is d Mh + floor((d Ml + 2^10) / 2^11), M = Mh 2^11 + Ml.
static inline __m512i add_input(const gaba_qnn_v16 *c, int32_t mult, int32_t zp, __m512i x) {
    const __m512i d = _mm512_sub_epi32(x, _mm512_set1_epi32(zp));
    const __m512i mh = _mm512_set1_epi32(mult >> 11), ml = _mm512_set1_epi32(mult & 2047);
    __m512i lo = _mm512_srai_epi32(
        _mm512_add_epi32(_mm512_mullo_epi32(d, ml), _mm512_set1_epi32(1 << 10)), 11);
    return gaba_qnn_v16_rdivpot(c, _mm512_add_epi32(_mm512_mullo_epi32(d, mh), lo));
}

// The add/sub stage in integers: both rescalings, the sum, the output stage.
typedef struct addsub_int {
    gaba_qnn_v16 a, b, out;
} addsub_int;

static inline __m512i addsub16_int(int op, const addsub_int *c, const gaba_qnn_layer *q, __m512i xa,
                                   __m512i xb, int32_t bc, int has_b) {
    __m512i va = add_input(&c->a, q->q_mult[0], q->in_zp[0], xa);
    __m512i vb = has_b ? add_input(&c->b, q->q_mult[1], q->in_zp[1], xb) : _mm512_set1_epi32(bc);
    return gaba_qnn_v16_requant(&c->out,
                                op == 0 ? _mm512_add_epi32(va, vb) : _mm512_sub_epi32(va, vb));
}

// The same integers from a float32 estimate, as the conv output stage's
// (qnn_avx512_impl.h): input i's rescaling T_i = MBQM((x - zp_i) << 20, M_i,
// -r_i) is (x - zp_i) K_i, K_i = M_i / 2^(11 + r_i), within 1 (two roundings
// of at most 1/2), so g = (a - zp_a) K_a e +- (b - zp_b) K_b e (e the output
// multiplier's M / 2^(31 + r)) is the sum S = T_a +- T_b times e within
// 2 e, plus the float32 roundings. Where that error, and the 2 d the sign
// of g can get wrong near S = 0, stay below the estimate's E, f = g + zp +
// 1/2 + E +- d is checked and floored as there; the rare vectors near an
// integer take the integer path.
typedef struct addsub_est {
    __m512 ka, kb, c0; // g = a ka + b kb + c0, and c0 alone without b
    int ok;
} addsub_est;

static addsub_est addsub_est_init(int op, const gaba_qnn_layer *q, const gaba_qnn_v16 *out,
                                  int32_t bc, int has_b) {
    addsub_est e = {0};
    if (!out->est || q->q_shift[0] > 0 || q->q_shift[1] > 0) return e;
    double em = out->em, sign = op == 0 ? 1.0 : -1.0;
    double ka = q->q_mult[0] * (double)gaba_qnn_pow2f(-11 + q->q_shift[0]) * em;
    double kb = sign * q->q_mult[1] * (double)gaba_qnn_pow2f(-11 + q->q_shift[1]) * em;
    double c0 = -q->in_zp[0] * ka + (has_b ? -q->in_zp[1] * kb : sign * bc * em);
    // |g| and every partial sum stay below 255 |ka| + 255 |kb| + |c0|, and f below that
    // plus |epos|: each of the six float32 roundings (ka, kb, c0, the two FMAs and
    // the add) within 2^-24 of it
    double span = 255.0 * (fabs(ka) + fabs(kb)) + fabs(c0) + fabs((double)out->epos) + 1.0;
    double err =
        (has_b ? 2.0 : 1.0) * em + 2.0 * ((double)out->epos - out->eneg) + 6.0 * span * 0x1p-24;
    e.ok = err < GABA_QNN_EST_E;
    e.ka = _mm512_set1_ps((float)ka), e.kb = _mm512_set1_ps((float)kb),
    e.c0 = _mm512_set1_ps((float)c0);
    return e;
}

void gaba_qnn_addsub_row_avx512(int op, int64_t n, const int8_t *a, const int8_t *b, int32_t bc,
                                const gaba_qnn_layer *q, int8_t *y) {
    if (q->q_shift[0] == GABA_QNN_SHIFT_FP32) {
        addsub_row_fp32(op, n, a, b, bc, q, y);
        return;
    }
    const addsub_int ci = {
        gaba_qnn_v16_init(0, q->q_mult[0], q->q_shift[0], 0, 0, 0),
        gaba_qnn_v16_init(0, q->q_mult[1], q->q_shift[1], 0, 0, 0),
        gaba_qnn_v16_init(0, q->q_mult[2], q->q_shift[2], q->out_zp, q->act_min, q->act_max)};
    const addsub_est ce = addsub_est_init(op, q, &ci.out, bc, b != NULL);
    const gaba_qnn_v16_est re = gaba_qnn_v16_est_init(&ci.out);
    // the clamp int8's whole range: the saturating store applies it (|g| stays far inside int32)
    const int clamp = q->act_min != -128 || q->act_max != 127;
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = gaba_lanes16(n - i);
        __m512i xa = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, a + i));
        __m512i xb = b ? _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, b + i)) : xa;
        if (ce.ok) {
            __m512 g = _mm512_fmadd_ps(_mm512_cvtepi32_ps(xa), ce.ka, ce.c0);
            if (b) g = _mm512_fmadd_ps(_mm512_cvtepi32_ps(xb), ce.kb, g);
            __mmask16 neg = _mm512_movepi32_mask(_mm512_castps_si512(g)), near;
            __m512i r = gaba_qnn_est_floor(
                &re, _mm512_add_ps(g, _mm512_mask_blend_ps(neg, re.epos, re.eneg)), clamp, &near);
            if (__builtin_expect(near == 0, 1)) {
                _mm512_mask_cvtsepi32_storeu_epi8(y + i, m, r);
                continue;
            }
        }
        _mm512_mask_cvtsepi32_storeu_epi8(y + i, m,
                                          addsub16_int(op, &ci, q, xa, xb, bc, b != NULL));
    }
}

// gaba_qnn_mul_generic's integers: (a - za) (b - zb) in int32 lanes, requantized
// by q_mult[0] in registers; a per-channel b runs channel by channel (one
// value per element where s = 1), the output stage set up once.
void gaba_qnn_mul_avx512(int64_t c, int64_t s, const gaba_qnn_layer *q, const int8_t *a,
                         const int8_t *b, int b_per_channel, int8_t *y) {
    const gaba_qnn_v16 rq =
        gaba_qnn_v16_init(0, q->q_mult[0], q->q_shift[0], q->out_zp, q->act_min, q->act_max);
    const __m512i za = _mm512_set1_epi32(q->in_zp[0]), zb = _mm512_set1_epi32(q->in_zp[1]);
#define LOAD(p, m) _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, p))
    if (!b_per_channel || s == 1) {
        for (int64_t i = 0; i < c * s; i += 16) {
            const __mmask16 m = gaba_lanes16(c * s - i);
            __m512i p = _mm512_mullo_epi32(_mm512_sub_epi32(LOAD(a + i, m), za),
                                           _mm512_sub_epi32(LOAD(b + i, m), zb));
            _mm512_mask_cvtsepi32_storeu_epi8(y + i, m, gaba_qnn_v16_requant(&rq, p));
        }
        return;
    }
    for (int64_t ch = 0; ch < c; ch++) {
        const __m512i bv = _mm512_set1_epi32(b[ch] - q->in_zp[1]);
        const int8_t *ac = a + ch * s;
        int8_t *yc = y + ch * s;
        for (int64_t i = 0; i < s; i += 16) {
            const __mmask16 m = gaba_lanes16(s - i);
            __m512i p = _mm512_mullo_epi32(_mm512_sub_epi32(LOAD(ac + i, m), za), bv);
            _mm512_mask_cvtsepi32_storeu_epi8(yc + i, m, gaba_qnn_v16_requant(&rq, p));
        }
    }
#undef LOAD
}
