// calibrate.c - the first stage of the zoo's int8 pipeline (qzoo.h): runs the
// float32 model over a batch and records the min/max of every tensor and of
// the ranges inside a node that the quantizer needs (the attention's q, k, v,
// scores and context; a conv/dense output before its table activation), and
// optionally a histogram of each, widened in place so that one pass suffices.
#include "gaba/qzoo.h"
#include "executor.h"
#include "qgraph.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

typedef struct calib {
    gaba_zoo_model *m;
    float *tmin, *tmax;
    const gaba_zoo_hist *hist; // NULL: min/max only
    float *scores;             // a row of an attention's scores
} calib;

// Histogram r widened until it holds [lo, hi]: each step doubles the bin width,
// merging bin pairs into the half on the side already held, so the old edges stay edges
// (exactly: all are multiples of the first width).
static void hist_widen(const gaba_zoo_hist *h, int64_t r, double lo, double hi) {
    int64_t nb = h->n_bins, half = nb / 2;
    uint64_t *cnt = h->counts + r * nb;
    double *first = &h->edges[2 * r], *w = &h->edges[2 * r + 1];
    if (*w == 0.0) { // nothing binned yet: bins over these values, of a power-of-two width
        // from a multiple of it, so that every edge stays exact as the bins double
        *w = exp2(ceil(log2((hi > lo     ? hi - lo
                             : lo != 0.0 ? fabs(lo)
                                         : (double)FLT_MIN) /
                            (double)nb)));
        *first = floor(lo / *w) * *w;
    }
    // (at most the doublings from the least double to the largest: a caller's bad state
    // or one changed meanwhile cannot make this loop forever)
    for (int it = 0; it < 2 * 1100 && (lo < *first || hi > *first + (double)nb * *w); it++) {
        if (lo < *first) { // grow downwards: the merged bins fill the upper half
            for (int64_t k = half - 1; k >= 0; k--) cnt[half + k] = cnt[2 * k] + cnt[2 * k + 1];
            for (int64_t k = 0; k < half; k++) cnt[k] = 0;
            *first -= (double)nb * *w;
        } else {
            for (int64_t k = 0; k < half; k++) cnt[k] = cnt[2 * k] + cnt[2 * k + 1];
            for (int64_t k = half; k < nb; k++) cnt[k] = 0;
        }
        *w *= 2.0;
    }
}

// The finite values of x[0..n), whose min and max are lo and hi, into histogram r (the
// top edge is in the last bin).
static void hist_add(const gaba_zoo_hist *h, int64_t r, const float *x, int64_t n, double lo,
                     double hi) {
    if (!isfinite(lo) || !isfinite(hi)) { // the bounds of the finite values instead
        lo = INFINITY, hi = -INFINITY;
        for (int64_t i = 0; i < n; i++)
            if (isfinite(x[i])) lo = x[i] < lo ? x[i] : lo, hi = x[i] > hi ? x[i] : hi;
        if (!(lo <= hi)) return;
    }
    hist_widen(h, r, lo, hi);
    int64_t nb = h->n_bins;
    uint64_t *cnt = h->counts + r * nb;
    double first = h->edges[2 * r], w = h->edges[2 * r + 1], inv = 1.0 / w;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) continue;
        double d = ((double)x[i] - first) * inv;
        int64_t k = d >= 1.0 ? (d < (double)nb ? (int64_t)d : nb - 1) : 0; // (NaN: 0)
        // bin k holds [first + k w, first + (k + 1) w) exactly, as np.histogram's edges
        if (k > 0 && x[i] < first + (double)k * w)
            k--;
        else if (k < nb - 1 && x[i] >= first + (double)(k + 1) * w)
            k++;
        cnt[k]++;
    }
}

// x[0..n) into range r: its min/max and, when kept, its histogram.
static void record(const calib *c, int64_t r, const float *x, int64_t n) {
    if (!c->hist) {
        gaba_zoo_minmax(x, n, &c->tmin[r], &c->tmax[r]);
        return;
    }
    float lo = INFINITY, hi = -INFINITY;
    gaba_zoo_minmax(x, n, &lo, &hi);
    c->tmin[r] = lo < c->tmin[r] ? lo : c->tmin[r];
    c->tmax[r] = hi > c->tmax[r] ? hi : c->tmax[r];
    if (lo <= hi) hist_add(c->hist, r, x, n, lo, hi);
}

// q, k, v, scores and ctx from the float attention's workspace (nn_kernels.h) into
// ranges r..r+4; the scores are recomputed from q and k, as the softmax overwrote them.
static void attention_ranges(const calib *c, int64_t r, int64_t l, int64_t dk, const float *ws) {
    const float *qkv = ws, *ctx = ws + l * 3 * dk + l * l;
    float scale = 1.0f / sqrtf((float)dk);
    for (int64_t p = 0; p < l; p++) {
        for (int i = 0; i < 3; i++) record(c, r + i, qkv + p * 3 * dk + i * dk, dk);
        for (int64_t j = 0; j < l; j++) {
            float acc = 0.0f;
            for (int64_t k = 0; k < dk; k++) acc += qkv[p * 3 * dk + k] * qkv[j * 3 * dk + dk + k];
            c->scores[j] = acc * scale;
        }
        record(c, r + 3, c->scores, l);
    }
    record(c, r + 4, ctx, l * dk);
}

