// gemm_native.c - gaba's own SGEMM driver (backend "native"): BLIS's five
// loops around a register-tile microkernel (Goto and van de Geijn 2008; Van
// Zee and van de Geijn 2015), plus two shortcuts where those loops do not
// pay: a direct path that runs the microkernel on the unpacked operands for
// small problems, and a GEMV path for M == 1 (or N == 1), which is
// memory-bound. Packing reads any strides, so transposes and strided views
// cost no copy. Threads share each packed panel of B and take row blocks
// of A dynamically (or, with few rows, one column slab each); small
// problems stay on the caller's thread. Every path polls for an interrupt
// (gaba_interrupt_poll) once per block of rows, a few milliseconds of work,
// and threads stop at their next block once one has failed. The
// microkernels are per ISA (gemm_ukr_*.c); this file has no intrinsics.
#define _GNU_SOURCE
#include "gemm_kernels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// ---- blocking ------------------------------------------------------------------

static struct {
    int64_t kc, mc, nc;
} blocks;
static pthread_once_t blocks_once = PTHREAD_ONCE_INIT;

static long cache_bytes(int name, long fallback) {
    long v = sysconf(name);
    return v > 0 ? v : fallback;
}

// KC: each k block reads and writes all of C once more, so KC is as large
// as the B sliver (KC x NR) allows while it is still served from L1/L2 at
// the kernel's pace: 4/3 of L1, measured best at 512 with a 48 KB L1 and
// NR = 32 (0.90x OpenBLAS at 1024^3 with KC = 192, 1.00x with 512). MC:
// the MC x KC block of A fills a quarter of L2. NC: the KC x NC panel of B
// fits in a slice of L3 (bounded so scratch stays small).
static void blocks_init(void) {
    const gaba_gemm_kernels *kt = &gaba_gemm_table;
    long l1 = cache_bytes(_SC_LEVEL1_DCACHE_SIZE, 32 << 10);
    long l2 = cache_bytes(_SC_LEVEL2_CACHE_SIZE, 1 << 20);
    int64_t kc = l1 * 4 / 3 / (kt->nr * (int64_t)sizeof(float));
    kc = kc < 64 ? 64 : kc > 512 ? 512 : kc;
    kc -= kc % 8;
    int64_t mc = l2 / 4 / (kc * (int64_t)sizeof(float));
    mc = mc < kt->mr ? kt->mr : mc > 960 ? 960 : mc;
    mc -= mc % kt->mr;
    int64_t nc = 4096 - 4096 % kt->nr;
    const char *env = getenv("GABA_GEMM_BLOCKS"); // "KC,MC,NC", for tuning experiments
    if (env) {
        long k2 = 0, m2 = 0, n2 = 0;
        char *end;
        k2 = strtol(env, &end, 10);
        if (*end == ',') m2 = strtol(end + 1, &end, 10);
        if (*end == ',') n2 = strtol(end + 1, &end, 10);
        if (k2 >= 8 && m2 >= kt->mr && n2 >= kt->nr) {
            kc = k2;
            mc = m2 - m2 % kt->mr;
            nc = n2 - n2 % kt->nr;
        }
    }
    blocks.kc = kc;
    blocks.mc = mc;
    blocks.nc = nc;
}

void gaba_gemm_native_blocks(int64_t *kc, int64_t *mc, int64_t *nc, int *mr, int *nr) {
    pthread_once(&blocks_once, blocks_init);
    *kc = blocks.kc;
    *mc = blocks.mc;
    *nc = blocks.nc;
    *mr = gaba_gemm_table.mr;
    *nr = gaba_gemm_table.nr;
}

// ---- scratch ---------------------------------------------------------------------

// Packing buffers live per thread and grow only: a fresh allocation per call
// would page-fault through ~1 MB every time.
static _Thread_local float *scratch_buf;
static _Thread_local size_t scratch_floats;

