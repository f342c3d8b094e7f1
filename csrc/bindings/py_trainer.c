// py_trainer.c - bindings of a zoo model's trainer (trainer.h), for gaba/train.py
// and Model.train_step: a capsule holding the trainer and a reference to its
// model's capsule; its forward and backward over a batch with the GIL
// released; zero-copy views of its parameter, gradient and statistics blocks
// and of the outputs' values and gradients in the arena.
#include "py_zoo_io.h"

#include "gaba/trainer.h"

#include <stdlib.h>
#include <string.h>

static const char CAPSULE[] = "gaba.zoo.trainer";

static void capsule_free(PyObject *cap) {
    gaba_zoo_trainer *t = PyCapsule_GetPointer(cap, CAPSULE);
    gaba_zoo_trainer_free(t);
    free(t);
    Py_XDECREF((PyObject *)PyCapsule_GetContext(cap));
}

static gaba_zoo_trainer *get_trainer(PyObject *cap) { return PyCapsule_GetPointer(cap, CAPSULE); }

static PyObject *raise(gaba_status st, const char *func) {
    if (st == GABA_ERR_BUSY)
        return PyErr_Format(PyExc_ValueError,
                            "%s(): the model is training or running in another thread", func);
    return gaba_py_zoo_raise(st, func);
}

// trainer_new(model capsule, threads) -> trainer capsule
static PyObject *py_trainer_new(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "train";
    if (nargs != 2) return PyErr_Format(PyExc_TypeError, "_gaba.trainer_new takes 2 arguments");
    gaba_zoo_model *m = PyCapsule_GetPointer(args[0], "gaba.zoo.model");
    long threads;
    if (!m || gaba_py_long(args[1], func, "threads", 1, GABA_MAX_THREADS, &threads)) return NULL;
    gaba_zoo_trainer *t = calloc(1, sizeof *t);
    if (!t) return PyErr_NoMemory();
    gaba_status st = gaba_zoo_trainer_init(t, m, (int)threads);
    if (st == GABA_ERR_NO_IMPL) {
        PyErr_Format(PyExc_ValueError, "%s(): layer '%s' of model %s has no backward yet", func,
                     t->unsupported ? t->unsupported : "?", m->def->name);
        free(t);
        return NULL;
    }
    if (st != GABA_OK) {
        free(t);
        return raise(st, func);
    }
    PyObject *cap = PyCapsule_New(t, CAPSULE, capsule_free);
    if (!cap) {
        gaba_zoo_trainer_free(t);
        free(t);
        return NULL;
    }
    Py_INCREF(args[0]); // the model outlives its trainer
    PyCapsule_SetContext(cap, args[0]);
    return cap;
}

// trainer_blocks(capsule) -> (params, grads, stats): flat views of the blocks.
static PyObject *py_trainer_blocks(PyObject *self, PyObject *cap) {
    gaba_zoo_trainer *t = get_trainer(cap);
    if (!t) return NULL;
    npy_intp p = t->param_floats, s = t->stat_floats;
    return Py_BuildValue("(NNN)", gaba_py_view(cap, t->params, 1, &p),
                         gaba_py_view(cap, t->grads, 1, &p), gaba_py_view(cap, t->stats, 1, &s));
}

