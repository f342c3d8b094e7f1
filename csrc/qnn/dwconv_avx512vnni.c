// dwconv_avx512vnni.c - the int8 depthwise conv with AVX-512 VNNI.
// Kernels up to 8 taps wide (3x3, 1x3, 1x5, any height, stride up to 4,
// dilation while 4 taps fit a 16-byte lane): the input is read in place,
// one masked 64-byte load per kernel row, 4 of its taps and 16 outputs (the
// masked-off bytes, the padding, are the zero point: a real 0), flipped to
// x + 128 and shuffled (vpermd, vpshufb) into 16 quadruples (x[j sw],
// x[j sw + dw], x[j sw + 2 dw], ...) that one vpdpbusd multiplies by those
// 4 weights.
// Each loaded row serves every output row that reads it (DW_ROWS output
// rows at once: any 3x3 kernel at stride 1 or 2, dilation 1 or 2, and other
// heights at stride 1); a 3x3 "same" plane up to 8 wide (and 256 outputs)
// runs as one flat row; a one-row conv1d runs its own tight loop. Other kernels (stride 1 or 2
// along the width, up to MAX_TAPS taps): each channel is copied into a zero-point-padded plane as
// in qnn_impl.h; a load of 32 input bytes widened to int16 holds 16 pairs (x[2j], x[2j+1]), and
// vpdpwssd with a weight pair (w, 0) or (0, w) adds w * x[2j] or w * x[2j + 1] to 16 int32 lanes.
// Stride 1: two accumulators (the even and the odd outputs of 32) over the padded plane as one flat
// row, so narrow rows still fill the vectors; stride 2: one (16 outputs of a row; the tap's parity
// picks the pair). The output stage runs in registers (qnn_avx512_impl.h). Exact: the same integer
// sums as the loop.
#include "qnn_avx512_impl.h"
#include "qnn_impl.h"

#define MAX_TAPS 256 // larger kernels take the AVX2 loop

// Short copies and fills inline, 64 bytes per masked move: a plane's rows are
// a few dozen bytes, where a libc call costs more than the copy.
static inline __mmask64 mask64(int64_t n) {
    return n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1);
}

static inline void copy_bytes(int8_t *dst, const int8_t *src, int64_t n) {
    for (int64_t i = 0; i < n; i += 64)
        _mm512_mask_storeu_epi8(dst + i, mask64(n - i),
                                _mm512_maskz_loadu_epi8(mask64(n - i), src + i));
}

static inline void fill_bytes(int8_t *dst, int8_t v, int64_t n) {
    const __m512i vv = _mm512_set1_epi8(v);
    for (int64_t i = 0; i < n; i += 64) _mm512_mask_storeu_epi8(dst + i, mask64(n - i), vv);
}

static inline __m512i load_row(const int8_t *src, int64_t avail) {
    __mmask32 m = avail >= 32 ? 0xffffffffu : avail <= 0 ? 0 : (__mmask32)((1ull << avail) - 1);
    return _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, src));
}

// The kernel covers the whole unpadded input (one output per channel): a dot
// product of x + 128 (unsigned) with the weights, 64 taps per vpdpbusd; the
// + 128 is in bias_eff.
static void dw_global(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q, const int8_t *x,
                      int8_t *y) {
    int64_t taps = g->kh * g->kw;
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    for (int64_t c = 0; c < g->c; c++) {
        __m512i acc = _mm512_setzero_si512();
        for (int64_t i = 0; i < taps; i += 64) {
            __mmask64 m = mask64(taps - i);
            __m512i xv = _mm512_maskz_mov_epi8(
                m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x + c * taps + i), flip));
            acc = _mm512_dpbusd_epi32(acc, xv, _mm512_maskz_loadu_epi8(m, q->w + c * taps + i));
        }
        int32_t sum = (int32_t)((uint32_t)_mm512_reduce_add_epi32(acc) + (uint32_t)q->bias_eff[c]);
        y[c] = gaba_qnn_requant(sum, q->mult[c], q->shift[c], q->out_zp, q->act_min, q->act_max);
    }
}

#define DW_ROWS 4      // output rows per pass of the in-place kernel
#define DW_MAX_KH 16   // its kernel heights
#define DW_MAX_QUADS 2 // and widths: up to 4 taps per quadruple

