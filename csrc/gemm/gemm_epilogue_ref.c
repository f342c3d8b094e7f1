// gemm_epilogue_ref.c - reference epilogue: c = act(c + bias) over a strided
// (M, N) matrix. The SIMD variants beside it must match it bit for bit
// (the operations are an add and a clamp, both exact in any order).
#include "gemm_kernels.h"

void gaba_gemm_epilogue_f32_ref(int64_t m, int64_t n, float *c, int64_t rs_c, int64_t cs_c,
                                const float *bias, gaba_act act) {
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) {
            float v = c[i * rs_c + j * cs_c];
            if (bias) v += bias[j];
            // `v > 0 ? v : 0` would keep NaN; fmaxf would drop it. Keep it,
            // as PyTorch's relu does.
            if (act == GABA_ACT_RELU)
                v = v < 0.0f ? 0.0f : v;
            else if (act == GABA_ACT_RELU6)
                v = v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
            c[i * rs_c + j * cs_c] = v;
        }
    }
}