// trainer_describe(capsule) -> {"params": [(key, shape, offset)], "stats": [...],
// "nodes": [(name, op, act, bn)], "arena_bytes": int, "batch": int}
static PyObject *py_trainer_describe(PyObject *self, PyObject *cap) {
    gaba_zoo_trainer *t = get_trainer(cap);
    if (!t) return NULL;
    PyObject *params = PyList_New(0), *stats = PyList_New(0), *nodes = PyList_New(0), *res = NULL;
    if (!params || !stats || !nodes) goto done;
    for (int n = 0; n < t->n_nodes; n++) {
        const gaba_zoo_tnode *nd = &t->nodes[n];
        const int bn = nd->kind == GABA_ZOO_TNODE_BATCHNORM;
        PyObject *row = Py_BuildValue("(ssss)", nd->name,
                                      bn ? "batchnorm_train" : gaba_nn_op_name(nd->layer.op),
                                      gaba_nn_act_name(nd->layer.act), "");
        if (!row || PyList_Append(nodes, row) < 0) goto row_fail;
        Py_DECREF(row);
        if (!nd->owner) continue;
        for (int w = 0; w < nd->plan.n_weights; w++) {
            char key[160];
            snprintf(key, sizeof key, "%s.%s", nd->name,
                     bn ? (w ? "bias" : "weight") : nd->plan.weight_names[w]);
            row = Py_BuildValue("(sNL)", key, gaba_py_shape(&nd->plan.weight_shapes[w]),
                                (long long)nd->w_offset[w]);
            if (!row || PyList_Append(params, row) < 0) goto row_fail;
            Py_DECREF(row);
        }
        if (!bn) continue;
        for (int k = 0; k < 2; k++) {
            char key[160];
            snprintf(key, sizeof key, "%s.%s", nd->name, k ? "running_var" : "running_mean");
            row = Py_BuildValue("(sNL)", key, gaba_py_shape(&nd->plan.weight_shapes[0]),
                                (long long)(gaba_zoo_trainer_running(t, nd, k) - t->stats));
            if (!row || PyList_Append(stats, row) < 0) goto row_fail;
            Py_DECREF(row);
        }
        continue;
    row_fail:
        Py_XDECREF(row);
        goto done;
    }
    res = Py_BuildValue("{s:O,s:O,s:O,s:L,s:L}", "params", params, "stats", stats, "nodes", nodes,
                        "arena_bytes", (long long)t->arena_bytes, "batch", (long long)t->batch_cap);
done:
    Py_XDECREF(params);
    Py_XDECREF(stats);
    Py_XDECREF(nodes);
    return res;
}

// trainer_reserve(capsule, batch): plans the arena for batches up to `batch`.
static PyObject *py_trainer_reserve(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "train";
    if (nargs != 2) return PyErr_Format(PyExc_TypeError, "_gaba.trainer_reserve takes 2 arguments");
    gaba_zoo_trainer *t = get_trainer(args[0]);
    long batch;
    if (!t || gaba_py_long(args[1], func, "batch_size", 1, INT32_MAX, &batch)) return NULL;
    gaba_status st;
    Py_BEGIN_ALLOW_THREADS
    st = gaba_zoo_trainer_reserve(t, batch);
    Py_END_ALLOW_THREADS
    if (st != GABA_OK) return raise(st, func);
    Py_RETURN_NONE;
}

// The model inputs of a train call: the tuple's arrays checked (py_zoo_io.h).
static npy_intp collect_inputs(const gaba_zoo_trainer *t, PyObject *inputs, void **ptrs,
                               const char *func) {
    const gaba_zoo_model *m = t->model;
    int iin[8];
    if (m->def->n_inputs > 8) return gaba_py_raise(GABA_ERR_INTERNAL, func), -1;
    gaba_py_zoo_io_indices(m->tensors, m->n_tensors, 1, m->def->n_inputs, iin);
    return gaba_py_zoo_collect(func, inputs, m->def->n_inputs, m->tensors, iin, 0, ptrs, -1);
}

