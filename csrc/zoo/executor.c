// executor.c - the executor skeleton of the zoo's models (executor.h): the
// busy flag, each sample's tensor addresses, the per-node timers and the
// batch split over gaba's thread pool, one arena slot per thread.
#define _POSIX_C_SOURCE 200809L // clock_gettime for the profiler
#include "executor.h"

#include <stdlib.h>
#include <time.h>

gaba_status gaba_zoo_exec_lock(volatile int *busy) {
    return __atomic_exchange_n(busy, 1, __ATOMIC_ACQUIRE) ? GABA_ERR_BUSY : GABA_OK;
}

void gaba_zoo_exec_unlock(volatile int *busy) { __atomic_store_n(busy, 0, __ATOMIC_RELEASE); }

gaba_status gaba_zoo_exec_sample(const gaba_zoo_exec *e, int slot, int64_t s,
                                 const void *const *inputs, void *const *outputs) {
    void **ptr = e->ptrs[slot];
    for (int i = 0; i < e->n_tensors; i++) {
        const gaba_zoo_tensor *t = &e->tensors[i];
        if (t->kind == 1)
            ptr[i] = (char *)inputs[t->io_index] + s * t->bytes;
        else if (t->kind == 2)
            ptr[i] = outputs ? (char *)outputs[t->io_index] + s * t->bytes : NULL;
        else
            ptr[i] = e->arenas[slot] + t->offset;
    }
    if (e->bind) e->bind(e->ctx, ptr, s);
    double *times = e->times ? *e->times : NULL; // profiling: forward runs on slot 0 only
    struct timespec t0, t1;
    for (int n = 0; n < e->n_nodes; n++) {
        if (times) clock_gettime(CLOCK_MONOTONIC, &t0);
        gaba_status st = e->step(e->ctx, n, ptr);
        if (st < GABA_OK) return st;
        if (times) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            times[n] = st == GABA_ZOO_EXEC_SKIPPED ? 0.0
                                                   : (double)(t1.tv_sec - t0.tv_sec) +
                                                         1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        }
    }
    return GABA_OK;
}

typedef struct forward_ctx {
    const gaba_zoo_exec *e;
    int64_t batch;
    const void *const *inputs;
    void *const *outputs;
    volatile gaba_status status;
} forward_ctx;

static void forward_task(void *vctx, int64_t task, int64_t n_tasks) {
    forward_ctx *c = vctx;
    int64_t lo = c->batch * task / n_tasks, hi = c->batch * (task + 1) / n_tasks;
    for (int64_t s = lo; s < hi; s++) {
        gaba_status st = gaba_zoo_exec_sample(c->e, (int)task, s, c->inputs, c->outputs);
        if (st != GABA_OK) {
            c->status = st;
            return;
        }
    }
}

gaba_status gaba_zoo_exec_forward(const gaba_zoo_exec *e, int64_t batch, const void *const *inputs,
                                  void *const *outputs, int max_threads) {
    gaba_status st = gaba_zoo_exec_lock(e->busy);
    if (st != GABA_OK) return st;
    int threads = max_threads > 0 ? max_threads : gaba_threads_get();
    if (threads > e->n_arenas) threads = e->n_arenas;
    if (e->times && *e->times) threads = 1;
    if (threads > batch) threads = (int)batch;
    if (threads <= 1) {
        for (int64_t s = 0; s < batch && st == GABA_OK; s++)
            st = gaba_zoo_exec_sample(e, 0, s, inputs, outputs);
    } else {
        forward_ctx ctx = {e, batch, inputs, outputs, GABA_OK};
        st = gaba_parallel_for(threads, threads, forward_task, &ctx);
        if (st == GABA_OK) st = ctx.status;
    }
    gaba_zoo_exec_unlock(e->busy);
    return st;
}

gaba_status gaba_zoo_exec_profile(const gaba_zoo_exec *e, int on) {
    gaba_status st = gaba_zoo_exec_lock(e->busy);
    if (st != GABA_OK) return st;
    if (on && !*e->times) {
        *e->times = calloc((size_t)(e->n_nodes ? e->n_nodes : 1), sizeof(double));
        if (!*e->times) st = GABA_ERR_NOMEM;
    } else if (!on) {
        free(*e->times);
        *e->times = NULL;
    }
    gaba_zoo_exec_unlock(e->busy);
    return st;
}
