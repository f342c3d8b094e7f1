// py_gemm.c - binding of gaba_gemm_f32. Glue only: parse, check every array
// (dtype, ndim, shapes, writeable and non-overlapping out), convert NumPy
// byte strides to element strides, release the GIL for real work, map the
// status. C-ordered, F-ordered and strided views go to the kernel as they
// are; only misaligned or byte-swapped inputs are copied. Long products can
// be stopped with Ctrl-C (py_interrupt.h).
#include "py_common.h"
#include "py_interrupt.h"

#include "gaba/gemm.h"

#include <string.h>

// Below this many multiply-adds the GIL round trip costs more than it frees.
#define GIL_RELEASE_MACS (1 << 16)
// From this many multiply-adds on (a few ms; the reference runs 50x slower)
// a Ctrl-C stops the product: watching for it costs a few us a call (three
// sigaction calls; not measurable against 1 ms of "ref" work).
#define INTERRUPTIBLE_MACS (1 << 26)
#define INTERRUPTIBLE_MACS_REF (1 << 20)

static const char *const activation_names[] = {"none", "relu", "relu6", NULL};
static const char *const backend_names[] = {"auto", "ref", "openblas", "native", NULL};

// A bool-like argument (True/False/0/1), or -1 with TypeError set.
static int flag_arg(PyObject *obj, const char *func, const char *name) {
    if (obj == Py_True || obj == Py_False) return obj == Py_True;
    if (PyLong_Check(obj)) {
        int overflow;
        long v = PyLong_AsLongAndOverflow(obj, &overflow);
        if (!overflow && (v == 0 || v == 1)) return (int)v;
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
    double alpha, beta;
    if (gaba_py_double(args[3], func, "alpha", &alpha) ||
        gaba_py_double(args[4], func, "beta", &beta))
        return NULL;
    int trans_a = flag_arg(args[5], func, "trans_a");
    if (trans_a < 0) return NULL;
    int trans_b = flag_arg(args[6], func, "trans_b");
    if (trans_b < 0) return NULL;
    int act = gaba_py_choice(args[8], func, "activation", activation_names);
    if (act < 0) return NULL;
    int backend = gaba_py_choice(args[9], func, "backend", backend_names);
    if (backend < 0) return NULL;

    if (!(a = gaba_py_array(args[0], func, "a", NPY_FLOAT32, 2, 3, GABA_PY_INPUT))) goto done;
    if (!(b = gaba_py_array(args[1], func, "b", NPY_FLOAT32, 2, 3, GABA_PY_INPUT))) goto done;
    int nd_a = PyArray_NDIM(a), nd_b = PyArray_NDIM(b);
    // Axes of M, K in a and of K, N in b (swapped by the transposes).
    int ax_m = nd_a - 2 + trans_a, ax_ka = nd_a - 1 - trans_a;
    int ax_kb = nd_b - 2 + trans_b, ax_n = nd_b - 1 - trans_b;
    npy_intp m = PyArray_DIM(a, ax_m), k = PyArray_DIM(a, ax_ka), n = PyArray_DIM(b, ax_n);
    char what[32]; // formatted only for an error message (snprintf costs ~0.2 us)
    if (PyArray_DIM(b, ax_kb) != k) {
        snprintf(what, sizeof what, "a.shape[%d]", ax_ka);
        gaba_py_check_dim(b, func, "b", ax_kb, k, what);
        goto done;
    }
    npy_intp batch_a = nd_a == 3 ? PyArray_DIM(a, 0) : 1,
             batch_b = nd_b == 3 ? PyArray_DIM(b, 0) : 1;
    if (batch_a != batch_b && batch_a != 1 && batch_b != 1) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): batch sizes of 'a' (%ld) and 'b' (%ld) do not broadcast; "
                     "they must be equal or one of them 1",
                     func, (long)batch_a, (long)batch_b);
        goto done;
    }
    int nd_c = nd_a > nd_b ? nd_a : nd_b;
    npy_intp batch = batch_a == 1 ? batch_b : batch_a;
    bias = gaba_py_array(args[7], func, "bias", NPY_FLOAT32, 1, 1, GABA_PY_OPTIONAL);
    if (PyErr_Occurred()) goto done;
    if (bias && PyArray_DIM(bias, 0) != n) {
        snprintf(what, sizeof what, "b.shape[%d]", ax_n);
        gaba_py_check_dim(bias, func, "bias", 0, n, what);
        goto done;
    }

    npy_intp dims[3] = {batch, m, n};
    npy_intp *dims_c = nd_c == 3 ? dims : dims + 1;
    if (args[2] == Py_None) {
        if (beta != 0.0) {
            PyErr_Format(PyExc_ValueError,
                         "%s(): beta=%R needs an existing 'out' to scale; pass out=", func,
                         args[4]);
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
    int64_t bs_a = nd_a == 3 && batch_a > 1 ? sa[0] : 0,
            bs_b = nd_b == 3 && batch_b > 1 ? sb[0] : 0;
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
    double macs = (double)batch * (double)m * (double)n * (double)k;
    int release = macs >= GIL_RELEASE_MACS;
    int interruptible =
        macs >= (backend == GABA_GEMM_REF ? INTERRUPTIBLE_MACS_REF : INTERRUPTIBLE_MACS);
    gaba_py_unlocked gil;
    if (release && gaba_py_unlock(&gil, interruptible) < 0) goto done;
    gaba_status status = gaba_gemm_f32_batched(
        (gaba_gemm_backend)backend, batch, m, n, k, (float)alpha, PyArray_DATA(a), bs_a, rs_a, cs_a,
        PyArray_DATA(b), bs_b, rs_b, cs_b, (float)beta, PyArray_DATA(out), bs_c, rs_c, cs_c,
        bias_data, (gaba_act)act);
    if (release) gaba_py_relock(&gil);
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
    long threads;
    double seconds;
    if (gaba_py_long(args[0], "peak_gflops", "threads", 1, GABA_MAX_THREADS, &threads) ||
        gaba_py_double(args[1], "peak_gflops", "seconds", &seconds))
        return NULL;
    double gflops = 0.0;
    gaba_status status;
    Py_BEGIN_ALLOW_THREADS
    status = gaba_gemm_peak_gflops((int)threads, seconds, &gflops);
    Py_END_ALLOW_THREADS
    if (status != GABA_OK) return gaba_py_raise(status, "peak_gflops");
    return PyFloat_FromDouble(gflops);
}

// ---- the selector and tuning hooks (gaba/tune.py) ---------------------------------

// gemm_auto_class(m, n, k) -> class name
static PyObject *py_gemm_auto_class(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char *const names[3] = {"m", "n", "k"};
    long v[3];
    if (nargs != 3) return PyErr_Format(PyExc_TypeError, "_gaba.gemm_auto_class takes 3 arguments");
    for (int i = 0; i < 3; i++)
        if (gaba_py_long(args[i], "gemm_auto_class", names[i], 0, LONG_MAX, &v[i])) return NULL;
    return PyUnicode_FromString(gaba_gemm_auto_class_name(gaba_gemm_auto_class(v[0], v[1], v[2])));
}

// (class index, threads), as gemm_auto_get/set take them.
static int class_args(PyObject *const *args, const char *func, long *shape_class, long *threads) {
    return gaba_py_long(args[0], func, "class", 0, GABA_GEMM_CLASSES - 1, shape_class) ||
           gaba_py_long(args[1], func, "threads", 1, GABA_MAX_THREADS, threads);
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
    long shape_class, threads;
    if (nargs != 2) return PyErr_Format(PyExc_TypeError, "_gaba.gemm_auto_get takes 2 arguments");
    if (class_args(args, "gemm_auto_get", &shape_class, &threads)) return NULL;
    return PyUnicode_FromString(backend_names[gaba_gemm_auto_get((int)shape_class, (int)threads)]);
}

// gemm_auto_set(class_index, threads, backend name)
static PyObject *py_gemm_auto_set(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    long shape_class, threads;
    if (nargs != 3) return PyErr_Format(PyExc_TypeError, "_gaba.gemm_auto_set takes 3 arguments");
    if (class_args(args, "tune", &shape_class, &threads)) return NULL;
    int backend = gaba_py_choice(args[2], "tune", "backend", backend_names);
    if (backend < 0) return NULL;
    gaba_status status =
        gaba_gemm_auto_set((int)shape_class, (int)threads, (gaba_gemm_backend)backend);
    if (status != GABA_OK) return gaba_py_raise(status, "tune");
    Py_RETURN_NONE;
}

// gemm_native_set_threads(n): 0 = the built-in rule
static PyObject *py_gemm_native_set_threads(PyObject *self, PyObject *arg) {
    long n;
    if (gaba_py_long(arg, "gemm_native_set_threads", "threads", 0, GABA_MAX_THREADS, &n))
        return NULL;
    gaba_gemm_native_set_threads((int)n);
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

// ---- int8 -----------------------------------------------------------------------------

// gemm_s8(a, b, out): a uint8 or int8 (M, K), b int8 (K, N), out int32 or None.
static PyObject *py_gemm_s8(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "gemm_s8";
    if (nargs != 3) return PyErr_Format(PyExc_TypeError, "_gaba.gemm_s8 takes 3 arguments");
    PyArrayObject *a = NULL, *b = NULL, *out = NULL;
    PyObject *result = NULL;
    int a_type = PyArray_Check(args[0]) ? PyArray_TYPE((PyArrayObject *)args[0]) : NPY_UINT8;
    if (a_type != NPY_UINT8 && a_type != NPY_INT8) {
        const char *name = PyArray_DESCR((PyArrayObject *)args[0])->typeobj->tp_name;
        const char *dot = strrchr(name, '.');
        return PyErr_Format(PyExc_TypeError,
                            "%s(): argument 'a' must have dtype uint8 or int8, got %s", func,
                            dot ? dot + 1 : name);
    }
    if (!(a = gaba_py_array(args[0], func, "a", a_type, 2, 2, GABA_PY_INPUT))) goto done;
    if (!(b = gaba_py_array(args[1], func, "b", NPY_INT8, 2, 2, GABA_PY_INPUT))) goto done;
    npy_intp m = PyArray_DIM(a, 0), k = PyArray_DIM(a, 1), n = PyArray_DIM(b, 1);
    if (gaba_py_check_dim(b, func, "b", 0, k, "a.shape[1]")) goto done;
    if (args[2] == Py_None) {
        npy_intp dims[2] = {m, n};
        if (!(out = (PyArrayObject *)PyArray_SimpleNew(2, dims, NPY_INT32))) goto done;
    } else if (!(out = gaba_py_array(args[2], func, "out", NPY_INT32, 2, 2, GABA_PY_OUTPUT)) ||
               gaba_py_check_dim(out, func, "out", 0, m, "a.shape[0]") ||
               gaba_py_check_dim(out, func, "out", 1, n, "b.shape[1]") ||
               gaba_py_check_no_overlap(out, a, func, "out", "a") ||
               gaba_py_check_no_overlap(out, b, func, "out", "b")) {
        goto done;
    }
    int64_t sa[2], sb[2], sc[2];
    gaba_py_strides(a, sa);
    gaba_py_strides(b, sb);
    gaba_py_strides(out, sc);
    gaba_status status;
    // int8 runs about 4x the float32 rate.
    double macs = (double)m * (double)n * (double)k;
    int release = macs >= 4.0 * GIL_RELEASE_MACS;
    gaba_py_unlocked gil;
    if (release && gaba_py_unlock(&gil, macs >= 4.0 * INTERRUPTIBLE_MACS) < 0) goto done;
    if (a_type == NPY_UINT8)
        status = gaba_gemm_u8s8s32(m, n, k, PyArray_DATA(a), sa[0], sa[1], PyArray_DATA(b), sb[0],
                                   sb[1], PyArray_DATA(out), sc[0], sc[1]);
    else
        status = gaba_gemm_s8s8s32(m, n, k, PyArray_DATA(a), sa[0], sa[1], PyArray_DATA(b), sb[0],
                                   sb[1], PyArray_DATA(out), sc[0], sc[1]);
    if (release) gaba_py_relock(&gil);
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
    return result;
}

// quantize_multiplier(real) -> (multiplier, shift) for one float.
static PyObject *py_quantize_multiplier(PyObject *self, PyObject *arg) {
    double real;
    if (gaba_py_double(arg, "quantize_multiplier", "real", &real)) return NULL;
    int32_t multiplier, shift;
    if (gaba_gemm_quantize_multiplier(real, &multiplier, &shift) != GABA_OK)
        return PyErr_Format(
            PyExc_ValueError,
            "quantize_multiplier(): argument 'real' must be finite and >= 0, got %R", arg);
    return Py_BuildValue("(ii)", (int)multiplier, (int)shift);
}

// requantize(acc, multiplier, shift, zero_point, bias, act_min, act_max, out)
static PyObject *py_requantize(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "requantize";
    if (nargs != 8) return PyErr_Format(PyExc_TypeError, "_gaba.requantize takes 8 arguments");
    PyArrayObject *acc = NULL, *mult = NULL, *shift = NULL, *bias = NULL, *out = NULL;
    PyObject *result = NULL;
    long zero_point, act_min, act_max;
    if (gaba_py_long(args[3], func, "zero_point", -128, 127, &zero_point) ||
        gaba_py_long(args[5], func, "act_min", -128, 127, &act_min) ||
        gaba_py_long(args[6], func, "act_max", -128, 127, &act_max))
        return NULL;
    if (act_min > act_max)
        return PyErr_Format(PyExc_ValueError, "%s(): need act_min <= act_max, got %ld > %ld", func,
                            act_min, act_max);
    if (!(acc = gaba_py_array(args[0], func, "acc", NPY_INT32, 2, 2, GABA_PY_INPUT))) goto done;
    npy_intp m = PyArray_DIM(acc, 0), n = PyArray_DIM(acc, 1);
    if (!(mult = gaba_py_array(args[1], func, "multiplier", NPY_INT32, 1, 1, GABA_PY_CONTIGUOUS)) ||
        !(shift = gaba_py_array(args[2], func, "shift", NPY_INT32, 1, 1, GABA_PY_CONTIGUOUS)))
        goto done;
    npy_intp channels = PyArray_DIM(mult, 0);
    if (channels != 1 && gaba_py_check_dim(mult, func, "multiplier", 0, n, "acc.shape[1], or 1"))
        goto done;
    if (gaba_py_check_dim(shift, func, "shift", 0, channels, "multiplier.shape[0]")) goto done;
    bias = gaba_py_array(args[4], func, "bias", NPY_INT32, 1, 1,
                         GABA_PY_OPTIONAL | GABA_PY_CONTIGUOUS);
    if (PyErr_Occurred() || (bias && gaba_py_check_dim(bias, func, "bias", 0, n, "acc.shape[1]")))
        goto done;
    if (args[7] == Py_None) {
        npy_intp dims[2] = {m, n};
        if (!(out = (PyArrayObject *)PyArray_SimpleNew(2, dims, NPY_INT8))) goto done;
    } else if (!(out = gaba_py_array(args[7], func, "out", NPY_INT8, 2, 2, GABA_PY_OUTPUT)) ||
               gaba_py_check_dim(out, func, "out", 0, m, "acc.shape[0]") ||
               gaba_py_check_dim(out, func, "out", 1, n, "acc.shape[1]") ||
               gaba_py_check_no_overlap(out, acc, func, "out", "acc")) {
        goto done;
    }
    int64_t sa[2], so[2];
    gaba_py_strides(acc, sa);
    gaba_py_strides(out, so);
    gaba_status status = gaba_gemm_requantize_s32_s8(
        m, n, PyArray_DATA(acc), sa[0], sa[1], bias ? PyArray_DATA(bias) : NULL, PyArray_DATA(mult),
        PyArray_DATA(shift), channels != 1 || n == 1, (int32_t)zero_point, (int32_t)act_min,
        (int32_t)act_max, PyArray_DATA(out), so[0], so[1]);
    if (status != GABA_OK) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): every shift must be in -31..31 and every multiplier >= 0", func);
        goto done;
    }
    result = (PyObject *)out;
    Py_INCREF(result);
done:
    Py_XDECREF(acc);
    Py_XDECREF(mult);
    Py_XDECREF(shift);
    Py_XDECREF(bias);
    Py_XDECREF(out);
    return result;
}

// gemm_s8_kernel(name or None) -> the kernel in use (after forcing `name`)
static PyObject *py_gemm_s8_kernel(PyObject *self, PyObject *arg) {
    if (arg != Py_None) {
        const char *name = PyUnicode_AsUTF8(arg);
        if (!name) return NULL;
        gaba_status status = gaba_gemm_s8_use_kernel(name);
        if (status != GABA_OK) return gaba_py_raise(status, "gemm_s8_kernel");
    }
    return PyUnicode_FromString(gaba_gemm_s8_kernel_name());
}

PyMethodDef gaba_py_gemm_methods[] = {
    {"gemm_s8_kernel", py_gemm_s8_kernel, METH_O, NULL},
    {"gemm_s8", (PyCFunction)(void (*)(void))py_gemm_s8, METH_FASTCALL, "See gaba.gemm_s8."},
    {"quantize_multiplier", py_quantize_multiplier, METH_O, "See gaba.quantize_multiplier."},
    {"requantize", (PyCFunction)(void (*)(void))py_requantize, METH_FASTCALL,
     "See gaba.requantize."},
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
