// gru.c - the fast GRU: the input projections of all T steps are one GEMM
// (T, F) x (F, 3H) before the recurrence, W_hh is transposed into the
// workspace (the ISA table's gru_transpose), then the table's gru_recur
// runs the steps: here the plain step loop with libm, in gru_avx2.c the
// same loop with vector products and gates, in gru_avx512.c a fused loop.
// Same formulas as gru_ref.c. Also the op's prepare, evals and backward
// (ops.c): BPTT with the projections and weight gradients of all steps as GEMMs.
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

// The fast backward's scratch: the input projections xp and the recurrent ones hq (T, 3H),
// which become their gradients, dh and dh_prev (H); without seq, the states (H, T) and the
// forward's wt (H, ld) and recurrence scratch, as y holds the states only with seq.
static int64_t backward_workspace(int64_t t, int64_t hd, int seq) {
    int64_t n = 2 * ROUND16(t * 3 * hd) + 2 * ROUND16(hd);
    if (!seq) n += ROUND16(hd * t) + hd * gaba_nn_gru_ld(hd) + gaba_nn_gru_recur_workspace(hd);
    int64_t n_ref = gaba_nn_gru_backward_ref_workspace(t, hd);
    return n > n_ref ? n : n_ref;
}

// Sums of the T rows of a (T, n) into db (n).
static void add_col_sums(int64_t t, int64_t n, const float *a, float *db) {
    for (int64_t s = 0; s < t; s++)
        for (int64_t j = 0; j < n; j++) db[j] += a[s * n + j];
}

// The gates of every step at once, in vector passes, the states being known: the rows of xp
// (T, 3H) become r, z, n; hq keeps W_hn h + b_hn for the backward.
static void gates_all(int64_t t, int64_t hd, float *xp, const float *hq) {
    int64_t g3 = 3 * hd;
    for (int64_t s = 0; s < t; s++) {
        float *gi = xp + s * g3;
        const float *gh = hq + s * g3;
        for (int64_t j = 0; j < 2 * hd; j++) gi[j] += gh[j];
        gaba_nn_table.act_pass(gi, 2 * hd, GABA_NN_ACT_SIGMOID);
        for (int64_t j = 0; j < hd; j++) gi[2 * hd + j] += gi[j] * gh[2 * hd + j];
        gaba_nn_table.act_pass(gi + 2 * hd, hd, GABA_NN_ACT_TANH);
    }
}

// The steps backward, T-1 to 0: xp (T, 3H) holds the gates and hq the recurrent projections;
// both become their gradients. hs (H, T) the states.
static gaba_status bptt(int64_t t, int64_t hd, int seq, const float *w_hh, const float *hs,
                        const float *dy, float *xp, float *hq, float *dh, float *dp) {
    int64_t g3 = 3 * hd;
    memset(dh, 0, (size_t)hd * sizeof(float));
    for (int64_t s = t - 1; s >= 0; s--) {
        float *gi = xp + s * g3, *gh = hq + s * g3;
        for (int64_t j = 0; j < hd; j++) {
            if (seq || s == t - 1) dh[j] += dy[seq ? j * t + s : j];
            float r = gi[j], z = gi[hd + j], n = gi[2 * hd + j], h = s ? hs[j * t + s - 1] : 0.0f;
            float dn = dh[j] * (1.0f - z) * (1.0f - n * n); // through tanh
            float dz = dh[j] * (h - n) * z * (1.0f - z);
            float dr = dn * gh[2 * hd + j] * r * (1.0f - r);
            gi[j] = gh[j] = dr;
            gi[hd + j] = gh[hd + j] = dz;
            gi[2 * hd + j] = dn;
            gh[2 * hd + j] = dn * r;
            dp[j] = dh[j] * z;
        }
        if (s == 0) break;
        // dh_prev (1, H) += dgh (1, 3H) W_hh (3H, H).
        gaba_status st = gaba_gemm_f32(GABA_GEMM_AUTO, 1, hd, g3, 1.0f, gh, g3, 1, w_hh, hd, 1,
                                       1.0f, dp, hd, 1, NULL, GABA_ACT_NONE);
        if (st != GABA_OK) return st;
        float *tmp = dh;
        dh = dp, dp = tmp;
    }
    return GABA_OK;
}

