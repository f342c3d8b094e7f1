// py_common.c - argument checking and status mapping shared by all bindings.
// Messages read "gemm(): argument 'a' must be ..., got ...", so the user
// learns which call, which argument, what was expected and what came.
#include "py_common.h"
#include "../core/openblas.h"

#include <stdio.h>
#include <string.h>

// "(3, 4)" for error messages.
static void format_shape(PyArrayObject *array, char *buf, size_t size) {
    int ndim = PyArray_NDIM(array);
    size_t used = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, i ? ", %ld" : "%ld",
                                 (long)PyArray_DIM(array, i));
    if (used < size) snprintf(buf + used, size - used, ndim == 1 ? ",)" : ")");
}

static const char *dtype_name(int dtype) {
    PyArray_Descr *descr = PyArray_DescrFromType(dtype);
    if (!descr) return "unknown";
    const char *name = descr->typeobj->tp_name;
    Py_DECREF(descr); // builtin descriptors are immortal in practice; the name stays valid
    const char *dot = strrchr(name, '.');
    return dot ? dot + 1 : name;
}

PyArrayObject *gaba_py_array(PyObject *obj, const char *func, const char *name, int dtype,
                             int min_ndim, int max_ndim, unsigned flags) {
    if (obj == Py_None && (flags & GABA_PY_OPTIONAL)) return NULL;
    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument '%s' must be a numpy.ndarray of %s, got %s",
                     func, name, dtype_name(dtype), Py_TYPE(obj)->tp_name);
        return NULL;
    }
    PyArrayObject *array = (PyArrayObject *)obj;
    char shape[128];
    if (PyArray_TYPE(array) != dtype) {
        format_shape(array, shape, sizeof shape);
        PyErr_Format(PyExc_TypeError,
                     "%s(): argument '%s' must have dtype %s, got %s array of shape %s "
                     "(convert it with .astype(numpy.%s))",
                     func, name, dtype_name(dtype), dtype_name(PyArray_TYPE(array)), shape,
                     dtype_name(dtype));
        return NULL;
    }
    int ndim = PyArray_NDIM(array);
    if (ndim < min_ndim || ndim > max_ndim) {
        format_shape(array, shape, sizeof shape);
        if (min_ndim == max_ndim)
            PyErr_Format(PyExc_ValueError, "%s(): argument '%s' must be %d-D, got %d-D shape %s",
                         func, name, min_ndim, ndim, shape);
        else
            PyErr_Format(PyExc_ValueError,
                         "%s(): argument '%s' must be %d-D to %d-D, got %d-D shape %s", func, name,
                         min_ndim, max_ndim, ndim, shape);
        return NULL;
    }
    int usable = PyArray_ISALIGNED(array) && PyArray_ISNOTSWAPPED(array);
    if (flags & GABA_PY_OUTPUT) {
        if (!PyArray_ISWRITEABLE(array)) {
            PyErr_Format(PyExc_ValueError, "%s(): output '%s' is read-only", func, name);
            return NULL;
        }
        if (!usable || ((flags & GABA_PY_CONTIGUOUS) && !PyArray_IS_C_CONTIGUOUS(array))) {
            PyErr_Format(PyExc_ValueError,
                         "%s(): output '%s' must be %s, in native byte order and aligned "
                         "to its itemsize; pass out=None to get a new array",
                         func, name, (flags & GABA_PY_CONTIGUOUS) ? "C-contiguous" : "strided");
            return NULL;
        }
    } else if (!usable || ((flags & GABA_PY_CONTIGUOUS) && !PyArray_IS_C_CONTIGUOUS(array))) {
        // Copy into what the kernel can read; the caller's array is untouched.
        PyArray_Descr *descr = PyArray_DescrFromType(dtype);
        return (PyArrayObject *)PyArray_FromAny(obj, descr, 0, 0,
                                                NPY_ARRAY_CARRAY_RO | NPY_ARRAY_ENSURECOPY, NULL);
    }
    Py_INCREF(array);
    return array;
}

int gaba_py_check_dim(PyArrayObject *array, const char *func, const char *name, int axis,
                      npy_intp expected, const char *what) {
    if (PyArray_DIM(array, axis) == expected) return 0;
    char shape[128];
    format_shape(array, shape, sizeof shape);
    PyErr_Format(PyExc_ValueError, "%s(): '%s' has shape %s, but %s.shape[%d] must be %ld (%s)",
                 func, name, shape, name, axis, (long)expected, what);
    return -1;
}

