// dwconv_avx2.c - the int8 depthwise conv with AVX2, for CPUs without VNNI:
// the input is read in place, 16 outputs of a row at a time (width stride 1
// or 2, any kernel, any dilation). 16 input bytes sign-extended to int16
// hold 8 pairs (x[2i], x[2i+1]); vpmaddwd with a weight pair adds two taps
// into 8 int32 lanes, exactly (|x w| <= 128 * 127, no int16 sums). Stride 1:
// two accumulators, the even and the odd outputs; two adjacent taps (w0, w1)
// are one pair for both (the odd ones from the load one byte on), a lone tap
// is (w, 0) for the even outputs and (0, w) for the odd. Stride 2: output i
// reads x[2i + kx dw], so adjacent taps again make one pair, a lone tap at
// an odd offset (0, w) from the byte before; two accumulators, outputs 0-7
// and 8-15. Chunks whose taps reach past the row (the padding) read strips
// instead, copies of their columns with the zero point around them made once
// per input row (qnn_impl.h; a real 0: the padded taps' zp * w is in
// bias_eff), rows above and below a row of zero points. The loop
// reads x itself, not x + 128: 128 sum w goes back into the bias. The output
// stage runs in registers (qnn_avx2_impl.h).
#include "qnn_avx2_impl.h"
#include "qnn_impl.h"

#define MAX_TAPS 256 // weight pairs on the stack
#define DW_MAX_KH 16 // kernel heights (the rows of a chunk on the stack)

// 16 int8 at p as 16 int16.
static inline __m256i load16(const int8_t *p) {
    return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)p));
}

static inline __m256i madd(__m256i acc, __m256i x, int32_t pair) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(x, _mm256_set1_epi32(pair)));
}

static inline int32_t pair_of(int8_t lo, int8_t hi) {
    return (int32_t)((uint32_t)(uint16_t)(int16_t)lo | (uint32_t)(uint16_t)(int16_t)hi << 16);
}

// One channel's weights as vpmaddwd operands, tap t = ky kw + kx: pair[t]
// (w[t], w[t + 1]), lo[t] (w[t], 0), hi[t] (0, w[t]).
typedef struct dw_weights {
    int32_t pair[MAX_TAPS], lo[MAX_TAPS], hi[MAX_TAPS];
} dw_weights;

static void dw_weights_init(const int8_t *w, int64_t kh, int64_t kw, dw_weights *p) {
    for (int64_t ky = 0, t = 0; ky < kh; ky++)
        for (int64_t kx = 0; kx < kw; kx++, t++) {
            p->pair[t] = pair_of(w[t], kx + 1 < kw ? w[t + 1] : 0);
            p->lo[t] = pair_of(w[t], 0);
            p->hi[t] = pair_of(0, w[t]);
        }
}

// The 16 outputs of one chunk; rows[ky]: the chunk's first input byte in
// kernel row ky. kh, kw, sw (and dw) constants where inlined for the common kernels.
static inline __attribute__((always_inline)) void
dw_chunk(const dw_weights *p, const int8_t *const *rows, int64_t kh, const int64_t kw,
         const int64_t dw, const int64_t sw, __m256i *a0, __m256i *a1) {
    __m256i e = _mm256_setzero_si256(), o = e;
    for (int64_t ky = 0; ky < kh; ky++) {
        const int8_t *s = rows[ky];
        const int32_t *pair = p->pair + ky * kw, *lo = p->lo + ky * kw, *hi = p->hi + ky * kw;
        int64_t kx = 0;
        if (sw == 1) { // e: outputs 0 2 .. 14, o: 1 3 .. 15
            if (dw == 1)
                for (; kx + 1 < kw; kx += 2) {
                    e = madd(e, load16(s + kx), pair[kx]);
                    o = madd(o, load16(s + kx + 1), pair[kx]);
                }
            for (; kx < kw; kx++) {
                __m256i v = load16(s + kx * dw);
                e = madd(e, v, lo[kx]);
                o = madd(o, v, hi[kx]);
            }
        } else { // e: outputs 0-7, o: 8-15
            if (dw == 1)
                for (; kx + 1 < kw; kx += 2) {
                    e = madd(e, load16(s + kx), pair[kx]);
                    o = madd(o, load16(s + 16 + kx), pair[kx]);
                }
            for (; kx < kw; kx++) {
                int64_t off = kx * dw;
                int32_t wv = off & 1 ? hi[kx] : lo[kx];
                off &= ~(int64_t)1;
                e = madd(e, load16(s + off), wv);
                o = madd(o, load16(s + 16 + off), wv);
            }
        }
    }
    *a0 = e, *a1 = o;
}

