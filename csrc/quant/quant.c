// quant.c - the quantization family's drivers: argument checks, per-channel
// parameter precomputation, cutting (outer, channels, inner) tensors into
// spans for the per-ISA kernels, threading large tensors over
// gaba_parallel_for, and the small scalar pieces (qparams, observer update,
// STE and LSQ backward). Baseline C: no intrinsics here.
#include "quant_kernels.h"

#include <float.h>
#include <math.h>
#include <string.h>

// Below this many elements a second thread costs more (a cross-core hand-off
// of tens of microseconds) than it saves: 256K floats stream in ~20 us.
#define PARALLEL_MIN (1 << 18)
// Elements per task: even (so no two tasks share a packed byte) and large
// enough that the per-task overhead vanishes.
#define CHUNK (1 << 16)
// Channels whose runs (the `inner` extent) are short go through the lanes
// kernels with per-element parameters, expanded to one outer row (3 floats per
// element of channels * inner): a span call per run would cost a call per
// value when the per-channel axis is last (inner = 1). Runs under 64 with
// several outer rows also take lanes ((N,16,16) axis 1: 3x faster than spans);
// a single outer row with runs > 1 keeps spans ((64,3,3,3) axis 0: spans win),
// which also bounds the expansion to 1.5x the tensor.
static int use_lanes(int64_t outer, int64_t channels, int64_t inner) {
    return channels > 1 && (inner == 1 || (inner < 64 && outer > 1));
}

int64_t gaba_quant_storage_bytes(gaba_quant_storage storage, int64_t n) {
    switch (storage) {
    case GABA_QUANT_S8:
    case GABA_QUANT_U8: return n;
    case GABA_QUANT_S16:
    case GABA_QUANT_U16: return 2 * n;
    case GABA_QUANT_S4:
    case GABA_QUANT_U4: return (n + 1) / 2;
    }
    return -1;
}

static int shape_ok(int64_t outer, int64_t channels, int64_t inner) {
    if (outer < 0 || channels < 1 || inner < 0) return 0;
    if (outer && inner && channels > INT64_MAX / outer / inner) return 0;
    return 1;
}

static int grid_ok(int32_t qmin, int32_t qmax) {
    return qmin < qmax && qmin <= 0 && qmax >= 0 && qmin >= -(1 << 16) && qmax <= (1 << 16);
}

static int storage_fits(gaba_quant_storage storage, int32_t qmin, int32_t qmax) {
    switch (storage) {
    case GABA_QUANT_S8: return qmin >= INT8_MIN && qmax <= INT8_MAX;
    case GABA_QUANT_U8: return qmin >= 0 && qmax <= UINT8_MAX;
    case GABA_QUANT_S16: return qmin >= INT16_MIN && qmax <= INT16_MAX;
    case GABA_QUANT_U16: return qmin >= 0 && qmax <= UINT16_MAX;
    case GABA_QUANT_S4: return qmin >= -8 && qmax <= 7;
    case GABA_QUANT_U4: return qmin >= 0 && qmax <= 15;
    }
    return 0;
}

// Checks the channel parameters and precomputes what the kernels need.
static gaba_status make_params(gaba_quant_span_params *params, int64_t channels, const float *scale,
                               const int32_t *zero_point, gaba_quant_grid grid) {
    if (!grid_ok(grid.qmin, grid.qmax)) return GABA_ERR_ARG;
    if (grid.rounding != GABA_QUANT_ROUND_HALF_EVEN && grid.rounding != GABA_QUANT_ROUND_HALF_AWAY)
        return GABA_ERR_ARG;
    for (int64_t c = 0; c < channels; c++) {
        float s = scale[c];
        float inv = 1.0f / s;
        if (!(s > 0.0f) || !isfinite(s) || !isfinite(inv)) return GABA_ERR_ARG;
        if (zero_point[c] < grid.qmin || zero_point[c] > grid.qmax) return GABA_ERR_ARG;
        params[c] = (gaba_quant_span_params){
            .scale = s,
            .inv_scale = inv,
            .zero_point = (float)zero_point[c],
            .qmin = (float)grid.qmin,
            .qmax = (float)grid.qmax,
            .away = grid.rounding == GABA_QUANT_ROUND_HALF_AWAY,
        };
    }
    return GABA_OK;
}

