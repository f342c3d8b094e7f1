// gru.c - the fast GRU: the input projections of all T steps are one GEMM
// (T, F) x (F, 3H) before the recurrence, W_hh is transposed into the
// workspace (the ISA table's gru_transpose), then the table's gru_recur
// runs the steps: here the plain step loop with libm, in gru_avx2.c the
// same loop with vector products and gates, in gru_avx512.c a fused loop.
// Same formulas as gru_ref.c. Also the op's prepare and evals (ops.c).
#include "ops.h"

#include "gaba/gemm.h"

#include <math.h>
#include <string.h>

#define ROUND16(v) (((v) + 15) / 16 * 16)

int64_t gaba_nn_gru_ld(int64_t hidden) { return ROUND16(3 * hidden); }

// hp and the padded b_hh (ld each), then h.
int64_t gaba_nn_gru_recur_workspace(int64_t hidden) {
    return 2 * gaba_nn_gru_ld(hidden) + ROUND16(hidden);
}

// xp (T, 3H), wt (H, ld), then the recurrence's scratch, each at a 64-byte boundary.
int64_t gaba_nn_gru_workspace(int64_t f, int64_t t, int64_t hidden) {
    (void)f;
    return ROUND16(t * 3 * hidden) + hidden * gaba_nn_gru_ld(hidden) +
           gaba_nn_gru_recur_workspace(hidden);
}

void gaba_nn_gru_transpose_f32_generic(int64_t hd, const float *w_hh, float *wt) {
    int64_t ld = gaba_nn_gru_ld(hd);
    for (int64_t i = 0; i < hd; i++)
        for (int64_t j = 0; j < ld; j++) wt[i * ld + j] = j < 3 * hd ? w_hh[j * hd + i] : 0.0f;
}

static void gates_generic(int64_t hd, const float *gi, const float *hp, float *h) {
    for (int64_t j = 0; j < hd; j++) {
        float r = 1.0f / (1.0f + expf(-(gi[j] + hp[j])));
        float z = 1.0f / (1.0f + expf(-(gi[hd + j] + hp[hd + j])));
        float n = tanhf(gi[2 * hd + j] + r * hp[2 * hd + j]);
        h[j] = (1.0f - z) * n + z * h[j];
    }
}

static void matvec_generic(int64_t hd, const float *wt, const float *b_hh, const float *h,
                           float *hp) {
    int64_t ld = gaba_nn_gru_ld(hd);
    for (int64_t j = 0; j < 3 * hd; j++) hp[j] = b_hh[j];
    for (int64_t i = 0; i < hd; i++)
        for (int64_t j = 0; j < 3 * hd; j++) hp[j] += wt[i * ld + j] * h[i];
}

void gaba_nn_gru_steps(int64_t hd, int64_t t, int seq, const float *xp, const float *wt,
                       const float *b_hh, float *y, float *ws, gaba_nn_gru_matvec_fn matvec,
                       gaba_nn_gru_gates_fn gates) {
    int64_t g3 = 3 * hd;
    float *hp = ws, *h = ws + 2 * gaba_nn_gru_ld(hd); // gaba_nn_gru_recur_workspace
    memset(h, 0, (size_t)hd * sizeof(float));
    for (int64_t s = 0; s < t; s++) {
        matvec(hd, wt, b_hh, h, hp);
        gates(hd, xp + s * g3, hp, h);
        if (seq)
            for (int64_t j = 0; j < hd; j++) y[j * t + s] = h[j];
    }
    if (!seq) memcpy(y, h, (size_t)hd * sizeof(float));
}

void gaba_nn_gru_recur_f32_generic(int64_t hd, int64_t t, int seq, const float *xp, const float *wt,
                                   const float *b_hh, float *y, float *ws) {
    gaba_nn_gru_steps(hd, t, seq, xp, wt, b_hh, y, ws, matvec_generic, gates_generic);
}

gaba_status gaba_nn_gru_f32(int64_t f, int64_t t, int64_t hd, int seq, const float *x,
                            const float *w_ih, const float *w_hh, const float *b_ih,
                            const float *b_hh, float *y, float *ws) {
    int64_t g3 = 3 * hd;
    float *xp = ws, *wt = ws + ROUND16(t * g3);
    // xp (T, 3H): A(t, i) = x[i*T + t] (rs 1, cs T); B(i, j) = w_ih[j*F + i] (rs 1, cs F).
    gaba_status st = gaba_gemm_f32(GABA_GEMM_AUTO, t, g3, f, 1.0f, x, 1, t, w_ih, 1, f, 0.0f, xp,
                                   g3, 1, b_ih, GABA_ACT_NONE);
    if (st != GABA_OK) return st;
    gaba_nn_table.gru_transpose(hd, w_hh, wt);
    gaba_nn_table.gru_recur(hd, t, seq, xp, wt, b_hh, y, wt + hd * gaba_nn_gru_ld(hd));
    return GABA_OK;
}

gaba_status gaba_nn_gru_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                gaba_nn_plan *pl) {
    (void)n_in;
    if (x->ndim != 2 || l->p[0] <= 0 || l->p[0] > INT32_MAX / 3) return GABA_ERR_ARG;
    int32_t f = x->d[0], t = x->d[1], h = l->p[0];
    pl->out = l->p[1] ? gaba_nn_shp(2, h, t, 0) : gaba_nn_shp(1, h, 0, 0);
    gaba_nn_add_weight(pl, "w_ih", gaba_nn_shp(2, 3 * h, f, 0),
                       -f); // negative fan: Glorot-like 1/fan
    gaba_nn_add_weight(pl, "w_hh", gaba_nn_shp(2, 3 * h, h, 0), -h);
    gaba_nn_add_weight(pl, "b_ih", gaba_nn_shp(1, 3 * h, 0, 0), 0);
    gaba_nn_add_weight(pl, "b_hh", gaba_nn_shp(1, 3 * h, 0, 0), 0);
    pl->workspace = gaba_nn_gru_workspace(f, t, h);
    pl->macs = (int64_t)t * 3 * h * (f + h);
    return GABA_OK;
}

#define GRU_ARGS in[0].d[0], in[0].d[1], l->p[0], l->p[1], X, w[0], w[1], w[2], w[3], Y, ws

gaba_status gaba_nn_gru_eval(EVAL_ARGS) {
    (void)n_in;
    return gaba_nn_gru_f32(GRU_ARGS);
}

gaba_status gaba_nn_gru_eval_ref(EVAL_ARGS) {
    (void)n_in;
    gaba_nn_gru_f32_ref(GRU_ARGS);
    return GABA_OK;
}
