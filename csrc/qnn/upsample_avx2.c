// upsample_avx2.c - the int8 nearest upsample (gaba_qnn_upsample_nearest_ref:
// each input row -> sh output rows of each value sw times) with AVX2: width
// factor 2 doubles 32 input bytes per step (vpunpck*bw of a byte with itself),
// 1 copies the row; other factors store each value's sw copies in a loop.
// The repeated rows are copies of the first.
#include "qnn_kernels.h"

#include <immintrin.h>

// row[2j] = row[2j + 1] = src[j], j < w.
static void double_row(int64_t w, const int8_t *src, int8_t *row) {
    int64_t j = 0;
    for (; j + 32 <= w; j += 32) {
        // qwords 0 2 | 1 3: each 128-bit lane's low half is src 0-7 | 8-15, high 16-23 | 24-31
        __m256i v = _mm256_permute4x64_epi64(_mm256_loadu_si256((const __m256i *)(src + j)), 0xD8);
        _mm256_storeu_si256((__m256i *)(row + 2 * j), _mm256_unpacklo_epi8(v, v));
        _mm256_storeu_si256((__m256i *)(row + 2 * j + 32), _mm256_unpackhi_epi8(v, v));
    }
    for (; j + 16 <= w; j += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(src + j));
        _mm_storeu_si128((__m128i *)(row + 2 * j), _mm_unpacklo_epi8(v, v));
        _mm_storeu_si128((__m128i *)(row + 2 * j + 16), _mm_unpackhi_epi8(v, v));
    }
    for (; j < w; j++) row[2 * j] = row[2 * j + 1] = src[j];
}

void gaba_qnn_upsample_nearest_avx2(int64_t c, int64_t h, int64_t w, int64_t sh, int64_t sw,
                                    const int8_t *x, int8_t *y) {
    int64_t wo = w * sw;
    for (int64_t i = 0; i < c * h; i++) {
        const int8_t *src = x + i * w;
        int8_t *row = y + i * sh * wo;
        if (sw == 2) {
            double_row(w, src, row);
        } else if (sw == 1) {
            memcpy(row, src, (size_t)w);
        } else {
            for (int64_t ix = 0; ix < w; ix++)
                for (int64_t r = 0; r < sw; r++) row[ix * sw + r] = src[ix];
        }
        for (int64_t r = 1; r < sh; r++) memcpy(row + r * wo, row, (size_t)wo);
    }
}