// ---- elementwise ops over spans ------------------------------------------------

enum span_op { OP_FAKE, OP_QUANTIZE, OP_DEQUANTIZE };

typedef struct span_job {
    enum span_op op;
    int64_t channels, inner, n, chunk;
    const gaba_quant_span_params *params; // (channels,)
    const gaba_quant_lane_params *lanes;  // or NULL; per element of one outer row
    int64_t row;                          // channels * inner: the lanes' period
    const float *x;
    float *y;
    uint8_t *mask;
    void *q;
    const void *q_in;
    gaba_quant_storage storage;
} span_job;

static void lanes_piece(const span_job *j, int64_t pos, int64_t end) {
    while (pos < end) {
        int64_t off = pos % j->row;
        int64_t len = j->row - off < end - pos ? j->row - off : end - pos;
        gaba_quant_lane_params p = *j->lanes;
        p.scale += off, p.inv_scale += off, p.zero_point += off;
        switch (j->op) {
        case OP_FAKE:
            gaba_quant_table.fake_quantize_lanes(len, j->x + pos, j->y + pos,
                                                 j->mask ? j->mask + pos : NULL, &p);
            break;
        case OP_QUANTIZE:
            gaba_quant_table.quantize_lanes(len, j->x + pos, j->q, pos, j->storage, &p);
            break;
        case OP_DEQUANTIZE:
            gaba_quant_table.dequantize_lanes(len, j->q_in, pos, j->storage, j->y + pos, &p);
            break;
        }
        pos += len;
    }
}

static void span_task(void *ctx, int64_t task, int64_t n_tasks) {
    const span_job *j = ctx;
    int64_t pos = task * j->chunk;
    int64_t end = pos + j->chunk < j->n ? pos + j->chunk : j->n;
    if (j->lanes) {
        lanes_piece(j, pos, end);
        return;
    }
    while (pos < end) {
        int64_t row = pos / j->inner, off = pos - row * j->inner;
        int64_t len = j->inner - off < end - pos ? j->inner - off : end - pos;
        const gaba_quant_span_params *p = &j->params[row % j->channels];
        switch (j->op) {
        case OP_FAKE:
            gaba_quant_table.fake_quantize(len, j->x + pos, j->y + pos,
                                           j->mask ? j->mask + pos : NULL, p);
            break;
        case OP_QUANTIZE:
            gaba_quant_table.quantize(len, j->x + pos, j->q, pos, j->storage, p);
            break;
        case OP_DEQUANTIZE:
            gaba_quant_table.dequantize(len, j->q_in, pos, j->storage, j->y + pos, p);
            break;
        }
        pos += len;
    }
}

static gaba_status run_spans(span_job *job, int64_t outer, int64_t channels, int64_t inner,
                             const float *scale, const int32_t *zero_point, gaba_quant_grid grid) {
    if (!shape_ok(outer, channels, inner)) return GABA_ERR_SHAPE;
    gaba_quant_span_params one, *params = &one;
    if (channels > 1 && !(params = gaba_aligned_alloc((size_t)channels * sizeof *params)))
        return GABA_ERR_NOMEM;
    gaba_status status = make_params(params, channels, scale, zero_point, grid);
    job->n = outer * channels * inner;
    float *expanded = NULL;
    gaba_quant_lane_params lanes;
    if (status == GABA_OK && job->n > 0 && use_lanes(outer, channels, inner)) {
        int64_t row = channels * inner;
        if (!(expanded = gaba_aligned_alloc(3 * (size_t)row * sizeof(float)))) {
            status = GABA_ERR_NOMEM;
        } else {
            for (int64_t c = 0, k = 0; c < channels; c++) {
                for (int64_t i = 0; i < inner; i++, k++) {
                    expanded[k] = params[c].scale;
                    expanded[row + k] = params[c].inv_scale;
                    expanded[2 * row + k] = params[c].zero_point;
                }
            }
            lanes = (gaba_quant_lane_params){expanded,       expanded + row, expanded + 2 * row,
                                             params[0].qmin, params[0].qmax, params[0].away};
            job->lanes = &lanes;
            job->row = row;
        }
    }
    if (status == GABA_OK && job->n > 0) {
        job->channels = channels;
        job->inner = inner;
        job->params = params;
        if (job->n >= PARALLEL_MIN && gaba_threads_get() > 1) {
            job->chunk = CHUNK;
            status = gaba_parallel_for((job->n + CHUNK - 1) / CHUNK, 0, span_task, job);
        } else {
            job->chunk = job->n;
            span_task(job, 0, 1);
        }
    }
    if (params != &one) gaba_aligned_free(params);
    gaba_aligned_free(expanded);
    return status;
}

