// py_zoo_io.h - the checks of a zoo call's arrays, shared by the float and
// the int8 models' bindings (py_zoo.c, py_qzoo.c).
#ifndef GABA_PY_ZOO_IO_H
#define GABA_PY_ZOO_IO_H

#include "py_common.h"

#include "gaba/zoo.h"

// idx[io_index] = the tensor of kind (1 input, 2 output) and that io_index, for the first n.
void gaba_py_zoo_io_indices(const gaba_zoo_tensor *tensors, int n_tensors, int kind, int n,
                            int *idx);

// The n arrays of `tuple` for tensors idx[0..n): each C-contiguous, aligned, of the
// tensor's dtype (writeable when `writeable`), of shape (batch, the tensor's per-sample
// shape) with one batch for all (batch < 0: the first array's); their data into ptrs.
// The batch, or -1 with TypeError (the tuple, an array's type, dtype or layout) or
// ValueError (a shape) set.
npy_intp gaba_py_zoo_collect(const char *func, PyObject *tuple, int n,
                             const gaba_zoo_tensor *tensors, const int *idx, int writeable,
                             void **ptrs, npy_intp batch);

// 0 when no array of `outs` (collected) shares memory with an array of `ins` or another
// of `outs`; else -1 with ValueError naming both tensors.
int gaba_py_zoo_outputs_apart(const char *func, PyObject *ins, int n_in, const int *idx_in,
                              PyObject *outs, int n_out, const int *idx_out,
                              const gaba_zoo_tensor *tensors);

// forward's common case (gaba/zoo.py), matched in C: exactly the n_in inputs,
// positional (`args`), by name (`kwargs`) or as one dict, arrays the executor
// reads (gaba_py_zoo_collect), into new float32 outputs (`out` None) or `out`
// (an array for one output, a dict by name) collected as well and apart from
// the other arrays. 1: *ins_held and *outs are new tuples of the inputs and
// the outputs, the pointers and *batch set; the caller releases the tuples
// only after the run, so that every array it reads with the GIL released is
// owned by the call (a dict's entries can be dropped meanwhile by another
// thread). 0: not that case, no error set (the caller takes the checked
// path); -1: an error (memory).
int gaba_py_zoo_call_arrays(const char *func, const gaba_zoo_tensor *tensors, int n_in,
                            const int *iin, int n_out, const int *iout, PyObject *args,
                            PyObject *kwargs, PyObject *out, void **in, void **outp,
                            npy_intp *batch, PyObject **ins_held, PyObject **outs);

// The call's result: its one output, or a dict name -> output in output order.
PyObject *gaba_py_zoo_call_result(PyObject *outs, int n_out, const int *iout,
                                  const gaba_zoo_tensor *tensors);

// The thread count of a call: the library's (threads None) or an int in
// 1..GABA_MAX_THREADS; -1 (no error set) for anything else, which the checked
// path handles.
int gaba_py_zoo_threads(PyObject *threads, long *n);

// Raises the exception of a failed model run (forward, calibrate, profile):
// ValueError for a token id outside its vocabulary (GABA_ERR_ARG) or a model
// already running in another thread (GABA_ERR_BUSY), each said apart; else
// gaba_py_raise. Returns NULL.
PyObject *gaba_py_zoo_raise(gaba_status status, const char *func);

#endif
