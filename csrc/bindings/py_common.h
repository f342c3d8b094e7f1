// py_common.h - the shared glue of every binding: one argument checker that
// turns a bad NumPy input into a TypeError/ValueError naming the function,
// the argument, what was expected and what came, and one mapping from
// gaba_status to Python exceptions. Bindings do no arithmetic.
//
// The rules every binding keeps (docs/contributing.md has the why of each):
// arrays read with the GIL released are owned by the call until it returns;
// a value used as an index is read once; every integer goes through
// gaba_py_long before it is narrowed; nothing is allocated before the
// arguments that size it are checked; bad input raises TypeError/ValueError.
#ifndef GABA_PY_COMMON_H
#define GABA_PY_COMMON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NO_IMPORT_ARRAY
#define PY_ARRAY_UNIQUE_SYMBOL gaba_ARRAY_API
#include <numpy/arrayobject.h>

#include "gaba/gaba.h"
#include "gaba/nn.h"

// Flags for gaba_py_array.
enum {
    GABA_PY_INPUT = 0,           // read only; copied when not aligned/native
    GABA_PY_OUTPUT = 1 << 0,     // written in place: must be writeable, aligned, native
    GABA_PY_CONTIGUOUS = 1 << 1, // the kernel needs C order: inputs are copied
    GABA_PY_OPTIONAL = 1 << 2,   // None is accepted (the result is then NULL, no error)
};

// Checks that `obj` is a numpy.ndarray of `dtype` with min_ndim..max_ndim
// dimensions. Returns a new reference to an array the kernels can use (the
// object itself when it already fits, else an aligned native-order copy for
// inputs), or NULL with the exception set. With GABA_PY_OPTIONAL, None gives
// NULL and no exception: test PyErr_Occurred() or `obj == Py_None`.
PyArrayObject *gaba_py_array(PyObject *obj, const char *func, const char *name, int dtype,
                             int min_ndim, int max_ndim, unsigned flags);

// Raises ValueError unless dimension `axis` of `array` equals `expected`;
// `what` says where the expectation comes from, e.g. "a.shape[1]".
int gaba_py_check_dim(PyArrayObject *array, const char *func, const char *name, int axis,
                      npy_intp expected, const char *what);

// Raises ValueError when the memory of `out` may overlap that of `in`.
int gaba_py_check_no_overlap(PyArrayObject *out, PyArrayObject *in, const char *func,
                             const char *out_name, const char *in_name);

// Strides of `array` in elements (aligned arrays only, as gaba_py_array gives).
void gaba_py_strides(PyArrayObject *array, int64_t *strides);

// A float32 array of shape dims over `data`, which `owner` keeps alive (its base).
PyObject *gaba_py_view(PyObject *owner, float *data, int nd, const npy_intp *dims);

// A layer shape as a tuple of ints (new reference, NULL on error).
PyObject *gaba_py_shape(const gaba_nn_shape *s);

// The layer of a single-layer test binding from its op and act codes (nn.h's
// enums) and params (a sequence of at most GABA_NN_MAX_PARAMS int32 values).
// Returns 0, or -1 with TypeError/ValueError naming the argument set.
int gaba_py_nn_layer(PyObject *op, PyObject *act, PyObject *params, const char *func,
                     gaba_nn_layer *layer);

// The arrays of `inputs` (a sequence of 1..GABA_NN_MAX_INPUTS arrays of
// `dtype`, each (batch, per-sample shape of 1..GABA_NN_MAX_DIMS axes), one
// batch for all) into x as C-contiguous new references and their per-sample
// shapes into `shapes`. Returns their number, or -1 with TypeError/ValueError
// naming the input set; either way the caller releases x[0..GABA_NN_MAX_INPUTS),
// zeroed beforehand.
int gaba_py_nn_inputs(PyObject *inputs, const char *func, int dtype, PyArrayObject **x,
                      gaba_nn_shape *shapes, npy_intp *batch);

// Sets the Python exception for a failed status, e.g.
// "gemm(): out of memory"; for GABA_ERR_INTERRUPTED, the exception of the
// signal's Python handler (KeyboardInterrupt for Ctrl-C, py_interrupt.h).
// Always returns NULL for `return gaba_py_raise(...)`.
PyObject *gaba_py_raise(gaba_status status, const char *func);

// Reads `obj` (an int, or an object with __index__; not a bool, not a float)
// as a C long in lo..hi, the one way every binding narrows an integer
// argument. Returns 0, or -1 with TypeError (not an integer) or ValueError
// ("func(): argument 'name' must be in lo..hi, got v") set.
int gaba_py_long(PyObject *obj, const char *func, const char *name, long lo, long hi, long *value);

// Reads `obj` (a float, or anything with __float__) as a double; an int
// too large for a double gives ValueError naming the argument (not
// OverflowError). Returns 0, or -1 with the exception set.
int gaba_py_double(PyObject *obj, const char *func, const char *name, double *value);

// Parses an optional str argument among `choices` (NULL-terminated); None
// means choices[0]. Returns the index, or -1 with ValueError/TypeError set.
int gaba_py_choice(PyObject *obj, const char *func, const char *name, const char *const *choices);

// Method tables of the families (module.c adds each to the module).
extern PyMethodDef gaba_py_core_methods[];
extern PyMethodDef gaba_py_gemm_methods[];
extern PyMethodDef gaba_py_lowrank_methods[];
extern PyMethodDef gaba_py_distill_methods[];
extern PyMethodDef gaba_py_prune_methods[];
extern PyMethodDef gaba_py_quant_methods[];
extern PyMethodDef gaba_py_zoo_methods[];
extern PyMethodDef gaba_py_trainer_methods[];
extern PyMethodDef gaba_py_qzoo_methods[];
extern PyMethodDef gaba_py_train_methods[];

#endif
