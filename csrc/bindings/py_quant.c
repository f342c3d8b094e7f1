// py_quant.c - bindings of the quantization family (csrc/include/gaba/quant.h).
// Glue only: check arrays, turn (array, axis) into the (outer, channels,
// inner) view the kernels take, release the GIL for large tensors, map the
// status. gaba/quant.py owns keywords, defaults, value checks of scale and
// zero_point, and the docstrings; these take positional arguments. C-ordered
// float32 inputs are read in place; other layouts are copied once.
#include "py_common.h"

#include "gaba/quant.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>

// Below this many elements releasing the GIL costs more than it frees.
#define GIL_RELEASE_ELEMS (1 << 16)

static const char *const rounding_names[] = {"half_even", "half_away", NULL};

// (outer, channels, inner) of a shape split at `axis_obj` (None: per-tensor).
static int split_dims(int ndim, const npy_intp *dims, PyObject *axis_obj, const char *func,
                      int *axis, int64_t *outer, int64_t *channels, int64_t *inner) {
    *axis = -1;
    *outer = 1;
    *channels = 1;
    *inner = 1;
    if (axis_obj != Py_None) {
        if (ndim == 0) {
            PyErr_Format(PyExc_ValueError,
                         "%s(): argument 'axis' must be None for a 0-D array (it has no axes)",
                         func);
            return -1;
        }
        long a;
        if (gaba_py_long(axis_obj, func, "axis", -ndim, ndim - 1, &a)) return -1;
        *axis = (int)(a < 0 ? a + ndim : a);
    }
    for (int i = 0; i < ndim; i++) {
        int64_t d = dims[i];
        if (*axis < 0 || i > *axis)
            *inner *= d;
        else if (i < *axis)
            *outer *= d;
        else
            *channels = d;
    }
    if (*channels == 0) { // an empty channel axis: nothing to quantize, no parameters
        *channels = 1;
        *outer = 0;
    }
    return 0;
}

static int split_axis(PyArrayObject *array, PyObject *axis_obj, const char *func, int *axis,
                      int64_t *outer, int64_t *channels, int64_t *inner) {
    return split_dims(PyArray_NDIM(array), PyArray_DIMS(array), axis_obj, func, axis, outer,
                      channels, inner);
}

// A 1-D C-contiguous parameter array of `dtype` and length `channels`.
static PyArrayObject *param_array(PyObject *obj, const char *func, const char *name, int dtype,
                                  int64_t channels) {
    PyArrayObject *a = gaba_py_array(obj, func, name, dtype, 1, 1, GABA_PY_CONTIGUOUS);
    if (a && PyArray_DIM(a, 0) != channels) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): '%s' has %ld values, but the quantized axis has %ld channels", func,
                     name, (long)PyArray_DIM(a, 0), (long)channels);
        Py_CLEAR(a);
    }
    return a;
}

static PyArrayObject *new_1d(int64_t n, int dtype) {
    npy_intp dims[1] = {(npy_intp)n};
    return (PyArrayObject *)PyArray_SimpleNew(1, dims, dtype);
}

// A new C-contiguous (channels,) array of `dtype` from a number (broadcast) or
// a 1-D array-like of one value per channel.
static PyArrayObject *given_values(PyObject *obj, int dtype, int64_t channels, const char *func,
                                   const char *name) {
    PyArrayObject *a = (PyArrayObject *)PyArray_FROMANY(
        obj, dtype, 0, 1, NPY_ARRAY_CARRAY_RO | NPY_ARRAY_FORCECAST | NPY_ARRAY_ENSURECOPY);
    if (!a) return NULL;
    if (PyArray_NDIM(a) == 0) {
        npy_intp dims[1] = {(npy_intp)channels};
        PyArrayObject *full = (PyArrayObject *)PyArray_SimpleNew(1, dims, dtype);
        if (full && PyArray_FillWithScalar(full, (PyObject *)a) < 0) Py_CLEAR(full);
        Py_DECREF(a);
        return full;
    }
    if (PyArray_DIM(a, 0) != channels) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): %s must be a scalar or hold one value per channel (%ld), got shape "
                     "(%ld,)",
                     func, name, (long)channels, (long)PyArray_DIM(a, 0));
        Py_DECREF(a);
        return NULL;
    }
    return a;
}

