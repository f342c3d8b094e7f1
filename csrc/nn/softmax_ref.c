// softmax_ref.c - the float32 softmax over rows, max-subtracted, libm's
// expf. The oracle of softmax_avx2.c and softmax_avx512.c, and the ref
// level's kernel; its backward, a memory-bound loop (also the fast path).
#include "nn_kernels.h"

#include <math.h>

void gaba_nn_softmax_f32_ref(int64_t rows, int64_t n, const float *x, float *y) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        float m = -INFINITY;
        for (int64_t i = 0; i < n; i++) m = xr[i] > m ? xr[i] : m;
        float s = 0.0f;
        for (int64_t i = 0; i < n; i++) s += (yr[i] = expf(xr[i] - m));
        float inv = 1.0f / s;
        for (int64_t i = 0; i < n; i++) yr[i] *= inv;
    }
}

void gaba_nn_softmax_backward_f32_ref(int64_t rows, int64_t n, const float *y, const float *dy,
                                      float *dx) {
    for (int64_t r = 0; r < rows; r++) {
        const float *yr = y + r * n, *gr = dy + r * n;
        float dot = 0.0f;
        for (int64_t i = 0; i < n; i++) dot += gr[i] * yr[i];
        for (int64_t i = 0; i < n; i++) dx[r * n + i] += yr[i] * (gr[i] - dot);
    }
}
