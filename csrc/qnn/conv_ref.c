// conv_ref.c - the int8 reference kernels (qnn.h): plain loops written from
// TFLite Micro's reference integer kernels (conv/depthwise/fully connected
// with per-channel requantization, pooling with rounded averages, add with
// the 20-bit left shift, mul, concatenation with rescaling). Conv and dense
// call the library's MultiplyByQuantizedMultiplier; the elementwise ops,
// which are their own fast path, its inlined copy. They are the
// oracle for the fast kernels; pooling, concat, clamps and copies are also
// what the fast path runs (memory-bound loops), as is the embedding gather
// (the table lookup of the sigmoid/tanh/hard-swish activations and the
// nearest upsample where the CPU has no vector kernel). No float arithmetic here.
#include "qnn_kernels.h"

#include <string.h>

// Padded taps read the input zero point, i.e. a real 0, so (x - zp) is 0 there.
void gaba_qnn_conv_ref(const gaba_nn_conv_geom *g, const gaba_qnn_layer *q, const int8_t *x,
                       int8_t *y) {
    int64_t cig = g->c / g->groups, cog = g->co / g->groups;
    int32_t zx = q->in_zp[0];
    for (int64_t co = 0; co < g->co; co++) {
        int64_t c0 = co / cog * cig;
        for (int64_t oy = 0; oy < g->ho; oy++)
            for (int64_t ox = 0; ox < g->wo; ox++) {
                int32_t acc = q->bias[co];
                for (int64_t ci = 0; ci < cig; ci++)
                    for (int64_t ky = 0; ky < g->kh; ky++) {
                        int64_t iy = oy * g->sh - g->pt + ky * g->dh;
                        for (int64_t kx = 0; kx < g->kw; kx++) {
                            int64_t ix = ox * g->sw - g->pl + kx * g->dw;
                            int32_t xv = iy < 0 || iy >= g->h || ix < 0 || ix >= g->w
                                             ? zx
                                             : x[((c0 + ci) * g->h + iy) * g->w + ix];
                            acc += (xv - zx) * q->w[((co * cig + ci) * g->kh + ky) * g->kw + kx];
                        }
                    }
                y[(co * g->ho + oy) * g->wo + ox] = gaba_qnn_requant(
                    acc, q->mult[co], q->shift[co], q->out_zp, q->act_min, q->act_max);
            }
    }
}

void gaba_qnn_dense_ref(int64_t n, int64_t f, const gaba_qnn_layer *q, const int8_t *x, int8_t *y) {
    for (int64_t j = 0; j < n; j++) {
        int32_t acc = q->bias[j];
        for (int64_t k = 0; k < f; k++) acc += (x[k] - q->in_zp[0]) * q->w[j * f + k];
        y[j] = gaba_qnn_requant(acc, q->mult[j], q->shift[j], q->out_zp, q->act_min, q->act_max);
    }
}

// Padded cells are skipped (max) and not counted (average), as the float ops.
static void pool(const gaba_nn_pool_geom *g, const int8_t *x, int8_t *y, int is_max) {
    for (int64_t c = 0; c < g->c; c++)
        for (int64_t oy = 0; oy < g->ho; oy++)
            for (int64_t ox = 0; ox < g->wo; ox++) {
                int32_t m = -128, s = 0, count = 0;
                for (int64_t ky = 0; ky < g->kh; ky++) {
                    int64_t iy = oy * g->sh - g->pt + ky;
                    if (iy < 0 || iy >= g->h) continue;
                    for (int64_t kx = 0; kx < g->kw; kx++) {
                        int64_t ix = ox * g->sw - g->pl + kx;
                        if (ix < 0 || ix >= g->w) continue;
                        int32_t v = x[(c * g->h + iy) * g->w + ix];
                        m = v > m ? v : m;
                        s += v;
                        count++;
                    }
                }
                int8_t avg = count ? gaba_qnn_round_mean(s, count) : 0;
                y[(c * g->ho + oy) * g->wo + ox] = is_max ? (int8_t)m : avg;
            }
}

void gaba_qnn_maxpool_ref(const gaba_nn_pool_geom *g, const int8_t *x, int8_t *y) {
    pool(g, x, y, 1);
}

void gaba_qnn_avgpool_ref(const gaba_nn_pool_geom *g, const int8_t *x, int8_t *y) {
    pool(g, x, y, 0);
}

void gaba_qnn_global_pool_ref(int64_t c, int64_t s, const int8_t *x, int8_t *y, int is_max) {
    for (int64_t i = 0; i < c; i++) {
        int32_t m = -128;
        int64_t sum = 0;
        for (int64_t j = 0; j < s; j++) {
            int32_t v = x[i * s + j];
            m = v > m ? v : m;
            sum += v;
        }
        y[i] = is_max ? (int8_t)m : gaba_qnn_round_mean(sum, s);
    }
}

