// distill_kernels.h - internal: the distillation family's per-ISA row
// kernel and the table distill_dispatch.c fills once for the chosen level.
#ifndef GABA_DISTILL_KERNELS_H
#define GABA_DISTILL_KERNELS_H

#include "gaba/distill.h"

// What one row needs; see distill.h for the formulas.
typedef struct gaba_distill_params {
    int64_t c;     // classes
    float inv_t;   // 1 / T
    double t2;     // T^2, scales KL
    double w_soft; // alpha with labels, else 1
    double w_hard; // 1 - alpha with labels, else 0
    float g_soft;  // w_soft * T * grad_scale
    float g_hard;  // w_hard * grad_scale
    int unit_t;    // T == 1: the CE softmax is the T-softmax
} gaba_distill_params;

// Returns loss_i for one row (student s, teacher t, label or -1) and, when
// grad is not NULL, writes that row's gradient.
typedef double (*gaba_distill_row_fn)(const float *s, const float *t, int64_t label,
                                      const gaba_distill_params *p, float *grad);

double gaba_distill_row_f32_ref(const float *s, const float *t, int64_t label,
                                const gaba_distill_params *p, float *grad);
double gaba_distill_row_f32_avx2(const float *s, const float *t, int64_t label,
                                 const gaba_distill_params *p, float *grad);
double gaba_distill_row_f32_avx512(const float *s, const float *t, int64_t label,
                                   const gaba_distill_params *p, float *grad);

typedef struct gaba_distill_kernels {
    gaba_distill_row_fn row;
} gaba_distill_kernels;

extern gaba_distill_kernels gaba_distill_table;

#endif