// The given scale and zero point, checked: scale finite and > 0 with a finite
// 1/scale; zero_point integral, within [qmin, qmax], and 0 when symmetric.
static int given_qparams(PyObject *scale_obj, PyObject *zp_obj, int64_t channels, int32_t qmin,
                         int32_t qmax, int symmetric, const char *func, PyArrayObject **scale,
                         PyArrayObject **zp) {
    char text[64];
    if (!(*scale = given_values(scale_obj, NPY_FLOAT32, channels, func, "scale"))) return -1;
    const float *s = PyArray_DATA(*scale);
    for (int64_t c = 0; c < channels; c++) {
        float inv = 1.0f / s[c];
        if (!(s[c] > 0.0f) || !isfinite(s[c]) || !isfinite(inv)) {
            snprintf(text, sizeof text, "%.9g", (double)s[c]);
            PyErr_Format(PyExc_ValueError,
                         "%s(): scale must be finite and > 0 (with a finite 1/scale), got %s", func,
                         text);
            return -1;
        }
    }
    if (zp_obj == Py_None && !symmetric) {
        PyErr_Format(PyExc_ValueError, "%s(): symmetric=False with a given scale needs zero_point",
                     func);
        return -1;
    }
    PyArrayObject *z =
        zp_obj == Py_None ? NULL : given_values(zp_obj, NPY_FLOAT64, channels, func, "zero_point");
    if (zp_obj != Py_None && !z) return -1;
    npy_intp dims[1] = {(npy_intp)channels};
    *zp = (PyArrayObject *)PyArray_ZEROS(1, dims, NPY_INT32, 0);
    if (!*zp) {
        Py_XDECREF(z);
        return -1;
    }
    int32_t *out = PyArray_DATA(*zp);
    const double *v = z ? PyArray_DATA(z) : NULL;
    for (int64_t c = 0; v && c < channels; c++) {
        const char *problem = NULL;
        if (!isfinite(v[c]) || v[c] != nearbyint(v[c]))
            problem = "must hold integers";
        else if (v[c] < qmin || v[c] > qmax)
            problem = "out of range";
        else if (symmetric && v[c] != 0.0)
            problem = "symmetric";
        if (problem) {
            snprintf(text, sizeof text, "%.17g", v[c]);
            if (problem[0] == 'm')
                PyErr_Format(PyExc_ValueError, "%s(): zero_point must hold integers, got %s", func,
                             text);
            else if (problem[0] == 'o')
                PyErr_Format(PyExc_ValueError, "%s(): zero_point must lie in [%d, %d], got %s",
                             func, (int)qmin, (int)qmax, text);
            else
                PyErr_Format(PyExc_ValueError,
                             "%s(): symmetric quantization has zero_point 0, got %s; pass "
                             "symmetric=False for an affine grid",
                             func, text);
            Py_DECREF(z);
            return -1;
        }
        out[c] = (int32_t)v[c];
    }
    Py_XDECREF(z);
    return 0;
}

// The error of a failed gaba_quant_qparams_f32: its only numerical failure is
// a range whose width overflows float32: a ValueError with the caller's `hint`.
static void qparams_raise(gaba_status status, const char *func, const char *hint) {
    if (status == GABA_ERR_NUMERIC)
        PyErr_Format(PyExc_ValueError, "%s(): the data's range (max - min) overflows float32; %s",
                     func, hint);
    else
        gaba_py_raise(status, func);
}

