// py_interrupt.c - lets Ctrl-C stop a long call that runs without the GIL.
//
// Python's SIGINT handler only records the signal: the KeyboardInterrupt is
// raised when the interpreter next runs bytecode, i.e. after the call. So for
// the duration of an interruptible call on the main thread, while Python's
// handler is the default one (it raises KeyboardInterrupt), a C handler that
// also sets a flag is chained in front of Python's, and the core's interrupt
// check (gaba_interrupt_set) reads that flag between blocks of work. Reading
// it needs no GIL and no lock, so the check is safe inside the thread pool.
// The call then returns GABA_ERR_INTERRUPTED, Python's handler is put back,
// and gaba_py_raise runs Python's handlers (PyErr_CheckSignals), which raise
// the KeyboardInterrupt. A Python handler of the user's own is left alone
// (it runs after the call, as before); calls on other threads only release
// the GIL, since Python handles signals on the main thread only.
#include "py_interrupt.h"

#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

static atomic_int sigint_seen;
static atomic_int hook_taken; // one call at a time chains its handler
static struct sigaction python_action;

static void on_sigint(int sig, siginfo_t *info, void *context) {
    atomic_store(&sigint_seen, 1);
    if (python_action.sa_flags & SA_SIGINFO)
        python_action.sa_sigaction(sig, info, context);
    else
        python_action.sa_handler(sig);
}

static int sigint_check(void *ctx) {
    return atomic_load_explicit(&sigint_seen, memory_order_relaxed);
}

// 1 when SIGINT's Python handler is signal.default_int_handler.
static int python_raises_on_sigint(void) {
    static PyObject *getsignal, *default_handler, *sigint;
    if (!getsignal) {
        PyObject *module = PyImport_ImportModule("_signal");
        if (!module) {
            PyErr_Clear();
            return 0;
        }
        getsignal = PyObject_GetAttrString(module, "getsignal");
        default_handler = PyObject_GetAttrString(module, "default_int_handler");
        sigint = PyLong_FromLong(SIGINT);
        Py_DECREF(module);
        if (!getsignal || !default_handler || !sigint) {
            Py_CLEAR(getsignal);
            PyErr_Clear();
            return 0;
        }
    }
    PyObject *handler = PyObject_CallOneArg(getsignal, sigint);
    if (!handler) {
        PyErr_Clear();
        return 0;
    }
    int raises = handler == default_handler;
    Py_DECREF(handler);
    return raises;
}

// Chains on_sigint in front of the C-level handler Python installed.
static int hook(void) {
    struct sigaction current;
    if (sigaction(SIGINT, NULL, &current) != 0) return 0;
    if (!(current.sa_flags & SA_SIGINFO) &&
        (current.sa_handler == SIG_DFL || current.sa_handler == SIG_IGN))
        return 0;
    python_action = current;
    atomic_store(&sigint_seen, 0);
    struct sigaction ours = current;
    ours.sa_sigaction = on_sigint;
    ours.sa_flags |= SA_SIGINFO;
    return sigaction(SIGINT, &ours, NULL) == 0;
}

static void unhook(void) {
    gaba_interrupt_set(NULL, NULL);
    sigaction(SIGINT, &python_action, NULL);
    atomic_store(&hook_taken, 0);
}

int gaba_py_unlock(gaba_py_unlocked *u, int interruptible) {
    u->hooked = 0;
    // The main thread is the process's first: its thread id is the pid.
    if (interruptible && syscall(SYS_gettid) == getpid() && !atomic_exchange(&hook_taken, 1)) {
        if (python_raises_on_sigint() && hook())
            u->hooked = 1;
        else
            atomic_store(&hook_taken, 0);
    }
    if (u->hooked) {
        gaba_interrupt_set(sigint_check, NULL);
        // A Ctrl-C from before the hook is still pending in Python.
        if (PyErr_CheckSignals() < 0) {
            unhook();
            return -1;
        }
    }
    u->state = PyEval_SaveThread();
    return 0;
}

void gaba_py_relock(gaba_py_unlocked *u) {
    PyEval_RestoreThread(u->state);
    if (u->hooked) unhook();
}
