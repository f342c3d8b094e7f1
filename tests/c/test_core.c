// test_core.c - C tests of the core runtime without Python: thread pool,
// arena, RNG, CPU probe and dispatch, status strings, the GEMM front end
// (reference vs OpenBLAS), and the int8 attention's fast kernels against
// its reference on shapes no zoo model has (odd lengths and d_k). Built and
// run by tests/test_c_core.py, under AddressSanitizer + UBSan with leak
// detection in the GABA_DEBUG=1 run.
//
// Usage: test_core OPENBLAS_LIBRARY_PATH | none
// With "none", checks that a missing OpenBLAS is an error, not a crash.
#include "gaba/gaba.h"
#include "gaba/gemm.h"
#include "../../csrc/core/dispatch.h"
#include "../../csrc/core/openblas.h"
#include "../../csrc/qnn/qnn_kernels.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

// ---- thread pool ---------------------------------------------------------------

typedef struct {
    atomic_int *hits;
    int nested; // run a nested parallel_for inside each task
    atomic_int nested_hits;
} count_ctx;

static void count_task(void *arg, int64_t task, int64_t n_tasks) {
    count_ctx *ctx = arg;
    atomic_fetch_add(&ctx->hits[task], 1);
    if (ctx->nested) {
        count_ctx inner = {.hits = calloc(8, sizeof(atomic_int))};
        CHECK(gaba_parallel_for(8, 0, count_task, &inner) == GABA_OK);
        for (int i = 0; i < 8; i++) CHECK(atomic_load(&inner.hits[i]) == 1);
        free(inner.hits);
        atomic_fetch_add(&ctx->nested_hits, 1);
    }
}

static void check_each_task_once(int64_t n_tasks, int max_threads, int nested) {
    count_ctx ctx = {.hits = calloc((size_t)(n_tasks ? n_tasks : 1), sizeof(atomic_int)),
                     .nested = nested};
    CHECK(gaba_parallel_for(n_tasks, max_threads, count_task, &ctx) == GABA_OK);
    for (int64_t i = 0; i < n_tasks; i++) CHECK(atomic_load(&ctx.hits[i]) == 1);
    if (nested) CHECK(atomic_load(&ctx.nested_hits) == n_tasks);
    free(ctx.hits);
}

static void *concurrent_caller(void *arg) {
    for (int rep = 0; rep < 200; rep++) check_each_task_once(97, 0, 0);
    return arg;
}

static void test_threads(void) {
    CHECK(gaba_threads_get() >= 1);
    CHECK(gaba_threads_usable_cores() >= 1);
    CHECK(gaba_threads_set(0) == GABA_ERR_ARG);
    CHECK(gaba_threads_set(GABA_MAX_THREADS + 1) == GABA_ERR_ARG);
    CHECK(gaba_parallel_for(-1, 0, count_task, NULL) == GABA_ERR_ARG);
    CHECK(gaba_parallel_for(1, 0, NULL, NULL) == GABA_ERR_ARG);
    for (int threads = 1; threads <= 4; threads++) {
        CHECK(gaba_threads_set(threads) == GABA_OK);
        CHECK(gaba_threads_get() == threads);
        for (int rep = 0; rep < 50; rep++) {
            check_each_task_once(0, 0, 0);
            check_each_task_once(1, 0, 0);
            check_each_task_once(3, 0, 0);
            check_each_task_once(1000, 0, 0);
            check_each_task_once(1000, 1, 0);
        }
        check_each_task_once(16, 0, 1);
    }
    // Two threads submitting at once: one gets the pool, the other runs serially.
    pthread_t other;
    pthread_create(&other, NULL, concurrent_caller, NULL);
    concurrent_caller(NULL);
    pthread_join(other, NULL);
    CHECK(gaba_threads_set(2) == GABA_OK);
}

// ---- arena ------------------------------------------------------------------------