// scale, zero_point (new references) from the arguments or, when scale is
// None, from the data by PyTorch's observer rule.
static int get_qparams(PyArrayObject *x, PyObject *scale_obj, PyObject *zp_obj, int64_t outer,
                       int64_t channels, int64_t inner, int32_t qmin, int32_t qmax, int symmetric,
                       const char *func, PyArrayObject **scale, PyArrayObject **zp) {
    *scale = *zp = NULL;
    if (scale_obj != Py_None) {
        if (given_qparams(scale_obj, zp_obj, channels, qmin, qmax, symmetric, func, scale, zp))
            goto fail;
        return 0;
    }
    if (zp_obj != Py_None) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): zero_point was given without scale; give both, or neither to "
                     "compute them from the data",
                     func);
        return -1;
    }
    PyArrayObject *bounds = new_1d(2 * channels, NPY_FLOAT32);
    *scale = new_1d(channels, NPY_FLOAT32);
    *zp = new_1d(channels, NPY_INT32);
    if (!bounds || !*scale || !*zp) {
        Py_XDECREF(bounds);
        goto fail;
    }
    float *b = PyArray_DATA(bounds);
    gaba_status status;
    int release = outer * channels * inner >= GIL_RELEASE_ELEMS;
    PyThreadState *state = release ? PyEval_SaveThread() : NULL;
    status = gaba_quant_minmax_f32(b, b + channels, outer, channels, inner, PyArray_DATA(x));
    if (status == GABA_OK)
        status = gaba_quant_qparams_f32(PyArray_DATA(*scale), PyArray_DATA(*zp), channels, b,
                                        b + channels, qmin, qmax, symmetric);
    if (release) PyEval_RestoreThread(state);
    Py_DECREF(bounds);
    if (status != GABA_OK) {
        qparams_raise(status, func, "pass scale= and zero_point= explicitly");
        goto fail;
    }
    return 0;
fail:
    Py_CLEAR(*scale);
    Py_CLEAR(*zp);
    return -1;
}

static int parse_grid(PyObject *const *args, const char *func, int32_t *qmin, int32_t *qmax) {
    long lo, hi;
    if (gaba_py_long(args[0], func, "qmin", -(1L << 16), 0, &lo) ||
        gaba_py_long(args[1], func, "qmax", 0, 1L << 16, &hi))
        return -1;
    if (lo >= hi) {
        PyErr_Format(PyExc_ValueError, "%s(): invalid integer range [%ld, %ld]", func, lo, hi);
        return -1;
    }
    *qmin = (int32_t)lo;
    *qmax = (int32_t)hi;
    return 0;
}

