// gru.c - the fast GRU: the input projections of all T steps are one GEMM
// (T, F) x (F, 3H) before the recurrence; each step then needs only the
// recurrent product W_hh h (the ISA table's gru_matvec) and the gate
// arithmetic (its gru_gates: libm here, vector expf in gru_avx2.c and
// gru_avx512.c). Same formulas as gru_ref.c.
#include "nn_kernels.h"

#include "gaba/gemm.h"

#include <math.h>
#include <string.h>

void gaba_nn_gru_gates_f32_generic(int64_t hd, const float *gi, const float *hp, float *h) {
    for (int64_t j = 0; j < hd; j++) {
        float r = 1.0f / (1.0f + expf(-(gi[j] + hp[j])));
        float z = 1.0f / (1.0f + expf(-(gi[hd + j] + hp[hd + j])));
        float n = tanhf(gi[2 * hd + j] + r * hp[2 * hd + j]);
        h[j] = (1.0f - z) * n + z * h[j];
    }
}

void gaba_nn_gru_matvec_f32_generic(int64_t hd, const float *w_hh, const float *b_hh,
                                    const float *h, float *hp) {
    for (int64_t j = 0; j < 3 * hd; j++) {
        float acc = 0.0f;
        for (int64_t i = 0; i < hd; i++) acc += w_hh[j * hd + i] * h[i];
        hp[j] = b_hh[j] + acc;
    }
}

gaba_status gaba_nn_gru_f32(int64_t f, int64_t t, int64_t hd, int seq, const float *x,
                            const float *w_ih, const float *w_hh, const float *b_ih,
                            const float *b_hh, float *y, float *ws) {
    int64_t g3 = 3 * hd;
    float *xp = ws, *hp = ws + t * g3, *h = hp + g3;
    // xp (T, 3H): A(t, i) = x[i*T + t] (rs 1, cs T); B(i, j) = w_ih[j*F + i] (rs 1, cs F).
    gaba_status st = gaba_gemm_f32(GABA_GEMM_AUTO, t, g3, f, 1.0f, x, 1, t, w_ih, 1, f, 0.0f,
                                   xp, g3, 1, b_ih, GABA_ACT_NONE);
    if (st != GABA_OK) return st;
    memset(h, 0, (size_t)hd * sizeof(float));
    for (int64_t s = 0; s < t; s++) {
        gaba_nn_table.gru_matvec(hd, w_hh, b_hh, h, hp);
        gaba_nn_table.gru_gates(hd, xp + s * g3, hp, h);
        if (seq)
            for (int64_t j = 0; j < hd; j++) y[j * t + s] = h[j];
    }
    if (!seq) memcpy(y, h, (size_t)hd * sizeof(float));
    return GABA_OK;
}
