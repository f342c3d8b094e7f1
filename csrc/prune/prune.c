// prune.c - magnitude pruning entry points (include/gaba/prune.h).
//
// Unstructured selection is a two-pass radix select on the 31-bit magnitude
// keys (high 15 bits, then low 16 bits inside the chosen bucket): O(n), no
// sort, like the "select" step of a radix sort. Chunks of the array are
// histogrammed in parallel (one histogram per chunk, merged in chunk order)
// and the apply pass runs per chunk, so the result never depends on the
// thread count. Structured pruning ranks the d slice norms with qsort
// (d is a channel count, small); N:M ranks within each group of m.
#include "prune_kernels.h"

#include <stdlib.h>
#include <string.h>
#include <math.h>

#define HI_BINS (1 << 15) // key >> 16 (the key's top bit is always 0)
#define LO_BINS (1 << 16) // key & 0xffff
// Chunks below this size are not worth a thread.
#define CHUNK_MIN (1 << 16)

typedef struct select_job {
    const float *x;
    float *out;
    uint8_t *mask;
    int64_t n, n_chunks;
    uint32_t *hist; // n_chunks x HI_BINS, then n_chunks x LO_BINS
    uint32_t bucket, tau;
    int64_t *eq_count; // (n_chunks) keys == tau per chunk
    int64_t *ties;     // (n_chunks) ties each chunk prunes
} select_job;

static void chunk_range(const select_job *jb, int64_t chunk, int64_t *lo, int64_t *hi) {
    *lo = jb->n * chunk / jb->n_chunks;
    *hi = jb->n * (chunk + 1) / jb->n_chunks;
}

static void hist_hi(void *ctx, int64_t chunk, int64_t n_chunks) {
    select_job *jb = ctx;
    int64_t lo, hi;
    chunk_range(jb, chunk, &lo, &hi);
    uint32_t *h = jb->hist + chunk * HI_BINS;
    for (int64_t i = lo; i < hi; i++) h[gaba_prune_key(jb->x[i]) >> 16]++;
}

static void hist_lo(void *ctx, int64_t chunk, int64_t n_chunks) {
    select_job *jb = ctx;
    int64_t lo, hi;
    chunk_range(jb, chunk, &lo, &hi);
    uint32_t *h = jb->hist + jb->n_chunks * HI_BINS + chunk * LO_BINS;
    for (int64_t i = lo; i < hi; i++) {
        uint32_t key = gaba_prune_key(jb->x[i]);
        if ((key >> 16) == jb->bucket) h[key & 0xffff]++;
    }
}

static void count_eq(void *ctx, int64_t chunk, int64_t n_chunks) {
    select_job *jb = ctx;
    int64_t lo, hi, count = 0;
    chunk_range(jb, chunk, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) count += gaba_prune_key(jb->x[i]) == jb->tau;
    jb->eq_count[chunk] = count;
}

static void apply(void *ctx, int64_t chunk, int64_t n_chunks) {
    select_job *jb = ctx;
    int64_t lo, hi;
    chunk_range(jb, chunk, &lo, &hi);
    gaba_prune_apply_f32_ref(hi - lo, jb->x + lo, jb->tau, jb->ties[chunk], jb->out + lo,
                             jb->mask + lo);
}

// Sums the chunks' histograms bin by bin into the first one; returns the
// bin holding the rank-th smallest key (1-based) and leaves in *below the
// number of keys in lower bins.
static uint32_t find_bin(uint32_t *hist, int64_t n_chunks, int64_t bins, int64_t rank,
                         int64_t *below) {
    int64_t cum = 0;
    for (int64_t b = 0; b < bins; b++) {
        int64_t count = 0;
        for (int64_t c = 0; c < n_chunks; c++) count += hist[c * bins + b];
        if (cum + count >= rank) {
            *below = cum;
            return (uint32_t)b;
        }
        cum += count;
    }
    *below = cum;
    return (uint32_t)(bins - 1); // unreachable for 1 <= rank <= n
}

static gaba_status run(select_job *jb, gaba_task_fn fn) {
    if (jb->n_chunks == 1) {
        fn(jb, 0, 1);
        return GABA_OK;
    }
    return gaba_parallel_for(jb->n_chunks, 0, fn, jb);
}

gaba_status gaba_prune_magnitude_f32(int64_t n, int64_t k, const float *x, float *out,
                                     uint8_t *mask) {
    if (n < 0 || k < 0 || k > n) return GABA_ERR_ARG;
    if (n > 0 && (!x || !out || !mask)) return GABA_ERR_ARG;
    gaba_status status = gaba_runtime_init();
    if (status != GABA_OK || n == 0) return status;
    if (k == n) { // everything goes, NaN included
        memset(out, 0, (size_t)n * sizeof(float));
        memset(mask, 0, (size_t)n);
        return GABA_OK;
    }
    int64_t n_chunks = n / CHUNK_MIN;
    int threads = gaba_threads_get();
    if (n_chunks > threads) n_chunks = threads;
    if (n_chunks < 1) n_chunks = 1;
    select_job jb = {.x = x, .out = out, .mask = mask, .n = n, .n_chunks = n_chunks};
    int64_t *counts = calloc((size_t)(2 * n_chunks), sizeof(int64_t));
    if (!counts) return GABA_ERR_NOMEM;
    jb.eq_count = counts;
    jb.ties = counts + n_chunks;
    uint32_t *hist = NULL;
    if (k == 0) {
        jb.tau = 0; // keys > 0 kept, keys == 0 kept too (no ties to prune)
        goto apply_pass;
    }
    hist = calloc((size_t)(n_chunks * (HI_BINS + LO_BINS)), sizeof(uint32_t));
    if (!hist) {
        free(counts);
        return GABA_ERR_NOMEM;
    }
    jb.hist = hist;
    int64_t below_hi, below_lo;
    if ((status = run(&jb, hist_hi)) != GABA_OK) goto done;
    jb.bucket = find_bin(hist, n_chunks, HI_BINS, k, &below_hi);
    if ((status = run(&jb, hist_lo)) != GABA_OK) goto done;
    uint32_t *lo_hist = hist + n_chunks * HI_BINS;
    uint32_t low = find_bin(lo_hist, n_chunks, LO_BINS, k - below_hi, &below_lo);
    jb.tau = (jb.bucket << 16) | low;
    int64_t eq_total = 0;
    for (int64_t c = 0; c < n_chunks; c++) eq_total += lo_hist[c * LO_BINS + low];
    int64_t need = k - below_hi - below_lo; // keys equal to tau that must go, >= 1
    if (need == eq_total) {
        for (int64_t c = 0; c < n_chunks; c++) jb.ties[c] = GABA_PRUNE_ALL_TIES;
    } else {
        // Only some ties go: the lowest indices first, so chunks need their offsets.
        if ((status = run(&jb, count_eq)) != GABA_OK) goto done;
        int64_t before = 0;
        for (int64_t c = 0; c < n_chunks; c++) {
            int64_t left = need - before;
            jb.ties[c] = left <= 0 ? 0 : left < jb.eq_count[c] ? left : jb.eq_count[c];
            before += jb.eq_count[c];
        }
    }
apply_pass:
    status = run(&jb, apply);
done:
    free(hist);
    free(counts);
    return status;
}

