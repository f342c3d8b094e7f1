// interrupt.c - the per-thread interrupt check that long calls poll between
// blocks of work (gaba.h, "interruption"). The core never decides to stop
// on its own: the caller's check does (the Python binding's reads a flag
// its SIGINT hook sets). A thread without a check pays one thread-local
// load per poll.
#include "gaba/gaba.h"

static _Thread_local gaba_interrupt_fn check_fn;
static _Thread_local void *check_ctx;

void gaba_interrupt_set(gaba_interrupt_fn check, void *ctx) {
    check_fn = check;
    check_ctx = ctx;
}

int gaba_interrupt_poll(void) { return check_fn && check_fn(check_ctx) ? 1 : 0; }

int gaba_interrupt_watched(void) { return check_fn != NULL; }