static int64_t quads(const gaba_nn_conv_geom *g) { return (g->kw + 3) / 4; }

// The 16 outputs' taps of one quadruple must lie in a 16-byte lane.
static int quads_fit(const gaba_nn_conv_geom *g) {
    int64_t span = quads(g) > 1 ? 3 * g->dw : (g->kw - 1) * g->dw;
    return quads(g) <= DW_MAX_QUADS && g->kh <= DW_MAX_KH && g->sw <= 4 && 3 * g->sw + span <= 15;
}

// Bytes [lo, hi) of 64 set (clamped).
static inline __mmask64 byte_mask(int64_t lo, int64_t hi) {
    if (lo < 0) lo = 0;
    if (hi > 64) hi = 64;
    if (hi <= lo) return 0;
    return mask64(hi) & ~mask64(lo);
}

// The quadruples of 16 outputs from 64 input bytes: 128-bit lane L (outputs
// 4L..4L+3) first gets the bytes from 4 L sw (vpermd), then each output its
// taps (vpshufb; a single quadruple's unused bytes are 0, those of a
// kernel's second one meet zero weights).
typedef struct dw_shuffle {
    __m512i dwords, bytes;
} dw_shuffle;

static dw_shuffle dw_shuffle_init(const gaba_nn_conv_geom *g) {
    int32_t d[16];
    int8_t b[64];
    int64_t taps = quads(g) > 1 ? 4 : g->kw;
    for (int l = 0; l < 4; l++)
        for (int i = 0; i < 4; i++) {
            d[4 * l + i] = (int32_t)(l * g->sw + i);
            for (int k = 0; k < 4; k++)
                b[16 * l + 4 * i + k] = k < taps ? (int8_t)(i * g->sw + k * g->dw) : (int8_t)-128;
        }
    return (dw_shuffle){_mm512_loadu_si512(d), _mm512_loadu_si512(b)};
}

static inline __m512i dw_quads(const dw_shuffle *s, __m512i v) {
    return _mm512_shuffle_epi8(_mm512_permutexvar_epi32(s->dwords, v), s->bytes);
}

// Output rows [oy0, oy0 + rows) (those past ho are computed, not stored) of
// 16 outputs from column ix; quadruple t of a kernel row reads from ix + 4 t dw
// (under mask m[t]) and has the weights wq[ky nq + t]. kh, rows and nq are
// constants where inlined (3 x DW_ROWS, the conv1d's single row), so that
// the loops unroll and the accumulators stay in registers.
static inline __attribute__((always_inline)) void
dw_block(const gaba_nn_conv_geom *g, const int64_t kh, const int rows, const int64_t nq,
         const __m512i *wq, const dw_shuffle *sq, __m512i zx, const int8_t *xc, int64_t ix,
         const __mmask64 *m, int64_t oy0, __m512i *acc) {
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    const int64_t h = g->h, w = g->w;
    // all DW_ROWS zeroed: the caller's store loop is bounded by ho, not rows
    _Pragma("GCC unroll 4") for (int j = 0; j < DW_ROWS; j++) acc[j] = _mm512_setzero_si512();
    if (g->sh == 1 && g->dh == 1) { // input row oy0 - pt + r feeds output row oy0 + r - ky
        _Pragma("GCC unroll 8") for (int64_t r = 0; r < rows + kh - 1; r++) {
            int64_t iy = oy0 - g->pt + r;
            _Pragma("GCC unroll 2") for (int64_t t = 0; t < nq; t++) {
                // masked-off bytes are neither read nor faulted
                const int8_t *src = xc + iy * w + ix + 4 * t * g->dw;
                __m512i v = iy >= 0 && iy < h ? _mm512_mask_loadu_epi8(zx, m[t], src) : zx;
                v = dw_quads(sq, _mm512_xor_si512(v, flip));
                _Pragma("GCC unroll 4") for (int j = 0; j < rows; j++) if (r - j >= 0 && r - j < kh)
                    acc[j] = _mm512_dpbusd_epi32(acc[j], v, wq[(r - j) * nq + t]);
            }
        }
        return;
    }
    _Pragma("GCC unroll 4") for (int j = 0; j < rows; j++)
        _Pragma("GCC unroll 3") for (int64_t ky = 0; ky < kh; ky++) {
        int64_t iy = (oy0 + j) * g->sh - g->pt + ky * g->dh;
        _Pragma("GCC unroll 2") for (int64_t t = 0; t < nq; t++) {
            const int8_t *src = xc + iy * w + ix + 4 * t * g->dw;
            __m512i v = iy >= 0 && iy < h ? _mm512_mask_loadu_epi8(zx, m[t], src) : zx;
            v = dw_quads(sq, _mm512_xor_si512(v, flip));
            acc[j] = _mm512_dpbusd_epi32(acc[j], v, wq[ky * nq + t]);
        }
    }
}