static void test_arena(void) {
    gaba_arena arena;
    CHECK(gaba_arena_init(&arena, 1000) == GABA_OK);
    char *a = gaba_arena_alloc(&arena, 10);
    char *b = gaba_arena_alloc(&arena, 100);
    CHECK(a && b && ((uintptr_t)a % GABA_ALIGN) == 0 && ((uintptr_t)b % GABA_ALIGN) == 0);
    CHECK(b >= a + 10);
    memset(a, 1, 10);
    memset(b, 2, 100);
    size_t mark = arena.used;
    CHECK(gaba_arena_alloc(&arena, 2000) == NULL); // does not fit: NULL, no growth
    CHECK(arena.used == mark);
    char *c = gaba_arena_alloc(&arena, 500);
    CHECK(c != NULL);
    CHECK(arena.high_water >= mark + 500);
    gaba_arena_reset(&arena, mark);
    CHECK(gaba_arena_alloc(&arena, 500) == c); // reuses the same bytes
    gaba_arena_reset(&arena, 0);
    CHECK(gaba_arena_alloc(&arena, 1000) == a);
    CHECK(gaba_arena_alloc(&arena, 1) == NULL);
    gaba_arena_free(&arena);
    CHECK(arena.base == NULL && gaba_arena_alloc(&arena, 1) == NULL);
    CHECK(gaba_arena_init(&arena, 0) == GABA_OK);
    CHECK(gaba_arena_alloc(&arena, 0) != NULL && gaba_arena_alloc(&arena, 1) == NULL);
    gaba_arena_free(&arena);
    void *p = gaba_aligned_alloc(3);
    CHECK(p && (uintptr_t)p % GABA_ALIGN == 0);
    gaba_aligned_free(p);
    CHECK(gaba_aligned_alloc(SIZE_MAX) == NULL);
}

// ---- RNG -----------------------------------------------------------------------------

static void test_rng(void) {
    // The first outputs of PCG32 seeded (42, 54), from the reference pcg32-demo.
    const uint32_t expected[6] = {0xa15c02b7, 0x7b47f409, 0xba1d3330,
                                  0x83d2f293, 0xbfa4784b, 0xcbed606e};
    gaba_rng rng;
    gaba_rng_seed(&rng, 42, 54);
    for (int i = 0; i < 6; i++) CHECK(gaba_rng_u32(&rng) == expected[i]);

    gaba_rng_seed(&rng, 7, 0);
    double sum = 0, sum2 = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        float u = gaba_rng_uniform(&rng);
        CHECK(u >= 0.0f && u < 1.0f);
        float z = gaba_rng_normal(&rng);
        CHECK(isfinite(z));
        sum += z;
        sum2 += (double)z * z;
    }
    // Mean within 5 standard errors of 0, variance within 2% of 1.
    CHECK(fabs(sum / n) < 5.0 / sqrt(n));
    CHECK(fabs(sum2 / n - 1.0) < 0.02);

    float x[64], y[64];
    gaba_rng_seed(&rng, 123, 1);
    gaba_rng_fill_normal(&rng, x, 64, 0.5f);
    gaba_rng_seed(&rng, 123, 1);
    gaba_rng_fill_normal(&rng, y, 64, 0.5f);
    CHECK(memcmp(x, y, sizeof x) == 0);
}

// ---- CPU, dispatch, status --------------------------------------------------------------

static void test_cpu_and_dispatch(void) {
    const gaba_cpu_info *cpu = gaba_cpu();
    CHECK(cpu == gaba_cpu());
    if (cpu->best_isa == GABA_ISA_AVX512) CHECK(cpu->avx512f && cpu->avx2 && cpu->fma);
    if (cpu->best_isa >= GABA_ISA_AVX2) CHECK(cpu->avx2 && cpu->fma);
    gaba_isa isa;
    CHECK(gaba_isa_parse("AVX2", &isa) == GABA_OK && isa == GABA_ISA_AVX2);
    CHECK(gaba_isa_parse("ref", &isa) == GABA_OK && isa == GABA_ISA_REF);
    CHECK(gaba_isa_parse("sse9", &isa) == GABA_ERR_ARG);
    CHECK(gaba_isa_parse("a-very-long-name-that-overflows", &isa) == GABA_ERR_ARG);
    CHECK(strcmp(gaba_isa_name(GABA_ISA_AVX512), "avx512") == 0);
    CHECK(gaba_runtime_init() == GABA_OK);
    CHECK(gaba_isa_active() == cpu->best_isa);
    CHECK(strcmp(gaba_status_str(GABA_ERR_NOMEM), "out of memory") == 0);
    CHECK(strlen(gaba_version()) > 0);
}

