// py_zoo_io.c - the checks of a zoo call's arrays (py_zoo_io.h): done in C so
// that a call whose arrays are already right costs no Python-level checks.
#include "py_zoo_io.h"

void gaba_py_zoo_io_indices(const gaba_zoo_tensor *tensors, int n_tensors, int kind, int n,
                            int *idx) {
    for (int i = 0; i < n_tensors; i++)
        if (tensors[i].kind == kind && tensors[i].io_index < n) idx[tensors[i].io_index] = i;
}

npy_intp gaba_py_zoo_collect(const char *func, PyObject *tuple, int n, const gaba_zoo_tensor *tensors,
                             const int *idx, int writeable, void **ptrs, npy_intp batch) {
    if (!PyTuple_Check(tuple) || PyTuple_GET_SIZE(tuple) != n) {
        PyErr_Format(PyExc_TypeError, "%s: expected a tuple of %d arrays", func, n);
        return -1;
    }
    for (int k = 0; k < n; k++) {
        const gaba_zoo_tensor *t = &tensors[idx[k]];
        int dtype = t->dtype == GABA_NN_I32 ? NPY_INT32 : t->dtype == GABA_NN_I8 ? NPY_INT8 : NPY_FLOAT32;
        PyObject *obj = PyTuple_GET_ITEM(tuple, k);
        if (!PyArray_Check(obj) || PyArray_TYPE((PyArrayObject *)obj) != dtype ||
            !PyArray_IS_C_CONTIGUOUS((PyArrayObject *)obj) ||
            !PyArray_ISALIGNED((PyArrayObject *)obj) || PyArray_NDIM((PyArrayObject *)obj) < 1 ||
            (writeable && !PyArray_ISWRITEABLE((PyArrayObject *)obj))) {
            PyErr_Format(PyExc_TypeError, "%s: tensor '%s' must be a C-contiguous %s array", func,
                         t->name, dtype == NPY_INT32 ? "int32" : dtype == NPY_INT8 ? "int8" : "float32");
            return -1;
        }
        PyArrayObject *a = (PyArrayObject *)obj;
        if (batch < 0) batch = PyArray_DIM(a, 0);
        int ok = PyArray_NDIM(a) == 1 + t->shape.ndim && PyArray_DIM(a, 0) == batch;
        for (int j = 0; ok && j < t->shape.ndim; j++) ok = PyArray_DIM(a, 1 + j) == t->shape.d[j];
        if (!ok) {
            PyErr_Format(PyExc_ValueError, "%s: tensor '%s' has the wrong shape", func, t->name);
            return -1;
        }
        ptrs[k] = PyArray_DATA(a);
    }
    return batch;
}

static int overlap(PyObject *a, PyObject *b) {
    const char *pa = PyArray_BYTES((PyArrayObject *)a), *pb = PyArray_BYTES((PyArrayObject *)b);
    npy_intp na = PyArray_NBYTES((PyArrayObject *)a), nb = PyArray_NBYTES((PyArrayObject *)b);
    return na > 0 && nb > 0 && pa < pb + nb && pb < pa + na;
}

int gaba_py_zoo_outputs_apart(const char *func, PyObject *ins, int n_in, const int *idx_in,
                              PyObject *outs, int n_out, const int *idx_out,
                              const gaba_zoo_tensor *tensors) {
    for (int k = 0; k < n_out; k++) {
        PyObject *o = PyTuple_GET_ITEM(outs, k);
        for (int i = 0; i < n_in + k; i++) {
            PyObject *other = i < n_in ? PyTuple_GET_ITEM(ins, i) : PyTuple_GET_ITEM(outs, i - n_in);
            if (overlap(o, other)) {
                PyErr_Format(PyExc_ValueError, "%s: output '%s' shares memory with tensor '%s'",
                             func, tensors[idx_out[k]].name,
                             tensors[i < n_in ? idx_in[i] : idx_out[i - n_in]].name);
                return -1;
            }
        }
    }
    return 0;
}
