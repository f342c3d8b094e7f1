// conv_avx512vbmi.c - the packed int8 im2col (gaba_qnn_im2col_fn)
// with AVX-512 VBMI, every column in vectors (no scalar columns or rows),
// the padding the zero point of masked loads (masked-off bytes are neither
// read nor faulted; the zero point is a real 0). Short reductions of kernels
// 3+ wide (the image stems): one load per kernel row and 16 output columns,
// one vpermt2b per group of 4 k steps (it may cross kernel rows and
// channels: K = 27). Other kernels: per group and 16 columns one load per
// tap (16 columns at width stride up to 4 span at most 61 bytes) and a
// vpermb merging byte j sw into byte q of lane j.
#include "qnn_impl.h"

#include <immintrin.h>

#define ROWS_MAX_K 256   // im2col_rows: its reductions (groups of 4 k steps set up per call)
#define ROWS_MAX_ROWS 64 // and kernel rows (one load each per 16 columns)

static inline __mmask64 mask_below(int64_t n) {
    return n <= 0 ? 0 : n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1);
}

// Bytes [lo, hi) of 64 set (clamped).
static inline __mmask64 byte_span(int64_t lo, int64_t hi) {
    return mask_below(hi) & ~mask_below(lo);
}

// Every byte of lane j: j sw (the input byte of output column j).
static inline __m512i lane_columns(int64_t sw) {
    int8_t b[64];
    for (int j = 0; j < 64; j++) b[j] = (int8_t)(j / 4 * sw);
    return _mm512_loadu_si512(b);
}

// The lanes [n, np) of one group are 0.
static inline void zero_tail(uint8_t *xg, int64_t n, int64_t np) {
    for (int64_t p = n; p < np; p += 16)
        _mm512_mask_storeu_epi8(xg + 4 * p, mask_below(4 * (np - p)), _mm512_setzero_si512());
}

// Reductions of up to ROWS_MAX_K with kernels at least 3 wide whose 16 columns
// of taps span at most 64 input bytes (3x3 at stride 1 or 2, 4x4 at stride
// 4): 4 consecutive taps lie in at most 2 kernel rows, so one masked load
// per kernel row and 16 columns, and per group one vpermt2b over its two
// rows' bytes.
static int rows_fit(const gaba_nn_conv_geom *g, int64_t cig) {
    return cig * g->kh * g->kw <= ROWS_MAX_K && cig * g->kh <= ROWS_MAX_ROWS && g->kw >= 3 &&
           15 * g->sw + (g->kw - 1) * g->dw < 64;
}

static void im2col_rows(const gaba_nn_conv_geom *g, const int8_t *x, int64_t c0, int64_t cig,
                        int8_t zx, int64_t oy0, int64_t n_rows, int64_t ox0, int64_t nx,
                        uint8_t *xp) {
    const int64_t k = cig * g->kh * g->kw, ng = (k + 3) / 4, nkr = cig * g->kh;
    const int64_t n = n_rows * nx, np = gaba_qnn_round16(n);
    const __m512i vzx = _mm512_set1_epi8(zx), flip = _mm512_set1_epi8((char)0x80);
    // per group: the two kernel rows (ci kh + ky) it reads, its vpermt2b
    // indices (byte q of lane j <- j sw + kx dw of row a, or + 64: of row b)
    // and the mask of its real k steps (the rest stay 0)
    int64_t ra[ROWS_MAX_K / 4], rb[ROWS_MAX_K / 4];
    __m512i idx[ROWS_MAX_K / 4], flip_real[ROWS_MAX_K / 4];
    __mmask64 real[ROWS_MAX_K / 4];
    const __m512i vlane = lane_columns(g->sw);
    gaba_qnn_tap t = {0, 0, 0};
    for (int64_t g4 = 0; g4 < ng; g4++) {
        uint32_t quad = 0;
        real[g4] = 0;
        ra[g4] = rb[g4] = t.ci * g->kh + t.ky;
        for (int q = 0; q < 4 && 4 * g4 + q < k; q++) {
            int64_t r = t.ci * g->kh + t.ky;
            rb[g4] = r;
            quad |= (uint32_t)((r != ra[g4] ? 64 : 0) + t.kx * g->dw) << (8 * q);
            real[g4] |= 0x1111111111111111ull << q;
            gaba_qnn_tap_next(g, &t);
        }
        idx[g4] = _mm512_add_epi8(vlane, _mm512_set1_epi32((int32_t)quad));
        flip_real[g4] = _mm512_maskz_mov_epi8(real[g4], flip);
    }
    __m512i win[ROWS_MAX_ROWS];
    for (int64_t oy = oy0; oy < oy0 + n_rows; oy++) {
        const int8_t *rows[ROWS_MAX_ROWS]; // kernel row r's input row, NULL when outside
        for (int64_t r = 0; r < nkr; r++) {
            int64_t iy = oy * g->sh - g->pt + r % g->kh * g->dh;
            rows[r] = iy >= 0 && iy < g->h ? x + ((c0 + r / g->kh) * g->h + iy) * g->w : NULL;
        }
        uint8_t *out = xp + (oy - oy0) * nx * 4;
        for (int64_t j = 0; j < nx; j += 16) {
            const int64_t ix = (ox0 + j) * g->sw - g->pl;
            // masked-off bytes (the padding) are neither read nor faulted
            const __mmask64 m = byte_span(-ix, g->w - ix);
            for (int64_t r = 0; r < nkr; r++)
                win[r] = rows[r] ? _mm512_mask_loadu_epi8(vzx, m, rows[r] + ix) : vzx;
            const __mmask64 sm = mask_below(4 * (nx - j));
            for (int64_t g4 = 0; g4 < ng; g4++) {
                __m512i v =
                    _mm512_maskz_permutex2var_epi8(real[g4], win[ra[g4]], idx[g4], win[rb[g4]]);
                _mm512_mask_storeu_epi8(out + (g4 * np + j) * 4, sm,
                                        _mm512_xor_si512(v, flip_real[g4]));
            }
        }
    }
    for (int64_t g4 = 0; g4 < ng; g4++) zero_tail(xp + g4 * np * 4, n, np);
}