// 16 requantized outputs in order.
static inline __m128i dw_out(const gaba_qnn_v8 *c, int64_t sw, __m256i a0, __m256i a1, __m256i bias,
                             __m256i zp, __m256i lo, __m256i hi) {
    __m256i r0 = gaba_qnn_v8_mbqm(c, _mm256_add_epi32(a0, bias));
    __m256i r1 = gaba_qnn_v8_mbqm(c, _mm256_add_epi32(a1, bias));
    r0 = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(r0, zp), lo), hi);
    r1 = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(r1, zp), lo), hi);
    __m256i r16;
    if (sw == 1) { // interleave the even and the odd outputs as int16
        r16 = _mm256_or_si256(_mm256_and_si256(r0, _mm256_set1_epi32(0xffff)),
                              _mm256_slli_epi32(r1, 16));
    } else { // packs works per 128-bit lane: 0-3 8-11 4-7 12-15, put back in order
        r16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(r0, r1), 0xD8);
    }
    return _mm_packs_epi16(_mm256_castsi256_si128(r16), _mm256_extracti128_si256(r16, 1));
}

// dst[0, n) = src[0, n) without a library call (a strip's row is a few dozen
// bytes): 16 bytes a step, the last step overlapping.
static inline void copy_short(int8_t *dst, const int8_t *src, int64_t n) {
    if (n >= 16) {
        for (int64_t i = 0; i + 16 < n; i += 16)
            _mm_storeu_si128((__m128i *)(dst + i), _mm_loadu_si128((const __m128i *)(src + i)));
        _mm_storeu_si128((__m128i *)(dst + n - 16),
                         _mm_loadu_si128((const __m128i *)(src + n - 16)));
        return;
    }
    for (int64_t i = 0; i < n; i++) dst[i] = src[i];
}

// A strip: the row's columns [s0, s0 + len) into dst (stride bytes), the zero point outside.
static inline void strip_row(const int8_t *row, int64_t w, int64_t s0, int64_t len, int64_t stride,
                             __m256i zx, int8_t *dst) {
    for (int64_t i = 0; i < stride; i += 32) _mm256_storeu_si256((__m256i *)(dst + i), zx);
    int64_t a = s0 < 0 ? -s0 : 0, b = w - s0 < len ? w - s0 : len;
    if (b > a) copy_short(dst + a, row + s0 + a, b - a);
}