static float *scratch(size_t floats) {
    if (floats > scratch_floats) {
        gaba_aligned_free(scratch_buf);
        scratch_buf = gaba_aligned_alloc(floats * sizeof(float));
        scratch_floats = scratch_buf ? floats : 0;
    }
    return scratch_buf;
}

// The B panel shared by all threads of a parallel product: the caller's,
// apart from its A scratch above (the caller packs A in its tasks too).
static _Thread_local float *panel_buf;
static _Thread_local size_t panel_floats;

static float *panel(size_t floats) {
    if (floats > panel_floats) {
        gaba_aligned_free(panel_buf);
        panel_buf = gaba_aligned_alloc(floats * sizeof(float));
        panel_floats = panel_buf ? floats : 0;
    }
    return panel_buf;
}

static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// ---- packing -------------------------------------------------------------------

// A[0:mc, 0:kc] -> slivers of MR rows, each kc steps of MR floats.
static void pack_a(int64_t mc, int64_t kc, const float *a, int64_t rs_a, int64_t cs_a, int mr_t,
                   float *dst) {
    gaba_gemm_pack_a_fn fast = gaba_gemm_table.pack_a_rows;
    for (int64_t ir = 0; ir < mc; ir += mr_t, dst += mr_t * kc) {
        int64_t mr = mc - ir < mr_t ? mc - ir : mr_t;
        const float *src = a + ir * rs_a;
        if (fast && cs_a == 1 && mr == mr_t) {
            fast(kc, src, rs_a, dst);
        } else if (rs_a == 1) {
            for (int64_t p = 0; p < kc; p++) {
                for (int64_t i = 0; i < mr; i++) dst[p * mr_t + i] = src[p * cs_a + i];
                for (int64_t i = mr; i < mr_t; i++) dst[p * mr_t + i] = 0.0f;
            }
        } else {
            for (int64_t i = 0; i < mr; i++)
                for (int64_t p = 0; p < kc; p++) dst[p * mr_t + i] = src[i * rs_a + p * cs_a];
            for (int64_t i = mr; i < mr_t; i++)
                for (int64_t p = 0; p < kc; p++) dst[p * mr_t + i] = 0.0f;
        }
    }
}

// B[0:kc, 0:nc] -> slivers of NR columns, each kc steps of NR floats.
static void pack_b(int64_t kc, int64_t nc, const float *b, int64_t rs_b, int64_t cs_b, int nr_t,
                   float *dst) {
    for (int64_t jr = 0; jr < nc; jr += nr_t, dst += nr_t * kc) {
        int64_t nr = nc - jr < nr_t ? nc - jr : nr_t;
        const float *src = b + jr * cs_b;
        if (cs_b == 1 && nr == nr_t) {
            for (int64_t p = 0; p < kc; p++)
                for (int64_t j = 0; j < nr_t; j++) dst[p * nr_t + j] = src[p * rs_b + j];
        } else if (cs_b == 1) {
            for (int64_t p = 0; p < kc; p++) {
                memcpy(dst + p * nr_t, src + p * rs_b, (size_t)nr * sizeof(float));
                for (int64_t j = nr; j < nr_t; j++) dst[p * nr_t + j] = 0.0f;
            }
        } else {
            for (int64_t j = 0; j < nr; j++)
                for (int64_t p = 0; p < kc; p++) dst[p * nr_t + j] = src[p * rs_b + j * cs_b];
            for (int64_t j = nr; j < nr_t; j++)
                for (int64_t p = 0; p < kc; p++) dst[p * nr_t + j] = 0.0f;
        }
    }
}

// ---- the problem -------------------------------------------------------------------

typedef struct problem {
    int64_t m, n, k;
    float alpha, beta;
    const float *a;
    int64_t rs_a, cs_a;
    const float *b;
    int64_t rs_b, cs_b;
    float *c;
    int64_t rs_c, cs_c;
    const float *bias;
    gaba_act act;
} problem;

