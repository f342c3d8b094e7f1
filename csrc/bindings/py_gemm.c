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

// A bool-like argument (True/False/0/1), or -1 with TypeError set.
static int flag_arg(PyObject *obj, const char *func, const char *name) {
    if (obj == Py_True || obj == Py_False) return obj == Py_True;
    if (PyLong_Check(obj)) {
        long v = PyLong_AsLong(obj);
        if (v == 0 || v == 1) return (int)v;
    }
    PyErr_Format(PyExc_TypeError, "%s(): argument '%s' must be a bool, got %s", func, name,
                 Py_TYPE(obj)->tp_name);
    return -1;
}

// gemm(a, b, out, alpha, beta, trans_a, trans_b, bias, activation, backend),
// all positional: gaba/gemm.py owns the keywords, defaults and the docstring.
// a and b are 2-D or 3-D; a leading batch axis broadcasts (size 1 or absent
// on one side), as numpy.matmul does.
static PyObject *py_gemm(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "gemm";
    if (nargs != 10) return PyErr_Format(PyExc_TypeError, "_gaba.gemm takes 10 arguments");
    PyArrayObject *a = NULL, *b = NULL, *out = NULL, *bias = NULL;
    PyObject *result = NULL;
    double alpha = PyFloat_AsDouble(args[3]);
    if (alpha == -1.0 && PyErr_Occurred()) return NULL;
    double beta = PyFloat_AsDouble(args[4]);
    if (beta == -1.0 && PyErr_Occurred()) return NULL;
    int trans_a = flag_arg(args[5], func, "trans_a");
    if (trans_a < 0) return NULL;
    int trans_b = flag_arg(args[6], func, "trans_b");
    if (trans_b < 0) return NULL;
    int act = gaba_py_choice(args[8], func, "activation", activation_names);
    int backend = gaba_py_choice(args[9], func, "backend", backend_names);
    if (act < 0 || backend < 0) return NULL;

    if (!(a = gaba_py_array(args[0], func, "a", NPY_FLOAT32, 2, 3, GABA_PY_INPUT))) goto done;
    if (!(b = gaba_py_array(args[1], func, "b", NPY_FLOAT32, 2, 3, GABA_PY_INPUT))) goto done;
    int nd_a = PyArray_NDIM(a), nd_b = PyArray_NDIM(b);
    // Axes of M, K in a and of K, N in b (swapped by the transposes).
    int ax_m = nd_a - 2 + trans_a, ax_ka = nd_a - 1 - trans_a;
    int ax_kb = nd_b - 2 + trans_b, ax_n = nd_b - 1 - trans_b;
    npy_intp m = PyArray_DIM(a, ax_m), k = PyArray_DIM(a, ax_ka), n = PyArray_DIM(b, ax_n);
    char what[32];
    snprintf(what, sizeof what, "a.shape[%d]", ax_ka);
    if (gaba_py_check_dim(b, func, "b", ax_kb, k, what)) goto done;
    npy_intp batch_a = nd_a == 3 ? PyArray_DIM(a, 0) : 1, batch_b = nd_b == 3 ? PyArray_DIM(b, 0) : 1;
    if (batch_a != batch_b && batch_a != 1 && batch_b != 1) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): batch sizes of 'a' (%ld) and 'b' (%ld) do not broadcast; "
                     "they must be equal or one of them 1", func, (long)batch_a, (long)batch_b);
        goto done;
    }
    int nd_c = nd_a > nd_b ? nd_a : nd_b;
    npy_intp batch = batch_a == 1 ? batch_b : batch_a;
    snprintf(what, sizeof what, "b.shape[%d]", ax_n);
    bias = gaba_py_array(args[7], func, "bias", NPY_FLOAT32, 1, 1, GABA_PY_OPTIONAL);
    if (PyErr_Occurred() || (bias && gaba_py_check_dim(bias, func, "bias", 0, n, what)))
        goto done;

    npy_intp dims[3] = {batch, m, n};
    npy_intp *dims_c = nd_c == 3 ? dims : dims + 1;
    if (args[2] == Py_None) {
        if (beta != 0.0) {
            PyErr_Format(PyExc_ValueError,
                         "%s(): beta=%g needs an existing 'out' to scale; pass out=", func, beta);
            goto done;
        }
        out = (PyArrayObject *)PyArray_SimpleNew(nd_c, dims_c, NPY_FLOAT32);
        if (!out) goto done;
    } else {
        out = gaba_py_array(args[2], func, "out", NPY_FLOAT32, nd_c, nd_c, GABA_PY_OUTPUT);
        if (!out) goto done;
        for (int axis = 0; axis < nd_c; axis++) {
            static const char *const from[3] = {"the batch size", "M", "N"};
            if (gaba_py_check_dim(out, func, "out", axis, dims_c[axis], from[axis + 3 - nd_c]))
                goto done;
        }
        if (gaba_py_check_no_overlap(out, a, func, "out", "a") ||
            gaba_py_check_no_overlap(out, b, func, "out", "b") ||
            (bias && gaba_py_check_no_overlap(out, bias, func, "out", "bias")))
            goto done;
    }

    int64_t sa[3], sb[3], sc[3];
    gaba_py_strides(a, sa);
    gaba_py_strides(b, sb);
    gaba_py_strides(out, sc);
    // Element strides as (batch, row, column) of op(A), op(B) and C; a
    // missing or size-1 batch axis gets stride 0 (broadcast).
    int64_t bs_a = nd_a == 3 && batch_a > 1 ? sa[0] : 0, bs_b = nd_b == 3 && batch_b > 1 ? sb[0] : 0;
    int64_t rs_a = sa[ax_m], cs_a = sa[ax_ka], rs_b = sb[ax_kb], cs_b = sb[ax_n];
    int64_t bs_c = nd_c == 3 ? sc[0] : 0, rs_c = sc[nd_c - 2], cs_c = sc[nd_c - 1];
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
    int release = (double)batch * (double)m * (double)n * (double)k >= GIL_RELEASE_MACS;
    PyThreadState *state = release ? PyEval_SaveThread() : NULL;
    status = gaba_gemm_f32_batched((gaba_gemm_backend)backend, batch, m, n, k, (float)alpha,
                                   PyArray_DATA(a), bs_a, rs_a, cs_a, PyArray_DATA(b), bs_b,
                                   rs_b, cs_b, (float)beta, PyArray_DATA(out), bs_c, rs_c, cs_c,
                                   bias_data, (gaba_act)act);
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

