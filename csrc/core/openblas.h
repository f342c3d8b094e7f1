// openblas.h - internal: OpenBLAS (from the scipy-openblas32 wheel), loaded
// on first use with dlopen. `import gaba` then neither pays for loading a
// 30 MB library nor starts OpenBLAS's threads, which spin for ~60 ms after
// they are created and would compete with NumPy's import on a 2-core box.
//
// Each pointer has the exact type of the header's declaration, so a call
// through the table is checked like a direct call.
#ifndef GABA_CORE_OPENBLAS_H
#define GABA_CORE_OPENBLAS_H

#include "gaba/gaba.h"

#include <cblas.h>
#include <lapack.h>

typedef struct gaba_openblas_api {
    __typeof__(scipy_cblas_sgemm) *cblas_sgemm;
    __typeof__(scipy_openblas_set_num_threads) *set_num_threads;
    __typeof__(scipy_openblas_get_num_threads) *get_num_threads;
    __typeof__(scipy_openblas_get_config) *get_config;
    __typeof__(scipy_openblas_get_corename) *get_corename;
    // LAPACK (lapack.h declares them unprefixed; the library's names are scipy_*).
    __typeof__(sgesdd_) *sgesdd;
    __typeof__(sgesvd_) *sgesvd;
    __typeof__(sgeqrf_) *sgeqrf;
    __typeof__(sorgqr_) *sorgqr;
    __typeof__(sgetrf_) *sgetrf;
} gaba_openblas_api;

// Where to find the library (the Python package passes the wheel's path at
// import). Without it, dlopen searches by name (LD_LIBRARY_PATH, rpath).
void gaba_openblas_set_path(const char *path);

// Loads the library once. Returns NULL when it cannot be loaded; the reason
// is then in gaba_openblas_error().
const gaba_openblas_api *gaba_openblas(void);
const char *gaba_openblas_error(void);

#endif
