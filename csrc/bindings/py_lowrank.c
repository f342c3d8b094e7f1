// py_lowrank.c - bindings of the low-rank family (gaba/lowrank.h). Glue
// only: check the matrix, allocate the outputs, release the GIL (the
// randomized method can be stopped with Ctrl-C, py_interrupt.h), map the
// status. Any strides are read in place (LAPACK gets its own copy anyway).
#include "py_common.h"
#include "py_interrupt.h"

#include "gaba/lowrank.h"

static const char *const method_names[] = {"exact", "randomized", NULL};
static const char *const normalizer_names[] = {"lu", "qr", "none", NULL};

static PyArrayObject *new_f32(int ndim, npy_intp d0, npy_intp d1) {
    npy_intp dims[2] = {d0, d1};
    return (PyArrayObject *)PyArray_SimpleNew(ndim, dims, NPY_FLOAT32);
}

// singular_values(w)
// The core reports NaN/Inf input and LAPACK non-convergence alike as
// GABA_ERR_NUMERIC; say both, since the user cannot tell them apart otherwise.
static PyObject *raise_svd_status(gaba_status status, const char *func) {
    if (status == GABA_ERR_NUMERIC)
        return PyErr_Format(PyExc_ArithmeticError,
                            "%s(): 'w' holds NaN or Inf, or the SVD did not converge", func);
    return gaba_py_raise(status, func);
}

static PyObject *py_singular_values(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "singular_values";
    if (nargs != 1) return PyErr_Format(PyExc_TypeError, "_gaba.singular_values takes 1 argument");
    PyArrayObject *w = gaba_py_array(args[0], func, "w", NPY_FLOAT32, 2, 2, GABA_PY_INPUT);
    if (!w) return NULL;
    npy_intp m = PyArray_DIM(w, 0), n = PyArray_DIM(w, 1);
    PyArrayObject *s = new_f32(1, m < n ? m : n, 0);
    if (!s) {
        Py_DECREF(w);
        return NULL;
    }
    int64_t sw[2];
    gaba_py_strides(w, sw);
    gaba_status status;
    Py_BEGIN_ALLOW_THREADS
    status = gaba_lowrank_singular_values_f32(m, n, PyArray_DATA(w), sw[0], sw[1], PyArray_DATA(s));
    Py_END_ALLOW_THREADS
    Py_DECREF(w);
    if (status != GABA_OK) {
        Py_DECREF(s);
        return raise_svd_status(status, func);
    }
    return (PyObject *)s;
}

// low_rank_factorization(w, rank, method, oversample, n_iter, normalizer, seed)
// -> (u, v, s)
static PyObject *py_low_rank_factorization(PyObject *self, PyObject *const *args,
                                           Py_ssize_t nargs) {
    static const char func[] = "low_rank_factorization";
    if (nargs != 7)
        return PyErr_Format(PyExc_TypeError, "_gaba.low_rank_factorization takes 7 arguments");
    gaba_lowrank_options opt;
    long rank, oversample, n_iter, seed;
    if (gaba_py_long(args[1], func, "rank", 0, LONG_MAX, &rank) ||
        gaba_py_long(args[3], func, "oversample", 0, GABA_LOWRANK_MAX_OVERSAMPLE, &oversample) ||
        gaba_py_long(args[4], func, "n_iter", 0, GABA_LOWRANK_MAX_N_ITER, &n_iter) ||
        gaba_py_long(args[6], func, "seed", 0, LONG_MAX, &seed))
        return NULL;
    int method = gaba_py_choice(args[2], func, "method", method_names);
    if (method < 0) return NULL;
    int normalizer = gaba_py_choice(args[5], func, "normalizer", normalizer_names);
    if (normalizer < 0) return NULL;
    opt.method = (gaba_lowrank_method)method;
    opt.oversample = oversample;
    opt.n_iter = n_iter;
    opt.normalizer = (gaba_lowrank_normalizer)normalizer;
    opt.seed = (uint64_t)seed;

    PyArrayObject *w = gaba_py_array(args[0], func, "w", NPY_FLOAT32, 2, 2, GABA_PY_INPUT);
    if (!w) return NULL;
    npy_intp m = PyArray_DIM(w, 0), n = PyArray_DIM(w, 1), k = m < n ? m : n;
    if (rank > k) {
        Py_DECREF(w);
        return PyErr_Format(PyExc_ValueError, "%s(): rank must be in [0, %ld], got %ld", func,
                            (long)k, rank);
    }
    PyArrayObject *u = new_f32(2, m, (npy_intp)rank), *v = new_f32(2, (npy_intp)rank, n),
                  *s = new_f32(1, (npy_intp)rank, 0);
    PyObject *result = NULL;
    if (!u || !v || !s) goto done;
    int64_t sw[2];
    gaba_py_strides(w, sw);
    // Only the randomized method polls: an exact SVD is one LAPACK call.
    gaba_py_unlocked gil;
    if (gaba_py_unlock(&gil, opt.method == GABA_LOWRANK_RANDOMIZED) < 0) goto done;
    gaba_status status =
        gaba_lowrank_factorize_f32(&opt, m, n, rank, PyArray_DATA(w), sw[0], sw[1], PyArray_DATA(u),
                                   PyArray_DATA(v), PyArray_DATA(s));
    gaba_py_relock(&gil);
    if (status != GABA_OK) {
        raise_svd_status(status, func);
        goto done;
    }
    result = PyTuple_Pack(3, u, v, s);
done:
    Py_DECREF(w);
    Py_XDECREF(u);
    Py_XDECREF(v);
    Py_XDECREF(s);
    return result;
}

PyMethodDef gaba_py_lowrank_methods[] = {
    {"singular_values", (PyCFunction)(void (*)(void))py_singular_values, METH_FASTCALL,
     "See gaba.singular_values."},
    {"low_rank_factorization", (PyCFunction)(void (*)(void))py_low_rank_factorization,
     METH_FASTCALL, "See gaba.low_rank_factorization."},
    {NULL, NULL, 0, NULL},
};