// One sample, its input projections xp (T, 3H) at ws: hs (H, T) the forward's states; dw the
// four weights' gradients (plan order).
static gaba_status backward_one(int64_t f, int64_t t, int64_t hd, int seq, const float *x,
                                const float *const *w, const float *hs, const float *dy, float *dx,
                                float *const *dw, float *ws) {
    int64_t g3 = 3 * hd;
    float *xp = ws, *hq = xp + ROUND16(t * g3), *dh = hq + ROUND16(t * g3), *dp = dh + ROUND16(hd);
    gaba_status st = GABA_OK;
    // hq (T, 3H): b_hh, then W_hh h_{s-1} + b_hh of the steps after the first, in one GEMM.
    memcpy(hq, w[3], (size_t)g3 * sizeof(float));
    if (t > 1)
        st = gaba_gemm_f32(GABA_GEMM_AUTO, t - 1, g3, hd, 1.0f, hs, 1, t, w[1], 1, hd, 0.0f,
                           hq + g3, g3, 1, w[3], GABA_ACT_NONE);
    if (st != GABA_OK) return st;
    gates_all(t, hd, xp, hq);
    st = bptt(t, hd, seq, w[1], hs, dy, xp, hq, dh, dp);
    if (st != GABA_OK) return st;
    add_col_sums(t, g3, xp, dw[2]);
    add_col_sums(t, g3, hq, dw[3]);
    // dW_ih (3H, F) += dxp^T x^T; dW_hh (3H, H) += dhq^T of steps 1.. times the states before.
    st = gaba_gemm_f32(GABA_GEMM_AUTO, g3, f, t, 1.0f, xp, 1, g3, x, 1, t, 1.0f, dw[0], f, 1, NULL,
                       GABA_ACT_NONE);
    if (st == GABA_OK && t > 1)
        st = gaba_gemm_f32(GABA_GEMM_AUTO, g3, hd, t - 1, 1.0f, hq + g3, 1, g3, hs, 1, t, 1.0f,
                           dw[1], hd, 1, NULL, GABA_ACT_NONE);
    // dx (F, T) += W_ih^T dxp^T.
    if (st == GABA_OK && dx)
        st = gaba_gemm_f32(GABA_GEMM_AUTO, f, t, g3, 1.0f, w[0], 1, f, xp, 1, g3, 1.0f, dx, t, 1,
                           NULL, GABA_ACT_NONE);
    return st;
}

// The states come from y with seq, else from the forward's recurrence rerun on xp.
gaba_status gaba_nn_gru_backward(BWD_ARGS) {
    (void)n_in;
    int64_t f = in[0].d[0], t = in[0].d[1], hd = l->p[0], g3 = 3 * hd;
    int seq = l->p[1] != 0;
    float *hs = ws + 2 * ROUND16(t * g3) + 2 * ROUND16(hd), *wt = hs + ROUND16(hd * t);
    if (!seq) gaba_nn_table.gru_transpose(hd, w[1], wt);
    gaba_status st = GABA_OK;
    for (int64_t b = 0; b < nb && st == GABA_OK; b++) {
        const float *xb = X + b * f * t;
        st = gaba_gemm_f32(GABA_GEMM_AUTO, t, g3, f, 1.0f, xb, 1, t, w[0], 1, f, 0.0f, ws, g3, 1,
                           w[2], GABA_ACT_NONE);
        if (st != GABA_OK) break;
        if (!seq) gaba_nn_table.gru_recur(hd, t, 1, ws, wt, w[3], hs, wt + hd * gaba_nn_gru_ld(hd));
        st = backward_one(f, t, hd, seq, xb, w, seq ? y + b * hd * t : hs,
                          dy + b * hd * (seq ? t : 1), dx[0] ? dx[0] + b * f * t : NULL, dw, ws);
    }
    return st;
}

gaba_status gaba_nn_gru_backward_ref(BWD_ARGS) {
    (void)n_in, (void)y;
    int64_t f = in[0].d[0], t = in[0].d[1], hd = l->p[0];
    int seq = l->p[1] != 0;
    for (int64_t b = 0; b < nb; b++)
        gaba_nn_gru_backward_f32_ref(f, t, hd, seq, X + b * f * t, w[0], w[1], w[2], w[3],
                                     dy + b * hd * (seq ? t : 1), dx[0] ? dx[0] + b * f * t : NULL,
                                     dw[0], dw[1], dw[2], dw[3], ws);
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
    pl->bwd_workspace = backward_workspace(t, h, l->p[1] != 0);
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