// peak_gflops(threads, seconds) -> float
static PyObject *py_peak_gflops(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) return PyErr_Format(PyExc_TypeError, "_gaba.peak_gflops takes 2 arguments");
    long threads = PyLong_AsLong(args[0]);
    if (threads == -1 && PyErr_Occurred()) return NULL;
    double seconds = PyFloat_AsDouble(args[1]);
    if (seconds == -1.0 && PyErr_Occurred()) return NULL;
    if (threads < 1 || threads > GABA_MAX_THREADS)
        return PyErr_Format(PyExc_ValueError,
                            "peak_gflops(): argument 'threads' must be in 1..%d, got %ld",
                            GABA_MAX_THREADS, threads);
    double gflops = 0.0;
    gaba_status status;
    Py_BEGIN_ALLOW_THREADS
    status = gaba_gemm_peak_gflops((int)threads, seconds, &gflops);
    Py_END_ALLOW_THREADS
    if (status != GABA_OK) return gaba_py_raise(status, "peak_gflops");
    return PyFloat_FromDouble(gflops);
}

// ---- the selector and tuning hooks (gaba/tune.py) ---------------------------------

static int size_args(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t want, long long *out,
                     const char *func) {
    if (nargs != want) {
        PyErr_Format(PyExc_TypeError, "_gaba.%s takes %zd arguments", func, want);
        return -1;
    }
    for (Py_ssize_t i = 0; i < want; i++) {
        out[i] = PyLong_AsLongLong(args[i]);
        if (out[i] == -1 && PyErr_Occurred()) return -1;
    }
    return 0;
}

// gemm_auto_class(m, n, k) -> class name
static PyObject *py_gemm_auto_class(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    long long v[3];
    if (size_args(args, nargs, 3, v, "gemm_auto_class")) return NULL;
    return PyUnicode_FromString(gaba_gemm_auto_class_name(gaba_gemm_auto_class(v[0], v[1], v[2])));
}

