// dense_avx512vnni.c - the int8 fully connected layer with AVX-512 VNNI
// (gaba_qnn_gemv_fn): a dot product per output, 64 k steps of x + 128 and of
// a weight row per vpdpbusd, 16 rows at a time sharing the x loads, their
// sums gathered into one vector for the output stage.
#include "qnn_avx512_impl.h"

// The 16 sums of a[0..15] in one vector: lane p holds the sum of a[i] with i
// the 4 x 4 transpose of p (i = 4 (p % 4) + p / 4), the order the tree of
// 128-bit lane, 64-bit and 32-bit shuffles leaves them in.
static inline __m512i sum16(const __m512i *a) {
    __m512i u[8], v[4], w[2];
    for (int i = 0; i < 8; i++)
        u[i] = _mm512_add_epi32(_mm512_shuffle_i64x2(a[2 * i], a[2 * i + 1], 0x44),
                                _mm512_shuffle_i64x2(a[2 * i], a[2 * i + 1], 0xEE));
    for (int i = 0; i < 4; i++)
        v[i] = _mm512_add_epi32(_mm512_shuffle_i64x2(u[2 * i], u[2 * i + 1], 0x88),
                                _mm512_shuffle_i64x2(u[2 * i], u[2 * i + 1], 0xDD));
    for (int i = 0; i < 2; i++)
        w[i] = _mm512_add_epi32(_mm512_unpacklo_epi64(v[2 * i], v[2 * i + 1]),
                                _mm512_unpackhi_epi64(v[2 * i], v[2 * i + 1]));
    const __m512 w0 = _mm512_castsi512_ps(w[0]), w1 = _mm512_castsi512_ps(w[1]);
    return _mm512_add_epi32(_mm512_castps_si512(_mm512_shuffle_ps(w0, w1, 0x88)),
                            _mm512_castps_si512(_mm512_shuffle_ps(w0, w1, 0xDD)));
}

// The output stage of 16 rows with their own multipliers (lane p: row r0 + p),
// the float32 estimate of qnn_avx512_impl.h per lane; 0 where a lane is not
// estimated (fp32, a left shift) or lies near an integer: the caller then
// takes the scalar stage.
static inline int requant16(const gaba_qnn_layer *q, int64_t r0, __mmask16 m, __m512i acc,
                            int8_t *y) {
    const __m512i shift = _mm512_maskz_loadu_epi32(m, q->shift + r0);
    const __m512i mult = _mm512_maskz_loadu_epi32(m, q->mult + r0);
    if (_mm512_mask_cmpgt_epi32_mask(m, shift, _mm512_setzero_si512()) |
        _mm512_mask_cmplt_epi32_mask(m, mult, _mm512_setzero_si512()))
        return 0; // a left shift or the fp32 marker (127), or a negative multiplier
    const __m512 right = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_setzero_si512(), shift));
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 em =
        _mm512_scalef_ps(_mm512_cvtepi32_ps(mult), _mm512_sub_ps(_mm512_set1_ps(-31.0f), right));
    // d = 2^-(r+1) where r > 0, 0 where r = 0
    const __m512 d =
        _mm512_maskz_scalef_ps(_mm512_cmp_ps_mask(right, _mm512_setzero_ps(), _CMP_GT_OQ), one,
                               _mm512_sub_ps(_mm512_set1_ps(-1.0f), right));
    const __m512 base = _mm512_set1_ps((float)q->out_zp + 0.5f + GABA_QNN_EST_E);
    const gaba_qnn_v16_est e = {em, _mm512_add_ps(base, d), _mm512_sub_ps(base, d),
                                _mm512_set1_ps((float)q->act_min + 0.5f),
                                _mm512_set1_ps((float)q->act_max + 0.5f)};
    acc = _mm512_add_epi32(acc, _mm512_maskz_loadu_epi32(m, q->bias_eff + r0));
    __m512 add = _mm512_mask_blend_ps(_mm512_movepi32_mask(acc), e.epos, e.eneg);
    __mmask16 near;
    __m512i r = gaba_qnn_est_floor(&e, _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), em, add), 1, &near);
    if (near & m) return 0;
    _mm512_mask_cvtsepi32_storeu_epi8(y + r0, m, r);
    return 1;
}

void gaba_qnn_gemv_avx512vnni(int64_t n, int64_t f, const gaba_qnn_layer *q, const int8_t *x,
                              int8_t *y, void *ws) {
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    for (int64_t r = 0; r < n; r += 16) {
        // accumulator i: row r + 4 (i % 4) + i / 4 (sum16's order); rows past n
        // repeat row n - 1 (computed, not stored)
        const int8_t *w[16];
        for (int i = 0; i < 16; i++) {
            int64_t row = r + 4 * (i % 4) + i / 4;
            w[i] = q->w + (row < n ? row : n - 1) * f;
        }
        __m512i a[16];
        for (int i = 0; i < 16; i++) a[i] = _mm512_setzero_si512();
        for (int64_t k = 0; k < f; k += 64) {
            __mmask64 m = f - k >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (f - k)) - 1);
            __m512i xv =
                _mm512_maskz_mov_epi8(m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x + k), flip));
            for (int i = 0; i < 16; i++)
                a[i] = gaba_qnn_dpbusd(a[i], xv, _mm512_maskz_loadu_epi8(m, w[i] + k));
        }
        const __m512i acc = sum16(a);
        const __mmask16 m = n - r >= 16 ? 0xffff : (__mmask16)((1u << (n - r)) - 1);
        if (requant16(q, r, m, acc, y)) continue;
        int32_t sums[16];
        _mm512_storeu_si512(sums, acc);
        for (int64_t i = 0; i < 16 && r + i < n; i++)
            y[r + i] = gaba_qnn_requant((int32_t)((uint32_t)sums[i] + (uint32_t)q->bias_eff[r + i]),
                                        q->mult[r + i], q->shift[r + i], q->out_zp, q->act_min,
                                        q->act_max);
    }
}
