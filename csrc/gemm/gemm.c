// gemm.c - the float32 GEMM entry point: checks the arguments every backend
// relies on, then hands the call to the chosen backend. Backends may assume
// what is checked here: sizes > 0, alpha != 0 (BLAS semantics: with alpha
// == 0 or k == 0, A and B are not read, so NaN there does not propagate),
// pointers present. Long reference and OpenBLAS calls run here in pieces
// with an interrupt poll between them; the native backend polls inside.
#include "gemm_kernels.h"

static void scale_c(int64_t m, int64_t n, float beta, float *c, int64_t rs_c, int64_t cs_c) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            float *cij = &c[i * rs_c + j * cs_c];
            *cij = beta == 0.0f ? 0.0f : beta * *cij;
        }
}

typedef gaba_status (*gemm_fn)(int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                               int64_t rs_a, int64_t cs_a, const float *b, int64_t rs_b,
                               int64_t cs_b, float beta, float *c, int64_t rs_c, int64_t cs_c,
                               const float *bias, gaba_act act);

// Neither one cblas_sgemm call nor the reference's loops can be interrupted,
// so while this thread is watched (gaba_interrupt_watched) a long call runs
// in pieces of at most about this many multiply-adds with a poll before
// each: 20-40 ms of OpenBLAS on 2 Zen 4 cores (25-50 G multiply-adds/s),
// about 10 ms of the reference (0.2 G/s). The reference's pieces are tiles
// of C, each a complete product, so its results are those of one call.
// OpenBLAS's are chunks of K of at least OPENBLAS_MIN_KC, accumulated in C
// (beta on the first, bias and activation on the last), after tiles of C
// only where C is too large for that: one tile per chunk would make it pack
// A and B again for every tile (12% slower on one thread at 2048^3), while
// a chunk of K is packed once, as in one call. Unwatched, a call is one piece.
#define OPENBLAS_PIECE_MACS (1.0 * (1 << 30))
#define OPENBLAS_MIN_KC 256
#define REF_PIECE_MACS (1.0 * (1 << 21))

static gaba_status run_pieces(gemm_fn fn, double piece_macs, int64_t min_kc, int64_t m, int64_t n,
                              int64_t k, float alpha, const float *a, int64_t rs_a, int64_t cs_a,
                              const float *b, int64_t rs_b, int64_t cs_b, float beta, float *c,
                              int64_t rs_c, int64_t cs_c, const float *bias, gaba_act act) {
    int64_t mb = m, nb = n, kc = k;
    if (gaba_interrupt_watched() && (double)m * (double)n * (double)k > piece_macs) {
        if (min_kc > k) min_kc = k;
        // Halving the longer side keeps tiles square: the least repacking.
        while ((double)mb * (double)nb * (double)min_kc > piece_macs && (mb > 1 || nb > 1)) {
            if (mb >= nb)
                mb = (mb + 1) / 2;
            else
                nb = (nb + 1) / 2;
        }
        double fit = piece_macs / ((double)mb * (double)nb);
        kc = fit >= (double)k ? k : fit <= (double)min_kc ? min_kc : (int64_t)fit;
    }
    for (int64_t i = 0; i < m; i += mb)
        for (int64_t j = 0; j < n; j += nb)
            for (int64_t p = 0; p < k; p += kc) {
                if (gaba_interrupt_poll()) return GABA_ERR_INTERRUPTED;
                int last = k - p <= kc;
                gaba_status status =
                    fn(m - i < mb ? m - i : mb, n - j < nb ? n - j : nb, last ? k - p : kc, alpha,
                       a + i * rs_a + p * cs_a, rs_a, cs_a, b + p * rs_b + j * cs_b, rs_b, cs_b,
                       p == 0 ? beta : 1.0f, c + i * rs_c + j * cs_c, rs_c, cs_c,
                       last && bias ? bias + j : NULL, last ? act : GABA_ACT_NONE);
                if (status != GABA_OK) return status;
            }
    return GABA_OK;
}