void gaba_qnn_binary_ref(int op, int64_t c, int64_t s, const gaba_qnn_layer *q, const int8_t *a,
                         const int8_t *b, int b_per_channel, int8_t *y) {
    for (int64_t i = 0; i < c; i++)
        for (int64_t j = 0; j < s; j++) {
            int32_t va = a[i * s + j] - q->in_zp[0];
            int32_t vb = b[b_per_channel ? i : i * s + j] - q->in_zp[1];
            int32_t r;
            if (op != 2 && q->q_shift[0] == GABA_QNN_SHIFT_FP32) {
                y[i * s + j] =
                    gaba_qnn_fp32_addsub(op, (float)va * gaba_qnn_bits_float(q->q_mult[0]),
                                         (float)vb * gaba_qnn_bits_float(q->q_mult[1]), q->out_zp,
                                         q->act_min, q->act_max);
                continue;
            }
            if (op == 2) {
                r = gaba_qnn_mbqm(va * vb, q->q_mult[0], q->q_shift[0]);
            } else {
                int32_t sa = gaba_qnn_mbqm(va * (1 << 20), q->q_mult[0], q->q_shift[0]);
                int32_t sb = gaba_qnn_mbqm(vb * (1 << 20), q->q_mult[1], q->q_shift[1]);
                r = gaba_qnn_mbqm(op == 0 ? sa + sb : sa - sb, q->q_mult[2], q->q_shift[2]);
            }
            y[i * s + j] = gaba_qnn_clamp((int64_t)r + q->out_zp, q->act_min, q->act_max);
        }
}

void gaba_qnn_concat_ref(int n_in, const int64_t *numel, const gaba_qnn_layer *q,
                         const int8_t *const *x, int8_t *y) {
    for (int i = 0; i < n_in; i++) {
        if (gaba_qnn_concat_copies(q, i)) {
            memcpy(y, x[i], (size_t)numel[i]);
        } else { // rescaled: (x - zp_i) << 20 through the row output stage, in chunks
            int32_t buf[256];
            for (int64_t j = 0; j < numel[i]; j += 256) {
                int64_t m = numel[i] - j < 256 ? numel[i] - j : 256;
                for (int64_t k = 0; k < m; k++) buf[k] = x[i][j + k] * (1 << 20);
                gaba_nn_table.qrequant_row(m, buf, -q->in_zp[i] * (1 << 20), q->q_mult[i],
                                           q->q_shift[i], q->out_zp, -128, 127, y + j);
            }
        }
        y += numel[i];
    }
}

void gaba_qnn_clamp_ref(int64_t n, const int8_t *x, int32_t lo, int32_t hi, int8_t *y) {
    for (int64_t i = 0; i < n; i++) y[i] = gaba_qnn_clamp(x[i], lo, hi);
}

void gaba_qnn_upsample_nearest_ref(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw,
                                   const int8_t *x, int8_t *y) {
    int64_t wo = w * sw;
    for (int64_t i = 0; i < c * h; i++) { // one input row -> sh output rows
        int8_t *row = y + i * sh * wo;
        for (int64_t ix = 0; ix < w; ix++) memset(row + ix * sw, x[i * w + ix], (size_t)sw);
        for (int64_t r = 1; r < sh; r++) memcpy(row + r * wo, row, (size_t)wo);
    }
}

void gaba_qnn_transpose_ref(int64_t a, int64_t b, const int8_t *x, int8_t *y) {
    for (int64_t i = 0; i < a; i++)
        for (int64_t j = 0; j < b; j++) y[j * a + i] = x[i * b + j];
}

void gaba_qnn_lut_ref(int64_t n, const int8_t *x, const int8_t *lut, int8_t *y) {
    for (int64_t i = 0; i < n; i++) y[i] = lut[x[i] + 128];
}

// The float op's gather (embedding_ref.c) on the int8 table: y (dim, l); each
// id loaded once, checked and used (embedding_ref.c says why).
gaba_status gaba_qnn_embedding_ref(int64_t l, int64_t dim, int64_t vocab, const int32_t *ids,
                                   const int8_t *table, int8_t *y) {
    for (int64_t t = 0; t < l; t++) {
        int32_t id = __atomic_load_n(&ids[t], __ATOMIC_RELAXED);
        if (id < 0 || id >= vocab) return GABA_ERR_ARG;
        const int8_t *row = table + (int64_t)id * dim;
        for (int64_t d = 0; d < dim; d++) y[d * l + t] = row[d];
    }
    return GABA_OK;
}