// The lowest and one-past-highest byte an array can touch.
static void memory_extent(PyArrayObject *array, char **lo, char **hi) {
    char *low = PyArray_BYTES(array), *high = low;
    for (int i = 0; i < PyArray_NDIM(array); i++) {
        npy_intp dim = PyArray_DIM(array, i), stride = PyArray_STRIDE(array, i);
        if (dim == 0) {
            *lo = *hi = low;
            return;
        }
        if (stride < 0)
            low += stride * (dim - 1);
        else
            high += stride * (dim - 1);
    }
    *lo = low;
    *hi = high + PyArray_ITEMSIZE(array);
}

int gaba_py_check_no_overlap(PyArrayObject *out, PyArrayObject *in, const char *func,
                             const char *out_name, const char *in_name) {
    char *out_lo, *out_hi, *in_lo, *in_hi;
    memory_extent(out, &out_lo, &out_hi);
    memory_extent(in, &in_lo, &in_hi);
    if (out_lo < in_hi && in_lo < out_hi) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): output '%s' overlaps the memory of input '%s'; pass a separate "
                     "array (or out=None)",
                     func, out_name, in_name);
        return -1;
    }
    return 0;
}

void gaba_py_strides(PyArrayObject *array, int64_t *strides) {
    npy_intp itemsize = PyArray_ITEMSIZE(array);
    for (int i = 0; i < PyArray_NDIM(array); i++)
        strides[i] = (int64_t)(PyArray_STRIDE(array, i) / itemsize);
}

PyObject *gaba_py_view(PyObject *owner, float *data, int nd, const npy_intp *dims) {
    PyObject *arr = PyArray_SimpleNewFromData(nd, (npy_intp *)dims, NPY_FLOAT32, data);
    if (!arr) return NULL;
    Py_INCREF(owner);
    if (PyArray_SetBaseObject((PyArrayObject *)arr, owner) < 0) {
        Py_DECREF(arr);
        return NULL;
    }
    return arr;
}

PyObject *gaba_py_shape(const gaba_nn_shape *s) {
    PyObject *t = PyTuple_New(s->ndim);
    if (!t) return NULL;
    for (int i = 0; i < s->ndim; i++) PyTuple_SET_ITEM(t, i, PyLong_FromLong(s->d[i]));
    return t;
}

int gaba_py_nn_layer(PyObject *op, PyObject *act, PyObject *params, const char *func,
                     gaba_nn_layer *layer) {
    long v;
    memset(layer, 0, sizeof *layer);
    if (gaba_py_long(op, func, "op", 0, GABA_NN_OP_COUNT - 1, &v)) return -1;
    layer->op = (gaba_nn_op)v;
    if (gaba_py_long(act, func, "act", 0, GABA_NN_ACT_COUNT - 1, &v)) return -1;
    layer->act = (gaba_nn_act)v;
    PyObject *p = PySequence_Fast(params, "params must be a sequence of ints");
    if (!p) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(p);
    int bad = n > GABA_NN_MAX_PARAMS;
    if (bad)
        PyErr_Format(PyExc_ValueError, "%s(): argument 'params' holds at most %d ints, got %zd",
                     func, GABA_NN_MAX_PARAMS, n);
    for (Py_ssize_t i = 0; i < n && !bad; i++) {
        bad =
            gaba_py_long(PySequence_Fast_GET_ITEM(p, i), func, "params", INT32_MIN, INT32_MAX, &v);
        layer->p[i] = (int32_t)v;
    }
    Py_DECREF(p);
    return bad ? -1 : 0;
}