// fake_quantize(x, out, scale, zero_point, axis, qmin, qmax, symmetric, rounding, return_mask)
static PyObject *py_fake_quantize(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "fake_quantize";
    if (nargs != 10) return PyErr_Format(PyExc_TypeError, "_gaba.fake_quantize takes 10 arguments");
    PyArrayObject *x = NULL, *out = NULL, *scale = NULL, *zp = NULL, *mask = NULL;
    PyObject *result = NULL;
    int32_t qmin, qmax;
    // each conversion only once the ones before it succeeded (one exception at a time)
    int axis, symmetric, return_mask, rounding;
    if ((symmetric = PyObject_IsTrue(args[7])) < 0 ||
        (return_mask = PyObject_IsTrue(args[9])) < 0 ||
        (rounding = gaba_py_choice(args[8], func, "rounding", rounding_names)) < 0 ||
        parse_grid(args + 5, func, &qmin, &qmax))
        return NULL;
    int64_t outer, channels, inner;
    if (!(x = gaba_py_array(args[0], func, "x", NPY_FLOAT32, 0, NPY_MAXDIMS, GABA_PY_CONTIGUOUS)) ||
        split_axis(x, args[4], func, &axis, &outer, &channels, &inner))
        goto done;
    if (args[1] == Py_None) {
        out = (PyArrayObject *)PyArray_SimpleNew(PyArray_NDIM(x), PyArray_DIMS(x), NPY_FLOAT32);
        if (!out) goto done;
    } else {
        out = gaba_py_array(args[1], func, "out", NPY_FLOAT32, 0, NPY_MAXDIMS,
                            GABA_PY_OUTPUT | GABA_PY_CONTIGUOUS);
        if (!out) goto done;
        if (!PyArray_SAMESHAPE(out, x)) {
            PyErr_Format(PyExc_ValueError, "%s(): 'out' must have the shape of 'x'", func);
            goto done;
        }
        // out is x itself (in place) or shares no memory with it.
        if (PyArray_DATA(out) != PyArray_DATA(x) &&
            gaba_py_check_no_overlap(out, x, func, "out", "x"))
            goto done;
    }
    if (return_mask &&
        !(mask = (PyArrayObject *)PyArray_SimpleNew(PyArray_NDIM(x), PyArray_DIMS(x), NPY_BOOL)))
        goto done;
    if (get_qparams(x, args[2], args[3], outer, channels, inner, qmin, qmax, symmetric, func,
                    &scale, &zp))
        goto done;
    gaba_quant_grid grid = {qmin, qmax, (gaba_quant_round)rounding};
    int release = outer * channels * inner >= GIL_RELEASE_ELEMS;
    PyThreadState *state = release ? PyEval_SaveThread() : NULL;
    gaba_status status = gaba_quant_fake_quantize_f32(
        PyArray_DATA(out), mask ? PyArray_DATA(mask) : NULL, outer, channels, inner,
        PyArray_DATA(x), PyArray_DATA(scale), PyArray_DATA(zp), grid);
    if (release) PyEval_RestoreThread(state);
    if (status != GABA_OK) {
        gaba_py_raise(status, func);
        goto done;
    }
    result = mask ? PyTuple_Pack(2, out, mask) : (Py_INCREF(out), (PyObject *)out);
done:
    Py_XDECREF(x);
    Py_XDECREF(out);
    Py_XDECREF(scale);
    Py_XDECREF(zp);
    Py_XDECREF(mask);
    return result;
}

// quant_params(x, axis, qmin, qmax, symmetric) -> (scale, zero_point)
static PyObject *py_quant_params(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "quant_params";
    if (nargs != 5) return PyErr_Format(PyExc_TypeError, "_gaba.quant_params takes 5 arguments");
    int32_t qmin, qmax;
    int axis, symmetric = PyObject_IsTrue(args[4]);
    if (symmetric < 0 || parse_grid(args + 2, func, &qmin, &qmax)) return NULL;
    int64_t outer, channels, inner;
    PyArrayObject *scale, *zp;
    PyArrayObject *x =
        gaba_py_array(args[0], func, "x", NPY_FLOAT32, 0, NPY_MAXDIMS, GABA_PY_CONTIGUOUS);
    if (!x) return NULL;
    if (split_axis(x, args[1], func, &axis, &outer, &channels, &inner) ||
        get_qparams(x, Py_None, Py_None, outer, channels, inner, qmin, qmax, symmetric, func,
                    &scale, &zp)) {
        Py_DECREF(x);
        return NULL;
    }
    Py_DECREF(x);
    return Py_BuildValue("(NN)", scale, zp);
}

static const int storage_dtypes[] = {NPY_INT8,   NPY_UINT8, NPY_INT16,
                                     NPY_UINT16, NPY_UINT8, NPY_UINT8};

