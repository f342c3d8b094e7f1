// gemm.h - float32 GEMM: C = act(alpha * A @ B + beta * C + bias).
//
// Arguments follow BLIS: sizes, alpha, then each matrix with its row and
// column strides in elements (any sign, any order: a transpose is a swap of
// rs and cs), beta, C. Strides of a dimension of size 1 are ignored.
//
// Contract shared by every backend:
//   - beta == 0 never reads C (it may hold NaN or garbage);
//   - k == 0 or alpha == 0 gives C = act(beta * C + bias) without reading
//     A or B (BLAS semantics);
//   - bias (length N, may be NULL) is added after alpha/beta scaling, then
//     the activation is applied, all on the output tile (the epilogue);
//   - C must not overlap A or B (the Python layer checks).
#ifndef GABA_GEMM_H
#define GABA_GEMM_H

#include "gaba/gaba.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gaba_gemm_backend {
    GABA_GEMM_AUTO = 0,     // the selector's choice for this shape
    GABA_GEMM_REF = 1,      // portable reference loops (slow, the oracle)
    GABA_GEMM_OPENBLAS = 2, // cblas_sgemm from the scipy-openblas32 build
    GABA_GEMM_NATIVE = 3,   // gaba's own blocked SIMD kernels (gemm_native.c)
} gaba_gemm_backend;

typedef enum gaba_act {
    GABA_ACT_NONE = 0,
    GABA_ACT_RELU = 1,  // max(x, 0)
    GABA_ACT_RELU6 = 2, // min(max(x, 0), 6)
} gaba_act;

gaba_status gaba_gemm_f32(gaba_gemm_backend backend, int64_t m, int64_t n, int64_t k, float alpha,
                          const float *a, int64_t rs_a, int64_t cs_a,       // (M, K)
                          const float *b, int64_t rs_b, int64_t cs_b,       // (K, N)
                          float beta, float *c, int64_t rs_c, int64_t cs_c, // (M, N)
                          const float *bias,                                // (N) or NULL
                          gaba_act act);

// A batch of independent products, C[i] = act(alpha * A[i] @ B[i] + beta *
// C[i] + bias) for i < batch, each operand reached through its batch stride
// (bs_*, elements; 0 broadcasts one matrix to the whole batch, but not for
// C). Small matrices are spread over the thread pool, large ones use it
// inside each product.
gaba_status gaba_gemm_f32_batched(gaba_gemm_backend backend, int64_t batch, int64_t m, int64_t n,
                                  int64_t k, float alpha, const float *a, int64_t bs_a,
                                  int64_t rs_a,
                                  int64_t cs_a, // (batch, M, K)
                                  const float *b, int64_t bs_b, int64_t rs_b,
                                  int64_t cs_b, // (batch, K, N)
                                  float beta, float *c, int64_t bs_c, int64_t rs_c,
                                  int64_t cs_c,      // (batch, M, N)
                                  const float *bias, // (N) or NULL
                                  gaba_act act);

// The reference: plain loops, float accumulation in k order. Always built.
gaba_status gaba_gemm_f32_ref(int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                              int64_t rs_a, int64_t cs_a, const float *b, int64_t rs_b,
                              int64_t cs_b, float beta, float *c, int64_t rs_c, int64_t cs_c,
                              const float *bias, gaba_act act);

// The OpenBLAS adapter. Maps the strides onto cblas's (order, trans, ld)
// when it can and packs an operand into a contiguous copy when it cannot.
// GABA_ERR_NO_IMPL when OpenBLAS cannot be loaded (core/openblas.h).
gaba_status gaba_gemm_f32_openblas(int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                                   int64_t rs_a, int64_t cs_a, const float *b, int64_t rs_b,
                                   int64_t cs_b, float beta, float *c, int64_t rs_c, int64_t cs_c,
                                   const float *bias, gaba_act act);

// gaba's own SGEMM: packing, cache blocking, per-ISA microkernels with the
// epilogue fused, a direct path for small problems, GEMV for M == 1 or
// N == 1, threads for large problems. docs/kernels/gemm.md has the details.
gaba_status gaba_gemm_f32_native(int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                                 int64_t rs_a, int64_t cs_a, const float *b, int64_t rs_b,
                                 int64_t cs_b, float beta, float *c, int64_t rs_c, int64_t cs_c,
                                 const float *bias, gaba_act act);

// The native backend's block sizes and register tile (for gaba.info()).
void gaba_gemm_native_blocks(int64_t *kc, int64_t *mc, int64_t *nc, int *mr, int *nr);

// Thread count of the native backend: 0 (default) = one thread below about
// 12 M multiply-adds, the pool's size above; n > 0 = at most n threads for
// every problem (for experiments and scaling measurements).
void gaba_gemm_native_set_threads(int threads);

// The float32 FMA peak of this machine at the active ISA level, in GFLOP/s,
// on `threads` threads at once: repeats of ~2 ms of independent FMA chains
// for about `seconds` in all (at least 12), the best repeat counts. Total flops over
// wall time: threads the pool cannot run at once do not count as parallel.
gaba_status gaba_gemm_peak_gflops(int threads, double seconds, double *gflops);

