// py_prune.c - bindings of the pruning family (gaba/prune.h). Glue only:
// take the weights as a dense C-order float32 array (copied when not),
// allocate `pruned` (float32) and `mask` (bool) of the same shape, release
// the GIL, map the status. gaba/prune.py computes k and the slice geometry.
#include "py_common.h"

#include "gaba/prune.h"

#include <limits.h>

#define GIL_RELEASE_ELEMENTS (1 << 14)

// Parses `count` integer arguments starting at args[first], each 0..LONG_MAX.
static int int_args(const char *func, PyObject *const *args, int first, int count,
                    const char *const *names, int64_t *values) {
    for (int i = 0; i < count; i++) {
        long v;
        if (gaba_py_long(args[first + i], func, names[i], 0, LONG_MAX, &v)) return -1;
        values[i] = v;
    }
    return 0;
}

// 1 when (outer, d, inner) splits the shape of `w` at one of its axes.
static int splits_shape(PyArrayObject *w, const int64_t *v) {
    for (int axis = 0; axis < PyArray_NDIM(w); axis++) {
        int64_t outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= PyArray_DIM(w, i);
        for (int i = axis + 1; i < PyArray_NDIM(w); i++) inner *= PyArray_DIM(w, i);
        if (outer == v[0] && PyArray_DIM(w, axis) == v[1] && inner == v[2]) return 1;
    }
    return 0;
}

typedef enum { UNSTRUCTURED, STRUCTURED, NM } prune_kind;

static PyObject *prune_common(const char *func, prune_kind kind, PyObject *const *args,
                              Py_ssize_t nargs, Py_ssize_t want) {
    if (nargs != want)
        return PyErr_Format(PyExc_TypeError, "_gaba.%s takes %d arguments", func, (int)want);
    static const char *const names[3][4] = {{"k"}, {"outer", "d", "inner", "k"}, {"keep_n", "m"}};
    int64_t v[4];
    if (int_args(func, args, 1, (int)want - 1, names[kind], v)) return NULL;
    PyArrayObject *w = gaba_py_array(args[0], "magnitude_prune", "w", NPY_FLOAT32, 0, NPY_MAXDIMS,
                                     GABA_PY_INPUT | GABA_PY_CONTIGUOUS);
    if (!w) return NULL;
    if (kind == STRUCTURED && !splits_shape(w, v)) {
        Py_DECREF(w);
        return PyErr_Format(PyExc_ValueError,
                            "%s(): (outer, d, inner) must split the shape of 'w' at one axis",
                            func);
    }
    PyObject *result = NULL;
    PyArrayObject *out =
        (PyArrayObject *)PyArray_SimpleNew(PyArray_NDIM(w), PyArray_DIMS(w), NPY_FLOAT32);
    PyArrayObject *mask =
        (PyArrayObject *)PyArray_SimpleNew(PyArray_NDIM(w), PyArray_DIMS(w), NPY_BOOL);
    if (!out || !mask) goto done;
    npy_intp size = PyArray_SIZE(w);
    const float *x = PyArray_DATA(w);
    float *o = PyArray_DATA(out);
    uint8_t *mk = PyArray_DATA(mask);
    gaba_status status = GABA_ERR_ARG;
    PyThreadState *state = size >= GIL_RELEASE_ELEMENTS ? PyEval_SaveThread() : NULL;
    switch (kind) {
    case UNSTRUCTURED: status = gaba_prune_magnitude_f32(size, v[0], x, o, mk); break;
    case STRUCTURED:
        status = gaba_prune_structured_f32(v[0], v[1], v[2], v[3], x, o, mk, NULL);
        break;
    case NM:
        status = v[1] > 0 && size % v[1] == 0 ? gaba_prune_nm_f32(size / v[1], v[0], v[1], x, o, mk)
                                              : GABA_ERR_SHAPE;
        break;
    }
    if (state) PyEval_RestoreThread(state);
    if (status != GABA_OK) {
        gaba_py_raise(status, "magnitude_prune");
        goto done;
    }
    result = PyTuple_Pack(2, out, mask);
done:
    Py_DECREF(w);
    Py_XDECREF(out);
    Py_XDECREF(mask);
    return result;
}

// prune_magnitude(w, k)
static PyObject *py_prune_magnitude(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return prune_common("prune_magnitude", UNSTRUCTURED, args, nargs, 2);
}

// prune_structured(w, outer, d, inner, k)
static PyObject *py_prune_structured(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return prune_common("prune_structured", STRUCTURED, args, nargs, 5);
}

// prune_nm(w, keep_n, m)
static PyObject *py_prune_nm(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    return prune_common("prune_nm", NM, args, nargs, 3);
}

PyMethodDef gaba_py_prune_methods[] = {
    {"prune_magnitude", (PyCFunction)(void (*)(void))py_prune_magnitude, METH_FASTCALL,
     "See gaba.magnitude_prune."},
    {"prune_structured", (PyCFunction)(void (*)(void))py_prune_structured, METH_FASTCALL,
     "See gaba.magnitude_prune."},
    {"prune_nm", (PyCFunction)(void (*)(void))py_prune_nm, METH_FASTCALL,
     "See gaba.magnitude_prune."},
    {NULL, NULL, 0, NULL},
};
