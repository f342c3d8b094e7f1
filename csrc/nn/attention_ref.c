// attention_ref.c - reference single-head self-attention over the positions
// of x (D, L): projections, scaled dot-product scores, max-subtracted
// softmax, weighted values, output projection. No mask, no residual (a
// model adds one with an ADD layer). The oracle of attention.c.
#include "nn_kernels.h"

#include <math.h>

int64_t gaba_nn_attention_workspace(int64_t d, int64_t l, int64_t dk) {
    return l * 3 * dk + l * l + l * dk;
}

void gaba_nn_attention_f32_ref(int64_t d, int64_t l, int64_t dk, const float *x, const float *w_qkv,
                               const float *b_qkv, const float *w_o, const float *b_o, float *y,
                               float *ws) {
    float *qkv = ws, *sc = ws + l * 3 * dk, *ctx = sc + l * l;
    for (int64_t p = 0; p < l; p++)
        for (int64_t j = 0; j < 3 * dk; j++) {
            float acc = b_qkv[j];
            for (int64_t i = 0; i < d; i++) acc += w_qkv[j * d + i] * x[i * l + p];
            qkv[p * 3 * dk + j] = acc;
        }
    float scale = 1.0f / sqrtf((float)dk);
    for (int64_t p = 0; p < l; p++)
        for (int64_t q = 0; q < l; q++) {
            float acc = 0.0f;
            for (int64_t k = 0; k < dk; k++) acc += qkv[p * 3 * dk + k] * qkv[q * 3 * dk + dk + k];
            sc[p * l + q] = acc * scale;
        }
    gaba_nn_softmax_f32_ref(l, l, sc, sc);
    for (int64_t p = 0; p < l; p++)
        for (int64_t k = 0; k < dk; k++) {
            float acc = 0.0f;
            for (int64_t q = 0; q < l; q++) acc += sc[p * l + q] * qkv[q * 3 * dk + 2 * dk + k];
            ctx[p * dk + k] = acc;
        }
    for (int64_t o = 0; o < d; o++)
        for (int64_t p = 0; p < l; p++) {
            float acc = b_o[o];
            for (int64_t k = 0; k < dk; k++) acc += w_o[o * dk + k] * ctx[p * dk + k];
            y[o * l + p] = acc;
        }
}
