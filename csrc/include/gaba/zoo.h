// zoo.h - the model zoo's graph executor. A model is data: a const table of
// layers (gaba_nn ops) joined by named tensors, with one or more named
// inputs and outputs (csrc/zoo/<model>.c, one file per model).
//
// gaba_zoo_model_init builds it once: resolves the names, infers every
// per-sample shape (gaba_nn_prepare), folds each batch norm into the
// conv/dense before it, places all weights in one contiguous block
// (He-initialised from a seed with gaba's PCG32), computes tensor lifetimes
// and places every intermediate activation and layer workspace in one arena
// (greedy by size, as TFLite Micro's planner). Forward then allocates
// nothing: it walks the layers sample by sample; inputs are read from, and
// outputs written to, the caller's buffers in place.
#ifndef GABA_ZOO_H
#define GABA_ZOO_H

#include "gaba/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gaba_zoo_layer_def {
    const char *name;
    gaba_nn_op op;
    gaba_nn_act act;
    int32_t p[GABA_NN_MAX_PARAMS];
    const char *in[GABA_NN_MAX_INPUTS]; // tensor names, NULL-terminated
    const char *out;
    const char *share; // reuse the weights of this earlier layer (Siamese), or NULL
} gaba_zoo_layer_def;

typedef struct gaba_zoo_io_def {
    const char *name;
    gaba_nn_dtype dtype;
    gaba_nn_shape shape; // per sample
    int32_t vocab;       // int32 token inputs: ids must lie in [0, vocab)
} gaba_zoo_io_def;

typedef struct gaba_zoo_def {
    const char *name, *category, *task;
    // What the model reads: "vision", "audio", "text" or "sensor" (signals and
    // time series), or NULL when unknown (a model built at run time from a file).
    const char *modality;
    int n_inputs;
    const gaba_zoo_io_def *inputs;
    int n_outputs;
    const char *const *outputs; // tensor names
    int n_layers;
    const gaba_zoo_layer_def *layers;
    int64_t budget_params; // the parameter budget of the spec (0: none)
} gaba_zoo_def;

// All registered models, in catalogue order.
const gaba_zoo_def *const *gaba_zoo_registry(int *count);
const gaba_zoo_def *gaba_zoo_find(const char *name);

typedef struct gaba_zoo_tensor {
    const char *name;
    gaba_nn_shape shape;
    gaba_nn_dtype dtype;
    int kind;              // 0 activation in the arena, 1 model input, 2 model output, 3 workspace
    int io_index;          // for kinds 1 and 2
    int first, last;       // the node that writes it and the last node that reads it
    int64_t bytes, offset; // offset in the arena (kinds 0 and 3)
} gaba_zoo_tensor;

typedef struct gaba_zoo_node {
    const char *name;
    gaba_nn_layer layer;
    int n_in, in[GABA_NN_MAX_INPUTS], out, ws; // tensor indices (ws: -1 when none)
    gaba_nn_shape in_shape[GABA_NN_MAX_INPUTS];
    gaba_nn_plan plan;
    const float *w[GABA_NN_MAX_WEIGHTS];
    int64_t w_offset[GABA_NN_MAX_WEIGHTS]; // floats into the weight block
    int shared;                            // weights belong to another node
    int folded_bn;                         // a batch norm was folded into it
    int def_index; // row of the definition table (a folded BN keeps the conv's)
} gaba_zoo_node;

typedef struct gaba_zoo_model {
    const gaba_zoo_def *def;
    int n_nodes, n_tensors;
    gaba_zoo_node *nodes;
    gaba_zoo_tensor *tensors;
    float *weights;        // one block of weight_floats
    int64_t weight_floats; // including 64-byte alignment padding
    int64_t params;        // weight values (after BN folding), shared weights once
    int64_t macs;          // per sample
    int64_t arena_bytes;   // per thread
    int n_arenas;
    unsigned char **arenas; // one per thread slot
    void ***ptrs;           // per thread slot: tensor index -> address
    gaba_nn_impl impl;
    volatile int busy;
    double *node_seconds; // (n_nodes) time of each node in the last sample, when profiling
} gaba_zoo_model;

gaba_status gaba_zoo_model_init(gaba_zoo_model *m, const gaba_zoo_def *def, uint64_t seed,
                                int n_threads);
void gaba_zoo_model_free(gaba_zoo_model *m);

// Profiling: while on, forward runs on one thread and records each node's time
// for the last sample it ran in node_seconds. Off frees the record.
// GABA_ERR_BUSY while the model runs in another thread.
gaba_status gaba_zoo_model_profile(gaba_zoo_model *m, int on);

// inputs[i]: (batch, input i's shape) C-contiguous; outputs[i]: (batch, output i's shape).
// max_threads (0 = the pool's size, at most the arenas made at init) split the batch.
// GABA_ERR_ARG for a token id outside its vocabulary; GABA_ERR_BUSY (nothing run)
// while the model runs in another thread.
gaba_status gaba_zoo_model_forward(gaba_zoo_model *m, int64_t batch, const void *const *inputs,
                                   void *const *outputs, int max_threads);

#ifdef __cplusplus
}
#endif
#endif // GABA_ZOO_H