gaba_status gaba_quant_fake_quantize_f32(float *y, uint8_t *mask, int64_t outer, int64_t channels,
                                         int64_t inner, const float *x, const float *scale,
                                         const int32_t *zero_point, gaba_quant_grid grid) {
    if (!y || !x || !scale || !zero_point) return GABA_ERR_ARG;
    span_job job = {.op = OP_FAKE, .x = x, .y = y, .mask = mask};
    return run_spans(&job, outer, channels, inner, scale, zero_point, grid);
}

gaba_status gaba_quant_quantize_f32(void *q_out, gaba_quant_storage storage, int64_t outer,
                                    int64_t channels, int64_t inner, const float *x,
                                    const float *scale, const int32_t *zero_point,
                                    gaba_quant_grid grid) {
    if (!q_out || !x || !scale || !zero_point) return GABA_ERR_ARG;
    if (!shape_ok(outer, channels, inner)) return GABA_ERR_SHAPE;
    if (!storage_fits(storage, grid.qmin, grid.qmax)) return GABA_ERR_ARG;
    int64_t bytes = gaba_quant_storage_bytes(storage, outer * channels * inner);
    if (storage == GABA_QUANT_S4 || storage == GABA_QUANT_U4) memset(q_out, 0, (size_t)bytes);
    span_job job = {.op = OP_QUANTIZE, .x = x, .q = q_out, .storage = storage};
    return run_spans(&job, outer, channels, inner, scale, zero_point, grid);
}

gaba_status gaba_quant_dequantize_f32(float *y, int64_t outer, int64_t channels, int64_t inner,
                                      const void *q, gaba_quant_storage storage, const float *scale,
                                      const int32_t *zero_point) {
    if (!y || !q || !scale || !zero_point) return GABA_ERR_ARG;
    if ((unsigned)storage > GABA_QUANT_U4) return GABA_ERR_ARG;
    // The grid only bounds the zero point here: the storage kind's full range.
    static const int32_t lo[] = {INT8_MIN, 0, INT16_MIN, 0, -8, 0};
    static const int32_t hi[] = {INT8_MAX, UINT8_MAX, INT16_MAX, UINT16_MAX, 7, 15};
    gaba_quant_grid grid = {lo[storage] < -(1 << 16) ? -(1 << 16) : lo[storage], hi[storage],
                            GABA_QUANT_ROUND_HALF_EVEN};
    span_job job = {.op = OP_DEQUANTIZE, .y = y, .q_in = q, .storage = storage};
    return run_spans(&job, outer, channels, inner, scale, zero_point, grid);
}

// ---- reductions: min/max and observers ------------------------------------------

typedef struct minmax_job {
    int64_t outer, channels, inner, n, chunk;
    const float *x;
    float *lo, *hi; // per channel, or per task when channels == 1
} minmax_job;

// channels == 1: task t reduces a chunk into lo[t], hi[t].
static void minmax_chunk_task(void *ctx, int64_t task, int64_t n_tasks) {
    const minmax_job *j = ctx;
    int64_t pos = task * j->chunk;
    int64_t len = pos + j->chunk < j->n ? j->chunk : j->n - pos;
    j->lo[task] = INFINITY;
    j->hi[task] = -INFINITY;
    gaba_quant_table.minmax(len, j->x + pos, &j->lo[task], &j->hi[task]);
}

