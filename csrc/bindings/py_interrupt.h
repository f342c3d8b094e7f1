// py_interrupt.h - releasing the GIL around a long call so that Ctrl-C can
// stop it (csrc/bindings/py_interrupt.c has how).
#ifndef GABA_PY_INTERRUPT_H
#define GABA_PY_INTERRUPT_H

#include "py_common.h"

typedef struct gaba_py_unlocked {
    PyThreadState *state;
    int hooked; // Ctrl-C is watched for this call
} gaba_py_unlocked;

// Releases the GIL. With `interruptible` (the call polls, gaba.h) and on the
// main thread, a Ctrl-C during the call makes it return GABA_ERR_INTERRUPTED
// within one block of work; gaba_py_raise then raises the KeyboardInterrupt.
// Returns -1, the GIL still held and KeyboardInterrupt set, when a Ctrl-C came
// just before: the call must then not run.
int gaba_py_unlock(gaba_py_unlocked *u, int interruptible);
// Takes the GIL back and stops watching.
void gaba_py_relock(gaba_py_unlocked *u);

#endif