// The column blocks of 16 outputs, the same for every channel: block b reads
// from input column ix[b] under m[b] (the 12 sw + 16 bytes its quadruples
// read, clipped to the row: dw_row) and stores under mout[b].
#define DW_MAX_BLOCKS 64
typedef struct dw_cols {
    int64_t n, ix[DW_MAX_BLOCKS];
    __mmask64 m[DW_MAX_BLOCKS];
    __mmask16 mout[DW_MAX_BLOCKS];
} dw_cols;

static void dw_cols_init(const gaba_nn_conv_geom *g, dw_cols *c) {
    const int64_t span = 12 * g->sw + 16;
    c->n = (g->wo + 15) / 16;
    for (int64_t b = 0; b < c->n; b++) {
        c->ix[b] = 16 * b * g->sw - g->pl;
        c->m[b] = byte_mask(-c->ix[b], g->w - c->ix[b]) & byte_mask(0, span);
        c->mout[b] = (__mmask16)byte_mask(0, g->wo - 16 * b);
    }
}

// A 3-tap-wide kernel, 3 rows high, on one channel (one quadruple per kernel
// row; sh and dh constants): DW_ROWS output rows at a time, whose kernel
// rows read input rows at offsets sh j + dh ky from the first, so each row
// is loaded once (6 loads for 12 products at stride 1). A row above or below
// the input loads nothing (mask 0) and is the zero point.
static inline __attribute__((always_inline)) void
dw_plane3(const gaba_nn_conv_geom *g, const int sh, const int dh, const int clamp,
          const __m512i *wq, const dw_shuffle *sq, const dw_cols *cols, __m512i zx,
          const gaba_qnn_v16 *rq, const gaba_qnn_v16_est *re, const int8_t *xc, int8_t *yc) {
    enum { KH = 3 };
    const int n_off = sh * (DW_ROWS - 1) + dh * (KH - 1) + 1;
    const __m512i flip = _mm512_set1_epi8((char)0x80), zxf = _mm512_xor_si512(zx, flip);
    const __m512i bias = _mm512_set1_epi32(rq->bias);
    const int64_t h = g->h, w = g->w, ho = g->ho, wo = g->wo;
    for (int64_t b = 0; b < cols->n; b++) {
        const __mmask64 m = cols->m[b];
        const __mmask16 mout = cols->mout[b];
        for (int64_t oy0 = 0; oy0 < ho; oy0 += DW_ROWS) {
            const int64_t iy0 = oy0 * sh - g->pt;
            const int8_t *src = xc + iy0 * w + cols->ix[b];
            __m512i acc[DW_ROWS];
            _Pragma("GCC unroll 4") for (int j = 0; j < DW_ROWS; j++) acc[j] = bias;
            _Pragma("GCC unroll 10") for (int o = 0; o < n_off; o++) {
                const __mmask64 mr = (uint64_t)(iy0 + o) < (uint64_t)h ? m : 0;
                __m512i v = _mm512_maskz_loadu_epi8(mr, src + o * w);
                v = dw_quads(sq, _mm512_mask_mov_epi8(zxf, mr, _mm512_xor_si512(v, flip)));
                _Pragma("GCC unroll 4") for (int j = 0; j < DW_ROWS; j++) _Pragma(
                    "GCC unroll 3") for (int ky = 0; ky < KH; ky++) if (sh * j + dh * ky == o)
                    acc[j] = _mm512_dpbusd_epi32(acc[j], v, wq[ky]);
            }
            int8_t *yr = yc + oy0 * wo + 16 * b;
            _Pragma("GCC unroll 4") for (int j = 0; j < DW_ROWS; j++) {
                if (oy0 + j >= ho) break;
                _mm512_mask_cvtsepi32_storeu_epi8(yr + j * wo, mout,
                                                  gaba_qnn_v16_requant_est(rq, re, acc[j], clamp));
            }
        }
    }
}