typedef struct slice_rank {
    double norm;
    int64_t index;
} slice_rank;

// Ascending norm, NaN last, then ascending index: the order of pruning.
static int by_norm(const void *pa, const void *pb) {
    const slice_rank *a = pa, *b = pb;
    int a_nan = isnan(a->norm), b_nan = isnan(b->norm);
    if (a_nan != b_nan) return a_nan - b_nan;
    if (!a_nan && a->norm != b->norm) return a->norm < b->norm ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

gaba_status gaba_prune_structured_f32(int64_t outer, int64_t d, int64_t inner, int64_t k,
                                      const float *x, float *out, uint8_t *mask, double *norms) {
    if (outer < 0 || d < 0 || inner < 0 || k < 0 || k > d) return GABA_ERR_ARG;
    int64_t n = outer * d * inner;
    if (n > 0 && (!x || !out || !mask)) return GABA_ERR_ARG;
    if (d == 0) return GABA_OK;
    slice_rank *rank = malloc((size_t)d * sizeof *rank);
    uint8_t *keep = malloc((size_t)d);
    if (!rank || !keep) {
        free(rank);
        free(keep);
        return GABA_ERR_NOMEM;
    }
    for (int64_t j = 0; j < d; j++) rank[j] = (slice_rank){0.0, j};
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < d; j++) {
            const float *row = x + (o * d + j) * inner;
            double sum = 0.0;
            for (int64_t i = 0; i < inner; i++) sum += (double)row[i] * (double)row[i];
            rank[j].norm += sum;
        }
    for (int64_t j = 0; j < d; j++) {
        rank[j].norm = sqrt(rank[j].norm);
        if (norms) norms[j] = rank[j].norm;
        keep[j] = 1;
    }
    qsort(rank, (size_t)d, sizeof *rank, by_norm);
    for (int64_t r = 0; r < k; r++) keep[rank[r].index] = 0;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < d; j++) {
            int64_t base = (o * d + j) * inner;
            for (int64_t i = 0; i < inner; i++) {
                out[base + i] = keep[j] ? x[base + i] : 0.0f;
                mask[base + i] = keep[j];
            }
        }
    free(rank);
    free(keep);
    return GABA_OK;
}

typedef struct nm_job {
    int64_t groups, keep_n, m, groups_per_task;
    const float *x;
    float *out;
    uint8_t *mask;
} nm_job;

static void nm_groups(void *ctx, int64_t task, int64_t n_tasks) {
    const nm_job *jb = ctx;
    int64_t g0 = task * jb->groups_per_task, g1 = g0 + jb->groups_per_task;
    if (g1 > jb->groups) g1 = jb->groups;
    const int64_t m = jb->m, drop = m - jb->keep_n;
    uint32_t key[256];
    for (int64_t g = g0; g < g1; g++) {
        const float *x = jb->x + g * m;
        for (int64_t i = 0; i < m; i++) key[i] = gaba_prune_key(x[i]);
        for (int64_t i = 0; i < m; i++) {
            // Position of element i in the pruning order of its group.
            int64_t before = 0;
            for (int64_t j = 0; j < m; j++)
                before += key[j] < key[i] || (key[j] == key[i] && j < i);
            int keep = before >= drop;
            jb->out[g * m + i] = keep ? x[i] : 0.0f;
            jb->mask[g * m + i] = (uint8_t)keep;
        }
    }
}

gaba_status gaba_prune_nm_f32(int64_t groups, int64_t keep_n, int64_t m, const float *x, float *out,
                              uint8_t *mask) {
    if (groups < 0 || m < 1 || m > 256 || keep_n < 0 || keep_n > m) return GABA_ERR_ARG;
    if (groups > 0 && (!x || !out || !mask)) return GABA_ERR_ARG;
    gaba_status status = gaba_runtime_init();
    if (status != GABA_OK || groups == 0) return status;
    nm_job jb = {groups, keep_n, m, CHUNK_MIN / m + 1, x, out, mask};
    int64_t n_tasks = (groups + jb.groups_per_task - 1) / jb.groups_per_task;
    if (n_tasks == 1) {
        nm_groups(&jb, 0, 1);
        return GABA_OK;
    }
    return gaba_parallel_for(n_tasks, 0, nm_groups, &jb);
}
