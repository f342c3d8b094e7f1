// plan.h - internal: the arena planner of the zoo executor (plan.c).
#ifndef GABA_ZOO_PLAN_H
#define GABA_ZOO_PLAN_H

#include "gaba/zoo.h"

// Places every tensor of kind 0 (activation) and 3 (workspace) in one arena:
// sets their offsets and the arena's size in bytes.
gaba_status gaba_zoo_plan(gaba_zoo_tensor *tensors, int n, int64_t *arena_bytes);

#endif