// A 3 x 3 kernel at stride 1, dilation 1 and padding 1 on a plane at most 8
// wide and of at most 256 outputs (ho = h, wo = w), where rows of 16 lanes
// would leave half or more idle (at 10 x 10 and wider the row passes, which
// reuse each loaded row, measure faster; at 25 x 5 the flat row takes 4.2 us
// for 64 channels where the row passes took 7.8): the plane runs as one flat
// row of h w outputs. Output f = oy w + ox reads,
// for kernel row ky, the input bytes f + (ky - 1) w - 1 + kx (kx 0..2),
// contiguous in the flat plane, so one load per kernel row serves 16
// outputs; the rows above and below the plane lie outside it (the load's
// mask: the zero point), and the taps past a row's ends, which land on the
// neighbouring row, are set to the zero point per lane (edge: the same
// columns in every channel).
#define DW_FLAT_MAX_BLOCKS 16
typedef struct dw_flat {
    int64_t n; // blocks of 16 outputs
    __mmask64 m[DW_FLAT_MAX_BLOCKS][3], edge[DW_FLAT_MAX_BLOCKS];
    __mmask16 mout[DW_FLAT_MAX_BLOCKS];
} dw_flat;

static int flat3_fits(const gaba_nn_conv_geom *g) {
    return g->kh == 3 && g->kw == 3 && g->sh == 1 && g->sw == 1 && g->dh == 1 && g->dw == 1 &&
           g->pt == 1 && g->pl == 1 && g->ho == g->h && g->wo == g->w && g->wo <= 8 &&
           g->ho * g->wo <= 16 * DW_FLAT_MAX_BLOCKS;
}

static void dw_flat_init(const gaba_nn_conv_geom *g, dw_flat *c) {
    const int64_t w = g->w, hw = g->h * w;
    c->n = (hw + 15) / 16;
    for (int64_t b = 0; b < c->n; b++) {
        for (int64_t ky = 0; ky < 3; ky++) {
            int64_t at = 16 * b + (ky - 1) * w - 1; // the block's first byte
            c->m[b][ky] = byte_mask(-at, hw - at) & byte_mask(0, 16 + 2);
        }
        __mmask64 edge = 0;
        for (int64_t i = 0; i < 16 && 16 * b + i < hw; i++) {
            int64_t ox = (16 * b + i) % w;
            if (ox == 0) edge |= (__mmask64)1 << (4 * i);         // kx 0 left of the row
            if (ox == w - 1) edge |= (__mmask64)1 << (4 * i + 2); // kx 2 right of it
        }
        c->edge[b] = edge;
        c->mout[b] = (__mmask16)byte_mask(0, hw - 16 * b);
    }
}

static inline __attribute__((always_inline)) void
dw_flat3(const gaba_nn_conv_geom *g, const int clamp, const __m512i *wq, const dw_shuffle *sq,
         const dw_flat *c, __m512i zx, const gaba_qnn_v16 *rq, const gaba_qnn_v16_est *re,
         const int8_t *xc, int8_t *yc) {
    const __m512i flip = _mm512_set1_epi8((char)0x80), zxf = _mm512_xor_si512(zx, flip);
    const __m512i bias = _mm512_set1_epi32(rq->bias);
    const int64_t w = g->w;
    for (int64_t b = 0; b < c->n; b++) {
        __m512i acc = bias;
        _Pragma("GCC unroll 3") for (int ky = 0; ky < 3; ky++) {
            const __mmask64 m = c->m[b][ky];
            __m512i v = _mm512_maskz_loadu_epi8(m, xc + 16 * b + (ky - 1) * w - 1);
            v = dw_quads(sq, _mm512_mask_mov_epi8(zxf, m, _mm512_xor_si512(v, flip)));
            acc = _mm512_dpbusd_epi32(acc, _mm512_mask_mov_epi8(v, c->edge[b], zxf), wq[ky]);
        }
        _mm512_mask_cvtsepi32_storeu_epi8(yc + 16 * b, c->mout[b],
                                          gaba_qnn_v16_requant_est(rq, re, acc, clamp));
    }
}