static void dw_inplace(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q, const int8_t *x,
                       int8_t *y, void *ws) {
    const int64_t kh = g->kh, kw = g->kw, sw = g->sw, dw = g->dw, w = g->w;
    const gaba_qnn_dw_strips st = gaba_qnn_dw_strips_of(g);
    const int64_t l0 = -g->pl, r0 = 16 * st.nr0 * sw - g->pl; // the strips' first columns
    const __m256i zx = _mm256_set1_epi8((char)q->in_zp[0]);
    int8_t *zrow = ws, *lstrip = zrow + st.z_len, *rstrip = lstrip + g->h * st.l_stride;
    for (int64_t i = 0; i < st.z_len; i += 32) _mm256_storeu_si256((__m256i *)(zrow + i), zx);
    const __m256i zp = _mm256_set1_epi32(q->out_zp), vlo = _mm256_set1_epi32(q->act_min),
                  vhi = _mm256_set1_epi32(q->act_max);
    dw_weights wp;
    for (int64_t c = 0; c < g->c; c++) {
        const int8_t *wc = q->w + c * kh * kw, *xc = x + c * g->h * w;
        for (int64_t iy = 0; iy < g->h; iy++) {
            if (st.l_len)
                strip_row(xc + iy * w, w, l0, st.l_len, st.l_stride, zx, lstrip + iy * st.l_stride);
            if (st.r_len)
                strip_row(xc + iy * w, w, r0, st.r_len, st.r_stride, zx, rstrip + iy * st.r_stride);
        }
        int32_t wsum = 0;
        for (int64_t t = 0; t < kh * kw; t++) wsum += wc[t];
        dw_weights_init(wc, kh, kw, &wp);
        const gaba_qnn_v8 rq = gaba_qnn_v8_init(q->mult[c], q->shift[c]);
        const __m256i bias =
            _mm256_set1_epi32((int32_t)((uint32_t)q->bias_eff[c] + 128u * (uint32_t)wsum));
        int8_t *yc = y + c * g->ho * g->wo;
        for (int64_t oy = 0; oy < g->ho; oy++) {
            int64_t iy[DW_MAX_KH]; // each kernel row's input row, -1 outside
            for (int64_t ky = 0; ky < kh; ky++) {
                int64_t r = oy * g->sh - g->pt + ky * g->dh;
                iy[ky] = r >= 0 && r < g->h ? r : -1;
            }
            for (int64_t ch = 0; ch < st.nch; ch++) {
                const int64_t ox = 16 * ch, ix = ox * sw - g->pl; // the chunk's first input column
                const int8_t *rows[DW_MAX_KH];
                for (int64_t ky = 0; ky < kh; ky++)
                    rows[ky] = iy[ky] < 0     ? zrow
                               : ch < st.nl   ? lstrip + iy[ky] * st.l_stride + (ix - l0)
                               : ch >= st.nr0 ? rstrip + iy[ky] * st.r_stride + (ix - r0)
                                              : xc + iy[ky] * w + ix;
                __m256i a0, a1;
                if (kh == 3 && kw == 3 && dw == 1 && sw == 1)
                    dw_chunk(&wp, rows, 3, 3, 1, 1, &a0, &a1);
                else if (kh == 3 && kw == 3 && dw == 1 && sw == 2)
                    dw_chunk(&wp, rows, 3, 3, 1, 2, &a0, &a1);
                else if (kh == 1 && kw == 5 && sw == 1)
                    dw_chunk(&wp, rows, 1, 5, dw, 1, &a0, &a1);
                else if (sw == 1)
                    dw_chunk(&wp, rows, kh, kw, dw, 1, &a0, &a1);
                else
                    dw_chunk(&wp, rows, kh, kw, dw, 2, &a0, &a1);
                __m128i r = dw_out(&rq, sw, a0, a1, bias, zp, vlo, vhi);
                if (g->wo - ox >= 16) {
                    _mm_storeu_si128((__m128i *)(yc + oy * g->wo + ox), r);
                } else {
                    int8_t part[16];
                    _mm_storeu_si128((__m128i *)part, r);
                    copy_short(yc + oy * g->wo + ox, part, g->wo - ox);
                }
            }
        }
    }
}

void gaba_qnn_dwconv_avx2(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q, const int8_t *x,
                          int8_t *y, void *ws) {
    if ((g->sw == 1 || g->sw == 2) && g->kh * g->kw <= MAX_TAPS && g->kh <= DW_MAX_KH) {
        dw_inplace(g, q, x, y, ws);
        return;
    }
    gaba_qnn_dwconv_padded_avx2(g, q, x, y, ws);
}

void gaba_qnn_dwconv_padded_avx2(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q,
                                 const int8_t *x, int8_t *y, void *ws) {
    gaba_qnn_dwconv_body(g, q, x, y, ws, gaba_qnn_requant_row_avx2);
}