// quantize(x, scale, zero_point, axis, qmin, qmax, symmetric, rounding, storage)
//   -> (data, scale, zero_point); packed storage gives 1-D uint8 bytes.
static PyObject *py_quantize(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "quantize";
    if (nargs != 9) return PyErr_Format(PyExc_TypeError, "_gaba.quantize takes 9 arguments");
    int32_t qmin, qmax;
    int axis, symmetric, rounding;
    long storage;
    if ((symmetric = PyObject_IsTrue(args[6])) < 0 ||
        (rounding = gaba_py_choice(args[7], func, "rounding", rounding_names)) < 0 ||
        gaba_py_long(args[8], func, "storage", GABA_QUANT_S8, GABA_QUANT_U4, &storage) ||
        parse_grid(args + 4, func, &qmin, &qmax))
        return NULL;
    PyArrayObject *x = NULL, *scale = NULL, *zp = NULL, *data = NULL;
    PyObject *result = NULL;
    int64_t outer, channels, inner;
    if (!(x = gaba_py_array(args[0], func, "x", NPY_FLOAT32, 0, NPY_MAXDIMS, GABA_PY_CONTIGUOUS)) ||
        split_axis(x, args[3], func, &axis, &outer, &channels, &inner) ||
        get_qparams(x, args[1], args[2], outer, channels, inner, qmin, qmax, symmetric, func,
                    &scale, &zp))
        goto done;
    int64_t n = PyArray_SIZE(x);
    if (storage >= GABA_QUANT_S4)
        data = new_1d(gaba_quant_storage_bytes((gaba_quant_storage)storage, n), NPY_UINT8);
    else
        data = (PyArrayObject *)PyArray_SimpleNew(PyArray_NDIM(x), PyArray_DIMS(x),
                                                  storage_dtypes[storage]);
    if (!data) goto done;
    gaba_quant_grid grid = {qmin, qmax, (gaba_quant_round)rounding};
    int release = n >= GIL_RELEASE_ELEMS;
    PyThreadState *state = release ? PyEval_SaveThread() : NULL;
    gaba_status status = gaba_quant_quantize_f32(PyArray_DATA(data), (gaba_quant_storage)storage,
                                                 outer, channels, inner, PyArray_DATA(x),
                                                 PyArray_DATA(scale), PyArray_DATA(zp), grid);
    if (release) PyEval_RestoreThread(state);
    if (status != GABA_OK) {
        gaba_py_raise(status, func);
        goto done;
    }
    result = PyTuple_Pack(3, data, scale, zp);
done:
    Py_XDECREF(x);
    Py_XDECREF(scale);
    Py_XDECREF(zp);
    Py_XDECREF(data);
    return result;
}

