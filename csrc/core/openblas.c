// openblas.c - loads OpenBLAS lazily (see openblas.h for why) and resolves
// the symbols gaba uses. Thread-safe: the first caller loads, the others
// wait on the once-flag.
#include "openblas.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_LIBRARY "libscipy_openblas.so"

static char library_path[4096] = DEFAULT_LIBRARY;
static char load_error[512];
static gaba_openblas_api api;
static int loaded;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

void gaba_openblas_set_path(const char *path) {
    if (path && strlen(path) < sizeof library_path) strcpy(library_path, path);
}

static void load(void) {
    void *lib = dlopen(library_path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(load_error, sizeof load_error, "cannot load OpenBLAS (%.200s): %.250s",
                 library_path, dlerror());
        return;
    }
#define RESOLVE(field, symbol)                                                                     \
    if (!(*(void **)&api.field = dlsym(lib, #symbol))) {                                           \
        snprintf(load_error, sizeof load_error, "OpenBLAS at %.200s lacks %s", library_path,       \
                 #symbol);                                                                         \
        return;                                                                                    \
    }
    RESOLVE(cblas_sgemm, scipy_cblas_sgemm)
    RESOLVE(set_num_threads, scipy_openblas_set_num_threads)
    RESOLVE(get_num_threads, scipy_openblas_get_num_threads)
    RESOLVE(get_config, scipy_openblas_get_config)
    RESOLVE(get_corename, scipy_openblas_get_corename)
    RESOLVE(sgesdd, scipy_sgesdd_)
    RESOLVE(sgesvd, scipy_sgesvd_)
    RESOLVE(sgeqrf, scipy_sgeqrf_)
    RESOLVE(sorgqr, scipy_sorgqr_)
    RESOLVE(sgetrf, scipy_sgetrf_)
#undef RESOLVE
    loaded = 1;
}

const gaba_openblas_api *gaba_openblas(void) {
    pthread_once(&load_once, load);
    return loaded ? &api : NULL;
}

const char *gaba_openblas_error(void) { return load_error; }
