// distill.c - the distillation loss entry point: checks arguments, splits
// the batch into row blocks for gaba_parallel_for when it is big enough to
// pay for waking the pool, runs the dispatched row kernel, and reduces the
// per-sample losses in float64 in row order (the same sum for any thread
// count). Formulas and conventions: include/gaba/distill.h.
#include "distill_kernels.h"

#include <math.h>

// Below this many logits one thread is faster than waking the pool.
#define PARALLEL_MIN_ELEMENTS (1 << 16)
// Rows per task: about this many logits each, so tasks balance dynamically.
#define TASK_ELEMENTS (1 << 14)

typedef struct job {
    int64_t n, rows_per_task;
    const float *s, *t;
    int64_t rs_s, rs_t, rs_g;
    const int64_t *labels;
    float *grad;
    double *losses; // (N) per-sample losses
    const gaba_distill_params *params;
} job;

static void run_rows(void *ctx, int64_t task, int64_t n_tasks) {
    const job *jb = ctx;
    int64_t lo = task * jb->rows_per_task, hi = lo + jb->rows_per_task;
    if (hi > jb->n) hi = jb->n;
    gaba_distill_row_fn row = gaba_distill_table.row;
    for (int64_t i = lo; i < hi; i++)
        jb->losses[i] =
            row(jb->s + i * jb->rs_s, jb->t + i * jb->rs_t, jb->labels ? jb->labels[i] : -1,
                jb->params, jb->grad ? jb->grad + i * jb->rs_g : NULL);
}

gaba_status gaba_distill_loss_f32(int64_t n, int64_t c, const float *student, int64_t rs_s,
                                  const float *teacher, int64_t rs_t, const int64_t *labels,
                                  float temperature, float alpha, gaba_reduction reduction,
                                  double *loss, float *per_sample, float *grad, int64_t rs_g) {
    if (n < 0 || c < 1) return GABA_ERR_SHAPE;
    if (!(temperature > 0.0f) || isinf(temperature) || !(alpha >= 0.0f && alpha <= 1.0f))
        return GABA_ERR_ARG;
    if (reduction != GABA_REDUCTION_BATCHMEAN && reduction != GABA_REDUCTION_SUM &&
        reduction != GABA_REDUCTION_NONE)
        return GABA_ERR_ARG;
    if (reduction == GABA_REDUCTION_NONE ? (n > 0 && !per_sample) : !loss) return GABA_ERR_ARG;
    if (n > 1 && (rs_s < c || rs_t < c || (grad && rs_g < c))) return GABA_ERR_SHAPE;
    if (n > 0 && (!student || !teacher)) return GABA_ERR_ARG;
    if (labels)
        for (int64_t i = 0; i < n; i++)
            if (labels[i] < 0 || labels[i] >= c) return GABA_ERR_ARG;
    gaba_status status = gaba_runtime_init();
    if (status != GABA_OK) return status;
    if (n == 0) {
        if (loss) *loss = reduction == GABA_REDUCTION_BATCHMEAN ? NAN : 0.0;
        return GABA_OK;
    }

    double grad_scale = reduction == GABA_REDUCTION_BATCHMEAN ? 1.0 / (double)n : 1.0;
    gaba_distill_params params = {
        .c = c,
        .inv_t = 1.0f / temperature,
        .t2 = (double)temperature * (double)temperature,
        .w_soft = labels ? (double)alpha : 1.0,
        .w_hard = labels ? 1.0 - (double)alpha : 0.0,
        .unit_t = temperature == 1.0f,
    };
    params.g_soft = (float)(params.w_soft * (double)temperature * grad_scale);
    params.g_hard = (float)(params.w_hard * grad_scale);

    double *losses = gaba_aligned_alloc((size_t)n * sizeof(double));
    if (!losses) return GABA_ERR_NOMEM;
    int64_t rows_per_task = TASK_ELEMENTS / c + 1;
    job jb = {n, rows_per_task, student, teacher, rs_s, rs_t, rs_g, labels, grad, losses, &params};
    int64_t n_tasks = (n + rows_per_task - 1) / rows_per_task;
    if (n * c >= PARALLEL_MIN_ELEMENTS && n_tasks > 1)
        status = gaba_parallel_for(n_tasks, 0, run_rows, &jb);
    else
        for (int64_t task = 0; task < n_tasks; task++) run_rows(&jb, task, n_tasks);
    if (status == GABA_OK) {
        double total = 0.0;
        for (int64_t i = 0; i < n; i++) total += losses[i];
        if (per_sample)
            for (int64_t i = 0; i < n; i++) per_sample[i] = (float)losses[i];
        if (loss) *loss = reduction == GABA_REDUCTION_BATCHMEAN ? total / (double)n : total;
    }
    gaba_aligned_free(losses);
    return status;
}
