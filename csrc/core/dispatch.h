// dispatch.h - internal: the table fillers each kernel family provides to
// gaba_runtime_init (core/dispatch.c). Not part of the public C API.
#ifndef GABA_CORE_DISPATCH_H
#define GABA_CORE_DISPATCH_H

#include "gaba/gaba.h"

void gaba_gemm_dispatch_init(gaba_isa isa);
void gaba_distill_dispatch_init(gaba_isa isa);
void gaba_quant_dispatch_init(gaba_isa isa);
void gaba_nn_dispatch_init(gaba_isa isa);
void gaba_gemm_s8_dispatch_init(gaba_isa isa);

#endif
