// qzoo.h - int8 inference for the model zoo: calibration of a float model
// (per-tensor min/max over a batch), the quantizer that turns it into an
// int8 graph (qnn.h ops where an int8 kernel exists; the other ops run in
// float32 between a dequantize and a quantize node), and its executor with
// its own static arena plan (plan.c). The quantized model owns its weights
// (int8 + int32 for int8 layers, float32 for float layers): it does not
// depend on the float model after quantization.
#ifndef GABA_QZOO_H
#define GABA_QZOO_H

#include "gaba/qnn.h"
#include "gaba/zoo.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gaba_zoo_qkind {
    GABA_ZOO_Q_INT8 = 0,  // an int8 op (qnn.h)
    GABA_ZOO_Q_FLOAT = 1, // a float op (nn.h) on dequantized values
    GABA_ZOO_Q_QUANTIZE = 2,
    GABA_ZOO_Q_DEQUANTIZE = 3,
} gaba_zoo_qkind;

typedef struct gaba_zoo_qnode {
    const char *name; // the float layer's name ("" for inserted edges)
    gaba_zoo_qkind kind;
    int skip_raw; // an edge node not run when the caller passes raw int8 tensors
    int n_in, in[GABA_NN_MAX_INPUTS], out, ws; // tensor indices (ws: -1 when none)
    gaba_nn_shape in_shape[GABA_NN_MAX_INPUTS];
    gaba_qnn_layer q;    // GABA_ZOO_Q_INT8
    gaba_nn_layer layer; // GABA_ZOO_Q_FLOAT
    gaba_nn_plan plan;   // GABA_ZOO_Q_FLOAT
    const float *w[GABA_NN_MAX_WEIGHTS];
    float scale; // QUANTIZE / DEQUANTIZE: the int8 side's parameters
    int32_t zp;
    // INT8 conv/dense: the per-channel weight scales, kept for export only (the kernels
    // use mult/shift); allocated on their own, so weight_bytes does not count them.
    float *w_scale;
} gaba_zoo_qnode;

typedef struct gaba_zoo_qmodel {
    const gaba_zoo_def *def;
    int n_nodes, n_tensors;
    gaba_zoo_qnode *nodes;
    gaba_zoo_tensor *tensors; // dtype GABA_NN_I8 for int8 activations
    float *scale;             // per tensor (meaningful for int8 tensors)
    int32_t *zp;
    int *raw_in, *raw_out; // per model input/output: the tensor the caller's raw buffer binds
    unsigned char *weights;
    int64_t weight_bytes;          // int8 weights, int32 bias/multipliers/shifts, float weights
    int64_t arena_bytes;           // per thread
    int n_int8, n_float;           // layers run in int8 / float32
    gaba_qnn_requant_mode requant; // how conv/dense requantize (qnn.h)
    int n_arenas;
    unsigned char **arenas;
    void ***ptrs;
    gaba_nn_impl impl;
    double *node_seconds; // (n_nodes) time of each node in the last sample, when profiling
    volatile int busy;
} gaba_zoo_qmodel;

// Ranges calibration records per node, besides its tensors'.
#define GABA_ZOO_NODE_RANGES 5

// Histograms calibration can keep next to the min/max: per range, n_bins (even, >= 2)
// bins of one width from a first edge, the top edge in the last bin; the first values
// set a power-of-two width and a first edge on a multiple of it. A value beyond the
// bins doubles the width, merging bin pairs, until they hold it: one pass suffices.
typedef struct gaba_zoo_hist {
    int64_t n_bins;
    double *edges;    // per range: its first edge and bin width (width 0: nothing binned yet)
    uint64_t *counts; // per range, n_bins counts of the finite values
} gaba_zoo_hist;

// Runs `m` over a batch and widens each range [tmin, tmax] to hold what it sees
// (start them at +inf, -inf; a batch after another accumulates). The ranges
// (m->n_tensors + GABA_ZOO_NODE_RANGES * m->n_nodes entries): first indexed as
// m->tensors, then GABA_ZOO_NODE_RANGES per node: the range before a
// conv/dense's sigmoid, tanh or hard-swish, which the int8 model runs as a
// separate table op; an attention's q, k, v, scores (before the softmax) and ctx.
// With `hist` (else NULL), each range's histogram too. Allocates nothing per sample.
// GABA_ERR_ARG for a token id outside its vocabulary, GABA_ERR_BUSY while `m` runs.
gaba_status gaba_zoo_calibrate(gaba_zoo_model *m, int64_t batch, const void *const *inputs,
                               float *tmin, float *tmax, const gaba_zoo_hist *hist);

// Builds the int8 model of `m` from the ranges of gaba_zoo_calibrate, its
// conv/dense layers requantizing as `requant` says. keep_float (NULL: none) holds
// one flag per node of `m`: a nonzero one runs that layer in float32 between a
// dequantize and a quantize node, as the ops without an int8 kernel run.
gaba_status gaba_zoo_quantize(gaba_zoo_qmodel *q, const gaba_zoo_model *m, const float *tmin,
                              const float *tmax, int n_threads, gaba_qnn_requant_mode requant,
                              const unsigned char *keep_float);

// What an imported int8 file fixes instead of calibration: per tensor of `m`,
// scale[i] > 0 fixes its (scale[i], zp[i]) (0: chosen from the range); per node of
// `m`, w_scale[n] the per-output-channel scales of a conv/dense's weights (NULL:
// chosen from the weights, max |w| / 127). The weights are then rounded on that grid.
typedef struct gaba_zoo_qgiven {
    const float *scale;
    const int32_t *zp;
    const float *const *w_scale;
} gaba_zoo_qgiven;

// gaba_zoo_quantize with the parameters `given` fixes (NULL: none).
gaba_status gaba_zoo_quantize_given(gaba_zoo_qmodel *q, const gaba_zoo_model *m, const float *tmin,
                                    const float *tmax, int n_threads, gaba_qnn_requant_mode requant,
                                    const unsigned char *keep_float, const gaba_zoo_qgiven *given);
void gaba_zoo_qmodel_free(gaba_zoo_qmodel *q);

// The weights of an INT8 conv/dense node as an exporter reads them: *c_out and *k
// (the per-channel count) always; when w / bias / w_scale are not NULL, the int8
// weights in plain row-major (c_out, k) layout, the int32 bias (units of
// in_scale * w_scale[c]) and the per-channel weight scales. GABA_ERR_ARG for any
// other node.
gaba_status gaba_zoo_qnode_weights(const gaba_zoo_qnode *nd, int64_t *c_out, int64_t *k, int8_t *w,
                                   int32_t *bias, float *w_scale);

// raw == 0: float32 inputs/outputs (token inputs int32), quantized and
// dequantized at the edges. raw == 1: int8 inputs and outputs with the
// parameters of tensors raw_in / raw_out (token inputs stay int32).
// GABA_ERR_ARG for a token id outside its vocabulary, GABA_ERR_BUSY while `q` runs.
gaba_status gaba_zoo_qmodel_forward(gaba_zoo_qmodel *q, int64_t batch, const void *const *inputs,
                                    void *const *outputs, int raw, int max_threads);

// Profiling on: forward runs on one thread and records each node's time
// for the last sample it ran in node_seconds. Off frees the record.
// GABA_ERR_BUSY while the model runs in another thread.
gaba_status gaba_zoo_qmodel_profile(gaba_zoo_qmodel *q, int on);

#ifdef __cplusplus
}
#endif
#endif // GABA_QZOO_H