void gaba_qnn_im2col_u8_avx512vbmi(const gaba_nn_conv_geom *g, const int8_t *x, int64_t c0,
                                   int64_t cig, int8_t zx, int64_t oy0, int64_t n_rows, int64_t ox0,
                                   int64_t nx, uint8_t *xp) {
    if (rows_fit(g, cig)) {
        im2col_rows(g, x, c0, cig, zx, oy0, n_rows, ox0, nx, xp);
        return;
    }
    if (g->sw > 4) {
        gaba_qnn_im2col_u8_generic(g, x, c0, cig, zx, oy0, n_rows, ox0, nx, xp);
        return;
    }
    const int64_t k = cig * g->kh * g->kw, n = n_rows * nx, np = gaba_qnn_round16(n);
    const __m512i vzx = _mm512_set1_epi8(zx), flip = _mm512_set1_epi8((char)0x80);
    const __m512i idx = lane_columns(g->sw);           // vpermb's mask picks the tap's byte
    const __mmask64 lane_byte = 0x1111111111111111ull; // byte 0 of every lane
    gaba_qnn_tap next = {0, 0, 0};
    for (int64_t g4 = 0; g4 < (k + 3) / 4; g4++) {
        const int nt = k - 4 * g4 < 4 ? (int)(k - 4 * g4) : 4;
        gaba_qnn_tap tap[4];
        for (int q = 0; q < nt; q++) tap[q] = next, gaba_qnn_tap_next(g, &next);
        __mmask64 real = 0; // the group's k steps past k stay 0
        for (int q = 0; q < nt; q++) real |= lane_byte << q;
        const __m512i flip_real = _mm512_maskz_mov_epi8(real, flip);
        uint8_t *xg = xp + g4 * np * 4;
        for (int64_t oy = oy0; oy < oy0 + n_rows; oy++) {
            const int8_t *row[4];
            int64_t off[4]; // column of tap q at output column 0: ox sw + off
            int inside[4];
            for (int q = 0; q < nt; q++) {
                int64_t iy = oy * g->sh - g->pt + tap[q].ky * g->dh;
                inside[q] = iy >= 0 && iy < g->h;
                row[q] = x + ((c0 + tap[q].ci) * g->h + (inside[q] ? iy : 0)) * g->w;
                off[q] = tap[q].kx * g->dw - g->pl;
            }
            uint8_t *r = xg + (oy - oy0) * nx * 4;
            for (int64_t j = 0; j < nx; j += 16) {
                __m512i v = _mm512_setzero_si512();
                for (int q = 0; q < nt; q++) {
                    int64_t ix = (ox0 + j) * g->sw + off[q];
                    __mmask64 m = inside[q] ? byte_span(-ix, g->w - ix) : 0;
                    // masked-off bytes are neither read nor faulted
                    __m512i t = _mm512_mask_loadu_epi8(vzx, m, row[q] + ix);
                    v = _mm512_mask_permutexvar_epi8(v, lane_byte << q, idx, t);
                }
                v = _mm512_xor_si512(v, flip_real);
                _mm512_mask_storeu_epi8(r + 4 * j, mask_below(4 * (nx - j)), v);
            }
        }
        zero_tail(xg, n, np);
    }
}