// A kernel one row high on a one-row input (conv1d): 16 outputs from nq
// (a constant: 1 or 2) quadruples, the accumulator started at the bias. The
// quadruples read 12 sw + 16 bytes from a block's first input byte (the
// last lane's vpermd dwords): blocks whose bytes all lie in the row take that
// mask as it is, the others clip it to the row.
static inline __attribute__((always_inline)) void
dw_row(const gaba_nn_conv_geom *g, const int64_t nq, const int clamp, const __m512i *wq,
       const dw_shuffle *sq, __m512i zx, const gaba_qnn_v16 *rq, const gaba_qnn_v16_est *re,
       const int8_t *xc, int8_t *yc) {
    const __m512i flip = _mm512_set1_epi8((char)0x80), bias = _mm512_set1_epi32(rq->bias);
    const int64_t span = 12 * g->sw + 16, w = g->w;
    const __mmask64 full = byte_mask(0, span);
    for (int64_t ox = 0; ox < g->wo; ox += 16) {
        __m512i acc = bias;
        _Pragma("GCC unroll 2") for (int64_t t = 0; t < nq; t++) {
            const int64_t at = ox * g->sw - g->pl + 4 * t * g->dw; // the block's first byte
            const __mmask64 m = at >= 0 && at + span <= w ? full : byte_mask(-at, w - at) & full;
            __m512i v = _mm512_mask_loadu_epi8(zx, m, xc + at);
            acc = _mm512_dpbusd_epi32(acc, dw_quads(sq, _mm512_xor_si512(v, flip)), wq[t]);
        }
        const __mmask16 mout = g->wo - ox >= 16 ? 0xffff : (__mmask16)byte_mask(0, g->wo - ox);
        _mm512_mask_cvtsepi32_storeu_epi8(yc + ox, mout,
                                          gaba_qnn_v16_requant_est(rq, re, acc, clamp));
    }
}