// channels > 1: task c reduces channel c over all outer rows.
static void minmax_channel_task(void *ctx, int64_t c, int64_t n_tasks) {
    const minmax_job *j = ctx;
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t o = 0; o < j->outer; o++)
        gaba_quant_table.minmax(j->inner, j->x + (o * j->channels + c) * j->inner, &lo, &hi);
    j->lo[c] = lo;
    j->hi[c] = hi;
}

gaba_status gaba_quant_minmax_f32(float *min_val, float *max_val, int64_t outer, int64_t channels,
                                  int64_t inner, const float *x) {
    if (!min_val || !max_val || (!x && outer != 0 && inner != 0)) return GABA_ERR_ARG;
    if (!shape_ok(outer, channels, inner)) return GABA_ERR_SHAPE;
    int64_t n = outer * channels * inner;
    int parallel = n >= PARALLEL_MIN && gaba_threads_get() > 1;
    minmax_job job = {outer, channels, inner, n, n, x, min_val, max_val};
    if (n > 0 && use_lanes(outer, channels, inner)) {
        // Element-wise running bounds over the outer rows, then over inner.
        int64_t row = channels * inner;
        float *b = gaba_aligned_alloc(2 * (size_t)row * sizeof(float));
        if (!b) return GABA_ERR_NOMEM;
        for (int64_t k = 0; k < row; k++) b[k] = INFINITY, b[row + k] = -INFINITY;
        for (int64_t o = 0; o < outer; o++)
            gaba_quant_table.minmax_lanes(row, x + o * row, b, b + row);
        for (int64_t c = 0; c < channels; c++) {
            float lo = INFINITY, hi = -INFINITY;
            for (int64_t k = c * inner; k < (c + 1) * inner; k++) {
                lo = b[k] < lo ? b[k] : lo;
                hi = b[row + k] > hi ? b[row + k] : hi;
            }
            min_val[c] = lo;
            max_val[c] = hi;
        }
        gaba_aligned_free(b);
        return GABA_OK;
    }
    if (channels > 1 || n == 0) {
        if (n == 0) {
            for (int64_t c = 0; c < channels; c++) min_val[c] = INFINITY, max_val[c] = -INFINITY;
            return GABA_OK;
        }
        if (parallel) return gaba_parallel_for(channels, 0, minmax_channel_task, &job);
        for (int64_t c = 0; c < channels; c++) minmax_channel_task(&job, c, channels);
        return GABA_OK;
    }
    if (!parallel) {
        minmax_chunk_task(&job, 0, 1);
        return GABA_OK;
    }
    job.chunk = CHUNK;
    int64_t n_tasks = (n + CHUNK - 1) / CHUNK;
    float *partial = gaba_aligned_alloc(2 * (size_t)n_tasks * sizeof(float));
    if (!partial) return GABA_ERR_NOMEM;
    job.lo = partial;
    job.hi = partial + n_tasks;
    gaba_status status = gaba_parallel_for(n_tasks, 0, minmax_chunk_task, &job);
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t t = 0; t < n_tasks; t++) {
        lo = job.lo[t] < lo ? job.lo[t] : lo;
        hi = job.hi[t] > hi ? job.hi[t] : hi;
    }
    *min_val = lo;
    *max_val = hi;
    gaba_aligned_free(partial);
    return status;
}

gaba_status gaba_quant_qparams_f32(float *scale, int32_t *zero_point, int64_t channels,
                                   const float *min_val, const float *max_val, int32_t qmin,
                                   int32_t qmax, int symmetric) {
    if (!scale || !zero_point || !min_val || !max_val || channels < 0) return GABA_ERR_ARG;
    if (!grid_ok(qmin, qmax)) return GABA_ERR_ARG;
    for (int64_t c = 0; c < channels; c++) {
        // No finite data (+Inf/-Inf bounds) reads as 0: the range always holds 0.
        float lo = min_val[c] < 0.0f && isfinite(min_val[c]) ? min_val[c] : 0.0f;
        float hi = max_val[c] > 0.0f && isfinite(max_val[c]) ? max_val[c] : 0.0f;
        float s;
        int32_t zp = 0;
        if (symmetric) {
            float m = -lo > hi ? -lo : hi;
            s = m / ((float)(qmax - qmin) / 2.0f);
        } else {
            s = (hi - lo) / (float)(qmax - qmin);
        }
        if (!(s >= FLT_EPSILON)) s = FLT_EPSILON;
        if (!isfinite(s)) return GABA_ERR_NUMERIC; // hi - lo overflowed float32
        if (!symmetric) {
            float z = (float)qmin - nearbyintf(lo / s);
            zp = z<(float)qmin ? qmin : z>(float) qmax ? qmax : (int32_t)z;
        }
        scale[c] = s;
        zero_point[c] = zp;
    }
    return GABA_OK;
}

