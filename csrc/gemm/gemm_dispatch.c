// gemm_dispatch.c - fills the GEMM family's kernel table for the ISA level
// core/dispatch.c picked. One column per level, BLIS cntx-table style.
#define _GNU_SOURCE // clock_gettime
#include "gemm_kernels.h"
#include "../core/dispatch.h"

#define LEVEL(isa, ISA)                                                                            \
    {                                                                                              \
        .epilogue = gaba_gemm_epilogue_f32_##isa,                                                  \
        .ukr = gaba_gemm_ukr_f32_##isa,                                                            \
        .ukr_direct = gaba_gemm_ukr_direct_f32_##isa,                                              \
        .gemv = gaba_gemm_gemv_f32_##isa,                                                          \
        .peak = gaba_gemm_peak_f32_##isa,                                                          \
        .mr = GABA_GEMM_MR_##ISA,                                                                  \
        .nr = GABA_GEMM_NR_##ISA,                                                                  \
    }

gaba_gemm_kernels gaba_gemm_table = LEVEL(ref, REF);

void gaba_gemm_dispatch_init(gaba_isa isa) {
    static const gaba_gemm_kernels by_level[GABA_ISA_COUNT] = {
        [GABA_ISA_REF] = LEVEL(ref, REF),
        [GABA_ISA_AVX2] = LEVEL(avx2, AVX2),
        [GABA_ISA_AVX512] = LEVEL(avx512, AVX512),
    };
    gaba_gemm_table = by_level[isa];
    if (isa == GABA_ISA_AVX512) gaba_gemm_table.pack_a_rows = gaba_gemm_pack_a12_f32_avx512;
}

void gaba_gemm_epilogue_f32(int64_t m, int64_t n, float *c, int64_t rs_c, int64_t cs_c,
                            const float *bias, gaba_act act) {
    if (!bias && act == GABA_ACT_NONE) return;
    gaba_gemm_table.epilogue(m, n, c, rs_c, cs_c, bias, act);
}

// ---- the FMA peak probe ------------------------------------------------------------

#include <time.h>

typedef struct peak_job {
    int64_t iters;
    double flops[GABA_MAX_THREADS];
    double seconds[GABA_MAX_THREADS];
} peak_job;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void peak_task(void *ctx, int64_t task, int64_t n_tasks) {
    peak_job *job = ctx;
    double start = now_s();
    job->flops[task] = gaba_gemm_table.peak(job->iters);
    job->seconds[task] = now_s() - start;
}

gaba_status gaba_gemm_peak_gflops(int threads, double seconds, double *gflops) {
    if (threads < 1 || threads > GABA_MAX_THREADS || !(seconds > 0) || !gflops) return GABA_ERR_ARG;
    gaba_status status = gaba_runtime_init();
    if (status != GABA_OK) return status;
    // Short repeats (~2 ms) and many of them, the best counting: on a shared
    // machine a repeat longer than a scheduler time slice is almost never
    // undisturbed, and the least disturbed repeat is the machine's peak.
    int64_t iters = 1 << 10;
    for (;;) {
        double start = now_s();
        gaba_gemm_table.peak(iters);
        double t = now_s() - start;
        if (t > 2e-4 || iters > ((int64_t)1 << 40)) {
            iters = (int64_t)((double)iters * 2e-3 / (t > 0 ? t : 1e-9)) + 1;
            break;
        }
        iters *= 4;
    }
    int repeats = (int)(seconds / 2e-3);
    repeats = repeats < 12 ? 12 : repeats > 500 ? 500 : repeats;
    peak_job *job = gaba_aligned_alloc(sizeof *job);
    if (!job) return GABA_ERR_NOMEM;
    job->iters = iters;
    double best = 0.0;
    for (int rep = 0; rep < repeats; rep++) {
        for (int t = 0; t < threads; t++) job->flops[t] = job->seconds[t] = 0.0;
        double start = now_s();
        gaba_parallel_for(threads, threads, peak_task, job);
        double wall = now_s() - start, flops = 0.0;
        for (int t = 0; t < threads; t++) flops += job->flops[t];
        // Wall time, not per-thread rates: tasks that ran one after the
        // other (a busy pool, fewer cores) must not count as parallel.
        double total = wall > 0 ? flops / wall : 0.0;
        if (total > best) best = total;
    }
    gaba_aligned_free(job);
    *gflops = best * 1e-9;
    return GABA_OK;
}
