// executor.h - internal: the executor skeleton that the float32 model
// (graph.c), the int8 model (qgraph.c) and calibration (calibrate.c) share.
// A model describes its tensors, arena slots and profiling record in a
// gaba_zoo_exec, with the step that runs one of its nodes; the skeleton
// binds each sample's tensor addresses, times the nodes, splits a batch over
// the thread pool (one arena slot per thread) and holds the busy flag.
#ifndef GABA_ZOO_EXECUTOR_H
#define GABA_ZOO_EXECUTOR_H

#include "gaba/zoo.h"

// A step's answer for a node it did not run: not an error, and timed as 0 s.
#define GABA_ZOO_EXEC_SKIPPED ((gaba_status)1)

typedef struct gaba_zoo_exec {
    const gaba_zoo_tensor *tensors;
    int n_tensors, n_nodes, n_arenas;
    unsigned char *const *arenas; // per thread slot
    void **const *ptrs;           // per thread slot: tensor index -> address
    volatile int *busy;
    double **times; // the model's record of each node's time in the last sample (NULL when not
                    // profiling), read under the busy flag; NULL: this run is never timed
    // Runs node n of the sample whose tensors lie at ptr: GABA_OK, an error, or
    // GABA_ZOO_EXEC_SKIPPED when the node has nothing to do in this run.
    gaba_status (*step)(void *ctx, int n, void *const *ptr);
    // NULL, or rebinds tensors of sample s after the default binding.
    void (*bind)(void *ctx, void **ptr, int64_t s);
    void *ctx;
} gaba_zoo_exec;

// The skeleton of model `m`, a gaba_zoo_model or a gaba_zoo_qmodel: both name
// their tensors, arena slots, busy flag and profiling record alike.
#define GABA_ZOO_EXEC(m, step_fn, bind_fn, context)                                                \
    ((gaba_zoo_exec){.tensors = (m)->tensors,                                                      \
                     .n_tensors = (m)->n_tensors,                                                  \
                     .n_nodes = (m)->n_nodes,                                                      \
                     .n_arenas = (m)->n_arenas,                                                    \
                     .arenas = (m)->arenas,                                                        \
                     .ptrs = (m)->ptrs,                                                            \
                     .busy = &(m)->busy,                                                           \
                     .times = &(m)->node_seconds,                                                  \
                     .step = (step_fn),                                                            \
                     .bind = (bind_fn),                                                            \
                     .ctx = (context)})

// Takes a model's busy flag: GABA_ERR_BUSY while another thread holds it.
gaba_status gaba_zoo_exec_lock(volatile int *busy);
void gaba_zoo_exec_unlock(volatile int *busy);

// Runs sample s in arena slot `slot`: model inputs at inputs[i] + s * bytes,
// outputs at outputs[i] + s * bytes (NULL outputs: left for bind), the other
// tensors in the slot's arena.
gaba_status gaba_zoo_exec_sample(const gaba_zoo_exec *e, int slot, int64_t s,
                                 const void *const *inputs, void *const *outputs);

// Runs a batch under the busy flag, split over at most max_threads threads
// (0: the pool's size; never more than the arena slots; one while profiling).
gaba_status gaba_zoo_exec_forward(const gaba_zoo_exec *e, int64_t batch, const void *const *inputs,
                                  void *const *outputs, int max_threads);

// Profiling on: allocates the record *e->times (n_nodes); off frees it.
gaba_status gaba_zoo_exec_profile(const gaba_zoo_exec *e, int on);

#endif // GABA_ZOO_EXECUTOR_H