gaba_status gaba_gemm_f32(gaba_gemm_backend backend, int64_t m, int64_t n, int64_t k, float alpha,
                          const float *a, int64_t rs_a, int64_t cs_a, const float *b, int64_t rs_b,
                          int64_t cs_b, float beta, float *c, int64_t rs_c, int64_t cs_c,
                          const float *bias, gaba_act act) {
    if (m < 0 || n < 0 || k < 0) return GABA_ERR_SHAPE;
    if (act != GABA_ACT_NONE && act != GABA_ACT_RELU && act != GABA_ACT_RELU6) return GABA_ERR_ARG;
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
        // k as the least chunk: the reference is never split along k.
        return run_pieces(gaba_gemm_f32_ref, REF_PIECE_MACS, k, m, n, k, alpha, a, rs_a, cs_a, b,
                          rs_b, cs_b, beta, c, rs_c, cs_c, bias, act);
    case GABA_GEMM_AUTO: // resolved above
    case GABA_GEMM_NATIVE:
        return gaba_gemm_f32_native(m, n, k, alpha, a, rs_a, cs_a, b, rs_b, cs_b, beta, c, rs_c,
                                    cs_c, bias, act);
    case GABA_GEMM_OPENBLAS:
        status = run_pieces(gaba_gemm_f32_openblas, OPENBLAS_PIECE_MACS, OPENBLAS_MIN_KC, m, n, k,
                            alpha, a, rs_a, cs_a, b, rs_b, cs_b, beta, c, rs_c, cs_c, bias, act);
        // auto never fails for want of OpenBLAS (or of 32-bit sizes): it
        // falls back on the native kernels, which take the same arguments.
        // Only the first piece can lack them, so C is still untouched.
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
    if (j->status != GABA_OK) return;
    if (gaba_interrupt_poll()) {
        j->status = GABA_ERR_INTERRUPTED;
        return;
    }
    gaba_status st = gaba_gemm_f32(j->backend, j->m, j->n, j->k, j->alpha, j->a + i * j->bs_a,
                                   j->rs_a, j->cs_a, j->b + i * j->bs_b, j->rs_b, j->cs_b, j->beta,
                                   j->c + i * j->bs_c, j->rs_c, j->cs_c, j->bias, j->act);
    if (st != GABA_OK) j->status = st;
}

// Matrices big enough to use threads inside one product run one after the
// other; a batch of small ones is spread over the pool instead (the nested
// GEMMs then run single-threaded: the pool is busy).
#define BATCH_PARALLEL_MACS (12.0 * 1024 * 1024)

gaba_status gaba_gemm_f32_batched(gaba_gemm_backend backend, int64_t batch, int64_t m, int64_t n,
                                  int64_t k, float alpha, const float *a, int64_t bs_a,
                                  int64_t rs_a, int64_t cs_a, const float *b, int64_t bs_b,
                                  int64_t rs_b, int64_t cs_b, float beta, float *c, int64_t bs_c,
                                  int64_t rs_c, int64_t cs_c, const float *bias, gaba_act act) {
    if (batch < 0) return GABA_ERR_SHAPE;
    if (batch == 0 || m == 0 || n == 0) return m < 0 || n < 0 || k < 0 ? GABA_ERR_SHAPE : GABA_OK;
    if (batch > 1 && m > 0 && n > 0 && bs_c == 0) return GABA_ERR_ARG; // outputs would collide
    batch_job job = {backend, m,    n,    k, alpha, beta, a,    bs_a, rs_a, cs_a,   b,
                     bs_b,    rs_b, cs_b, c, bs_c,  rs_c, cs_c, bias, act,  GABA_OK};
    double macs = (double)m * (double)n * (double)k;
    int parallel =
        batch > 1 && macs < BATCH_PARALLEL_MACS && macs * (double)batch >= BATCH_PARALLEL_MACS;
    if (parallel) {
        gaba_status st = gaba_runtime_init();
        if (st != GABA_OK) return st;
        gaba_parallel_for(batch, 0, batch_task, &job);
    } else {
        for (int64_t i = 0; i < batch && job.status == GABA_OK; i++) batch_task(&job, i, batch);
    }
    return (gaba_status)job.status;
}