// The sub-problem C[i0:i0+m, j0:j0+n].
static problem slab(const problem *p, int64_t i0, int64_t m, int64_t j0, int64_t n) {
    problem s = *p;
    s.m = m;
    s.n = n;
    s.a = p->a + i0 * p->rs_a;
    s.b = p->b + j0 * p->cs_b;
    s.c = p->c + i0 * p->rs_c + j0 * p->cs_c;
    s.bias = p->bias ? p->bias + j0 : NULL;
    return s;
}

// BLIS's loops 5..1 on one thread: jc (NC) > pc (KC, pack B) > ic (MC, pack A)
// > jr (NR) > ir (MR) > microkernel. beta applies on the first k block only,
// bias and activation on the last, so C is written once per k block.
// `shared` is the status of a parallel product's job (NULL on one thread).
static gaba_status run_blocked(const problem *p, atomic_int *shared) {
    const gaba_gemm_kernels *kt = &gaba_gemm_table;
    const int mr_t = kt->mr, nr_t = kt->nr;
    int64_t kc_max = p->k < blocks.kc ? p->k : blocks.kc;
    int64_t mc_max = p->m < blocks.mc ? round_up(p->m, mr_t) : blocks.mc;
    int64_t nc_max = p->n < blocks.nc ? round_up(p->n, nr_t) : blocks.nc;
    size_t a_floats = (size_t)round_up(mc_max * kc_max, 16);
    float *buf = scratch(a_floats + (size_t)(nc_max * kc_max));
    if (!buf) return GABA_ERR_NOMEM;
    float *apack = buf, *bpack = buf + a_floats;
    for (int64_t jc = 0; jc < p->n; jc += blocks.nc) {
        int64_t nc = p->n - jc < blocks.nc ? p->n - jc : blocks.nc;
        for (int64_t pc = 0; pc < p->k; pc += blocks.kc) {
            int64_t kc = p->k - pc < blocks.kc ? p->k - pc : blocks.kc;
            pack_b(kc, nc, p->b + pc * p->rs_b + jc * p->cs_b, p->rs_b, p->cs_b, nr_t, bpack);
            gaba_gemm_epi epi = {p->alpha, pc == 0 ? p->beta : 1.0f, NULL, p->act, pc + kc == p->k};
            for (int64_t ic = 0; ic < p->m; ic += blocks.mc) {
                gaba_status status = gaba_gemm_next_block(shared);
                if (status != GABA_OK) return status;
                int64_t mc = p->m - ic < blocks.mc ? p->m - ic : blocks.mc;
                pack_a(mc, kc, p->a + ic * p->rs_a + pc * p->cs_a, p->rs_a, p->cs_a, mr_t, apack);
                for (int64_t jr = 0; jr < nc; jr += nr_t) {
                    int64_t nr = nc - jr < nr_t ? nc - jr : nr_t;
                    epi.bias = p->bias ? p->bias + jc + jr : NULL;
                    for (int64_t ir = 0; ir < mc; ir += mr_t) {
                        int64_t mr = mc - ir < mr_t ? mc - ir : mr_t;
                        kt->ukr(kc, apack + ir * kc, bpack + jr * kc,
                                p->c + (ic + ir) * p->rs_c + (jc + jr) * p->cs_c, p->rs_c, p->cs_c,
                                mr, nr, &epi);
                    }
                }
            }
        }
    }
    return GABA_OK;
}

// Rows between two interrupt polls of the direct path: a multiple of every
// MR, so the tiles are those of one pass; 3072 x 384 x 64 is a few ms.
#define DIRECT_POLL_ROWS 3072