// gemm_auto_classes() -> tuple of class names, in class order
static PyObject *py_gemm_auto_classes(PyObject *self, PyObject *unused) {
    PyObject *names = PyTuple_New(GABA_GEMM_CLASSES);
    for (int i = 0; names && i < GABA_GEMM_CLASSES; i++) {
        PyObject *name = PyUnicode_FromString(gaba_gemm_auto_class_name(i));
        if (!name) {
            Py_CLEAR(names);
            break;
        }
        PyTuple_SET_ITEM(names, i, name);
    }
    return names;
}

// gemm_auto_get(class_index, threads) -> backend name
static PyObject *py_gemm_auto_get(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    long long v[2];
    if (size_args(args, nargs, 2, v, "gemm_auto_get")) return NULL;
    return PyUnicode_FromString(backend_names[gaba_gemm_auto_get((int)v[0], (int)v[1])]);
}

// gemm_auto_set(class_index, threads, backend name)
static PyObject *py_gemm_auto_set(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    long long v[2];
    if (nargs != 3) return PyErr_Format(PyExc_TypeError, "_gaba.gemm_auto_set takes 3 arguments");
    if (size_args(args, 2, 2, v, "gemm_auto_set")) return NULL;
    int backend = gaba_py_choice(args[2], "tune", "backend", backend_names);
    if (backend < 0) return NULL;
    if (v[0] < 0 || v[0] >= GABA_GEMM_CLASSES || v[1] < 1 || v[1] > GABA_MAX_THREADS)
        return PyErr_Format(PyExc_ValueError, "tune(): no shape class %lld for %lld threads",
                            v[0], v[1]);
    gaba_status status = gaba_gemm_auto_set((int)v[0], (int)v[1], (gaba_gemm_backend)backend);
    if (status != GABA_OK) return gaba_py_raise(status, "tune");
    Py_RETURN_NONE;
}

// gemm_native_set_threads(n): 0 = the built-in rule
static PyObject *py_gemm_native_set_threads(PyObject *self, PyObject *arg) {
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) return NULL;
    gaba_gemm_native_set_threads(n < 0 ? 0 : (int)n);
    Py_RETURN_NONE;
}

static PyObject *py_gemm_native_blocks(PyObject *self, PyObject *unused) {
    int64_t kc, mc, nc;
    int mr, nr;
    gaba_status status = gaba_runtime_init();
    if (status != GABA_OK) return gaba_py_raise(status, "info");
    gaba_gemm_native_blocks(&kc, &mc, &nc, &mr, &nr);
    return Py_BuildValue("{sisisLsLsL}", "mr", mr, "nr", nr, "kc", (long long)kc, "mc",
                         (long long)mc, "nc", (long long)nc);
}

// gemm_machine() -> (cpu brand, active ISA): what a tuning table was measured
// on, without loading OpenBLAS (build_info would).
static PyObject *py_gemm_machine(PyObject *self, PyObject *unused) {
    return Py_BuildValue("(ss)", gaba_cpu()->brand, gaba_isa_name(gaba_isa_active()));
}

PyMethodDef gaba_py_gemm_methods[] = {
    {"gemm_machine", py_gemm_machine, METH_NOARGS, NULL},
    {"gemm_auto_class", (PyCFunction)(void (*)(void))py_gemm_auto_class, METH_FASTCALL, NULL},
    {"gemm_auto_classes", py_gemm_auto_classes, METH_NOARGS, NULL},
    {"gemm_auto_get", (PyCFunction)(void (*)(void))py_gemm_auto_get, METH_FASTCALL, NULL},
    {"gemm_auto_set", (PyCFunction)(void (*)(void))py_gemm_auto_set, METH_FASTCALL, NULL},
    {"gemm_native_set_threads", py_gemm_native_set_threads, METH_O, NULL},
    {"gemm_native_blocks", py_gemm_native_blocks, METH_NOARGS, NULL},
    {"peak_gflops", (PyCFunction)(void (*)(void))py_peak_gflops, METH_FASTCALL,
     "See gaba.peak_gflops."},
    {"gemm", (PyCFunction)(void (*)(void))py_gemm, METH_FASTCALL, "See gaba.gemm."},
    {NULL, NULL, 0, NULL},
};
