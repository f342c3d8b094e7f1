// py_train.c - bindings of train.h: the losses (gaba_loss_f32) and the
// optimizer updates. Glue only: check dtypes, shapes, contiguity and
// writeability, read the scalars, release the GIL for large blocks, map the
// status. gaba/losses.py and gaba/optim.py check the hyperparameters first,
// with their own names; the checks here keep a direct call safe.
#include "py_common.h"

#include "gaba/train.h"

#define GIL_RELEASE_ELEMENTS (1 << 14)

// The public function of each loss kind, for messages (gaba/losses.py).
static const char *const loss_names[GABA_LOSS_COUNT] = {
    "cross_entropy", "binary_cross_entropy", "mse", "l1", "huber",
};

// Raises ValueError unless `b` has the shape of `a`.
static int check_same_shape(PyArrayObject *b, PyArrayObject *a, const char *func, const char *name,
                            const char *what) {
    if (PyArray_NDIM(b) != PyArray_NDIM(a)) {
        PyErr_Format(PyExc_ValueError, "%s(): '%s' must have the shape of '%s' (%d-D), got %d-D",
                     func, name, what, PyArray_NDIM(a), PyArray_NDIM(b));
        return -1;
    }
    for (int i = 0; i < PyArray_NDIM(a); i++)
        if (gaba_py_check_dim(b, func, name, i, PyArray_DIM(a, i), what)) return -1;
    return 0;
}

// loss(kind, pred, target, param, want_grad) -> (loss, grad or None); target
// holds int64 labels of shape (N,) for cross-entropy, else floats of pred's shape.
static PyObject *py_loss(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5) return PyErr_Format(PyExc_TypeError, "_gaba.loss takes 5 arguments");
    long kind;
    if (gaba_py_long(args[0], "loss", "kind", 0, GABA_LOSS_COUNT - 1, &kind)) return NULL;
    const char *func = loss_names[kind];
    int ce = kind == GABA_LOSS_CROSS_ENTROPY;
    double param;
    if (gaba_py_double(args[3], func, ce ? "label_smoothing" : "delta", &param)) return NULL;
    int want_grad = PyObject_IsTrue(args[4]);
    if (want_grad < 0) return NULL;

    PyArrayObject *pred = NULL, *target = NULL, *grad = NULL;
    PyObject *result = NULL;
    unsigned flags = GABA_PY_INPUT | GABA_PY_CONTIGUOUS;
    const char *pred_name = ce || kind == GABA_LOSS_BCE ? "logits" : "pred";
    pred = gaba_py_array(args[1], func, pred_name, NPY_FLOAT32, ce ? 2 : 0, ce ? 2 : NPY_MAXDIMS,
                         flags);
    if (!pred) goto done;
    npy_intp n = ce ? PyArray_DIM(pred, 0) : PyArray_SIZE(pred), c = ce ? PyArray_DIM(pred, 1) : 1;
    if (ce) {
        if (c < 1) {
            PyErr_Format(PyExc_ValueError, "%s(): the logits need at least one class, got (%ld, 0)",
                         func, (long)n);
            goto done;
        }
        target = gaba_py_array(args[2], func, "labels", NPY_INT64, 1, 1, flags);
        if (!target || gaba_py_check_dim(target, func, "labels", 0, n, "logits.shape[0]"))
            goto done;
    } else {
        const char *name = kind == GABA_LOSS_BCE ? "targets" : "target";
        target = gaba_py_array(args[2], func, name, NPY_FLOAT32, 0, NPY_MAXDIMS, flags);
        if (!target || check_same_shape(target, pred, func, name, pred_name)) goto done;
    }
    if (want_grad && !(grad = (PyArrayObject *)PyArray_SimpleNew(PyArray_NDIM(pred),
                                                                 PyArray_DIMS(pred), NPY_FLOAT32)))
        goto done;
    double loss = 0.0;
    int release = (double)n * (double)c >= GIL_RELEASE_ELEMENTS;
    PyThreadState *state = release ? PyEval_SaveThread() : NULL;
    gaba_status status = gaba_loss_f32(
        (gaba_loss)kind, n, c, PyArray_DATA(pred), ce ? NULL : PyArray_DATA(target),
        ce ? PyArray_DATA(target) : NULL, (float)param, &loss, grad ? PyArray_DATA(grad) : NULL);
    if (release) PyEval_RestoreThread(state);
    if (status == GABA_ERR_ARG && ce)
        PyErr_Format(PyExc_ValueError,
                     "%s(): labels must be in [0, %ld) and label_smoothing in [0, 1]", func,
                     (long)c);
    else if (status == GABA_ERR_ARG)
        PyErr_Format(PyExc_ValueError, "%s(): delta must be finite and > 0, got %R", func, args[3]);
    else if (status != GABA_OK)
        gaba_py_raise(status, func);
    else
        result = Py_BuildValue("(dO)", loss, grad ? (PyObject *)grad : Py_None);