// Node n of one sample, recording its ranges (gaba_zoo_exec's step).
static gaba_status step(void *ctx, int n, void *const *ptr) {
    const calib *c = ctx;
    gaba_zoo_model *m = c->m;
    gaba_zoo_node *nd = &m->nodes[n];
    const void *x[GABA_NN_MAX_INPUTS];
    for (int j = 0; j < nd->n_in; j++) x[j] = ptr[nd->in[j]];
    int64_t cnt = gaba_nn_numel(&m->tensors[nd->out].shape);
    gaba_nn_layer l = nd->layer;
    if (gaba_zoo_lut_split(&l)) l.act = GABA_NN_ACT_NONE; // record the range before the table
    gaba_status st = gaba_nn_eval(&l, nd->n_in, nd->in_shape, x, &nd->plan, nd->w, ptr[nd->out],
                                  nd->ws >= 0 ? ptr[nd->ws] : NULL, m->impl);
    int64_t r = m->n_tensors + GABA_ZOO_NODE_RANGES * (int64_t)n;
    if (st == GABA_OK && l.op == GABA_NN_ATTENTION)
        attention_ranges(c, r, nd->in_shape[0].d[1], l.p[0], ptr[nd->ws]);
    if (st == GABA_OK && gaba_zoo_lut_split(&nd->layer)) {
        record(c, r, ptr[nd->out], cnt);
        gaba_nn_layer act = {.op = GABA_NN_ACT, .act = nd->layer.act};
        gaba_nn_plan pl;
        st = gaba_nn_prepare(&act, 1, &m->tensors[nd->out].shape, NULL, &pl);
        const void *y = ptr[nd->out];
        if (st == GABA_OK)
            st = gaba_nn_eval(&act, 1, &m->tensors[nd->out].shape, &y, &pl, NULL, ptr[nd->out],
                              NULL, m->impl);
    }
    if (st == GABA_OK && m->tensors[nd->out].dtype == GABA_NN_F32)
        record(c, nd->out, ptr[nd->out], cnt);
    return st;
}

gaba_status gaba_zoo_calibrate(gaba_zoo_model *m, int64_t batch, const void *const *inputs,
                               float *tmin, float *tmax, const gaba_zoo_hist *hist) {
    if (!m || !m->def || !inputs || !tmin || !tmax || batch < 1) return GABA_ERR_ARG;
    if (hist && (!hist->edges || !hist->counts || hist->n_bins < 2 || hist->n_bins % 2))
        return GABA_ERR_ARG;
    gaba_status st = gaba_zoo_exec_lock(&m->busy);
    if (st != GABA_OK) return st;
    int64_t max_l = 1;
    for (int n = 0; n < m->n_nodes; n++)
        if (m->nodes[n].layer.op == GABA_NN_ATTENTION && m->nodes[n].in_shape[0].d[1] > max_l)
            max_l = m->nodes[n].in_shape[0].d[1];
    calib c = {m, tmin, tmax, hist, malloc((size_t)max_l * sizeof(float))};
    gaba_zoo_exec e = GABA_ZOO_EXEC(m, step, NULL, &c);
    e.times = NULL; // calibration is never profiled
    // Sample by sample in slot 0; every sample's outputs go to one scratch block.
    int n_in = m->def->n_inputs, n_out = m->def->n_outputs;
    int64_t out_bytes = 0;
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].kind == 2) out_bytes += ALIGN64(m->tensors[i].bytes);
    unsigned char *outs = gaba_aligned_alloc((size_t)(out_bytes ? out_bytes : 64));
    void **in = malloc((size_t)(n_in + n_out) * sizeof(void *)), **out = in ? in + n_in : NULL;
    if (!outs || !in || !c.scores) st = GABA_ERR_NOMEM;
    int64_t off = 0;
    for (int i = 0; st == GABA_OK && i < m->n_tensors; i++)
        if (m->tensors[i].kind == 2) {
            out[m->tensors[i].io_index] = outs + off;
            off += ALIGN64(m->tensors[i].bytes);
        }
    for (int64_t s = 0; s < batch && st == GABA_OK; s++) {
        for (int i = 0; i < m->n_tensors; i++) {
            const gaba_zoo_tensor *t = &m->tensors[i];
            if (t->kind != 1) continue;
            in[t->io_index] = (char *)inputs[t->io_index] + s * t->bytes;
            if (t->dtype == GABA_NN_F32) record(&c, i, in[t->io_index], gaba_nn_numel(&t->shape));
        }
        st = gaba_zoo_exec_sample(&e, 0, 0, (const void *const *)in, out);
    }
    free(c.scores);
    free(in);
    gaba_aligned_free(outs);
    gaba_zoo_exec_unlock(&m->busy);
    return st;
}