// trainer_run(capsule, inputs tuple, threads, backward): forward of the batch, or backward
// of the batch forward ran on these inputs (the outputs' gradients written first).
static PyObject *py_trainer_run(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "train";
    if (nargs != 4) return PyErr_Format(PyExc_TypeError, "_gaba.trainer_run takes 4 arguments");
    gaba_zoo_trainer *t = get_trainer(args[0]);
    long threads, backward;
    void *in[8];
    if (!t || gaba_py_long(args[2], func, "threads", 1, GABA_MAX_THREADS, &threads) ||
        gaba_py_long(args[3], func, "backward", 0, 1, &backward))
        return NULL;
    npy_intp batch = collect_inputs(t, args[1], in, func);
    if (batch < 0) return NULL;
    if (batch < 1 || batch > t->batch_cap)
        return PyErr_Format(PyExc_ValueError,
                            "%s(): a batch of %zd samples, the trainer holds 1 to %lld", func,
                            (Py_ssize_t)batch, (long long)t->batch_cap);
    gaba_status st;
    Py_BEGIN_ALLOW_THREADS
    st = backward ? gaba_zoo_trainer_backward(t, batch, (const void *const *)in, (int)threads)
                  : gaba_zoo_trainer_forward(t, batch, (const void *const *)in, (int)threads);
    Py_END_ALLOW_THREADS
    if (st != GABA_OK) return raise(st, func);
    Py_RETURN_NONE;
}

// trainer_outputs(capsule, batch) -> [(values, gradients)] per model output: views of the
// first `batch` samples in the arena (valid until the next reserve).
static PyObject *py_trainer_outputs(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "train";
    if (nargs != 2) return PyErr_Format(PyExc_TypeError, "_gaba.trainer_outputs takes 2 arguments");
    gaba_zoo_trainer *t = get_trainer(args[0]);
    long batch;
    if (!t || gaba_py_long(args[1], func, "batch", 1, t->batch_cap, &batch)) return NULL;
    PyObject *list = PyList_New(t->model->def->n_outputs);
    if (!list) return NULL;
    for (int i = 0; i < t->n_tensors; i++) {
        const gaba_zoo_ttensor *tt = &t->tensors[i];
        if (tt->output < 0) continue;
        npy_intp dims[GABA_NN_MAX_DIMS + 1] = {batch};
        for (int j = 0; j < tt->shape.ndim; j++) dims[j + 1] = tt->shape.d[j];
        PyObject *pair = Py_BuildValue(
            "(NN)", gaba_py_view(args[0], gaba_zoo_trainer_value(t, i), tt->shape.ndim + 1, dims),
            gaba_py_view(args[0], gaba_zoo_trainer_dval(t, i), tt->shape.ndim + 1, dims));
        if (!pair) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, tt->output, pair);
    }
    return list;
}

// trainer_sync(capsule): the parameters into the model's weights; trainer_load: back.
static PyObject *py_trainer_sync(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "train";
    if (nargs != 2) return PyErr_Format(PyExc_TypeError, "_gaba.trainer_sync takes 2 arguments");
    gaba_zoo_trainer *t = get_trainer(args[0]);
    long load;
    if (!t || gaba_py_long(args[1], func, "load", 0, 1, &load)) return NULL;
    gaba_status st = load ? gaba_zoo_trainer_load(t) : gaba_zoo_trainer_sync(t);
    if (st != GABA_OK) return raise(st, func);
    Py_RETURN_NONE;
}

PyMethodDef gaba_py_trainer_methods[] = {
    {"trainer_new", (PyCFunction)(void (*)(void))py_trainer_new, METH_FASTCALL,
     "A trainer of a zoo model (gaba.train)."},
    {"trainer_blocks", py_trainer_blocks, METH_O, "Parameter, gradient and statistics blocks."},
    {"trainer_describe", py_trainer_describe, METH_O, "The trainer's parameters and plan."},
    {"trainer_reserve", (PyCFunction)(void (*)(void))py_trainer_reserve, METH_FASTCALL,
     "Plans the training arena for a batch size."},
    {"trainer_run", (PyCFunction)(void (*)(void))py_trainer_run, METH_FASTCALL,
     "Forward or backward of a batch."},
    {"trainer_outputs", (PyCFunction)(void (*)(void))py_trainer_outputs, METH_FASTCALL,
     "Views of the outputs and their gradients."},
    {"trainer_sync", (PyCFunction)(void (*)(void))py_trainer_sync, METH_FASTCALL,
     "Parameters into the model's weights, or back."},
    {NULL, NULL, 0, NULL},
};