// dequantize(data, storage, shape, axis, scale, zero_point, out) -> float32 array of `shape`.
// Everything is checked against `data` before `out` is allocated, so a shape
// that `data` cannot fill costs nothing.
static PyObject *py_dequantize(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "dequantize";
    if (nargs != 7) return PyErr_Format(PyExc_TypeError, "_gaba.dequantize takes 7 arguments");
    long storage;
    if (gaba_py_long(args[1], func, "storage", GABA_QUANT_S8, GABA_QUANT_U4, &storage)) return NULL;
    if (!PyTuple_Check(args[2]))
        return PyErr_Format(PyExc_TypeError, "%s(): argument 'shape' must be a tuple, got %s", func,
                            Py_TYPE(args[2])->tp_name);
    PyArray_Dims shape = {NULL, 0};
    if (!PyArray_IntpConverter(args[2], &shape)) return NULL;
    PyArrayObject *data = NULL, *scale = NULL, *zp = NULL, *out = NULL;
    PyObject *result = NULL;
    int axis;
    int64_t n = 1, outer, channels, inner;
    for (int i = 0; i < shape.len; i++) {
        if (shape.ptr[i] < 0) {
            PyErr_Format(PyExc_ValueError, "%s(): 'shape' has a negative dimension", func);
            goto done;
        }
        n = shape.ptr[i] && n > INT64_MAX / shape.ptr[i] ? -1 : n * shape.ptr[i];
        if (n < 0) {
            PyErr_Format(PyExc_ValueError, "%s(): 'shape' holds too many values", func);
            goto done;
        }
    }
    if (split_dims(shape.len, shape.ptr, args[3], func, &axis, &outer, &channels, &inner))
        goto done;
    data = gaba_py_array(args[0], func, "data", storage_dtypes[storage], 0, NPY_MAXDIMS,
                         GABA_PY_CONTIGUOUS);
    if (!data) goto done;
    int64_t values = gaba_quant_storage_bytes((gaba_quant_storage)storage, n);
    if (storage == GABA_QUANT_S16 || storage == GABA_QUANT_U16) values /= 2;
    if (PyArray_SIZE(data) != values) {
        PyErr_Format(PyExc_ValueError, "%s(): 'data' holds %ld values, the shape needs %ld", func,
                     (long)PyArray_SIZE(data), (long)values);
        goto done;
    }
    if (!(scale = param_array(args[4], func, "scale", NPY_FLOAT32, channels)) ||
        !(zp = param_array(args[5], func, "zero_point", NPY_INT32, channels)))
        goto done;
    if (args[6] == Py_None) {
        out = (PyArrayObject *)PyArray_SimpleNew(shape.len, shape.ptr, NPY_FLOAT32);
        if (!out) goto done;
    } else {
        out = gaba_py_array(args[6], func, "out", NPY_FLOAT32, 0, NPY_MAXDIMS,
                            GABA_PY_OUTPUT | GABA_PY_CONTIGUOUS);
        if (!out) goto done;
        if (PyArray_NDIM(out) != shape.len ||
            !PyArray_CompareLists(PyArray_DIMS(out), shape.ptr, shape.len)) {
            PyErr_Format(PyExc_ValueError,
                         "%s(): 'out' must have the tensor's shape %S (%d-D), got a %d-D array",
                         func, args[2], shape.len, PyArray_NDIM(out));
            goto done;
        }
    }
    int release = n >= GIL_RELEASE_ELEMS;
    PyThreadState *state = release ? PyEval_SaveThread() : NULL;
    gaba_status status = gaba_quant_dequantize_f32(PyArray_DATA(out), outer, channels, inner,
                                                   PyArray_DATA(data), (gaba_quant_storage)storage,
                                                   PyArray_DATA(scale), PyArray_DATA(zp));
    if (release) PyEval_RestoreThread(state);
    if (status != GABA_OK) {
        gaba_py_raise(status, func);
        goto done;
    }
    result = (PyObject *)out;
    Py_INCREF(result);
done:
    PyDimMem_FREE(shape.ptr);
    Py_XDECREF(data);
    Py_XDECREF(scale);
    Py_XDECREF(zp);
    Py_XDECREF(out);
    return result;
}

// observe(run_min, run_max, count, averaging_constant, x, axis): updates in place.
static PyObject *py_observe(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "update";
    if (nargs != 6) return PyErr_Format(PyExc_TypeError, "_gaba.observe takes 6 arguments");
    long count;
    if (gaba_py_long(args[2], func, "count", 0, LONG_MAX, &count)) return NULL;
    double c = PyFloat_AsDouble(args[3]);
    if (c == -1.0 && PyErr_Occurred()) return NULL;
    PyArrayObject *lo = NULL, *hi = NULL, *x = NULL;
    PyObject *result = NULL;
    int axis;
    int64_t outer, channels, inner;
    if (!(x = gaba_py_array(args[4], func, "x", NPY_FLOAT32, 0, NPY_MAXDIMS, GABA_PY_CONTIGUOUS)) ||
        split_axis(x, args[5], func, &axis, &outer, &channels, &inner))
        goto done;
    if (args[5] != Py_None && PyArray_DIM(x, axis) == 0) {
        PyErr_Format(PyExc_ValueError, "%s(): the channel axis of 'x' is empty", func);
        goto done;
    }
    if (!(lo = gaba_py_array(args[0], func, "min_val", NPY_FLOAT32, 1, 1,
                             GABA_PY_OUTPUT | GABA_PY_CONTIGUOUS)) ||
        !(hi = gaba_py_array(args[1], func, "max_val", NPY_FLOAT32, 1, 1,
                             GABA_PY_OUTPUT | GABA_PY_CONTIGUOUS)))
        goto done;
    if (PyArray_DIM(lo, 0) != channels || PyArray_DIM(hi, 0) != channels) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): this observer tracks %ld channels, but x has %ld along axis %d", func,
                     (long)PyArray_DIM(lo, 0), (long)channels, axis);
        goto done;
    }
    int release = PyArray_SIZE(x) >= GIL_RELEASE_ELEMS;
    PyThreadState *state = release ? PyEval_SaveThread() : NULL;
    gaba_status status = gaba_quant_observe_f32(PyArray_DATA(lo), PyArray_DATA(hi), count, (float)c,
                                                outer, channels, inner, PyArray_DATA(x));
    if (release) PyEval_RestoreThread(state);
    if (status != GABA_OK) {
        gaba_py_raise(status, func);
        goto done;
    }
    result = Py_None;
    Py_INCREF(result);
