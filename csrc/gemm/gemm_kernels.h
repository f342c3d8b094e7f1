// gemm_kernels.h - internal: the GEMM family's per-ISA kernels and the
// table gemm_dispatch.c fills once with the chosen level's variants.
//
// The microkernel contract (docs/kernels/gemm.md has the long version):
//   ukr(k, a, b, c, rs_c, cs_c, mr, nr, epi) computes one MR x NR tile
//     C[0:mr, 0:nr] = act(alpha * A_tile @ B_tile + beta * C + bias)
//   from packed panels: `a` holds k steps of MR floats (row i of step p at
//   a[p * MR + i], rows >= mr zero-padded), `b` holds k steps of NR floats
//   (b[p * NR + j], columns >= nr zero-padded), both GABA_ALIGN-aligned.
//   Only the mr x nr corner of C is touched; beta == 0 never reads C; bias
//   (already offset to the tile's first column, NULL for none) and the
//   activation are applied only when epi->last is set.
//   ukr_direct is the same tile computed from unpacked operands: A through
//   (rs_a, cs_a), B through rs_b with unit column stride; it never reads A
//   rows >= mr or B columns >= nr.
#ifndef GABA_GEMM_KERNELS_H
#define GABA_GEMM_KERNELS_H

#include "gaba/gemm.h"

#include <stdatomic.h>

// What the tile's epilogue applies to alpha * A @ B.
typedef struct gaba_gemm_epi {
    float alpha;
    float beta;        // 0: C is written, never read
    const float *bias; // (nr) at the tile's first column, or NULL
    gaba_act act;
    int last; // apply bias and act (the last k block)
} gaba_gemm_epi;

typedef void (*gaba_gemm_epilogue_fn)(int64_t m, int64_t n, float *c, int64_t rs_c, int64_t cs_c,
                                      const float *bias, gaba_act act);
typedef void (*gaba_gemm_ukr_fn)(int64_t k, const float *a,            // (k, MR) packed
                                 const float *b,                       // (k, NR) packed
                                 float *c, int64_t rs_c, int64_t cs_c, // (mr, nr)
                                 int64_t mr, int64_t nr, const gaba_gemm_epi *epi);
typedef void (*gaba_gemm_ukr_direct_fn)(int64_t k, const float *a, int64_t rs_a,
                                        int64_t cs_a,                         // (mr, k)
                                        const float *b, int64_t rs_b,         // (k, nr), unit cs
                                        float *c, int64_t rs_c, int64_t cs_c, // (mr, nr)
                                        int64_t mr, int64_t nr, const gaba_gemm_epi *epi);
// t[j] = sum_p x[p] * B[p, j] for j < n (n <= GABA_GEMV_CHUNK): the dot
// products of a GEMV, before any scaling. Any strides.
#define GABA_GEMV_CHUNK 256
typedef void (*gaba_gemm_gemv_fn)(int64_t n, int64_t k, const float *x, int64_t inc_x, // (k)
                                  const float *b, int64_t rs_b, int64_t cs_b,          // (k, n)
                                  float *t);                                           // (n)

#define GABA_GEMM_DECLARE(isa)                                                                     \
    void gaba_gemm_epilogue_f32_##isa(int64_t m, int64_t n, float *c, int64_t rs_c, int64_t cs_c,  \
                                      const float *bias, gaba_act act);                            \
    void gaba_gemm_ukr_f32_##isa(int64_t k, const float *a, const float *b, float *c,              \
                                 int64_t rs_c, int64_t cs_c, int64_t mr, int64_t nr,               \
                                 const gaba_gemm_epi *epi);                                        \
    void gaba_gemm_ukr_direct_f32_##isa(                                                           \
        int64_t k, const float *a, int64_t rs_a, int64_t cs_a, const float *b, int64_t rs_b,       \
        float *c, int64_t rs_c, int64_t cs_c, int64_t mr, int64_t nr, const gaba_gemm_epi *epi);   \
    void gaba_gemm_gemv_f32_##isa(int64_t n, int64_t k, const float *x, int64_t inc_x,             \
                                  const float *b, int64_t rs_b, int64_t cs_b, float *t);           \
    double gaba_gemm_peak_f32_##isa(int64_t iters);
GABA_GEMM_DECLARE(ref)
GABA_GEMM_DECLARE(avx2)
GABA_GEMM_DECLARE(avx512)
#undef GABA_GEMM_DECLARE

// Packs one full MR-row sliver of a row-major A (unit column stride):
// dst[p * MR + i] = a[i * rs_a + p]. NULL where the generic C loop serves.
typedef void (*gaba_gemm_pack_a_fn)(int64_t kc, const float *a, int64_t rs_a, float *dst);
void gaba_gemm_pack_a12_f32_avx512(int64_t kc, const float *a, int64_t rs_a, float *dst);

// Register tiles per level (MR rows x NR columns).
#define GABA_GEMM_MR_REF 4
#define GABA_GEMM_NR_REF 8
#define GABA_GEMM_MR_AVX2 6
#define GABA_GEMM_NR_AVX2 16
#define GABA_GEMM_MR_AVX512 12
#define GABA_GEMM_NR_AVX512 32

typedef struct gaba_gemm_kernels {
    gaba_gemm_epilogue_fn epilogue;
    gaba_gemm_ukr_fn ukr;
    gaba_gemm_ukr_direct_fn ukr_direct;
    gaba_gemm_gemv_fn gemv;
    double (*peak)(int64_t iters);   // runs iters FMA steps, returns the flops done
    gaba_gemm_pack_a_fn pack_a_rows; // or NULL
    int mr, nr;
} gaba_gemm_kernels;

extern gaba_gemm_kernels gaba_gemm_table;

// The scalar epilogue of one element, shared by every level's edge code:
// the same operations in the same order as the vector paths.
static inline float gaba_gemm_finish1(float acc, const float *c, const gaba_gemm_epi *e,
                                      const float *bias) {
    float v = e->alpha * acc;
    if (e->beta != 0.0f) v = e->beta * *c + v;
    if (e->last) {
        if (bias) v += *bias;
        if (e->act == GABA_ACT_RELU)
            v = v < 0.0f ? 0.0f : v;
        else if (e->act == GABA_ACT_RELU6)
            v = v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
    }
    return v;
}

// Between two blocks of a product: the status another thread of it already
// failed with (shared: its job's status, or NULL on one thread), else
// GABA_ERR_INTERRUPTED when this thread's interrupt check asks to stop,
// else GABA_OK.
static inline gaba_status gaba_gemm_next_block(atomic_int *shared) {
    int failed = shared ? atomic_load_explicit(shared, memory_order_relaxed) : GABA_OK;
    if (failed != GABA_OK) return (gaba_status)failed;
    return gaba_interrupt_poll() ? GABA_ERR_INTERRUPTED : GABA_OK;
}

#endif
