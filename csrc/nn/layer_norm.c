// layer_norm.c - prepare, eval and backward of the float32 LayerNorm (nn.h's
// GABA_NN_LAYER_NORM), reached through the op table: x (C, ...) normalized
// over C at each position; eval runs the ISA table's kernel (layer_norm_avx2.c,
// layer_norm_avx512.c; the oracle at the ref level), eval_ref the oracle;
// backward a float32 kernel of its own, backward_ref the oracle's.
#include "ops.h"

#include <math.h>
#include <string.h>

float gaba_nn_layer_norm_eps(const gaba_nn_layer *l) {
    return l->p[0] ? (float)l->p[0] * 1e-9f : 1e-5f;
}

gaba_status gaba_nn_layer_norm_prepare(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *x,
                                       gaba_nn_plan *pl) {
    (void)n_in;
    if (l->act != GABA_NN_ACT_NONE || l->p[0] < 0) return GABA_ERR_ARG;
    pl->out = *x;
    gaba_nn_shape c = {1, {x->d[0]}};
    pl->n_weights = 2;
    pl->weight_names[0] = "weight", pl->weight_names[1] = "bias";
    pl->weight_shapes[0] = pl->weight_shapes[1] = c;
    pl->macs = 4 * gaba_nn_numel(x);
    pl->bwd_workspace = 4 * (gaba_nn_numel(x) / x->d[0]); // the fast backward's sums a position
    return GABA_OK;
}

static gaba_status run(const gaba_nn_layer *l, const gaba_nn_shape *in, const void *const *x,
                       const float *const *w, void *y, gaba_nn_layer_norm_fn kernel) {
    int64_t c = in[0].d[0];
    kernel(c, gaba_nn_numel(&in[0]) / c, x[0], w[0], w[1], gaba_nn_layer_norm_eps(l), y);
    return GABA_OK;
}

gaba_status gaba_nn_layer_norm_eval(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *in,
                                    const void *const *x, const float *const *w, void *y,
                                    float *ws) {
    (void)n_in, (void)ws;
    return run(l, in, x, w, y, gaba_nn_table.layer_norm);
}

gaba_status gaba_nn_layer_norm_eval_ref(const gaba_nn_layer *l, int n_in, const gaba_nn_shape *in,
                                        const void *const *x, const float *const *w, void *y,
                                        float *ws) {
    (void)n_in, (void)ws;
    return run(l, in, x, w, y, gaba_nn_layer_norm_f32_ref);
}

// The fast backward: float32, every loop along a row of the s positions (a position's
// channels lie s apart) so that it vectorises, with each position's mean, 1 / sqrt(var + eps),
// sum of g = dy * gamma and of g * xh in ws (4 s floats); the oracle walks each position's
// channels in double. Formulas as gaba_nn_layer_norm_backward_f32_ref's.
static void backward_f32(int64_t c, int64_t s, const float *restrict x, const float *gamma,
                         float eps, const float *restrict dy, float *restrict dx, float *dgamma,
                         float *dbeta, float *restrict ws) {
    float *restrict mean = ws, *restrict r = ws + s, *restrict sg = ws + 2 * s,
                    *restrict sgx = ws + 3 * s;
    const float inv_c = 1.0f / (float)c;
    memset(ws, 0, (size_t)(4 * s) * sizeof(float));
    for (int64_t k = 0; k < c; k++)
        for (int64_t p = 0; p < s; p++) mean[p] += x[k * s + p];
    for (int64_t p = 0; p < s; p++) mean[p] *= inv_c;
    for (int64_t k = 0; k < c; k++)
        for (int64_t p = 0; p < s; p++) {
            float d = x[k * s + p] - mean[p];
            r[p] += d * d;
        }
    for (int64_t p = 0; p < s; p++) r[p] = 1.0f / sqrtf(r[p] * inv_c + eps);
    for (int64_t k = 0; k < c; k++) {
        const float *xk = x + k * s, *gk = dy + k * s;
        float dg = 0.0f, db = 0.0f;
        for (int64_t p = 0; p < s; p++) {
            float xh = (xk[p] - mean[p]) * r[p], g = gk[p] * gamma[k];
            sg[p] += g, sgx[p] += g * xh;
        }
        for (int64_t p = 0; p < s; p++) dg += gk[p] * (xk[p] - mean[p]) * r[p], db += gk[p];
        dgamma[k] += dg, dbeta[k] += db;
    }
    if (!dx) return;
    for (int64_t k = 0; k < c; k++)
        for (int64_t p = 0; p < s; p++) {
            float xh = (x[k * s + p] - mean[p]) * r[p];
            dx[k * s + p] += r[p] * (dy[k * s + p] * gamma[k] - (sg[p] + xh * sgx[p]) * inv_c);
        }
}

// each sample through the fast kernel above or the oracle
static gaba_status backward(BWD_ARGS, int ref) {
    (void)n_in, (void)y;
    int64_t c = in[0].d[0], s = gaba_nn_numel(&in[0]) / c;
    float eps = gaba_nn_layer_norm_eps(l);
    for (int64_t b = 0; b < nb; b++) {
        const float *xb = X + b * c * s, *gb = dy + b * c * s;
        float *dxb = dx[0] ? dx[0] + b * c * s : NULL;
        if (ref)
            gaba_nn_layer_norm_backward_f32_ref(c, s, xb, w[0], eps, gb, dxb, dw[0], dw[1]);
        else
            backward_f32(c, s, xb, w[0], eps, gb, dxb, dw[0], dw[1], ws);
    }
    return GABA_OK;
}

gaba_status gaba_nn_layer_norm_backward(BWD_ARGS) {
    return backward(l, n_in, in, nb, x, w, y, dy, dx, dw, ws, 0);
}

gaba_status gaba_nn_layer_norm_backward_ref(BWD_ARGS) {
    return backward(l, n_in, in, nb, x, w, y, dy, dx, dw, ws, 1);
}