int gaba_py_nn_inputs(PyObject *inputs, const char *func, int dtype, PyArrayObject **x,
                      gaba_nn_shape *shapes, npy_intp *batch) {
    PyObject *seq = PySequence_Fast(inputs, "inputs must be a sequence of arrays");
    if (!seq) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    int bad = n < 1 || n > GABA_NN_MAX_INPUTS;
    if (bad)
        PyErr_Format(PyExc_ValueError, "%s(): argument 'inputs' must hold 1 to %d arrays, got %zd",
                     func, GABA_NN_MAX_INPUTS, n);
    for (int i = 0; i < n && !bad; i++) {
        char name[24];
        snprintf(name, sizeof name, "inputs[%d]", i);
        x[i] = gaba_py_array(PySequence_Fast_GET_ITEM(seq, i), func, name, dtype, 2,
                             GABA_NN_MAX_DIMS + 1, GABA_PY_CONTIGUOUS);
        bad = !x[i] || gaba_py_check_dim(x[i], func, name, 0, PyArray_DIM(x[0], 0),
                                         "one batch for all inputs: inputs[0].shape[0]");
        shapes[i].ndim = bad ? 0 : PyArray_NDIM(x[i]) - 1;
        for (int j = 0; j < shapes[i].ndim && !bad; j++) {
            npy_intp d = PyArray_DIM(x[i], j + 1);
            if ((bad = d > INT32_MAX))
                PyErr_Format(PyExc_ValueError, "%s(): '%s' has %ld values on axis %d, at most %ld",
                             func, name, (long)d, j + 1, (long)INT32_MAX);
            shapes[i].d[j] = (int32_t)d;
        }
    }
    Py_DECREF(seq);
    if (bad) return -1;
    *batch = PyArray_DIM(x[0], 0);
    return (int)n;
}

PyObject *gaba_py_raise(gaba_status status, const char *func) {
    if (status == GABA_ERR_INTERRUPTED) {
        // Stopped for a signal (py_interrupt.c): raise what its handler raises.
        if (PyErr_CheckSignals() == 0) PyErr_SetNone(PyExc_KeyboardInterrupt);
        return NULL;
    }
    PyObject *type;
    switch (status) {
    case GABA_ERR_ARG:
    case GABA_ERR_SHAPE:
    case GABA_ERR_BUSY: type = PyExc_ValueError; break;
    case GABA_ERR_NOMEM: type = PyExc_MemoryError; break;
    case GABA_ERR_NO_IMPL: type = PyExc_NotImplementedError; break;
    case GABA_ERR_NUMERIC: type = PyExc_ArithmeticError; break;
    case GABA_ERR_INTERNAL: type = PyExc_SystemError; break;
    default: type = PyExc_RuntimeError; break;
    }
    const char *detail = status == GABA_ERR_NO_IMPL ? gaba_openblas_error() : "";
    PyErr_Format(type, "%s(): %s%s%s", func, gaba_status_str(status), detail[0] ? ": " : "",
                 detail);
    return NULL;
}

int gaba_py_long(PyObject *obj, const char *func, const char *name, long lo, long hi, long *value) {
    if (PyBool_Check(obj) || PyFloat_Check(obj) || !PyIndex_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument '%s' must be an int, got %s", func, name,
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    PyObject *index = PyNumber_Index(obj);
    if (!index) return -1;
    int overflow = 0;
    long v = PyLong_AsLongAndOverflow(index, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        Py_DECREF(index);
        return -1;
    }
    if (overflow || v < lo || v > hi) {
        PyErr_Format(PyExc_ValueError, "%s(): argument '%s' must be in %ld..%ld, got %S", func,
                     name, lo, hi, index);
        Py_DECREF(index);
        return -1;
    }
    Py_DECREF(index);
    *value = v;
    return 0;
}

int gaba_py_double(PyObject *obj, const char *func, const char *name, double *value) {
    double v = PyFloat_AsDouble(obj);
    if (v == -1.0 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError)) return -1;
        PyErr_Format(PyExc_ValueError, "%s(): argument '%s' is too large for a float", func, name);
        return -1;
    }
    *value = v;
    return 0;
}

int gaba_py_choice(PyObject *obj, const char *func, const char *name, const char *const *choices) {
    if (obj == Py_None) return 0;
    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument '%s' must be a str or None, got %s", func,
                     name, Py_TYPE(obj)->tp_name);
        return -1;
    }
    const char *text = PyUnicode_AsUTF8(obj);
    if (!text) return -1;
    for (int i = 0; choices[i]; i++)
        if (strcmp(text, choices[i]) == 0) return i;
    // Only a failed call pays for formatting (snprintf is ~0.1 us a call).
    char allowed[256] = "";
    for (int i = 0; choices[i]; i++) {
        size_t used = strlen(allowed);
        snprintf(allowed + used, sizeof allowed - used, i ? ", '%s'" : "'%s'", choices[i]);
    }
    PyErr_Format(PyExc_ValueError, "%s(): argument '%s' must be one of %s, got '%s'", func, name,
                 allowed, text);
    return -1;
}
