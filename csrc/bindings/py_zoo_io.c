// py_zoo_io.c - the checks of a zoo call's arrays (py_zoo_io.h): done in C so
// that a call whose arrays are already right costs no Python-level checks.
#include "py_zoo_io.h"

void gaba_py_zoo_io_indices(const gaba_zoo_tensor *tensors, int n_tensors, int kind, int n,
                            int *idx) {
    for (int i = 0; i < n_tensors; i++)
        if (tensors[i].kind == kind && tensors[i].io_index < n) idx[tensors[i].io_index] = i;
}

// The NumPy type of a tensor's values.
static int npy_type(const gaba_zoo_tensor *t) {
    return t->dtype == GABA_NN_I32 ? NPY_INT32 : t->dtype == GABA_NN_I8 ? NPY_INT8 : NPY_FLOAT32;
}

npy_intp gaba_py_zoo_collect(const char *func, PyObject *tuple, int n,
                             const gaba_zoo_tensor *tensors, const int *idx, int writeable,
                             void **ptrs, npy_intp batch) {
    if (!PyTuple_Check(tuple) || PyTuple_GET_SIZE(tuple) != n) {
        PyErr_Format(PyExc_TypeError, "%s: expected a tuple of %d arrays", func, n);
        return -1;
    }
    for (int k = 0; k < n; k++) {
        const gaba_zoo_tensor *t = &tensors[idx[k]];
        int dtype = npy_type(t);
        PyObject *obj = PyTuple_GET_ITEM(tuple, k);
        if (!PyArray_Check(obj) || PyArray_TYPE((PyArrayObject *)obj) != dtype ||
            !PyArray_IS_C_CONTIGUOUS((PyArrayObject *)obj) ||
            !PyArray_ISALIGNED((PyArrayObject *)obj) || PyArray_NDIM((PyArrayObject *)obj) < 1 ||
            (writeable && !PyArray_ISWRITEABLE((PyArrayObject *)obj))) {
            PyErr_Format(PyExc_TypeError, "%s: tensor '%s' must be a C-contiguous %s array", func,
                         t->name,
                         dtype == NPY_INT32  ? "int32"
                         : dtype == NPY_INT8 ? "int8"
                                             : "float32");
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
            PyObject *other =
                i < n_in ? PyTuple_GET_ITEM(ins, i) : PyTuple_GET_ITEM(outs, i - n_in);
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

// The arrays of dict d for tensors idx[0..n) by name as a new tuple, or NULL
// (no error) unless d holds exactly those names.
static PyObject *by_name(const gaba_zoo_tensor *tensors, int n, const int *idx, PyObject *d) {
    if (PyDict_GET_SIZE(d) != n) return NULL;
    PyObject *t = PyTuple_New(n);
    for (int k = 0; t && k < n; k++) {
        PyObject *x = PyDict_GetItemString(d, tensors[idx[k]].name); // borrowed
        if (!x) {
            Py_DECREF(t);
            return NULL;
        }
        Py_INCREF(x);
        PyTuple_SET_ITEM(t, k, x);
    }
    return t;
}

// The inputs of a call as a new tuple in input order, or NULL (no error) when
// they are not exactly the n inputs.
static PyObject *match_inputs(const gaba_zoo_tensor *tensors, int n, const int *idx, PyObject *args,
                              PyObject *kwargs) {
    Py_ssize_t n_args = PyTuple_GET_SIZE(args), n_kw = kwargs ? PyDict_GET_SIZE(kwargs) : 0;
    if (n_args == 1 && n_kw == 0 && PyDict_Check(PyTuple_GET_ITEM(args, 0)))
        return by_name(tensors, n, idx, PyTuple_GET_ITEM(args, 0));
    if (n_args) {
        if (n_kw || n_args != n) return NULL;
        Py_INCREF(args);
        return args;
    }
    return kwargs ? by_name(tensors, n, idx, kwargs) : NULL;
}

int gaba_py_zoo_call_arrays(const char *func, const gaba_zoo_tensor *tensors, int n_in,
                            const int *iin, int n_out, const int *iout, PyObject *args,
                            PyObject *kwargs, PyObject *out, void **in, void **outp,
                            npy_intp *batch, PyObject **ins_held, PyObject **outs) {
    PyObject *ins = match_inputs(tensors, n_in, iin, args, kwargs);
    if (!ins) return PyErr_Occurred() ? -1 : 0;
    PyObject *o = NULL;
    *batch = gaba_py_zoo_collect(func, ins, n_in, tensors, iin, 0, in, -1);
    if (*batch < 0) goto not_this_case;
    if (out == Py_None) {
        o = PyTuple_New(n_out);
        for (int k = 0; o && k < n_out; k++) {
            const gaba_nn_shape *s = &tensors[iout[k]].shape;
            npy_intp dims[GABA_NN_MAX_DIMS + 1] = {*batch};
            for (int j = 0; j < s->ndim; j++) dims[1 + j] = s->d[j];
            PyObject *a = PyArray_SimpleNew(1 + s->ndim, dims, npy_type(&tensors[iout[k]]));
            if (!a) {
                Py_CLEAR(o);
                break;
            }
            PyTuple_SET_ITEM(o, k, a);
        }
        if (!o) {
            Py_DECREF(ins);
            return -1;
        }
    } else if (PyDict_Check(out)) {
        o = by_name(tensors, n_out, iout, out);
    } else if (n_out == 1 && PyArray_Check(out)) {
        o = PyTuple_Pack(1, out);
    }
    if (!o || gaba_py_zoo_collect(func, o, n_out, tensors, iout, 1, outp, *batch) < 0 ||
        gaba_py_zoo_outputs_apart(func, ins, n_in, iin, o, n_out, iout, tensors) < 0)
        goto not_this_case;
    *ins_held = ins;
    *outs = o;
    return 1;
not_this_case: // the checked path converts the arrays or words the error
    PyErr_Clear();
    Py_DECREF(ins);
    Py_XDECREF(o);
    return 0;
}

PyObject *gaba_py_zoo_call_result(PyObject *outs, int n_out, const int *iout,
                                  const gaba_zoo_tensor *tensors) {
    if (n_out == 1) {
        PyObject *a = PyTuple_GET_ITEM(outs, 0);
        Py_INCREF(a);
        return a;
    }
    PyObject *d = PyDict_New();
    for (int k = 0; d && k < n_out; k++)
        if (PyDict_SetItemString(d, tensors[iout[k]].name, PyTuple_GET_ITEM(outs, k)) < 0)
            Py_CLEAR(d);
    return d;
}

int gaba_py_zoo_threads(PyObject *threads, long *n) {
    *n = threads == Py_None      ? gaba_threads_get()
         : PyLong_Check(threads) ? PyLong_AsLong(threads)
                                 : -1;
    if (*n >= 1 && *n <= GABA_MAX_THREADS) return 0;
    PyErr_Clear(); // the checked path converts or words it
    return -1;
}

PyObject *gaba_py_zoo_raise(gaba_status status, const char *func) {
    if (status == GABA_ERR_ARG)
        return PyErr_Format(PyExc_ValueError, "%s: a token id is outside its input's vocabulary",
                            func);
    if (status == GABA_ERR_BUSY)
        return PyErr_Format(PyExc_ValueError,
                            "%s: the model is already running in another thread (a model runs "
                            "one call at a time; use one model per thread)",
                            func);
    return gaba_py_raise(status, func);
}