// Small problems: the microkernel reads A and B where they are. B needs a
// unit column stride; otherwise it is first copied into a dense (K, N) block
// (A's broadcasts take any stride). Only narrow N reaches here with many rows.
static gaba_status run_direct(const problem *p) {
    const gaba_gemm_kernels *kt = &gaba_gemm_table;
    const float *b = p->b;
    int64_t rs_b = p->rs_b;
    if (p->cs_b != 1) {
        float *dense = scratch((size_t)(p->k * p->n));
        if (!dense) return GABA_ERR_NOMEM;
        for (int64_t q = 0; q < p->k; q++)
            for (int64_t j = 0; j < p->n; j++)
                dense[q * p->n + j] = p->b[q * p->rs_b + j * p->cs_b];
        b = dense;
        rs_b = p->n;
    }
    gaba_gemm_epi epi = {p->alpha, p->beta, NULL, p->act, 1};
    for (int64_t i0 = 0; i0 < p->m; i0 += DIRECT_POLL_ROWS) {
        if (gaba_interrupt_poll()) return GABA_ERR_INTERRUPTED;
        int64_t i1 = p->m - i0 < DIRECT_POLL_ROWS ? p->m : i0 + DIRECT_POLL_ROWS;
        for (int64_t jr = 0; jr < p->n; jr += kt->nr) {
            int64_t nr = p->n - jr < kt->nr ? p->n - jr : kt->nr;
            epi.bias = p->bias ? p->bias + jr : NULL;
            for (int64_t ir = i0; ir < i1; ir += kt->mr) {
                int64_t mr = i1 - ir < kt->mr ? i1 - ir : kt->mr;
                kt->ukr_direct(p->k, p->a + ir * p->rs_a, p->rs_a, p->cs_a, b + jr, rs_b,
                               p->c + ir * p->rs_c + jr * p->cs_c, p->rs_c, p->cs_c, mr, nr, &epi);
            }
        }
    }
    return GABA_OK;
}

// ---- GEMV ------------------------------------------------------------------------

typedef struct gemv_job {
    int64_t n, k;
    float alpha, beta;
    const float *x;
    int64_t inc_x;
    const float *b;
    int64_t rs_b, cs_b;
    float *c;
    int64_t inc_c;
    const float *bias;
    int64_t inc_bias;
    gaba_act act;
    atomic_int status;
} gemv_job;

static void gemv_chunk(void *ctx, int64_t task, int64_t n_tasks) {
    gemv_job *g = ctx;
    gaba_status status = gaba_gemm_next_block(&g->status);
    if (status != GABA_OK) {
        atomic_store(&g->status, status);
        return;
    }
    float t[GABA_GEMV_CHUNK];
    int64_t j0 = task * GABA_GEMV_CHUNK;
    int64_t nn = g->n - j0 < GABA_GEMV_CHUNK ? g->n - j0 : GABA_GEMV_CHUNK;
    gaba_gemm_table.gemv(nn, g->k, g->x, g->inc_x, g->b + j0 * g->cs_b, g->rs_b, g->cs_b, t);
    gaba_gemm_epi e = {g->alpha, g->beta, NULL, g->act, 1};
    for (int64_t j = 0; j < nn; j++) {
        float *cj = g->c + (j0 + j) * g->inc_c;
        *cj = gaba_gemm_finish1(t[j], cj, &e, g->bias ? g->bias + (j0 + j) * g->inc_bias : NULL);
    }
}

// Two threads pay off once B no longer fits in one core's caches.
#define GEMV_PARALLEL_FLOATS (1 << 20)

static gaba_status run_gemv(gemv_job *g) {
    int64_t chunks = (g->n + GABA_GEMV_CHUNK - 1) / GABA_GEMV_CHUNK;
    int threads = g->n * g->k >= GEMV_PARALLEL_FLOATS ? 0 : 1;
    gaba_parallel_for(chunks, threads, gemv_chunk, g);
    return (gaba_status)atomic_load(&g->status);
}

// ---- threads ---------------------------------------------------------------------

// Below this many multiply-adds (about 60 us on one core) a second thread's
// wake-up and its duplicate packing cost more than it saves.
#define PARALLEL_MACS (12.0 * 1024 * 1024)

typedef struct parallel_job {
    problem p;
    int split_m; // slabs of rows (else of columns)
    int64_t step;
    atomic_int status;
} parallel_job;