done:
    Py_XDECREF(pred);
    Py_XDECREF(target);
    Py_XDECREF(grad);
    return result;
}

// The arrays of an update: `count` 1-D float32 arrays of one length, the
// first (weights) and those at or after `first_out` written in place; NULL
// entries of an optional slot stay NULL. Returns their length or -1.
static npy_intp update_arrays(PyObject *const *objs, const char *const *names, int count,
                              int first_out, unsigned optional, const char *func,
                              PyArrayObject **arrays) {
    for (int i = 0; i < count; i++) {
        unsigned flags = GABA_PY_CONTIGUOUS | (i == 0 || i >= first_out ? GABA_PY_OUTPUT : 0);
        if (optional & (1u << i)) flags |= GABA_PY_OPTIONAL;
        arrays[i] = gaba_py_array(objs[i], func, names[i], NPY_FLOAT32, 1, 1, flags);
        if (PyErr_Occurred()) return -1;
        if (!arrays[i]) continue;
        if (gaba_py_check_dim(arrays[i], func, names[i], 0, PyArray_DIM(arrays[0], 0),
                              "the length of 'weights'"))
            return -1;
        for (int j = 0; j < i; j++)
            if (arrays[j] &&
                gaba_py_check_no_overlap(arrays[i], arrays[j], func, names[i], names[j]))
                return -1;
    }
    return PyArray_DIM(arrays[0], 0);
}

// One optimizer update: its arrays (checked by update_arrays) and scalars.
typedef struct update {
    npy_intp n;
    PyArrayObject *a[4]; // weights, grads, then the state arrays
    long step;
    gaba_sgd_params sgd;
    gaba_adam_params adam;
} update;

static float *data(PyArrayObject *array) { return array ? PyArray_DATA(array) : NULL; }

static gaba_status run_sgd(const update *u) {
    return gaba_optim_sgd_f32(u->n, data(u->a[0]), data(u->a[1]), data(u->a[2]), u->step, &u->sgd);
}

static gaba_status run_adam(const update *u) {
    return gaba_optim_adam_f32(u->n, data(u->a[0]), data(u->a[1]), data(u->a[2]), data(u->a[3]),
                               u->step, &u->adam);
}

// Runs `run` on u (when its arrays passed: n >= 0) without the GIL for large
// blocks, releases the arrays, returns None or raises.
static PyObject *finish_update(update *u, gaba_status (*run)(const update *), const char *func) {
    PyObject *result = NULL;
    if (u->n >= 0) {
        int release = u->n >= GIL_RELEASE_ELEMENTS;
        PyThreadState *state = release ? PyEval_SaveThread() : NULL;
        gaba_status status = run(u);
        if (release) PyEval_RestoreThread(state);
        result = status == GABA_OK ? Py_NewRef(Py_None) : gaba_py_raise(status, func);
    }
    for (int i = 0; i < 4; i++) Py_XDECREF(u->a[i]);
    return result;
}

