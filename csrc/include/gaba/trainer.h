// trainer.h - training a zoo model (zoo.h) in float32: forward over a batch
// that keeps what backward needs, backward in reverse layer order into a
// gradient block shaped like the parameter block, and the fold of the
// trained parameters back into the model's weights.
//
// A trainer holds its own graph of the model: every batch norm unfolded (it
// normalizes with the batch's statistics and updates running averages as
// PyTorch's BatchNorm in training mode, momentum 0.1, unbiased running
// variance) and every fused activation run as an act layer of its own. Its
// parameters (conv/dense weights and biases, batch-norm gamma and beta, ...)
// lie in one block, their gradients in another of the same layout; the
// batch norms' running means and variances in a third. gaba_zoo_trainer_sync
// writes them into the model's weight block, batch norms folded, so the
// model's forward, quantize and export always see the trained weights.
//
// Memory is planned once per batch size (gaba_zoo_trainer_reserve): an
// activation lives until the backward of the last layer whose backward reads
// it (gaba_nn_backward_reads: a conv its input, a ReLU its output, an add
// neither), else until its last reader's forward; an activation's gradient
// from its last reader's backward to its writer's; all in one arena placed by
// the zoo's planner. A step allocates nothing.
//
// Threads: a batch is cut into as many contiguous parts as threads run, each
// part's weight gradients summed into its own block, the blocks then added in
// order: the same inputs and thread count give the same gradients, bit for
// bit. Batch norms run over the whole batch on one thread.
#ifndef GABA_TRAINER_H
#define GABA_TRAINER_H

#include "gaba/zoo.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gaba_zoo_tnode_kind {
    GABA_ZOO_TNODE_OP = 0,        // a layer of the op table, act NONE (or the act op)
    GABA_ZOO_TNODE_BATCHNORM = 1, // batch norm with batch statistics
} gaba_zoo_tnode_kind;

typedef struct gaba_zoo_tnode {
    const char *name; // the layer's name (a split activation's node shares it)
    gaba_zoo_tnode_kind kind;
    gaba_nn_layer layer;
    int n_in, in[GABA_NN_MAX_INPUTS], out; // tensor indices
    gaba_nn_shape in_shape[GABA_NN_MAX_INPUTS];
    gaba_nn_plan plan;
    int64_t w_offset[GABA_NN_MAX_WEIGHTS]; // floats into the parameter block
    int owner;       // 1: its weights are its own (not another layer's, shared)
    int model_node;  // the model's node whose weights these are, or -1
    int bn;          // the batch-norm node the model folds into this one, or -1
    float eps;       // batch norm
    int64_t stats;   // batch norm: its running statistics' offset in the statistics block
    int64_t ws, bws; // arena offsets of the forward / backward workspaces (one per thread)
    int64_t saved;   // batch norm: arena offset of the batch's mean and 1/std
} gaba_zoo_tnode;

typedef struct gaba_zoo_ttensor {
    const char *name;
    gaba_nn_shape shape;
    gaba_nn_dtype dtype;
    int64_t bytes;       // per sample
    int input;           // model input io index, or -1 (the tensor then lives in the arena)
    int output;          // model output io index, or -1
    int writer, reader;  // the node that writes it, the last node that reads it (-1: none)
    int grad;            // 1: its gradient is kept (not a model input)
    int64_t value, dval; // arena offsets of the batch's values and gradients
} gaba_zoo_ttensor;

typedef struct gaba_zoo_trainer {
    gaba_zoo_model *model; // the model it trains (not owned)
    int n_nodes, n_tensors;
    gaba_zoo_tnode *nodes;
    gaba_zoo_ttensor *tensors;
    int64_t param_floats, stat_floats;
    float *params;     // param_floats
    float *grads;      // n_slots blocks of param_floats: block 0 is the batch's gradient
    float *stats;      // stat_floats: batch norms' running means and variances
    int n_slots;       // thread slots
    int64_t batch_cap; // the largest batch the arena is planned for (0: none yet)
    int64_t arena_bytes;
    unsigned char *arena;
    float bn_momentum;       // of the running averages (PyTorch's 0.1)
    const char *unsupported; // init's GABA_ERR_NO_IMPL: the first layer without a backward
    volatile int busy;
} gaba_zoo_trainer;

// A trainer of model m with n_threads thread slots, its parameters read from
// m's weights (gaba_zoo_trainer_load). GABA_ERR_NO_IMPL when a layer has no
// backward (t->unsupported names the layer; t is then freed but for it).
gaba_status gaba_zoo_trainer_init(gaba_zoo_trainer *t, gaba_zoo_model *m, int n_threads);

// Reads the parameters from the model's weights: a folded batch norm unfolds as
// gamma sqrt(1 + eps), beta 0, running mean 0 and variance 1 (the same model,
// exactly); a batch norm run alone as gamma scale sqrt(1 + eps), beta shift.
// GABA_ERR_BUSY while the model or the trainer runs in another thread.
gaba_status gaba_zoo_trainer_load(gaba_zoo_trainer *t);
void gaba_zoo_trainer_free(gaba_zoo_trainer *t);

// Plans the arena for batches of up to `batch` samples (grows it only).
gaba_status gaba_zoo_trainer_reserve(gaba_zoo_trainer *t, int64_t batch);

// Forward of a batch (at most the reserved size): inputs as gaba_zoo_model_forward's.
// Output i then lies at gaba_zoo_trainer_value(t, output tensor) (batch, shape).
gaba_status gaba_zoo_trainer_forward(gaba_zoo_trainer *t, int64_t batch, const void *const *inputs,
                                     int max_threads);

// Backward of the batch forward ran, from the gradients the caller wrote at
// gaba_zoo_trainer_dval(t, output tensor) for every output: overwrites the
// gradient block (block 0) with the batch's parameter gradients.
gaba_status gaba_zoo_trainer_backward(gaba_zoo_trainer *t, int64_t batch, const void *const *inputs,
                                      int max_threads);

// A batch-norm node's running mean (var 0) or running variance (var 1) in t->stats.
float *gaba_zoo_trainer_running(const gaba_zoo_trainer *t, const gaba_zoo_tnode *bn, int var);

// The arena address of a tensor's values / gradients (NULL for a model input).
float *gaba_zoo_trainer_value(const gaba_zoo_trainer *t, int tensor);
float *gaba_zoo_trainer_dval(const gaba_zoo_trainer *t, int tensor);

// Writes the parameters into the model's weights (batch norms folded with their
// running statistics). GABA_ERR_BUSY while the model runs in another thread.
gaba_status gaba_zoo_trainer_sync(gaba_zoo_trainer *t);

#ifdef __cplusplus
}
#endif
#endif // GABA_TRAINER_H
