// gemm_epilogue_avx2.c - AVX2 epilogue, 8 floats per step along unit-stride
// rows; other layouts take the reference. Same results as the reference:
// max/min are written so NaN passes through (the NaN operand comes second
// in vmaxps/vminps, which return the second operand when either is NaN).
#include "gemm_kernels.h"

#include <immintrin.h>

void gaba_gemm_epilogue_f32_avx2(int64_t m, int64_t n, float *c, int64_t rs_c, int64_t cs_c,
                                 const float *bias, gaba_act act) {
    if (cs_c != 1 && n > 1) {
        gaba_gemm_epilogue_f32_ref(m, n, c, rs_c, cs_c, bias, act);
        return;
    }
    const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6.0f);
    int64_t n8 = n - n % 8;
    for (int64_t i = 0; i < m; i++) {
        float *row = c + i * rs_c;
        for (int64_t j = 0; j < n8; j += 8) {
            __m256 v = _mm256_loadu_ps(row + j);
            if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + j));
            if (act != GABA_ACT_NONE) v = _mm256_max_ps(zero, v);
            if (act == GABA_ACT_RELU6) v = _mm256_min_ps(six, v);
            _mm256_storeu_ps(row + j, v);
        }
        if (n8 < n)
            gaba_gemm_epilogue_f32_ref(1, n - n8, row + n8, rs_c, 1, bias ? bias + n8 : NULL, act);
    }
}