// sgd_step(weights, grads, momentum_buffer or None, step, lr, momentum,
// dampening, weight_decay, nesterov) -> None; updates in place.
static PyObject *py_sgd_step(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "SGD.step";
    static const char *const names[] = {"weights", "grads", "momentum_buffer"};
    if (nargs != 9) return PyErr_Format(PyExc_TypeError, "_gaba.sgd_step takes 9 arguments");
    update u = {0};
    int nesterov = PyObject_IsTrue(args[8]);
    if (nesterov < 0 || gaba_py_long(args[3], func, "step", 1, LONG_MAX, &u.step) ||
        gaba_py_double(args[4], func, "lr", &u.sgd.lr) ||
        gaba_py_double(args[5], func, "momentum", &u.sgd.momentum) ||
        gaba_py_double(args[6], func, "dampening", &u.sgd.dampening) ||
        gaba_py_double(args[7], func, "weight_decay", &u.sgd.weight_decay))
        return NULL;
    u.sgd.nesterov = nesterov;
    u.n = update_arrays(args, names, 3, 2, 1u << 2, func, u.a);
    return finish_update(&u, run_sgd, func);
}

// adam_step(weights, grads, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps,
// weight_decay, decoupled) -> None; updates in place.
static PyObject *py_adam_step(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "Adam.step";
    static const char *const names[] = {"weights", "grads", "exp_avg", "exp_avg_sq"};
    if (nargs != 11) return PyErr_Format(PyExc_TypeError, "_gaba.adam_step takes 11 arguments");
    update u = {0};
    int decoupled = PyObject_IsTrue(args[10]);
    if (decoupled < 0 || gaba_py_long(args[4], func, "step", 1, LONG_MAX, &u.step) ||
        gaba_py_double(args[5], func, "lr", &u.adam.lr) ||
        gaba_py_double(args[6], func, "beta1", &u.adam.beta1) ||
        gaba_py_double(args[7], func, "beta2", &u.adam.beta2) ||
        gaba_py_double(args[8], func, "eps", &u.adam.eps) ||
        gaba_py_double(args[9], func, "weight_decay", &u.adam.weight_decay))
        return NULL;
    u.adam.decoupled = decoupled;
    u.n = update_arrays(args, names, 4, 2, 0, func, u.a);
    return finish_update(&u, run_adam, func);
}

// clip_grad_norm(grads, max_norm) -> the norm before clipping; scales in place.
static PyObject *py_clip_grad_norm(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "clip_grad_norm";
    if (nargs != 2) return PyErr_Format(PyExc_TypeError, "_gaba.clip_grad_norm takes 2 arguments");
    double max_norm, norm = 0.0;
    if (gaba_py_double(args[1], func, "max_norm", &max_norm)) return NULL;
    PyArrayObject *g = gaba_py_array(args[0], func, "grads", NPY_FLOAT32, 1, 1,
                                     GABA_PY_OUTPUT | GABA_PY_CONTIGUOUS);
    if (!g) return NULL;
    npy_intp n = PyArray_DIM(g, 0);
    int release = n >= GIL_RELEASE_ELEMENTS;
    PyThreadState *state = release ? PyEval_SaveThread() : NULL;
    gaba_status status = gaba_optim_clip_grad_norm_f32(n, PyArray_DATA(g), max_norm, &norm);
    if (release) PyEval_RestoreThread(state);
    Py_DECREF(g);
    if (status == GABA_ERR_ARG)
        return PyErr_Format(PyExc_ValueError, "%s(): max_norm must be > 0, got %R", func, args[1]);
    if (status != GABA_OK) return gaba_py_raise(status, func);
    return PyFloat_FromDouble(norm);
}

PyMethodDef gaba_py_train_methods[] = {
    {"loss", (PyCFunction)(void (*)(void))py_loss, METH_FASTCALL, "See gaba.losses."},
    {"sgd_step", (PyCFunction)(void (*)(void))py_sgd_step, METH_FASTCALL, "See gaba.optim.SGD."},
    {"adam_step", (PyCFunction)(void (*)(void))py_adam_step, METH_FASTCALL, "See gaba.optim.Adam."},
    {"clip_grad_norm", (PyCFunction)(void (*)(void))py_clip_grad_norm, METH_FASTCALL,
     "See gaba.optim.clip_grad_norm."},
    {NULL, NULL, 0, NULL},
};
