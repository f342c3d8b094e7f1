// py_distill.c - binding of gaba_distill_loss_f32. Glue only: check the two
// logit matrices (same shape, rows unit-stride: others are copied) and the
// int64 labels, allocate the per-sample and gradient outputs, release the
// GIL for large batches, map the status.
#include "py_common.h"

#include "gaba/distill.h"

#include <math.h>

#define GIL_RELEASE_ELEMENTS (1 << 14)

static const char *const reduction_names[] = {"batchmean", "sum", "none", NULL};

// distillation_loss(student, teacher, temperature, alpha, labels, reduction,
// return_grad) -> (loss, grad or None); loss is a float, or an (N,) array
// for reduction="none".
static PyObject *py_distillation_loss(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "distillation_loss";
    if (nargs != 7)
        return PyErr_Format(PyExc_TypeError, "_gaba.distillation_loss takes 7 arguments");
    double temperature, alpha;
    if (gaba_py_double(args[2], func, "temperature", &temperature) ||
        gaba_py_double(args[3], func, "alpha", &alpha))
        return NULL;
    int reduction = gaba_py_choice(args[5], func, "reduction", reduction_names);
    if (reduction < 0) return NULL;
    int want_grad = PyObject_IsTrue(args[6]);
    if (want_grad < 0) return NULL;
    if (!(temperature > 0.0) || !isfinite(temperature))
        return PyErr_Format(PyExc_ValueError, "%s(): temperature must be > 0 and finite, got %R",
                            func, args[2]);
    if (!(alpha >= 0.0 && alpha <= 1.0))
        return PyErr_Format(PyExc_ValueError, "%s(): alpha must be in [0, 1], got %R", func,
                            args[3]);

    PyArrayObject *s = NULL, *t = NULL, *labels = NULL, *per_sample = NULL, *grad = NULL;
    PyObject *result = NULL;
    unsigned flags = GABA_PY_INPUT | GABA_PY_CONTIGUOUS;
    if (!(s = gaba_py_array(args[0], func, "student_logits", NPY_FLOAT32, 2, 2, flags))) goto done;
    if (!(t = gaba_py_array(args[1], func, "teacher_logits", NPY_FLOAT32, 2, 2, flags))) goto done;
    npy_intp n = PyArray_DIM(s, 0), c = PyArray_DIM(s, 1);
    if (gaba_py_check_dim(t, func, "teacher_logits", 0, n, "student_logits.shape[0]") ||
        gaba_py_check_dim(t, func, "teacher_logits", 1, c, "student_logits.shape[1]"))
        goto done;
    if (c < 1) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): the logits need at least one class, got shape "
                     "(%ld, 0)",
                     func, (long)n);
        goto done;
    }
    labels = gaba_py_array(args[4], func, "labels", NPY_INT64, 1, 1, flags | GABA_PY_OPTIONAL);
    if (PyErr_Occurred() ||
        (labels && gaba_py_check_dim(labels, func, "labels", 0, n, "student_logits.shape[0]")))
        goto done;
    if (reduction == GABA_REDUCTION_NONE) {
        npy_intp dims[1] = {n};
        if (!(per_sample = (PyArrayObject *)PyArray_SimpleNew(1, dims, NPY_FLOAT32))) goto done;
    }
    if (want_grad) {
        npy_intp dims[2] = {n, c};
        if (!(grad = (PyArrayObject *)PyArray_SimpleNew(2, dims, NPY_FLOAT32))) goto done;
    }
    double loss = 0.0;
    gaba_status status;
    int release = (double)n * (double)c >= GIL_RELEASE_ELEMENTS;
    PyThreadState *state = release ? PyEval_SaveThread() : NULL;
    status = gaba_distill_loss_f32(n, c, PyArray_DATA(s), c, PyArray_DATA(t), c,
                                   labels ? (const int64_t *)PyArray_DATA(labels) : NULL,
                                   (float)temperature, (float)alpha, (gaba_reduction)reduction,
                                   &loss, per_sample ? PyArray_DATA(per_sample) : NULL,
                                   grad ? PyArray_DATA(grad) : NULL, c);
    if (release) PyEval_RestoreThread(state);
    if (status != GABA_OK) {
        if (status == GABA_ERR_ARG && labels)
            PyErr_Format(PyExc_ValueError, "%s(): labels must be in [0, %ld)", func, (long)c);
        else
            gaba_py_raise(status, func);
        goto done;
    }
    PyObject *value = per_sample ? Py_NewRef((PyObject *)per_sample) : PyFloat_FromDouble(loss);
    if (!value) goto done;
    result = PyTuple_Pack(2, value, grad ? (PyObject *)grad : Py_None);
    Py_DECREF(value);
done:
    Py_XDECREF(s);
    Py_XDECREF(t);
    Py_XDECREF(labels);
    Py_XDECREF(per_sample);
    Py_XDECREF(grad);
    return result;
}

PyMethodDef gaba_py_distill_methods[] = {
    {"distillation_loss", (PyCFunction)(void (*)(void))py_distillation_loss, METH_FASTCALL,
     "See gaba.distillation_loss."},
    {NULL, NULL, 0, NULL},
};
