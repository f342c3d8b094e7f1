// gemm_epilogue_avx512.c - AVX-512 epilogue, 16 floats per step along
// unit-stride rows, the row tail under a mask; other layouts take the
// reference. NaN passes through as in the reference (see the AVX2 file).
#include "gemm_kernels.h"

#include <immintrin.h>

void gaba_gemm_epilogue_f32_avx512(int64_t m, int64_t n, float *c, int64_t rs_c, int64_t cs_c,
                                   const float *bias, gaba_act act) {
    if (cs_c != 1 && n > 1) {
        gaba_gemm_epilogue_f32_ref(m, n, c, rs_c, cs_c, bias, act);
        return;
    }
    const __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6.0f);
    for (int64_t i = 0; i < m; i++) {
        float *row = c + i * rs_c;
        for (int64_t j = 0; j < n; j += 16) {
            __mmask16 mask = n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1);
            __m512 v = _mm512_maskz_loadu_ps(mask, row + j);
            if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, bias + j));
            if (act != GABA_ACT_NONE) v = _mm512_max_ps(zero, v);
            if (act == GABA_ACT_RELU6) v = _mm512_min_ps(six, v);
            _mm512_mask_storeu_ps(row + j, mask, v);
        }
    }
}