// The moving average in float32, one rounding per operation like PyTorch's
// tensor arithmetic: a fused multiply-add would change the last bit.
__attribute__((optimize("fp-contract=off"))) static float ema(float run, float batch, float c) {
    float d = batch - run;
    float step = c * d;
    return run + step;
}

gaba_status gaba_quant_observe_f32(float *run_min, float *run_max, int64_t count,
                                   float averaging_constant, int64_t outer, int64_t channels,
                                   int64_t inner, const float *x) {
    if (!run_min || !run_max || count < 0) return GABA_ERR_ARG;
    if (averaging_constant >= 0.0f && !(averaging_constant <= 1.0f)) return GABA_ERR_ARG;
    if (!shape_ok(outer, channels, inner)) return GABA_ERR_SHAPE;
    float *batch = gaba_aligned_alloc(2 * (size_t)channels * sizeof(float));
    if (!batch) return GABA_ERR_NOMEM;
    gaba_status status = gaba_quant_minmax_f32(batch, batch + channels, outer, channels, inner, x);
    for (int64_t c = 0; status == GABA_OK && c < channels; c++) {
        float lo = batch[c], hi = batch[channels + c];
        if (!(lo <= hi)) continue; // no finite value in this channel's batch
        if (averaging_constant < 0.0f) {
            run_min[c] = lo < run_min[c] ? lo : run_min[c];
            run_max[c] = hi > run_max[c] ? hi : run_max[c];
        } else if (count == 0 || !(run_min[c] <= run_max[c])) {
            run_min[c] = lo;
            run_max[c] = hi;
        } else {
            run_min[c] = ema(run_min[c], lo, averaging_constant);
            run_max[c] = ema(run_max[c], hi, averaging_constant);
        }
    }
    gaba_aligned_free(batch);
    return status;
}

// ---- gradients -------------------------------------------------------------------

gaba_status gaba_quant_ste_backward_f32(float *grad_x, int64_t n, const float *grad,
                                        const uint8_t *mask) {
    if (n < 0) return GABA_ERR_SHAPE;
    if (n && (!grad_x || !grad || !mask)) return GABA_ERR_ARG;
    for (int64_t i = 0; i < n; i++) grad_x[i] = grad[i] * (float)mask[i];
    return GABA_OK;
}

typedef struct lsq_job {
    int64_t outer, channels, inner, n, chunk;
    const float *grad, *x;
    float *grad_x;
    const gaba_quant_lsq_params *params; // (channels,)
    double *sums;                        // 2 per task (channels == 1) or per channel
} lsq_job;

// channels == 1: task t reduces one chunk into sums[2t], sums[2t + 1].
static void lsq_chunk_task(void *ctx, int64_t task, int64_t n_tasks) {
    const lsq_job *j = ctx;
    int64_t pos = task * j->chunk;
    int64_t len = pos + j->chunk < j->n ? j->chunk : j->n - pos;
    j->sums[2 * task] = j->sums[2 * task + 1] = 0.0;
    gaba_quant_table.lsq(len, j->grad + pos, j->x + pos, j->grad_x + pos, j->params,
                         j->sums + 2 * task);
}

// channels > 1: task c runs channel c over all outer rows.
static void lsq_channel_task(void *ctx, int64_t c, int64_t n_tasks) {
    const lsq_job *j = ctx;
    j->sums[2 * c] = j->sums[2 * c + 1] = 0.0;
    for (int64_t o = 0; o < j->outer; o++) {
        int64_t base = (o * j->channels + c) * j->inner;
        gaba_quant_table.lsq(j->inner, j->grad + base, j->x + base, j->grad_x + base, &j->params[c],
                             j->sums + 2 * c);
    }
}