static void slab_task(void *ctx, int64_t task, int64_t n_tasks) {
    parallel_job *job = ctx;
    int64_t lo = task * job->step;
    int64_t total = job->split_m ? job->p.m : job->p.n;
    if (lo >= total) return;
    int64_t len = total - lo < job->step ? total - lo : job->step;
    problem s =
        job->split_m ? slab(&job->p, lo, len, 0, job->p.n) : slab(&job->p, 0, job->p.m, lo, len);
    gaba_status st = run_blocked(&s, &job->status);
    if (st != GABA_OK) atomic_store(&job->status, st);
}

// BLIS's way for tall problems: per k block, the threads first pack the
// KC x NC panel of B together (slivers split between them), then take row
// blocks of A dynamically, each packing its own rows, all reading the one
// shared panel. Small row blocks (about 4 per thread) let the caller take
// over the work of a thread the OS has not scheduled yet, which matters on
// a shared machine; the panel is packed once, not once per thread.
typedef struct shared_job {
    const problem *p;
    float *bpack;
    int64_t jc, nc, pc, kc, rows;
    int64_t slivers_per_task;
    gaba_gemm_epi epi;
    atomic_int status;
} shared_job;

static void pack_b_task(void *ctx, int64_t task, int64_t n_tasks) {
    shared_job *job = ctx;
    const problem *p = job->p;
    int nr_t = gaba_gemm_table.nr;
    int64_t j0 = task * job->slivers_per_task * nr_t;
    if (j0 >= job->nc) return;
    int64_t cols =
        job->nc - j0 < job->slivers_per_task * nr_t ? job->nc - j0 : job->slivers_per_task * nr_t;
    pack_b(job->kc, cols, p->b + job->pc * p->rs_b + (job->jc + j0) * p->cs_b, p->rs_b, p->cs_b,
           nr_t, job->bpack + j0 * job->kc);
}

static void row_block_task(void *ctx, int64_t task, int64_t n_tasks) {
    shared_job *job = ctx;
    const problem *p = job->p;
    const gaba_gemm_kernels *kt = &gaba_gemm_table;
    int64_t ic = task * job->rows;
    if (ic >= p->m) return;
    gaba_status status = gaba_gemm_next_block(&job->status);
    if (status != GABA_OK) {
        atomic_store(&job->status, status);
        return;
    }
    int64_t mc = p->m - ic < job->rows ? p->m - ic : job->rows;
    float *apack = scratch((size_t)(round_up(mc, kt->mr) * job->kc));
    if (!apack) {
        atomic_store(&job->status, GABA_ERR_NOMEM);
        return;
    }
    pack_a(mc, job->kc, p->a + ic * p->rs_a + job->pc * p->cs_a, p->rs_a, p->cs_a, kt->mr, apack);
    gaba_gemm_epi epi = job->epi;
    for (int64_t jr = 0; jr < job->nc; jr += kt->nr) {
        int64_t nr = job->nc - jr < kt->nr ? job->nc - jr : kt->nr;
        epi.bias = p->bias ? p->bias + job->jc + jr : NULL;
        for (int64_t ir = 0; ir < mc; ir += kt->mr) {
            int64_t mr = mc - ir < kt->mr ? mc - ir : kt->mr;
            kt->ukr(job->kc, apack + ir * job->kc, job->bpack + jr * job->kc,
                    p->c + (ic + ir) * p->rs_c + (job->jc + jr) * p->cs_c, p->rs_c, p->cs_c, mr, nr,
                    &epi);
        }
    }
}