done:
    Py_XDECREF(x);
    Py_XDECREF(lo);
    Py_XDECREF(hi);
    return result;
}

// qparams(min_val, max_val, qmin, qmax, symmetric) -> (scale, zero_point)
static PyObject *py_qparams(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "qparams";
    if (nargs != 5) return PyErr_Format(PyExc_TypeError, "_gaba.qparams takes 5 arguments");
    int32_t qmin, qmax;
    int symmetric = PyObject_IsTrue(args[4]);
    if (symmetric < 0 || parse_grid(args + 2, func, &qmin, &qmax)) return NULL;
    PyArrayObject *lo =
        gaba_py_array(args[0], func, "min_val", NPY_FLOAT32, 1, 1, GABA_PY_CONTIGUOUS);
    if (!lo) return NULL;
    int64_t channels = PyArray_DIM(lo, 0);
    PyArrayObject *hi = param_array(args[1], func, "max_val", NPY_FLOAT32, channels);
    PyArrayObject *scale = new_1d(channels, NPY_FLOAT32), *zp = new_1d(channels, NPY_INT32);
    PyObject *result = NULL;
    if (hi && scale && zp) {
        gaba_status status =
            gaba_quant_qparams_f32(PyArray_DATA(scale), PyArray_DATA(zp), channels,
                                   PyArray_DATA(lo), PyArray_DATA(hi), qmin, qmax, symmetric);
        if (status != GABA_OK)
            qparams_raise(status, func, "use symmetric=True or clip the data");
        else
            result = PyTuple_Pack(2, scale, zp);
    }
    Py_XDECREF(lo);
    Py_XDECREF(hi);
    Py_XDECREF(scale);
    Py_XDECREF(zp);
    return result;
}

// ste_backward(grad, mask) -> grad * mask
static PyObject *py_ste_backward(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "fake_quantize_backward";
    if (nargs != 2) return PyErr_Format(PyExc_TypeError, "_gaba.ste_backward takes 2 arguments");
    PyArrayObject *grad = NULL, *mask = NULL, *out = NULL;
    if (!(grad = gaba_py_array(args[0], func, "grad", NPY_FLOAT32, 0, NPY_MAXDIMS,
                               GABA_PY_CONTIGUOUS)) ||
        !(mask =
              gaba_py_array(args[1], func, "mask", NPY_BOOL, 0, NPY_MAXDIMS, GABA_PY_CONTIGUOUS)))
        goto done;
    if (!PyArray_SAMESHAPE(grad, mask)) {
        PyErr_Format(PyExc_ValueError, "%s(): 'grad' and 'mask' must have the same shape", func);
        goto done;
    }
    if (!(out = (PyArrayObject *)PyArray_SimpleNew(PyArray_NDIM(grad), PyArray_DIMS(grad),
                                                   NPY_FLOAT32)))
        goto done;
    gaba_quant_ste_backward_f32(PyArray_DATA(out), PyArray_SIZE(grad), PyArray_DATA(grad),
                                PyArray_DATA(mask));
    Py_DECREF(grad);
    Py_DECREF(mask);
    return (PyObject *)out;
done:
    Py_XDECREF(grad);
    Py_XDECREF(mask);
    return NULL;
}