// ---- GEMM front end ---------------------------------------------------------------------

static void test_gemm(int have_openblas) {
    enum { M = 37, N = 29, K = 41 };
    static float a[M * K], b[K * N], c_ref[M * N], c[M * N], bias[N];
    gaba_rng rng;
    gaba_rng_seed(&rng, 1, 2);
    gaba_rng_fill_normal(&rng, a, M * K, 1.0f);
    gaba_rng_fill_normal(&rng, b, K * N, 1.0f);
    gaba_rng_fill_normal(&rng, bias, N, 1.0f);
    CHECK(gaba_gemm_f32(GABA_GEMM_REF, M, N, K, 1.0f, a, K, 1, b, N, 1, 0.0f, c_ref, N, 1, bias,
                        GABA_ACT_RELU) == GABA_OK);
    // A read as its transpose's column-major view, C written column-major.
    gaba_status status = gaba_gemm_f32(GABA_GEMM_OPENBLAS, M, N, K, 1.0f, a, K, 1, b, N, 1, 0.0f, c,
                                       1, M, bias, GABA_ACT_RELU);
    if (!have_openblas) {
        CHECK(status == GABA_ERR_NO_IMPL);
        CHECK(strstr(gaba_openblas_error(), "cannot load OpenBLAS") != NULL);
        return;
    }
    CHECK(status == GABA_OK);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) CHECK(fabsf(c[i + j * M] - c_ref[i * N + j]) < 1e-3f);
    CHECK(gaba_gemm_f32(GABA_GEMM_REF, -1, N, K, 1.0f, a, K, 1, b, N, 1, 0.0f, c, N, 1, NULL,
                        GABA_ACT_NONE) == GABA_ERR_SHAPE);
    CHECK(gaba_gemm_f32(GABA_GEMM_REF, M, N, K, 1.0f, NULL, K, 1, b, N, 1, 0.0f, c, N, 1, NULL,
                        GABA_ACT_NONE) == GABA_ERR_ARG);
    CHECK(gaba_gemm_f32(GABA_GEMM_REF, M, N, K, 1.0f, a, K, 1, b, N, 1, 0.0f, c, N, 1, NULL,
                        (gaba_act)99) == GABA_ERR_ARG);
    CHECK(gaba_gemm_f32((gaba_gemm_backend)99, M, N, K, 1.0f, a, K, 1, b, N, 1, 0.0f, c, N, 1, NULL,
                        GABA_ACT_NONE) == GABA_ERR_ARG);
}

// ---- int8 attention: every ISA level's kernel == the reference ----------------------------

static uint32_t lcg = 12345;

static int32_t draw(int32_t lo, int32_t hi) {
    lcg = lcg * 1103515245u + 12345u;
    return lo + (int32_t)((lcg >> 8) % (uint32_t)(hi - lo + 1));
}