// Short runs (the channel axis last or near it): walk the tensor in memory
// order instead, one run at a time; a channel-by-channel walk would stride
// through memory (50 ms instead of a few for 1024 x 1024 with axis=1).
static void lsq_rows(const lsq_job *j) {
    // Runs under 16 elements: the scalar kernel (no vector setup and
    // horizontal sum per run).
    gaba_quant_lsq_span_fn kernel =
        j->inner < 16 ? gaba_quant_lsq_span_f32_ref : gaba_quant_table.lsq;
    for (int64_t c = 0; c < j->channels; c++) j->sums[2 * c] = j->sums[2 * c + 1] = 0.0;
    for (int64_t o = 0, base = 0; o < j->outer; o++)
        for (int64_t c = 0; c < j->channels; c++, base += j->inner)
            kernel(j->inner, j->grad + base, j->x + base, j->grad_x + base, &j->params[c],
                   j->sums + 2 * c);
}

gaba_status gaba_quant_lsq_backward_f32(float *grad_x, float *grad_scale, float *grad_zero_point,
                                        int64_t outer, int64_t channels, int64_t inner,
                                        const float *grad, const float *x, const float *scale,
                                        const float *zero_point, int32_t qmin, int32_t qmax,
                                        float grad_factor) {
    if (!grad_x || !grad_scale || !grad_zero_point || !scale || !zero_point) return GABA_ERR_ARG;
    if (!shape_ok(outer, channels, inner)) return GABA_ERR_SHAPE;
    if (!grid_ok(qmin, qmax)) return GABA_ERR_ARG;
    const float lo = (float)qmin, hi = (float)qmax;
    int64_t n = outer * channels * inner;
    int parallel = n >= PARALLEL_MIN && gaba_threads_get() > 1;
    int64_t n_tasks = channels > 1 ? channels : parallel ? (n + CHUNK - 1) / CHUNK : 1;
    gaba_quant_lsq_params *params = gaba_aligned_alloc((size_t)channels * sizeof *params);
    double *sums = gaba_aligned_alloc(2 * (size_t)(n_tasks > 0 ? n_tasks : 1) * sizeof(double));
    gaba_status status = params && sums ? GABA_OK : GABA_ERR_NOMEM;
    for (int64_t c = 0; status == GABA_OK && c < channels; c++) {
        float s = scale[c], inv = 1.0f / s;
        if (!(s > 0.0f) || !isfinite(s) || !isfinite(inv) || !isfinite(zero_point[c])) {
            status = GABA_ERR_ARG;
            break;
        }
        float zc = zero_point[c] < lo ? lo : zero_point[c] > hi ? hi : zero_point[c];
        float zp = nearbyintf(zc);
        params[c] = (gaba_quant_lsq_params){s, inv, zp, lo, hi, lo - zp, hi - zp, grad_factor};
    }
    if (status == GABA_OK) {
        lsq_job job = {outer, channels, inner, n, n, grad, x, grad_x, params, sums};
        if (channels > 1) {
            if (use_lanes(outer, channels, inner))
                lsq_rows(&job);
            else if (parallel)
                status = gaba_parallel_for(channels, 0, lsq_channel_task, &job);
            else
                for (int64_t c = 0; c < channels; c++) lsq_channel_task(&job, c, channels);
            for (int64_t c = 0; c < channels; c++) {
                grad_scale[c] = (float)sums[2 * c];
                grad_zero_point[c] = (float)sums[2 * c + 1];
            }
        } else {
            if (parallel) {
                job.chunk = CHUNK;
                status = gaba_parallel_for(n_tasks, 0, lsq_chunk_task, &job);
            } else {
                lsq_chunk_task(&job, 0, 1);
            }
            double total_s = 0.0, total_z = 0.0;
            for (int64_t t = 0; t < n_tasks; t++) {
                total_s += sums[2 * t];
                total_z += sums[2 * t + 1];
            }
            grad_scale[0] = (float)total_s;
            grad_zero_point[0] = (float)total_z;
        }
    }
    gaba_aligned_free(params);
    gaba_aligned_free(sums);
    return status;
}