// lsq_backward(grad, x, scale, zero_point, axis, qmin, qmax, grad_factor)
//   -> (grad_x, grad_scale, grad_zero_point)
static PyObject *py_lsq_backward(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "fake_quantize_lsq_backward";
    if (nargs != 8) return PyErr_Format(PyExc_TypeError, "_gaba.lsq_backward takes 8 arguments");
    int32_t qmin, qmax;
    double grad_factor = PyFloat_AsDouble(args[7]);
    if ((grad_factor == -1.0 && PyErr_Occurred()) || parse_grid(args + 5, func, &qmin, &qmax))
        return NULL;
    PyArrayObject *grad = NULL, *x = NULL, *scale = NULL, *zp = NULL;
    PyArrayObject *gx = NULL, *gs = NULL, *gz = NULL;
    PyObject *result = NULL;
    int axis;
    int64_t outer, channels, inner;
    if (!(x = gaba_py_array(args[1], func, "x", NPY_FLOAT32, 0, NPY_MAXDIMS, GABA_PY_CONTIGUOUS)) ||
        !(grad = gaba_py_array(args[0], func, "grad", NPY_FLOAT32, 0, NPY_MAXDIMS,
                               GABA_PY_CONTIGUOUS)) ||
        split_axis(x, args[4], func, &axis, &outer, &channels, &inner))
        goto done;
    if (!PyArray_SAMESHAPE(grad, x)) {
        PyErr_Format(PyExc_ValueError, "%s(): 'grad' and 'x' must have the same shape", func);
        goto done;
    }
    if (!(scale = param_array(args[2], func, "scale", NPY_FLOAT32, channels)) ||
        !(zp = param_array(args[3], func, "zero_point", NPY_FLOAT32, channels)) ||
        !(gx = (PyArrayObject *)PyArray_SimpleNew(PyArray_NDIM(x), PyArray_DIMS(x), NPY_FLOAT32)) ||
        !(gs = new_1d(channels, NPY_FLOAT32)) || !(gz = new_1d(channels, NPY_FLOAT32)))
        goto done;
    int release = PyArray_SIZE(x) >= GIL_RELEASE_ELEMS;
    PyThreadState *state = release ? PyEval_SaveThread() : NULL;
    gaba_status status = gaba_quant_lsq_backward_f32(
        PyArray_DATA(gx), PyArray_DATA(gs), PyArray_DATA(gz), outer, channels, inner,
        PyArray_DATA(grad), PyArray_DATA(x), PyArray_DATA(scale), PyArray_DATA(zp), qmin, qmax,
        (float)grad_factor);
    if (release) PyEval_RestoreThread(state);
    if (status != GABA_OK) {
        gaba_py_raise(status, func);
        goto done;
    }
    result = PyTuple_Pack(3, gx, gs, gz);
done:
    Py_XDECREF(grad);
    Py_XDECREF(x);
    Py_XDECREF(scale);
    Py_XDECREF(zp);
    Py_XDECREF(gx);
    Py_XDECREF(gs);
    Py_XDECREF(gz);
    return result;
}

#define METHOD(name, fn, doc) {name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL, doc}
PyMethodDef gaba_py_quant_methods[] = {
    METHOD("fake_quantize", py_fake_quantize, "See gaba.fake_quantize."),
    METHOD("quant_params", py_quant_params, "See gaba.quant_params."),
    METHOD("quantize", py_quantize, "See gaba.quantize."),
    METHOD("dequantize", py_dequantize, "See gaba.dequantize."),
    METHOD("observe", py_observe, "See gaba.MinMaxObserver.update."),
    METHOD("qparams", py_qparams, "See gaba.MinMaxObserver.qparams."),
    METHOD("ste_backward", py_ste_backward, "See gaba.fake_quantize_backward."),
    METHOD("lsq_backward", py_lsq_backward, "See gaba.fake_quantize_lsq_backward."),
    {NULL, NULL, 0, NULL},
};