// A projection (co, k) with random int8 weights, bias and requantization;
// its buffers are appended to keep (freed by the caller).
static void random_projection(gaba_qnn_layer *q, int64_t co, int64_t k, int32_t in_zp, void **keep,
                              int *n_keep) {
    int8_t *w = malloc((size_t)(co * k));
    int32_t *b = malloc(4 * (size_t)co), *be = malloc(4 * (size_t)co);
    int32_t *mult = malloc(4 * (size_t)co), *shift = malloc(4 * (size_t)co);
    for (int64_t i = 0; i < co * k; i++) w[i] = (int8_t)draw(-127, 127);
    for (int64_t c = 0; c < co; c++) {
        int64_t sum_w = 0;
        for (int64_t i = 0; i < k; i++) sum_w += w[c * k + i];
        b[c] = draw(-3000, 3000);
        be[c] = (int32_t)(b[c] - (in_zp + 128) * sum_w);
        mult[c] = draw(1 << 30, 0x7fffffff), shift[c] = -draw(6, 11);
    }
    memset(q, 0, sizeof *q);
    q->w = w, q->bias = b, q->bias_eff = be, q->mult = mult, q->shift = shift;
    q->in_zp[0] = in_zp, q->out_zp = draw(-20, 20), q->act_min = -128, q->act_max = 127;
    keep[(*n_keep)++] = w, keep[(*n_keep)++] = b, keep[(*n_keep)++] = be;
    keep[(*n_keep)++] = mult, keep[(*n_keep)++] = shift;
}

static void test_qnn_attention(void) {
    static const int64_t shapes[][3] = {{12, 7, 5},   {9, 1, 1}, {20, 33, 17}, {8, 9, 3},
                                        {24, 64, 31}, {5, 2, 2}, {40, 127, 13}};
    const gaba_cpu_info *cpu = gaba_cpu();
    for (int isa = GABA_ISA_REF; isa <= (int)cpu->best_isa; isa++) {
        gaba_nn_dispatch_init((gaba_isa)isa);
        for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
            int64_t d = shapes[si][0], l = shapes[si][1], dk = shapes[si][2];
            for (int rep = 0; rep < 4; rep++) { // rep 2: inputs at both ends; rep 3: flat softmax
                void *keep[24];
                int n_keep = 0;
                gaba_qnn_attention a;
                memset(&a, 0, sizeof a);
                int32_t zx = draw(-10, 10), zc = draw(-10, 10);
                for (int i = 0; i < 3; i++) random_projection(&a.proj[i], dk, d, zx, keep, &n_keep);
                random_projection(&a.proj[3], d, dk, zc, keep, &n_keep);
                int32_t *table = malloc(256 * sizeof(int32_t));
                gaba_qnn_build_exp_table(rep == 3 ? 0.0f : 0.02f * (float)(rep + 1), table);
                a.exp_table = table;
                a.score_zp = draw(-20, 20), a.score_mult = draw(1 << 30, 0x7fffffff);
                a.score_shift = -draw(7, 12);
                a.ctx_mult = draw(1 << 30, 0x7fffffff), a.ctx_shift = -draw(8, 14);
                gaba_qnn_layer q;
                memset(&q, 0, sizeof q);
                q.attn = &a;
                int8_t *x = malloc((size_t)(d * l)), *y_ref = malloc((size_t)(d * l));
                int8_t *y = malloc((size_t)(d * l));
                for (int64_t i = 0; i < d * l; i++)
                    x[i] = rep == 2 ? (i % 2 ? 127 : -128) : (int8_t)draw(-128, 127);
                size_t ws_bytes = (size_t)gaba_qnn_attention_workspace(d, l, dk);
                void *ws_ref = malloc(ws_bytes), *ws = malloc(ws_bytes);
                gaba_qnn_attn_ref(d, l, dk, &q, x, y_ref, ws_ref);
                gaba_nn_table.qattn(d, l, dk, &q, x, y, ws);
                CHECK(memcmp(y, y_ref, (size_t)(d * l)) == 0);
                free(x), free(y_ref), free(y), free(ws_ref), free(ws), free(table);
                for (int i = 0; i < n_keep; i++) free(keep[i]);
            }
        }
    }
    gaba_nn_dispatch_init(gaba_isa_active());
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s OPENBLAS_LIBRARY_PATH|none\n", argv[0]);
        return 2;
    }
    int have_openblas = strcmp(argv[1], "none") != 0;
    gaba_openblas_set_path(have_openblas ? argv[1] : "/nonexistent/libscipy_openblas.so");
    test_cpu_and_dispatch();
    test_threads();
    test_arena();
    test_rng();
    test_gemm(have_openblas);
    test_qnn_attention();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("test_core: all checks passed\n");
    return 0;
}
