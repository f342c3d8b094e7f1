// gemm.c - the float32 GEMM entry point: checks the arguments every backend
// relies on, then hands the call to the chosen backend. Backends may assume
// what is checked here: sizes > 0, alpha != 0 (BLAS semantics: with alpha
// == 0 or k == 0, A and B are not read, so NaN there does not propagate),
// pointers present.
#include "gemm_kernels.h"

static void scale_c(int64_t m, int64_t n, float beta, float *c, int64_t rs_c, int64_t cs_c) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            float *cij = &c[i * rs_c + j * cs_c];
            *cij = beta == 0.0f ? 0.0f : beta * *cij;
        }
}

gaba_status gaba_gemm_f32(gaba_gemm_backend backend, int64_t m, int64_t n, int64_t k,
                          float alpha, const float *a, int64_t rs_a, int64_t cs_a,
                          const float *b, int64_t rs_b, int64_t cs_b, float beta, float *c,
                          int64_t rs_c, int64_t cs_c, const float *bias, gaba_act act) {
    if (m < 0 || n < 0 || k < 0) return GABA_ERR_SHAPE;
    if (act != GABA_ACT_NONE && act != GABA_ACT_RELU && act != GABA_ACT_RELU6)
        return GABA_ERR_ARG;
    if (m == 0 || n == 0) return GABA_OK;
    if (!c || (k > 0 && (!a || !b))) return GABA_ERR_ARG;
    gaba_status status = gaba_runtime_init();
    if (status != GABA_OK) return status;
    if (k == 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, rs_c, cs_c);
        gaba_gemm_epilogue_f32(m, n, c, rs_c, cs_c, bias, act);
        return GABA_OK;
    }
    int automatic = backend == GABA_GEMM_AUTO;
    if (automatic) backend = gaba_gemm_auto_pick(m, n, k);
    switch (backend) {
    case GABA_GEMM_REF:
        return gaba_gemm_f32_ref(m, n, k, alpha, a, rs_a, cs_a, b, rs_b, cs_b, beta, c, rs_c,
                                 cs_c, bias, act);
    case GABA_GEMM_AUTO: // resolved above
    case GABA_GEMM_NATIVE:
        return gaba_gemm_f32_native(m, n, k, alpha, a, rs_a, cs_a, b, rs_b, cs_b, beta, c, rs_c,
                                    cs_c, bias, act);
    case GABA_GEMM_OPENBLAS:
        status = gaba_gemm_f32_openblas(m, n, k, alpha, a, rs_a, cs_a, b, rs_b, cs_b, beta, c,
                                        rs_c, cs_c, bias, act);
        // auto never fails for want of OpenBLAS (or of 32-bit sizes): it
        // falls back on the native kernels, which take the same arguments.
        if (status == GABA_ERR_NO_IMPL && automatic)
            status = gaba_gemm_f32_native(m, n, k, alpha, a, rs_a, cs_a, b, rs_b, cs_b, beta, c,
                                          rs_c, cs_c, bias, act);
        return status;
    }
    return GABA_ERR_ARG;
}

typedef struct batch_job {
    gaba_gemm_backend backend;
    int64_t m, n, k;
    float alpha, beta;
    const float *a;
    int64_t bs_a, rs_a, cs_a;
    const float *b;
    int64_t bs_b, rs_b, cs_b;
    float *c;
    int64_t bs_c, rs_c, cs_c;
    const float *bias;
    gaba_act act;
    _Atomic int status;
} batch_job;

static void batch_task(void *ctx, int64_t i, int64_t n_tasks) {
    batch_job *j = ctx;
    gaba_status st = gaba_gemm_f32(j->backend, j->m, j->n, j->k, j->alpha, j->a + i * j->bs_a,
                                   j->rs_a, j->cs_a, j->b + i * j->bs_b, j->rs_b, j->cs_b,
                                   j->beta, j->c + i * j->bs_c, j->rs_c, j->cs_c, j->bias, j->act);
    if (st != GABA_OK) j->status = st;
}

// Matrices big enough to use threads inside one product run one after the
// other; a batch of small ones is spread over the pool instead (the nested
// GEMMs then run single-threaded: the pool is busy).
#define BATCH_PARALLEL_MACS (12.0 * 1024 * 1024)

gaba_status gaba_gemm_f32_batched(gaba_gemm_backend backend, int64_t batch, int64_t m,
                                  int64_t n, int64_t k, float alpha, const float *a,
                                  int64_t bs_a, int64_t rs_a, int64_t cs_a, const float *b,
                                  int64_t bs_b, int64_t rs_b, int64_t cs_b, float beta,
                                  float *c, int64_t bs_c, int64_t rs_c, int64_t cs_c,
                                  const float *bias, gaba_act act) {
    if (batch < 0) return GABA_ERR_SHAPE;
    if (batch == 0 || m == 0 || n == 0) return m < 0 || n < 0 || k < 0 ? GABA_ERR_SHAPE : GABA_OK;
    if (batch > 1 && m > 0 && n > 0 && bs_c == 0) return GABA_ERR_ARG; // outputs would collide
    batch_job job = {backend, m, n, k, alpha, beta, a, bs_a, rs_a, cs_a, b, bs_b, rs_b, cs_b,
                     c, bs_c, rs_c, cs_c, bias, act, GABA_OK};
    double macs = (double)m * (double)n * (double)k;
    int parallel = batch > 1 && macs < BATCH_PARALLEL_MACS &&
                   macs * (double)batch >= BATCH_PARALLEL_MACS;
    if (parallel) {
        gaba_status st = gaba_runtime_init();
        if (st != GABA_OK) return st;
        gaba_parallel_for(batch, 0, batch_task, &job);
    } else {
        for (int64_t i = 0; i < batch && job.status == GABA_OK; i++) batch_task(&job, i, batch);
    }
    return (gaba_status)job.status;
}