static gaba_status run_shared_panel(const problem *p, int threads) {
    const gaba_gemm_kernels *kt = &gaba_gemm_table;
    int64_t kc_max = p->k < blocks.kc ? p->k : blocks.kc;
    int64_t nc_max = p->n < blocks.nc ? round_up(p->n, kt->nr) : blocks.nc;
    shared_job job = {.p = p};
    atomic_init(&job.status, GABA_OK);
    job.bpack = panel((size_t)(nc_max * kc_max));
    if (!job.bpack) return GABA_ERR_NOMEM;
    job.rows = round_up((p->m + 4 * threads - 1) / (4 * threads), kt->mr);
    if (job.rows > blocks.mc) job.rows = blocks.mc;
    int64_t row_tasks = (p->m + job.rows - 1) / job.rows;
    for (job.jc = 0; job.jc < p->n; job.jc += blocks.nc) {
        job.nc = p->n - job.jc < blocks.nc ? p->n - job.jc : blocks.nc;
        int64_t slivers = (job.nc + kt->nr - 1) / kt->nr;
        job.slivers_per_task = (slivers + threads - 1) / threads;
        for (job.pc = 0; job.pc < p->k; job.pc += blocks.kc) {
            job.kc = p->k - job.pc < blocks.kc ? p->k - job.pc : blocks.kc;
            job.epi = (gaba_gemm_epi){p->alpha, job.pc == 0 ? p->beta : 1.0f, NULL, p->act,
                                      job.pc + job.kc == p->k};
            gaba_parallel_for(threads, threads, pack_b_task, &job);
            gaba_parallel_for(row_tasks, threads, row_block_task, &job);
            if (atomic_load(&job.status) != GABA_OK) return (gaba_status)atomic_load(&job.status);
        }
    }
    return GABA_OK;
}

// 0: the built-in rule (PARALLEL_MACS); else at most this many threads.
static _Atomic int native_threads_override;

void gaba_gemm_native_set_threads(int threads) { atomic_store(&native_threads_override, threads); }

static int pick_threads(const problem *p) {
    int pool = gaba_threads_get();
    int forced = atomic_load(&native_threads_override);
    if (forced > 0) return forced < pool ? forced : pool;
    if ((double)p->m * (double)p->n * (double)p->k < PARALLEL_MACS) return 1;
    return pool;
}

// Small problems: packing costs more than it saves up to about 96^3, and
// only while a K x NR sliver of B still sits in L1 between rows. With N
// within two register tiles, packed A would be used once or twice: never
// worth its copy (im2col convolutions with few output channels).
#define DIRECT_MACS (96.0 * 96 * 96)
#define DIRECT_K 384

gaba_status gaba_gemm_f32_native(int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                                 int64_t rs_a, int64_t cs_a, const float *b, int64_t rs_b,
                                 int64_t cs_b, float beta, float *c, int64_t rs_c, int64_t cs_c,
                                 const float *bias, gaba_act act) {
    pthread_once(&blocks_once, blocks_init);
    if (m == 1) {
        gemv_job g = {n, k, alpha, beta, a, cs_a, b, rs_b, cs_b, c, cs_c, bias, 1, act, GABA_OK};
        return run_gemv(&g);
    }
    if (n == 1) {
        // C^T = B^T A^T: a GEMV over the rows of A, one bias value for all.
        gemv_job g = {m, k, alpha, beta, b, rs_b, a, cs_a, rs_a, c, rs_c, bias, 0, act, GABA_OK};
        return run_gemv(&g);
    }
    problem p = {m, n, k, alpha, beta, a, rs_a, cs_a, b, rs_b, cs_b, c, rs_c, cs_c, bias, act};
    double macs = (double)m * (double)n * (double)k;
    if (k <= DIRECT_K && (macs <= DIRECT_MACS || n <= 2 * gaba_gemm_table.nr))
        return run_direct(&p);
    int threads = pick_threads(&p);
    if (threads <= 1) return run_blocked(&p, NULL);
    if (m >= (int64_t)threads * 4 * gaba_gemm_table.mr) return run_shared_panel(&p, threads);
    parallel_job job = {.p = p};
    atomic_init(&job.status, GABA_OK);
    // Few rows: column slabs, each thread with its own panels.
    job.split_m = m >= n;
    int64_t total = job.split_m ? m : n,
            unit = job.split_m ? gaba_gemm_table.mr : gaba_gemm_table.nr;
    job.step = round_up((total + threads - 1) / threads, unit);
    gaba_parallel_for(threads, threads, slab_task, &job);
    return (gaba_status)atomic_load(&job.status);
}