static void dw_inplace(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q, const int8_t *x,
                       int8_t *y) {
    const int64_t kh = g->kh, kw = g->kw, nq = quads(g);
    const dw_shuffle sq = dw_shuffle_init(g);
    const __m512i zx = _mm512_set1_epi8((char)q->in_zp[0]);
    __mmask16 quad_taps[DW_MAX_QUADS]; // the taps of each quadruple of a kernel row
    for (int64_t t = 0; t < nq; t++)
        quad_taps[t] = (__mmask16)byte_mask(0, kw - 4 * t < 4 ? kw - 4 * t : 4);
    // the 3 x 3 kernels of the zoo: stride 1 or 2, dilation 1 or 2 at stride 1
    const int plane3 = kh == 3 && kw == 3 && g->wo <= 16 * DW_MAX_BLOCKS &&
                       ((g->sh == 1 && (g->dh == 1 || g->dh == 2)) || (g->sh == 2 && g->dh == 1));
    const int flat3 = flat3_fits(g);
    dw_cols cols;
    dw_flat flat;
    // (not the whole structs: a zeroed kilobyte per call shows on small layers)
    cols.n = flat.n = 0;
    if (flat3)
        dw_flat_init(g, &flat);
    else if (plane3)
        dw_cols_init(g, &cols);
    for (int64_t c = 0; c < g->c; c++) {
        const int8_t *wc = q->w + c * kh * kw, *xc = x + c * g->h * g->w;
        __m512i wq[DW_MAX_KH * DW_MAX_QUADS]; // quadruple t of row ky: its taps, then 0
        for (int64_t ky = 0; ky < kh; ky++)
            for (int64_t t = 0; t < nq; t++)
                wq[ky * nq + t] = _mm512_broadcastd_epi32(
                    _mm_maskz_loadu_epi8(quad_taps[t], wc + ky * kw + 4 * t));
        const gaba_qnn_v16 rq = gaba_qnn_v16_init(q->bias_eff[c], q->mult[c], q->shift[c],
                                                  q->out_zp, q->act_min, q->act_max);
        const gaba_qnn_v16_est re = gaba_qnn_v16_est_init(&rq);
        const __m512i bias = _mm512_set1_epi32(rq.bias);
        int8_t *yc = y + c * g->ho * g->wo;
        // the stores saturate: the estimate's clamp only where it is not int8's range
        const int clamp = !gaba_qnn_v16_unclamped_ok(&rq);
        if (kh == 1 && g->h == 1) {
            if (nq == 1) {
                if (clamp)
                    dw_row(g, 1, 1, wq, &sq, zx, &rq, &re, xc, yc);
                else
                    dw_row(g, 1, 0, wq, &sq, zx, &rq, &re, xc, yc);
            } else if (clamp) {
                dw_row(g, 2, 1, wq, &sq, zx, &rq, &re, xc, yc);
            } else {
                dw_row(g, 2, 0, wq, &sq, zx, &rq, &re, xc, yc);
            }
            continue;
        }
        if (flat3) {
            if (clamp)
                dw_flat3(g, 1, wq, &sq, &flat, zx, &rq, &re, xc, yc);
            else
                dw_flat3(g, 0, wq, &sq, &flat, zx, &rq, &re, xc, yc);
            continue;
        }
        if (plane3) {
            if (g->sh == 2) {
                if (clamp)
                    dw_plane3(g, 2, 1, 1, wq, &sq, &cols, zx, &rq, &re, xc, yc);
                else
                    dw_plane3(g, 2, 1, 0, wq, &sq, &cols, zx, &rq, &re, xc, yc);
            } else if (g->dh == 2) {
                if (clamp)
                    dw_plane3(g, 1, 2, 1, wq, &sq, &cols, zx, &rq, &re, xc, yc);
                else
                    dw_plane3(g, 1, 2, 0, wq, &sq, &cols, zx, &rq, &re, xc, yc);
            } else if (clamp) {
                dw_plane3(g, 1, 1, 1, wq, &sq, &cols, zx, &rq, &re, xc, yc);
            } else {
                dw_plane3(g, 1, 1, 0, wq, &sq, &cols, zx, &rq, &re, xc, yc);
            }
            continue;
        }
        for (int64_t ox = 0; ox < g->wo; ox += 16) {
            const int64_t ix = ox * g->sw - g->pl; // input column of byte 0
            __mmask64 m[DW_MAX_QUADS];
            for (int64_t t = 0; t < nq; t++)
                m[t] = byte_mask(-ix - 4 * t * g->dw, g->w - ix - 4 * t * g->dw);
            const __mmask16 mout = (__mmask16)byte_mask(0, g->wo - ox);
            for (int64_t oy0 = 0; oy0 < g->ho; oy0 += DW_ROWS) {
                __m512i acc[DW_ROWS];
                if (kh == 3 && nq == 1)
                    dw_block(g, 3, DW_ROWS, 1, wq, &sq, zx, xc, ix, m, oy0, acc);
                else if (g->ho == 1 && nq == 1) // a taller kernel on a padded row
                    dw_block(g, kh, 1, 1, wq, &sq, zx, xc, ix, m, oy0, acc);
                else if (g->ho == 1)
                    dw_block(g, kh, 1, 2, wq, &sq, zx, xc, ix, m, oy0, acc);
                else
                    dw_block(g, kh, DW_ROWS, nq, wq, &sq, zx, xc, ix, m, oy0, acc);
                for (int64_t j = 0; j < DW_ROWS && oy0 + j < g->ho; j++)
                    _mm512_mask_cvtsepi32_storeu_epi8(
                        yc + (oy0 + j) * g->wo + ox, mout,
                        gaba_qnn_v16_requant_est(&rq, &re, _mm512_add_epi32(acc[j], bias), 1));
            }
        }
    }
}

