// status.c - names for gaba_status codes and the package version string.
// The binding layer maps codes to Python exceptions (csrc/bindings/py_common.c);
// these strings are the fallback detail when a kernel gives no message.
#include "gaba/gaba.h"

#ifndef GABA_VERSION_STR
#define GABA_VERSION_STR "0.0.0+unknown"
#endif

const char *gaba_status_str(gaba_status status) {
    switch (status) {
    case GABA_OK: return "ok";
    case GABA_ERR_ARG: return "invalid argument";
    case GABA_ERR_SHAPE: return "incompatible shapes or strides";
    case GABA_ERR_NOMEM: return "out of memory";
    case GABA_ERR_NO_IMPL: return "not implemented for these arguments";
    case GABA_ERR_ISA: return "instruction set not available on this CPU";
    case GABA_ERR_NUMERIC: return "numerical routine did not converge";
    case GABA_ERR_INTERNAL: return "internal error";
    case GABA_ERR_BUSY: return "already running in another thread";
    case GABA_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown status";
}

const char *gaba_version(void) { return GABA_VERSION_STR; }
