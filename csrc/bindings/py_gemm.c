// py_gemm.c - binding of gaba_gemm_f32. Glue only: parse, check every array
// (dtype, ndim, shapes, writeable and non-overlapping out), convert NumPy
// byte strides to element strides, release the GIL for real work, map the
// status. C-ordered, F-ordered and strided views go to the kernel as they
// are; only misaligned or byte-swapped inputs are copied.
#include "py_common.h"

#include "gaba/gemm.h"

// Below this many multiply-adds the GIL round trip costs more than it frees.
#define GIL_RELEASE_MACS (1 << 16)

static const char *const activation_names[] = {"none", "relu", "relu6", NULL};
static const char *const backend_names[] = {"auto", "ref", "openblas", "native", NULL};

// gemm(a, b, out, alpha, beta, bias, activation, backend), all positional:
// gaba/gemm.py owns the keywords, defaults and the docstring.
static PyObject *py_gemm(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "gemm";
    if (nargs != 8) return PyErr_Format(PyExc_TypeError, "_gaba.gemm takes 8 arguments");
    PyArrayObject *a = NULL, *b = NULL, *out = NULL, *bias = NULL;
    PyObject *result = NULL;
    double alpha = PyFloat_AsDouble(args[3]);
    if (alpha == -1.0 && PyErr_Occurred()) return NULL;
    double beta = PyFloat_AsDouble(args[4]);
    if (beta == -1.0 && PyErr_Occurred()) return NULL;
    int act = gaba_py_choice(args[6], func, "activation", activation_names);
    int backend = gaba_py_choice(args[7], func, "backend", backend_names);
    if (act < 0 || backend < 0) return NULL;

    if (!(a = gaba_py_array(args[0], func, "a", NPY_FLOAT32, 2, 2, GABA_PY_INPUT))) goto done;
    if (!(b = gaba_py_array(args[1], func, "b", NPY_FLOAT32, 2, 2, GABA_PY_INPUT))) goto done;
    npy_intp m = PyArray_DIM(a, 0), k = PyArray_DIM(a, 1), n = PyArray_DIM(b, 1);
    if (gaba_py_check_dim(b, func, "b", 0, k, "a.shape[1]")) goto done;
    bias = gaba_py_array(args[5], func, "bias", NPY_FLOAT32, 1, 1, GABA_PY_OPTIONAL);
    if (PyErr_Occurred() || (bias && gaba_py_check_dim(bias, func, "bias", 0, n, "b.shape[1]")))
        goto done;

    if (args[2] == Py_None) {
        if (beta != 0.0) {
            PyErr_Format(PyExc_ValueError,
                         "%s(): beta=%g needs an existing 'out' to scale; pass out=", func, beta);
            goto done;
        }
        npy_intp dims[2] = {m, n};
        out = (PyArrayObject *)PyArray_SimpleNew(2, dims, NPY_FLOAT32);
        if (!out) goto done;
    } else {
        out = gaba_py_array(args[2], func, "out", NPY_FLOAT32, 2, 2, GABA_PY_OUTPUT);
        if (!out || gaba_py_check_dim(out, func, "out", 0, m, "a.shape[0]") ||
            gaba_py_check_dim(out, func, "out", 1, n, "b.shape[1]") ||
            gaba_py_check_no_overlap(out, a, func, "out", "a") ||
            gaba_py_check_no_overlap(out, b, func, "out", "b") ||
            (bias && gaba_py_check_no_overlap(out, bias, func, "out", "bias")))
            goto done;
    }

    int64_t sa[2], sb[2], sc[2];
    gaba_py_strides(a, sa);
    gaba_py_strides(b, sb);
    gaba_py_strides(out, sc);
    const float *bias_data = bias ? (const float *)PyArray_DATA(bias) : NULL;
    int64_t bias_stride = 1;
    if (bias) gaba_py_strides(bias, &bias_stride);
    if (bias && bias_stride != 1 && n > 1) {
        // The epilogue reads bias with unit stride: give it a dense copy.
        PyArrayObject *dense = (PyArrayObject *)PyArray_NewCopy(bias, NPY_CORDER);
        if (!dense) goto done;
        Py_SETREF(bias, dense);
        bias_data = (const float *)PyArray_DATA(bias);
    }
    gaba_status status;
    int release = (double)m * (double)n * (double)k >= GIL_RELEASE_MACS;
    PyThreadState *state = release ? PyEval_SaveThread() : NULL;
    status = gaba_gemm_f32((gaba_gemm_backend)backend, m, n, k, (float)alpha,
                           PyArray_DATA(a), sa[0], sa[1], PyArray_DATA(b), sb[0], sb[1],
                           (float)beta, PyArray_DATA(out), sc[0], sc[1], bias_data,
                           (gaba_act)act);
    if (release) PyEval_RestoreThread(state);
    if (status != GABA_OK) {
        gaba_py_raise(status, func);
        goto done;
    }
    result = (PyObject *)out;
    Py_INCREF(result);
done:
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(out);
    Py_XDECREF(bias);
    return result;
}

PyMethodDef gaba_py_gemm_methods[] = {
    {"gemm", (PyCFunction)(void (*)(void))py_gemm, METH_FASTCALL, "See gaba.gemm."},
    {NULL, NULL, 0, NULL},
};
