// gemm_select.c - backend "auto": a small table from (shape class, threads)
// to the backend that won there. gaba.tune() measures it on the machine and
// stores it (gaba/tune.py); without a measured table the built-in defaults
// below apply. Both candidates give the same results within float32
// rounding, so the choice changes speed only. The lookup is a few integer
// operations: the zoo calls GABA_GEMM_AUTO on every layer.
#include "gemm_kernels.h"

#include <stdatomic.h>

static const char *const class_names[GABA_GEMM_CLASSES] = {
    "gemv", "narrow", "tiny", "s32", "s64", "s128", "s256", "s512", "s1024", "huge",
};

#define N GABA_GEMM_NATIVE
#define O GABA_GEMM_OPENBLAS
// Defaults from gaba.tune() and bench_gemm on an AVX-512 machine (Xeon,
// OpenBLAS core SkylakeX): OpenBLAS's small-matrix kernels win below about
// 100^3 and on narrow products, and by 5-7% on one thread from 1024^3; the
// native kernels are on par from 128^3 to 512^3, win GEMV, and stay fast
// on two threads when the other core is busy (OpenBLAS's threads then lose
// up to 10x), so they keep every large class on two threads.
static _Atomic int table[2][GABA_GEMM_CLASSES] = {
    // gemv narrow tiny s32 s64 s128 s256 s512 s1024 huge
    {N, O, O, O, O, N, N, N, O, O}, // one thread
    {N, O, O, O, O, N, N, N, N, N}, // two or more
};
#undef N
#undef O

int gaba_gemm_auto_class(int64_t m, int64_t n, int64_t k) {
    if (m <= 1 || n <= 1) return 0;
    // One side within a single register tile (im2col with few channels):
    // a class of its own, its speed follows other rules than square sizes.
    if ((m <= 32 || n <= 32) && (double)m * (double)n * (double)k > 48.0 * 48 * 48) return 1;
    // The geometric mean size, bucketed by powers of two around 32..1024.
    double macs = (double)m * (double)n * (double)k;
    static const double edges[] = {24.0 * 24 * 24,      48.0 * 48 * 48,    96.0 * 96 * 96,
                                   192.0 * 192 * 192,   384.0 * 384 * 384, 768.0 * 768 * 768,
                                   1536.0 * 1536 * 1536};
    int c = 2;
    while (c - 2 < (int)(sizeof edges / sizeof edges[0]) && macs > edges[c - 2]) c++;
    return c;
}

const char *gaba_gemm_auto_class_name(int shape_class) {
    return shape_class >= 0 && shape_class < GABA_GEMM_CLASSES ? class_names[shape_class] : NULL;
}

gaba_status gaba_gemm_auto_set(int shape_class, int threads, gaba_gemm_backend backend) {
    if (shape_class < 0 || shape_class >= GABA_GEMM_CLASSES || threads < 1) return GABA_ERR_ARG;
    if (backend != GABA_GEMM_NATIVE && backend != GABA_GEMM_OPENBLAS) return GABA_ERR_ARG;
    atomic_store(&table[threads > 1][shape_class], (int)backend);
    return GABA_OK;
}

gaba_gemm_backend gaba_gemm_auto_get(int shape_class, int threads) {
    if (shape_class < 0 || shape_class >= GABA_GEMM_CLASSES) return GABA_GEMM_NATIVE;
    return (gaba_gemm_backend)atomic_load_explicit(&table[threads > 1][shape_class],
                                                   memory_order_relaxed);
}

gaba_gemm_backend gaba_gemm_auto_pick(int64_t m, int64_t n, int64_t k) {
    return gaba_gemm_auto_get(gaba_gemm_auto_class(m, n, k), gaba_threads_get());
}