void gaba_qnn_dwconv_avx512vnni(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q,
                                const int8_t *x, int8_t *y, void *ws) {
    int64_t taps = g->kh * g->kw;
    if (gaba_nn_dw_is_global(g)) {
        dw_global(g, q, x, y);
        return;
    }
    if (quads_fit(g)) {
        dw_inplace(g, q, x, y);
        return;
    }
    if ((g->sw != 1 && g->sw != 2) || taps > MAX_TAPS) {
        gaba_qnn_dwconv_avx2(g, q, x, y, ws);
        return;
    }
    int64_t hp = gaba_qnn_dw_rows(g), wp = gaba_qnn_dw_cols(g);
    int8_t *pad = ws;
    int8_t zx = (int8_t)q->in_zp[0];
    // each tap's offset in the plane (stride 1), or its row offset and column (stride 2)
    int64_t t_off[MAX_TAPS], t_row[MAX_TAPS], t_col[MAX_TAPS];
    for (int64_t t = 0; t < taps; t++) {
        t_row[t] = (t / g->kw) * g->dh * wp, t_col[t] = (t % g->kw) * g->dw;
        t_off[t] = t_row[t] + t_col[t];
    }
    for (int64_t c = 0; c < g->c; c++) {
        fill_bytes(pad, zx, hp * wp);
        for (int64_t iy = 0; iy < g->h && iy + g->pt < hp; iy++) {
            int64_t n = g->w;
            if (g->pl + n > wp) n = wp - g->pl;
            if (n > 0) copy_bytes(pad + (iy + g->pt) * wp + g->pl, x + (c * g->h + iy) * g->w, n);
        }
        const int8_t *wc = q->w + c * taps;
        int32_t w_lo[MAX_TAPS], w_hi[MAX_TAPS]; // int16 pairs (w, 0) and (0, w)
        int32_t wsum = 0;
        for (int64_t t = 0; t < taps; t++) {
            w_lo[t] = (uint16_t)(int16_t)wc[t];
            w_hi[t] = (int32_t)((uint32_t)(uint16_t)(int16_t)wc[t] << 16);
            wsum += wc[t];
        }
        const gaba_qnn_v16 rq =
            gaba_qnn_v16_init((int32_t)((uint32_t)q->bias_eff[c] + 128u * (uint32_t)wsum),
                              q->mult[c], q->shift[c], q->out_zp, q->act_min, q->act_max);
        int8_t *yc = y + c * g->ho * g->wo;
        if (g->sw == 1) {
            // Over the plane as one flat row: output f = oy * wp + ox reads
            // pad[f + ky * dh * wp + kx * dw]; the columns ox >= wo are computed
            // and not stored.
            int64_t nflat = (g->ho - 1) * wp + g->wo;
            for (int64_t f0 = 0; f0 < nflat; f0 += 32) {
                __m512i even = _mm512_setzero_si512(), odd = _mm512_setzero_si512();
                for (int64_t t = 0; t < taps; t++) {
                    int64_t at = f0 + t_off[t];
                    __m512i v = load_row(pad + at, hp * wp - at);
                    even = _mm512_dpwssd_epi32(even, v, _mm512_set1_epi32(w_lo[t]));
                    odd = _mm512_dpwssd_epi32(odd, v, _mm512_set1_epi32(w_hi[t]));
                }
                __m512i e = gaba_qnn_v16_requant(&rq, even), o = gaba_qnn_v16_requant(&rq, odd);
                __m512i r16 = _mm512_or_si512(_mm512_and_si512(e, _mm512_set1_epi32(0xffff)),
                                              _mm512_slli_epi32(o, 16));
                __m256i r8 = _mm512_cvtsepi16_epi8(r16);
                int64_t f1 = f0 + 32 < nflat ? f0 + 32 : nflat;
                for (int64_t oy = f0 / wp; oy * wp < f1; oy++) {
                    // lanes [a, b) are row oy's columns below wo
                    int64_t a = oy * wp > f0 ? oy * wp - f0 : 0;
                    int64_t b = oy * wp + g->wo < f1 ? oy * wp + g->wo - f0 : f1 - f0;
                    if (b <= a) continue;
                    __mmask32 m = (__mmask32)((((uint64_t)1 << b) - 1) & ~(((uint64_t)1 << a) - 1));
                    _mm256_mask_storeu_epi8(yc + oy * (g->wo - wp) + f0, m, r8);
                }
            }
            continue;
        }
        for (int64_t oy = 0; oy < g->ho; oy++) { // stride 2: row by row
            const int8_t *rows = pad + oy * g->sh * wp;
            int8_t *yr = yc + oy * g->wo;
            for (int64_t ox = 0; ox < g->wo; ox += 16) {
                __m512i acc = _mm512_setzero_si512();
                for (int64_t t = 0; t < taps; t++) {
                    int64_t kx = t_col[t], col = 2 * ox + (kx & ~(int64_t)1);
                    __m512i v = load_row(rows + t_row[t] + col, wp - col);
                    acc =
                        _mm512_dpwssd_epi32(acc, v, _mm512_set1_epi32(kx & 1 ? w_hi[t] : w_lo[t]));
                }
                int64_t left = g->wo - ox;
                __mmask16 m = left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
                _mm512_mask_cvtsepi32_storeu_epi8(yr + ox, m, gaba_qnn_v16_requant(&rq, acc));
            }
        }
    }
}