// ---- the selector (backend "auto") -----------------------------------------
// Problems fall into GABA_GEMM_CLASSES shape classes: 0 "gemv" (M or N is
// 1), 1 "narrow" (M or N <= 32, more than 48^3 multiply-adds), then by the
// geometric mean size of M, N, K: "tiny" (<= 24), "s32", "s64", ...,
// "s1024", "huge" (> 1536). For each class and for one thread or
// more, the table names the backend (NATIVE or OPENBLAS) that auto runs.
// Built-in defaults apply until gaba.tune() (or its cache file) sets them.
#define GABA_GEMM_CLASSES 10
int gaba_gemm_auto_class(int64_t m, int64_t n, int64_t k);
const char *gaba_gemm_auto_class_name(int shape_class); // NULL when out of range
gaba_status gaba_gemm_auto_set(int shape_class, int threads, gaba_gemm_backend backend);
gaba_gemm_backend gaba_gemm_auto_get(int shape_class, int threads);
// What auto runs for this shape with the pool's current thread count.
gaba_gemm_backend gaba_gemm_auto_pick(int64_t m, int64_t n, int64_t k);

// The epilogue pass for backends that cannot fuse it: c = act(c + bias),
// in place over an (M, N) strided matrix. Dispatched per ISA.
void gaba_gemm_epilogue_f32(int64_t m, int64_t n, float *c, int64_t rs_c, int64_t cs_c,
                            const float *bias, gaba_act act);

// OpenBLAS identification, for gaba.info().
const char *gaba_gemm_openblas_config(void);
const char *gaba_gemm_openblas_corename(void);
// OpenBLAS's thread count, which follows gaba's (gaba_threads_set).
int gaba_gemm_openblas_threads(void);

// ---- int8 GEMM ----------------------------------------------------------------
// C = A @ B with int8 B, uint8 (u8s8) or int8 (s8s8) A, int32 C, for the
// quantized layers: zero points and scales are the caller's (fold the zero
// points into the int32 bias, then requantize below). Exact: every sum is
// taken modulo 2^32 (wrapping, as vpdpbusd), so C equals the integer result
// whenever that fits in int32 (always for K <= 66,000). C is written, never
// read. AVX-512-VNNI, AVX-VNNI, AVX2 and portable kernels
// (gaba_gemm_s8_kernel_name() says which runs), threads for large problems.
gaba_status gaba_gemm_u8s8s32(int64_t m, int64_t n, int64_t k, const uint8_t *a, int64_t rs_a,
                              int64_t cs_a,                                // (M, K)
                              const int8_t *b, int64_t rs_b, int64_t cs_b, // (K, N)
                              int32_t *c, int64_t rs_c, int64_t cs_c);     // (M, N)
gaba_status gaba_gemm_s8s8s32(int64_t m, int64_t n, int64_t k, const int8_t *a, int64_t rs_a,
                              int64_t cs_a,                                // (M, K)
                              const int8_t *b, int64_t rs_b, int64_t cs_b, // (K, N)
                              int32_t *c, int64_t rs_c, int64_t cs_c);     // (M, N)
const char *gaba_gemm_s8_kernel_name(void); // "avx512vnni", "avxvnni", "avx2" or "ref"
// Forces one of those kernels (tests, bug reports); GABA_ERR_ISA when the
// CPU lacks it, GABA_ERR_ARG for an unknown name. Not thread-safe with
// concurrent int8 GEMMs.
gaba_status gaba_gemm_s8_use_kernel(const char *name);

// ---- requantization (int32 accumulators -> int8), TFLite semantics -----------
// A real multiplier M >= 0 (e.g. in_scale * w_scale[j] / out_scale) is
// represented as a Q31 integer and a power of two:
//   M ~= multiplier * 2^(shift - 31),  multiplier in [2^30, 2^31) (or 0),
// exactly as TFLite's QuantizeMultiplier (shift > 0 is a left shift).
// GABA_ERR_ARG for negative, NaN or infinite M.
gaba_status gaba_gemm_quantize_multiplier(double real, int32_t *multiplier, int32_t *shift);
// TFLite's MultiplyByQuantizedMultiplier: round(x * M) with gemmlowp's
// rounding (doubling high multiply, then rounding right shift), bit-exact.
int32_t gaba_gemm_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift);
// out[i, j] = clamp(zero_point + MBQM(acc[i, j] + bias[j], multiplier[q], shift[q]),
//                   act_min, act_max),  q = j when per_channel (one per output
// channel = column), else 0. bias may be NULL; acc + bias wraps. act_min and
// act_max lie in [-128, 127] (fused ReLU/ReLU6 clamp in the quantized domain).
gaba_status gaba_gemm_requantize_s32_s8(int64_t m, int64_t n, const int32_t *acc, int64_t rs_acc,
                                        int64_t cs_acc,            // (M, N)
                                        const int32_t *bias,       // (N) or NULL
                                        const int32_t *multiplier, // (N) or (1)
                                        const int32_t *shift,      // (N) or (1)
                                        int per_channel, int32_t zero_point, int32_t act_min,
                                        int32_t act_max, int8_t *out, int64_t rs_out,
                                        int64_t cs_out); // (M, N)

#ifdef __cplusplus
}
#endif
#endif // GABA_GEMM_H
