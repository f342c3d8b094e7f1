// pool.c - the int8 max/avg and global pooling (qnn.h): the plain unpadded
// kernel and the op's evals (ops.c); padded windows run the reference.
#include "../nn/ops.h"
#include "qnn_impl.h"

// Unpadded max/avg pooling, row by row over chunks of output columns (the
// reference checks every tap's bounds; here there are none to check).
void gaba_qnn_pool_generic(const gaba_nn_pool_geom *g, const int8_t *x, int8_t *y, int is_max) {
    int32_t sum[256];
    int32_t count = (int32_t)(g->kh * g->kw);
    for (int64_t c = 0; c < g->c; c++)
        for (int64_t oy = 0; oy < g->ho; oy++)
            for (int64_t o0 = 0; o0 < g->wo; o0 += 256) {
                int64_t n = g->wo - o0 < 256 ? g->wo - o0 : 256;
                int8_t *restrict yr = y + (c * g->ho + oy) * g->wo + o0;
                for (int64_t ky = 0; ky < g->kh; ky++)
                    for (int64_t kx = 0; kx < g->kw; kx++) {
                        const int8_t *restrict xr =
                            x + (c * g->h + oy * g->sh + ky) * g->w + o0 * g->sw + kx;
                        int first = ky == 0 && kx == 0;
                        if (is_max)
                            for (int64_t i = 0; i < n; i++) {
                                int8_t v = xr[i * g->sw];
                                yr[i] = first || v > yr[i] ? v : yr[i];
                            }
                        else
                            for (int64_t i = 0; i < n; i++)
                                sum[i] = (first ? 0 : sum[i]) + xr[i * g->sw];
                    }
                if (!is_max)
                    for (int64_t i = 0; i < n; i++) {
                        int32_t t = sum[i];
                        yr[i] = gaba_qnn_round_mean(t, count);
                    }
            }
}

gaba_status gaba_qnn_pool_eval_ref(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    gaba_nn_pool_geom g;
    gaba_status st = gaba_nn_pool_geom_get(&q->layer, &in[0], &g);
    if (st == GABA_OK)
        (q->layer.op == GABA_NN_MAXPOOL ? gaba_qnn_maxpool_ref : gaba_qnn_avgpool_ref)(&g, x[0], y);
    return st;
}

// the fast kernel covers unpadded windows, the reference the rest
gaba_status gaba_qnn_pool_eval(QEVAL_ARGS) {
    gaba_nn_pool_geom g;
    gaba_status st = gaba_nn_pool_geom_get(&q->layer, &in[0], &g);
    if (st != GABA_OK) return st;
    if (g.pt || g.pl || (g.ho - 1) * g.sh + g.kh > g.h || (g.wo - 1) * g.sw + g.kw > g.w)
        return gaba_qnn_pool_eval_ref(q, n_in, in, x, y, ws);
    gaba_nn_table.qpool(&g, x[0], y, q->layer.op == GABA_NN_MAXPOOL);
    return GABA_OK;
}

gaba_status gaba_qnn_global_pool_eval(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    gaba_nn_table.qgpool(in[0].d[0], gaba_nn_numel(&in[0]) / in[0].d[0], x[0], y,
                         q->layer.op == GABA_NN_GLOBAL_MAXPOOL);
    return GABA_OK;
}

gaba_status gaba_qnn_global_pool_eval_ref(QEVAL_ARGS) {
    (void)n_in, (void)ws;
    gaba_qnn_global_pool_ref(in[0].d[0], gaba_nn_numel(&in[0]) / in[0].d[0], x[0], y,
                             q->layer.op == GABA_NN_GLOBAL_MAXPOOL);
    return GABA_OK;
}
