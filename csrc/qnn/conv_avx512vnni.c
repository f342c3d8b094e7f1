// conv_avx512vnni.c - the int8 conv/dense product with AVX-512 VNNI and
// the output stage fused (qnn_kernels.h, gaba_qnn_gemm_fn): tiles of 8
// output channels x up to 48 pixels in 24 zmm accumulators. The packed
// activations (x + 128 as unsigned bytes, 4 k steps per 32-bit lane) are the
// vector operand of vpdpbusd; each weight row's 4 signed bytes are
// broadcast straight from the plain (c_out, K) weights, so nothing is
// repacked per call. A tile with fewer than 8 channels repeats its last row
// (computed, not stored). The accumulators start at the bias; the tile is
// requantized in registers (each row's output stage set up once per call;
// no float clamp where it is int8's range: the stores saturate) and stored
// as int8 rows (no int32 buffer). Dense (one column) is a dot product per
// output instead: 64 k steps of x + 128 and of a weight row per vpdpbusd,
// 16 rows at a time sharing the x loads, their sums gathered into one vector
// for the output stage.
#include "qnn_avx512_impl.h"

#include <string.h>

#define MR 8

#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

// The first `bytes` (1..4) bytes at p in every lane, the rest 0.
static inline __m512i bcast(const int8_t *p, int64_t bytes) {
    return _mm512_set1_epi32(gaba_qnn_load_k4(p, bytes));
}

#define dpbusd gaba_qnn_dpbusd

// nv (1..3) vectors of 16 pixels; the named accumulators stay in registers.
static inline __attribute__((always_inline)) void tile(const gaba_qnn_layer *q, int64_t c0,
                                                       int64_t mr, const gaba_qnn_v16 *rq,
                                                       const int nv, const int clamp, int64_t k,
                                                       const uint8_t *xp, int64_t np, int64_t n,
                                                       int8_t *y, int64_t rs_y) {
#define ROWPTR(i) const int8_t *w##i = q->w + (c0 + (i < mr ? i : mr - 1)) * k;
    ROWS(ROWPTR)
#define DECL(i)                                                                                    \
    __m512i a##i##0 = _mm512_set1_epi32(rq[i].bias), a##i##1 = a##i##0, a##i##2 = a##i##0;
    ROWS(DECL)
#define DOT_FROM(i, src, bytes)                                                                    \
    {                                                                                              \
        __m512i wv = bcast(src, bytes);                                                            \
        a##i##0 = dpbusd(a##i##0, x0, wv);                                                         \
        if (nv > 1) a##i##1 = dpbusd(a##i##1, x1, wv);                                             \
        if (nv > 2) a##i##2 = dpbusd(a##i##2, x2, wv);                                             \
    }
#define DOT(i) DOT_FROM(i, w##i + 4 * g, 4)
#define DOT_TAIL(i) DOT_FROM(i, w##i + 4 * kf, r)
    int64_t kf = k / 4;
    for (int64_t g = 0; g < kf; g++) {
        const uint8_t *xg = xp + g * np * 4;
        __m512i x0 = _mm512_loadu_si512(xg), x1 = x0, x2 = x0;
        if (nv > 1) x1 = _mm512_loadu_si512(xg + 64);
        if (nv > 2) x2 = _mm512_loadu_si512(xg + 128);
        ROWS(DOT)
    }
    if (k % 4) { // the last group: its missing k steps are 0 in xp
        const int64_t r = k % 4;
        const uint8_t *xg = xp + kf * np * 4;
        __m512i x0 = _mm512_loadu_si512(xg), x1 = x0, x2 = x0;
        if (nv > 1) x1 = _mm512_loadu_si512(xg + 64);
        if (nv > 2) x2 = _mm512_loadu_si512(xg + 128);
        ROWS(DOT_TAIL)
    }
    __mmask16 m0 = n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1);
    __mmask16 m1 = n >= 32 ? 0xffff : n <= 16 ? 0 : (__mmask16)((1u << (n - 16)) - 1);
    __mmask16 m2 = n >= 48 ? 0xffff : n <= 32 ? 0 : (__mmask16)((1u << (n - 32)) - 1);
#define STORE(i)                                                                                   \
    if (i < mr) {                                                                                  \
        int8_t *yr = y + i * rs_y;                                                                 \
        _mm512_mask_cvtsepi32_storeu_epi8(yr, m0,                                                  \
                                          gaba_qnn_v16_requant_biased(&rq[i], a##i##0, clamp));    \
        if (nv > 1)                                                                                \
            _mm512_mask_cvtsepi32_storeu_epi8(                                                     \
                yr + 16, m1, gaba_qnn_v16_requant_biased(&rq[i], a##i##1, clamp));                 \
        if (nv > 2)                                                                                \
            _mm512_mask_cvtsepi32_storeu_epi8(                                                     \
                yr + 32, m2, gaba_qnn_v16_requant_biased(&rq[i], a##i##2, clamp));                 \
    }
    ROWS(STORE)
}

void gaba_qnn_gemm_avx512vnni(const gaba_qnn_layer *q, int64_t c0, int64_t co, int64_t k, int64_t n,
                              const uint8_t *xp, int64_t np, int8_t *y, int64_t rs_y) {
    for (int64_t i = 0; i < co; i += MR) {
        int64_t mr = co - i < MR ? co - i : MR;
        gaba_qnn_v16 rq[MR]; // the rows' output stages, set up once for all their pixels
        int unclamped = 1;   // every row's stage may skip the clamp: the stores saturate
        for (int64_t r = 0; r < MR; r++) {
            int64_t c = c0 + i + (r < mr ? r : mr - 1);
            rq[r] = gaba_qnn_v16_init(q->bias_eff[c], q->mult[c], q->shift[c], q->out_zp,
                                      q->act_min, q->act_max);
            unclamped &= gaba_qnn_v16_unclamped_ok(&rq[r]);
        }
        for (int64_t j = 0; j < n; j += 48) {
            int64_t nj = n - j < 48 ? n - j : 48;
            const uint8_t *xj = xp + 4 * j;
            int8_t *yi = y + i * rs_y + j;
            if (unclamped) {
                if (nj > 32)
                    tile(q, c0 + i, mr, rq, 3, 0, k, xj, np, nj, yi, rs_y);
                else if (nj > 16)
                    tile(q, c0 + i, mr, rq, 2, 0, k, xj, np, nj, yi, rs_y);
                else
                    tile(q, c0 + i, mr, rq, 1, 0, k, xj, np, nj, yi, rs_y);
            } else if (nj > 32)
                tile(q, c0 + i, mr, rq, 3, 1, k, xj, np, nj, yi, rs_y);
            else if (nj > 16)
                tile(q, c0 + i, mr, rq, 2, 1, k, xj, np, nj, yi, rs_y);
            else
                tile(q, c0 + i, mr, rq, 1, 1, k, xj, np, nj, yi, rs_y);
        }
    }
}

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
                a[i] = dpbusd(a[i], xv, _mm512_maskz_loadu_epi8(m, w[i] + k));
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
