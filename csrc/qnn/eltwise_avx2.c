// eltwise_avx2.c - one row of the int8 add/sub (gaba_qnn_addsub_row_fn)
// with AVX2, 8 lanes at a time in registers, the tail through a padded
// copy. Bit-exact with gaba_qnn_binary_ref. The output stage is
// qnn_avx2_impl.h's; each input's rescaling MBQM((q - zp) << 20, M, shift)
// takes 32-bit products instead of the 64-bit ones, which bound the row (the
// vpmuldq pairs of three MBQMs per 8 lanes).
#include "qnn_avx2_impl.h"

// The input rescaling, exact for d = q - zp in [-255, 255] and shift <= 0
// (gaba_qnn_set_rescale: M / 2^31 * 2^shift = s_in / (2 max(s_a, s_b)) <= 0.5).
// Its high multiply floor((d 2^20 M + 2^30) / 2^31) (qnn_avx2_impl.h) is
// floor((d M + 2^10) / 2^11) = d Mh + floor((d Ml + 2^10) / 2^11) with
// M = Mh 2^11 + Ml: d Mh < 2^28, |d Ml| < 2^19. Then the rounding right shift.
typedef struct input_rescale {
    __m256i mh, ml, vmask, vthr;
    __m128i rsh;
} input_rescale;

static inline input_rescale input_rescale_init(int32_t mult, int32_t shift) {
    int right = -shift;
    input_rescale c;
    c.mh = _mm256_set1_epi32(mult >> 11), c.ml = _mm256_set1_epi32(mult & 2047);
    c.vmask = _mm256_set1_epi32((int32_t)(((int64_t)1 << right) - 1));
    c.vthr = _mm256_set1_epi32((int32_t)((((int64_t)1 << right) - 1) >> 1));
    c.rsh = _mm_cvtsi32_si128(right);
    return c;
}

static inline __m256i input_rescale_apply(const input_rescale *c, const int8_t *q, __m256i zp) {
    const __m256i half = _mm256_set1_epi32(1 << 10);
    __m256i d = _mm256_sub_epi32(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)q)), zp);
    __m256i lo = _mm256_srai_epi32(_mm256_add_epi32(_mm256_mullo_epi32(d, c->ml), half), 11);
    return gaba_qnn_v8_rdivpot(_mm256_add_epi32(_mm256_mullo_epi32(d, c->mh), lo), c->vmask,
                               c->vthr, c->rsh);
}

// gaba_qnn_fp32_addsub 8 lanes at a time (pa, pb: 8 readable bytes).
static inline __m128i addsub8_fp32(int op, const int8_t *pa, const int8_t *pb, __m256 vbc,
                                   const gaba_qnn_layer *q) {
    const __m256 ra = _mm256_set1_ps(gaba_qnn_bits_float(q->q_mult[0])),
                 rb = _mm256_set1_ps(gaba_qnn_bits_float(q->q_mult[1])),
                 lo = _mm256_set1_ps((float)(q->act_min - q->out_zp)),
                 hi = _mm256_set1_ps((float)(q->act_max - q->out_zp));
    __m256i da = _mm256_sub_epi32(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)pa)),
                                  _mm256_set1_epi32(q->in_zp[0]));
    __m256 va = _mm256_mul_ps(_mm256_cvtepi32_ps(da), ra), vb = vbc;
    if (pb) {
        __m256i db = _mm256_sub_epi32(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)pb)),
                                      _mm256_set1_epi32(q->in_zp[1]));
        vb = _mm256_mul_ps(_mm256_cvtepi32_ps(db), rb);
    }
    __m256 v = op == 0 ? _mm256_add_ps(va, vb) : _mm256_sub_ps(va, vb);
    __m256i r = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v, lo), hi)),
                                 _mm256_set1_epi32(q->out_zp));
    __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    return _mm_packs_epi16(p16, p16);
}

void gaba_qnn_addsub_row_avx2(int op, int64_t n, const int8_t *a, const int8_t *b, int32_t bc,
                              const gaba_qnn_layer *q, int8_t *y) {
    const int fp32 = q->q_shift[0] == GABA_QNN_SHIFT_FP32;
    const __m256 fbc = _mm256_set1_ps(gaba_qnn_bits_float(bc));
    const input_rescale ca = input_rescale_init(q->q_mult[0], fp32 ? 0 : q->q_shift[0]);
    const input_rescale cb = input_rescale_init(q->q_mult[1], fp32 ? 0 : q->q_shift[1]);
    const gaba_qnn_v8 co = gaba_qnn_v8_init(q->q_mult[2], fp32 ? 0 : q->q_shift[2]);
    const __m256i za = _mm256_set1_epi32(q->in_zp[0]), zb = _mm256_set1_epi32(q->in_zp[1]);
    const __m256i zero = _mm256_setzero_si256(), vzp = _mm256_set1_epi32(q->out_zp),
                  vlo = _mm256_set1_epi32(q->act_min), vhi = _mm256_set1_epi32(q->act_max);
    const __m256i vbc = _mm256_set1_epi32(bc);
    for (int64_t i = 0; i < n; i += 8) {
        int8_t ta[8] = {0}, tb[8] = {0}, ty[8];
        int64_t m = n - i < 8 ? n - i : 8;
        const int8_t *pa = a + i, *pb = b ? b + i : NULL;
        if (m < 8) { // the tail: 8 lanes over a padded copy
            memcpy(ta, pa, (size_t)m);
            if (pb) memcpy(tb, pb, (size_t)m);
            pa = ta, pb = pb ? tb : NULL;
        }
        __m128i r;
        if (fp32) {
            r = addsub8_fp32(op, pa, pb, fbc, q);
        } else {
            __m256i va = input_rescale_apply(&ca, pa, za);
            __m256i vb = pb ? input_rescale_apply(&cb, pb, zb) : vbc;
            __m256i s = op == 0 ? _mm256_add_epi32(va, vb) : _mm256_sub_epi32(va, vb);
            r = gaba_qnn_v8_requant(&co, s, zero, vzp, vlo, vhi);
        }
        if (m == 8)
            _mm_storel_epi64((__m128i *)(y + i), r);
        else
            _mm_storel_epi64((__m128i *)ty, r), memcpy(y + i, ty, (size_t)m);
    }
}
