// py_zoo.c - bindings of the zoo executor (zoo.h) and of single layers
// (nn.h) for the tests. Glue only: a model lives in a capsule; its weight
// block is exposed as one float32 array whose base is the capsule (gaba/zoo.py
// slices it into named, writable, zero-copy views); forward checks the
// arrays and runs with the GIL released.
#include "py_zoo_io.h"

#include "gaba/zoo.h"

#include <stdlib.h>
#include <string.h>

static const char CAPSULE[] = "gaba.zoo.model";

static void capsule_free(PyObject *cap) {
    gaba_zoo_model *m = PyCapsule_GetPointer(cap, CAPSULE);
    if (m) {
        gaba_zoo_model_free(m);
        free(m);
    }
    Py_XDECREF(PyCapsule_GetContext(cap)); // the definition of a zoo_define model
}

static gaba_zoo_model *get_model(PyObject *cap) { return PyCapsule_GetPointer(cap, CAPSULE); }

static PyObject *py_zoo_names(PyObject *self, PyObject *unused) {
    int n;
    const gaba_zoo_def *const *reg = gaba_zoo_registry(&n);
    PyObject *list = PyList_New(n);
    if (!list) return NULL;
    for (int i = 0; i < n; i++)
        PyList_SET_ITEM(list, i,
                        Py_BuildValue("(ssz)", reg[i]->name, reg[i]->category, reg[i]->modality));
    return list;
}

// The names of nn.h's op (acts 0) or activation (acts 1) codes, in code order, from the op table.
static PyObject *nn_names(int n, int acts) {
    PyObject *names = PyTuple_New(n);
    for (int i = 0; names && i < n; i++) {
        PyObject *s = PyUnicode_FromString(acts ? gaba_nn_act_name((gaba_nn_act)i)
                                                : gaba_nn_op_name((gaba_nn_op)i));
        if (!s)
            Py_CLEAR(names);
        else
            PyTuple_SET_ITEM(names, i, s);
    }
    return names;
}

static PyObject *py_nn_ops(PyObject *self, PyObject *unused) {
    return nn_names(GABA_NN_OP_COUNT, 0);
}

static PyObject *py_nn_acts(PyObject *self, PyObject *unused) {
    return nn_names(GABA_NN_ACT_COUNT, 1);
}

// The model of `def` in a capsule; `owner` (a new reference, or NULL for a registry
// model) keeps a zoo_define definition alive as long as the capsule.
static PyObject *build_model(const gaba_zoo_def *def, PyObject *seed_arg, PyObject *threads_arg,
                             const char *func, PyObject *owner) {
    PyObject *cap = NULL;
    long threads;
    unsigned long long seed = 0;
    if (!PyLong_Check(seed_arg))
        PyErr_Format(PyExc_TypeError, "%s(): argument 'seed' must be an int, got %s", func,
                     Py_TYPE(seed_arg)->tp_name);
    else if ((seed = PyLong_AsUnsignedLongLong(seed_arg)) == (unsigned long long)-1 &&
             PyErr_Occurred())
        PyErr_Format(PyExc_ValueError, "%s(): argument 'seed' must be in 0..2**64-1, got %S", func,
                     seed_arg);
    if (PyErr_Occurred() ||
        gaba_py_long(threads_arg, func, "threads", 1, GABA_MAX_THREADS, &threads))
        goto done;
    gaba_zoo_model *m = calloc(1, sizeof *m);
    if (!m) {
        PyErr_NoMemory();
        goto done;
    }
    gaba_status st = gaba_zoo_model_init(m, def, seed, (int)threads);
    if (st != GABA_OK) {
        free(m);
        if (st == GABA_ERR_ARG || st == GABA_ERR_SHAPE)
            PyErr_Format(PyExc_ValueError,
                         "%s(): the layer table does not build (a name that is unknown or "
                         "written twice, or a layer its input shapes do not fit)",
                         func);
        else
            gaba_py_raise(st, func);
        goto done;
    }
    if (!(cap = PyCapsule_New(m, CAPSULE, capsule_free))) {
        gaba_zoo_model_free(m);
        free(m);
    } else if (owner && PyCapsule_SetContext(cap, owner) == 0) {
        return cap; // the capsule now holds the reference to owner
    }
done:
    Py_XDECREF(owner);
    return cap;
}

// zoo_create(name, seed, threads) -> capsule
static PyObject *py_zoo_create(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) return PyErr_Format(PyExc_TypeError, "_gaba.zoo_create takes 3 arguments");
    const char *name = PyUnicode_AsUTF8(args[0]);
    if (!name) return NULL;
    const gaba_zoo_def *def = gaba_zoo_find(name);
    if (!def) return PyErr_Format(PyExc_ValueError, "zoo.create(): no zoo model named %R", args[0]);
    return build_model(def, args[1], args[2], "zoo.create", NULL);
}

// ---- definitions built at run time (importers) ---------------------------------------

static const char DEF_CAPSULE[] = "gaba.zoo.def";
#define DEF_MAX_IO 8          // the int8 bindings' input/output arrays
#define DEF_MAX_NAME 100      // bytes; "layer.weight" keys stay unique in describe's buffer
#define DEF_MAX_LAYERS 100000 // far above any tiny model; bounds the tensor tables

static void def_free(gaba_zoo_def *d) {
    if (!d) return;
    free((char *)d->name);
    free((char *)d->category);
    free((char *)d->task);
    for (int i = 0; d->inputs && i < d->n_inputs; i++) free((char *)d->inputs[i].name);
    for (int i = 0; d->outputs && i < d->n_outputs; i++) free((char *)d->outputs[i]);
    for (int i = 0; d->layers && i < d->n_layers; i++) {
        const gaba_zoo_layer_def *l = &d->layers[i];
        free((char *)l->name);
        free((char *)l->out);
        free((char *)l->share);
        for (int j = 0; j < GABA_NN_MAX_INPUTS; j++) free((char *)l->in[j]);
    }
    free((void *)d->inputs);
    free((void *)d->outputs);
    free((void *)d->layers);
    free(d);
}

static void def_capsule_free(PyObject *cap) { def_free(PyCapsule_GetPointer(cap, DEF_CAPSULE)); }

// A copy of str `obj` (1..DEF_MAX_NAME bytes of UTF-8, no NUL), or NULL with
// ValueError/TypeError naming `what`.
static char *def_string(PyObject *obj, const char *func, const char *what) {
    Py_ssize_t n;
    const char *s = PyUnicode_Check(obj) ? PyUnicode_AsUTF8AndSize(obj, &n) : NULL;
    if (!s) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_TypeError, "%s(): %s must be a str, got %s", func, what,
                         Py_TYPE(obj)->tp_name);
        return NULL;
    }
    if (n < 1 || n > DEF_MAX_NAME || (Py_ssize_t)strlen(s) != n) {
        PyErr_Format(PyExc_ValueError, "%s(): %s must be 1 to %d bytes with no NUL, got %R", func,
                     what, DEF_MAX_NAME, obj);
        return NULL;
    }
    char *copy = malloc((size_t)n + 1);
    if (!copy) return (char *)PyErr_NoMemory();
    memcpy(copy, s, (size_t)n + 1);
    return copy;
}

// The items of sequence `obj` (a new reference to PySequence_Fast) when their count is in
// lo..hi, else NULL with ValueError/TypeError naming `what`.
static PyObject *def_items(PyObject *obj, const char *func, const char *what, Py_ssize_t lo,
                           Py_ssize_t hi) {
    if (!PySequence_Check(obj) || PyUnicode_Check(obj) || PyBytes_Check(obj))
        return PyErr_Format(PyExc_TypeError, "%s(): %s must be a sequence, got %s", func, what,
                            Py_TYPE(obj)->tp_name);
    PyObject *seq = PySequence_Fast(obj, "a sequence");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n < lo || n > hi) {
        Py_DECREF(seq);
        return PyErr_Format(PyExc_ValueError, "%s(): %s must hold %zd to %zd items, got %zd", func,
                            what, lo, hi, n);
    }
    return seq;
}

// Row i of table `kind` with its n fields (def_items), named "kind[i]" in `what`.
static PyObject *def_row(PyObject *row, const char *func, const char *kind, int i, Py_ssize_t n,
                         char what[48]) {
    snprintf(what, 48, "%s[%d]", kind, i);
    return def_items(row, func, what, n, n);
}

// inputs[i] = (name, dtype "float32" | "int32", shape, vocab).
static int def_input(PyObject *row, const char *func, int i, gaba_zoo_io_def *io) {
    char what[48];
    PyObject *seq = def_row(row, func, "inputs", i, 4, what);
    if (!seq) return -1;
    PyObject *const *f = PySequence_Fast_ITEMS(seq);
    static const char *const dtypes[] = {"float32", "int32", NULL};
    int ok = (io->name = def_string(f[0], func, what)) != NULL;
    int dt = ok ? gaba_py_choice(f[1], func, "dtype", dtypes) : -1;
    PyObject *shape = dt >= 0 ? def_items(f[2], func, what, 1, GABA_NN_MAX_DIMS) : NULL;
    long v, vocab = 0;
    ok = shape != NULL &&
         !gaba_py_long(f[3], func, "vocab", dt == 1, dt == 1 ? INT32_MAX : 0, &vocab);
    io->dtype = dt == 1 ? GABA_NN_I32 : GABA_NN_F32;
    io->vocab = (int32_t)vocab;
    int64_t numel = 1;
    for (Py_ssize_t d = 0; ok && d < PySequence_Fast_GET_SIZE(shape); d++) {
        ok = !gaba_py_long(PySequence_Fast_GET_ITEM(shape, d), func, "shape", 1, INT32_MAX, &v);
        io->shape.d[d] = (int32_t)v;
        io->shape.ndim = (int)d + 1;
        numel *= v;
        if (ok && numel > INT32_MAX) {
            PyErr_Format(PyExc_ValueError, "%s(): %s holds more than 2**31-1 values", func, what);
            ok = 0;
        }
    }
    Py_XDECREF(shape);
    Py_DECREF(seq);
    return ok ? 0 : -1;
}

// layers[i] = (name, op, act, params, (input names), output name, share name or None).
static int def_layer(PyObject *row, const char *func, int i, gaba_zoo_layer_def *l) {
    char what[48];
    PyObject *seq = def_row(row, func, "layers", i, 7, what);
    if (!seq) return -1;
    PyObject *const *f = PySequence_Fast_ITEMS(seq);
    gaba_nn_layer layer;
    int ok = (l->name = def_string(f[0], func, what)) != NULL &&
             !gaba_py_nn_layer(f[1], f[2], f[3], func, &layer);
    if (ok) {
        l->op = layer.op, l->act = layer.act;
        memcpy(l->p, layer.p, sizeof l->p);
    }
    PyObject *ins = ok ? def_items(f[4], func, what, 1, GABA_NN_MAX_INPUTS) : NULL;
    ok = ins != NULL;
    for (Py_ssize_t j = 0; ok && j < PySequence_Fast_GET_SIZE(ins); j++)
        ok = (l->in[j] = def_string(PySequence_Fast_GET_ITEM(ins, j), func, what)) != NULL;
    Py_XDECREF(ins);
    ok = ok && (l->out = def_string(f[5], func, what)) != NULL;
    ok = ok && (f[6] == Py_None || (l->share = def_string(f[6], func, what)) != NULL);
    Py_DECREF(seq);
    return ok ? 0 : -1;
}

// The definition of zoo_define's arguments, or NULL with the exception set.
static gaba_zoo_def *def_build(PyObject *const *args, const char *func) {
    gaba_zoo_def *d = calloc(1, sizeof *d);
    if (!d) return (gaba_zoo_def *)PyErr_NoMemory();
    PyObject *ins = NULL, *outs = NULL, *layers = NULL;
    int ok = (d->name = def_string(args[0], func, "name")) &&
             (d->category = def_string(args[1], func, "category")) &&
             (d->task = def_string(args[2], func, "task")) &&
             (ins = def_items(args[3], func, "inputs", 1, DEF_MAX_IO)) &&
             (outs = def_items(args[4], func, "outputs", 1, DEF_MAX_IO)) &&
             (layers = def_items(args[5], func, "layers", 1, DEF_MAX_LAYERS));
    if (ok) {
        Py_ssize_t ni = PySequence_Fast_GET_SIZE(ins), no = PySequence_Fast_GET_SIZE(outs),
                   nl = PySequence_Fast_GET_SIZE(layers);
        gaba_zoo_io_def *io = calloc((size_t)ni, sizeof *io);
        const char **on = calloc((size_t)no, sizeof *on);
        gaba_zoo_layer_def *ld = calloc((size_t)nl, sizeof *ld);
        d->inputs = io, d->outputs = on, d->layers = ld;
        d->n_inputs = (int)ni, d->n_outputs = (int)no, d->n_layers = (int)nl;
        ok = io && on && ld;
        if (!ok) PyErr_NoMemory();
        for (int i = 0; ok && i < ni; i++)
            ok = !def_input(PySequence_Fast_GET_ITEM(ins, i), func, i, &io[i]);
        for (int i = 0; ok && i < no; i++)
            ok = (on[i] = def_string(PySequence_Fast_GET_ITEM(outs, i), func, "outputs")) != NULL;
        for (int i = 0; ok && i < nl; i++)
            ok = !def_layer(PySequence_Fast_GET_ITEM(layers, i), func, i, &ld[i]);
    }
    Py_XDECREF(ins);
    Py_XDECREF(outs);
    Py_XDECREF(layers);
    if (!ok) {
        def_free(d);
        return NULL;
    }
    return d;
}

// zoo_define(name, category, task, inputs, outputs, layers, seed, threads) -> capsule: a
// model from a layer table built at run time (what a C model file holds as const data;
// def_input and def_layer give the rows' forms). The model's capsule keeps the table.
static PyObject *py_zoo_define(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "zoo.define";
    if (nargs != 8) return PyErr_Format(PyExc_TypeError, "_gaba.zoo_define takes 8 arguments");
    gaba_zoo_def *d = def_build(args, func);
    if (!d) return NULL;
    PyObject *owner = PyCapsule_New(d, DEF_CAPSULE, def_capsule_free);
    if (!owner) {
        def_free(d);
        return NULL;
    }
    return build_model(d, args[6], args[7], func, owner);
}

// A layer row of `l` in zoo_define's form, p[] without its trailing zeros.
static PyObject *table_layer(const gaba_zoo_layer_def *l) {
    int np_ = GABA_NN_MAX_PARAMS, ni = 0;
    while (np_ > 0 && l->p[np_ - 1] == 0) np_--;
    while (ni < GABA_NN_MAX_INPUTS && l->in[ni]) ni++;
    PyObject *p = PyTuple_New(np_), *ins = PyTuple_New(ni);
    for (int j = 0; p && j < np_; j++) PyTuple_SET_ITEM(p, j, PyLong_FromLong(l->p[j]));
    for (int j = 0; ins && j < ni; j++) PyTuple_SET_ITEM(ins, j, PyUnicode_FromString(l->in[j]));
    if (!p || !ins) {
        Py_XDECREF(p);
        Py_XDECREF(ins);
        return NULL;
    }
    return Py_BuildValue("(siiNNsz)", l->name, (int)l->op, (int)l->act, p, ins, l->out, l->share);
}

// zoo_table(name) -> dict: the registered model's layer table as zoo_define takes it
// (gaba.zoo.create rewrites it for num_classes, input_shape and width).
static PyObject *py_zoo_table(PyObject *self, PyObject *name_obj) {
    const char *name = PyUnicode_AsUTF8(name_obj);
    if (!name) return NULL;
    const gaba_zoo_def *d = gaba_zoo_find(name);
    if (!d) return PyErr_Format(PyExc_ValueError, "zoo.create(): no zoo model named %R", name_obj);
    PyObject *ins = PyList_New(d->n_inputs), *outs = PyList_New(d->n_outputs),
             *layers = PyList_New(d->n_layers);
    int ok = ins && outs && layers;
    for (int i = 0; ok && i < d->n_inputs; i++) {
        const gaba_zoo_io_def *io = &d->inputs[i];
        PyObject *row =
            Py_BuildValue("(ssNi)", io->name, io->dtype == GABA_NN_I32 ? "int32" : "float32",
                          gaba_py_shape(&io->shape), io->vocab);
        ok = row != NULL;
        if (ok) PyList_SET_ITEM(ins, i, row);
    }
    for (int i = 0; ok && i < d->n_outputs; i++) {
        PyObject *s = PyUnicode_FromString(d->outputs[i]);
        ok = s != NULL;
        if (ok) PyList_SET_ITEM(outs, i, s);
    }
    for (int i = 0; ok && i < d->n_layers; i++) {
        PyObject *row = table_layer(&d->layers[i]);
        ok = row != NULL;
        if (ok) PyList_SET_ITEM(layers, i, row);
    }
    if (!ok) {
        Py_XDECREF(ins);
        Py_XDECREF(outs);
        Py_XDECREF(layers);
        return NULL;
    }
    return Py_BuildValue("{s:s,s:s,s:z,s:s,s:N,s:N,s:N}", "name", d->name, "category", d->category,
                         "modality", d->modality, "task", d->task, "inputs", ins, "outputs", outs,
                         "layers", layers);
}

static PyObject *py_zoo_describe(PyObject *self, PyObject *cap) {
    gaba_zoo_model *m = get_model(cap);
    if (!m) return NULL;
    const gaba_zoo_def *d = m->def;
    PyObject *ins = PyList_New(0), *outs = PyList_New(0), *layers = PyList_New(0),
             *weights = PyList_New(0), *res = NULL;
    if (!ins || !outs || !layers || !weights) goto done;
    for (int i = 0; i < m->n_tensors; i++) {
        gaba_zoo_tensor *t = &m->tensors[i];
        if (t->kind == 1) {
            PyObject *row = Py_BuildValue("(sNsi)", t->name, gaba_py_shape(&t->shape),
                                          t->dtype == GABA_NN_I32 ? "int32" : "float32",
                                          d->inputs[t->io_index].vocab);
            if (!row || PyList_Append(ins, row) < 0) goto done_row;
            Py_DECREF(row);
            continue;
        done_row:
            Py_XDECREF(row);
            goto done;
        }
    }
    for (int o = 0; o < d->n_outputs; o++)
        for (int i = 0; i < m->n_tensors; i++)
            if (m->tensors[i].kind == 2 && m->tensors[i].io_index == o) {
                PyObject *row = Py_BuildValue("(sNs)", m->tensors[i].name,
                                              gaba_py_shape(&m->tensors[i].shape), "float32");
                if (!row || PyList_Append(outs, row) < 0) {
                    Py_XDECREF(row);
                    goto done;
                }
                Py_DECREF(row);
            }
    for (int n = 0; n < m->n_nodes; n++) {
        gaba_zoo_node *nd = &m->nodes[n];
        int64_t params = 0;
        for (int w = 0; w < nd->plan.n_weights; w++) {
            int64_t cnt = gaba_nn_numel(&nd->plan.weight_shapes[w]);
            if (!nd->shared) params += cnt;
            char key[160];
            snprintf(key, sizeof key, "%s.%s", nd->name, nd->plan.weight_names[w]);
            if (nd->shared) continue;
            PyObject *row = Py_BuildValue("(sNL)", key, gaba_py_shape(&nd->plan.weight_shapes[w]),
                                          (long long)nd->w_offset[w]);
            if (!row || PyList_Append(weights, row) < 0) {
                Py_XDECREF(row);
                goto done;
            }
            Py_DECREF(row);
        }
        const char *share = nd->shared ? m->nodes[nd->shared - 1].name : "";
        PyObject *in_names = PyTuple_New(nd->n_in), *p = PyTuple_New(GABA_NN_MAX_PARAMS);
        if (!in_names || !p) {
            Py_XDECREF(in_names);
            Py_XDECREF(p);
            goto done;
        }
        for (int j = 0; j < nd->n_in; j++)
            PyTuple_SET_ITEM(in_names, j, PyUnicode_FromString(m->tensors[nd->in[j]].name));
        for (int j = 0; j < GABA_NN_MAX_PARAMS; j++)
            PyTuple_SET_ITEM(p, j, PyLong_FromLong(nd->layer.p[j]));
        PyObject *row = Py_BuildValue("(sssNLLLisNsN)", nd->name, gaba_nn_op_name(nd->layer.op),
                                      gaba_nn_act_name(nd->layer.act), gaba_py_shape(&nd->plan.out),
                                      (long long)params, (long long)nd->plan.macs,
                                      (long long)m->tensors[nd->out].bytes, nd->folded_bn, share,
                                      in_names, m->tensors[nd->out].name, p);
        if (!row || PyList_Append(layers, row) < 0) {
            Py_XDECREF(row);
            goto done;
        }
        Py_DECREF(row);
    }
    res = Py_BuildValue("{s:s,s:s,s:z,s:s,s:L,s:O,s:O,s:L,s:L,s:L,s:L,s:O,s:O}", "name", d->name,
                        "category", d->category, "modality", d->modality, "task", d->task, "budget",
                        (long long)d->budget_params, "inputs", ins, "outputs", outs, "params",
                        (long long)m->params, "macs", (long long)m->macs, "weight_bytes",
                        (long long)(m->weight_floats * 4), "arena_bytes", (long long)m->arena_bytes,
                        "layers", layers, "weights", weights);
done:
    Py_XDECREF(ins);
    Py_XDECREF(outs);
    Py_XDECREF(layers);
    Py_XDECREF(weights);
    return res;
}

static PyObject *py_zoo_weights(PyObject *self, PyObject *cap) {
    gaba_zoo_model *m = get_model(cap);
    if (!m) return NULL;
    npy_intp dims[1] = {(npy_intp)m->weight_floats};
    return gaba_py_view(cap, m->weights, 1, dims);
}

static PyObject *py_zoo_set_impl(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) return PyErr_Format(PyExc_TypeError, "_gaba.zoo_set_impl takes 2 arguments");
    gaba_zoo_model *m = get_model(args[0]);
    if (!m) return NULL;
    int ref = PyObject_IsTrue(args[1]);
    if (ref < 0) return NULL;
    m->impl = ref ? GABA_NN_IMPL_REF : GABA_NN_IMPL_FAST;
    Py_RETURN_NONE;
}

// zoo_forward(capsule, inputs tuple, outputs tuple, threads): arrays C-contiguous with a
// leading batch axis, exactly the tensors' shapes, no output sharing memory with another
// array (py_zoo_io.h); gaba/zoo.py converts other arrays and words the errors with the
// user's names.
static PyObject *py_zoo_forward(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "zoo.forward";
    if (nargs != 4) return PyErr_Format(PyExc_TypeError, "_gaba.zoo_forward takes 4 arguments");
    gaba_zoo_model *m = get_model(args[0]);
    if (!m) return NULL;
    const gaba_zoo_def *d = m->def;
    long threads;
    if (gaba_py_long(args[3], func, "threads", 1, GABA_MAX_THREADS, &threads)) return NULL;
    int iin[8], iout[8];
    void *in_ptr[8], *out_ptr[8];
    if (d->n_inputs > 8 || d->n_outputs > 8) return gaba_py_raise(GABA_ERR_INTERNAL, func);
    gaba_py_zoo_io_indices(m->tensors, m->n_tensors, 1, d->n_inputs, iin);
    gaba_py_zoo_io_indices(m->tensors, m->n_tensors, 2, d->n_outputs, iout);
    npy_intp batch =
        gaba_py_zoo_collect(func, args[1], d->n_inputs, m->tensors, iin, 0, in_ptr, -1);
    if (batch < 0 ||
        gaba_py_zoo_collect(func, args[2], d->n_outputs, m->tensors, iout, 1, out_ptr, batch) < 0 ||
        gaba_py_zoo_outputs_apart(func, args[1], d->n_inputs, iin, args[2], d->n_outputs, iout,
                                  m->tensors) < 0)
        return NULL;
    gaba_status st;
    Py_BEGIN_ALLOW_THREADS
    st = gaba_zoo_model_forward(m, batch, (const void *const *)in_ptr, out_ptr, (int)threads);
    Py_END_ALLOW_THREADS
    if (st != GABA_OK) return gaba_py_zoo_raise(st, func);
    Py_RETURN_NONE;
}

// zoo_call(capsule, args, kwargs, out, threads) -> the output(s), or NotImplemented
// where the call is not forward's common case (py_zoo_io.h): gaba/zoo.py then takes
// the checked path.
static PyObject *py_zoo_call(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "zoo.forward";
    if (nargs != 5 || !PyTuple_Check(args[1]) || (args[2] != Py_None && !PyDict_Check(args[2])))
        return PyErr_Format(PyExc_TypeError, "_gaba.zoo_call(capsule, tuple, dict, out, threads)");
    gaba_zoo_model *m = get_model(args[0]);
    if (!m) return NULL;
    long threads;
    if (gaba_py_zoo_threads(args[4], &threads) < 0) return Py_NewRef(Py_NotImplemented);
    const gaba_zoo_def *d = m->def;
    int iin[8], iout[8];
    void *in_ptr[8], *out_ptr[8];
    if (d->n_inputs > 8 || d->n_outputs > 8) return gaba_py_raise(GABA_ERR_INTERNAL, func);
    gaba_py_zoo_io_indices(m->tensors, m->n_tensors, 1, d->n_inputs, iin);
    gaba_py_zoo_io_indices(m->tensors, m->n_tensors, 2, d->n_outputs, iout);
    npy_intp batch;
    PyObject *ins, *outs;
    int got = gaba_py_zoo_call_arrays(func, m->tensors, d->n_inputs, iin, d->n_outputs, iout,
                                      args[1], args[2] == Py_None ? NULL : args[2], args[3], in_ptr,
                                      out_ptr, &batch, &ins, &outs);
    if (got <= 0) return got < 0 ? NULL : Py_NewRef(Py_NotImplemented);
    gaba_status st;
    Py_BEGIN_ALLOW_THREADS
    st = gaba_zoo_model_forward(m, batch, (const void *const *)in_ptr, out_ptr, (int)threads);
    Py_END_ALLOW_THREADS
    PyObject *r = st == GABA_OK ? gaba_py_zoo_call_result(outs, d->n_outputs, iout, m->tensors)
                                : Py_NewRef(Py_NotImplemented); // the checked path words it
    Py_DECREF(ins);
    Py_DECREF(outs);
    return r;
}

// zoo_profile(capsule, on): turn per-node timing on or off (gaba.zoo.Model.profile).
static PyObject *py_zoo_profile(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) return PyErr_Format(PyExc_TypeError, "_gaba.zoo_profile takes 2 arguments");
    gaba_zoo_model *m = get_model(args[0]);
    int on = m ? PyObject_IsTrue(args[1]) : -1;
    if (on < 0) return NULL;
    gaba_status st = gaba_zoo_model_profile(m, on);
    if (st != GABA_OK) return gaba_py_zoo_raise(st, "zoo.profile");
    Py_RETURN_NONE;
}

// zoo_node_seconds(capsule) -> float64 array (n_nodes): each node's time in the last
// sample run while profiling.
static PyObject *py_zoo_node_seconds(PyObject *self, PyObject *cap) {
    gaba_zoo_model *m = get_model(cap);
    if (!m) return NULL;
    if (!m->node_seconds) return PyErr_Format(PyExc_ValueError, "zoo.profile: profiling is not on");
    npy_intp n = m->n_nodes;
    PyObject *out = PyArray_SimpleNew(1, &n, NPY_FLOAT64);
    if (out)
        memcpy(PyArray_DATA((PyArrayObject *)out), m->node_seconds, (size_t)n * sizeof(double));
    return out;
}

// The arrays and plan of a single-layer test binding: args[0..4] are (op, act, params,
// inputs, weights) as nn_layer takes them. Returns the input count, or -1 with an exception.
typedef struct layer_call {
    gaba_nn_layer layer;
    gaba_nn_plan plan;
    PyArrayObject *xa[GABA_NN_MAX_INPUTS], *wa[GABA_NN_MAX_WEIGHTS];
    gaba_nn_shape shapes[GABA_NN_MAX_INPUTS];
    const float *wp[GABA_NN_MAX_WEIGHTS];
    npy_intp batch;
    int n_in;
} layer_call;

static void layer_call_free(layer_call *c) {
    for (int i = 0; i < GABA_NN_MAX_INPUTS; i++) Py_CLEAR(c->xa[i]);
    for (int i = 0; i < GABA_NN_MAX_WEIGHTS; i++) Py_CLEAR(c->wa[i]);
}

static int layer_call_parse(PyObject *const *args, const char *func, layer_call *c) {
    memset(c, 0, sizeof *c);
    if (gaba_py_nn_layer(args[0], args[1], args[2], func, &c->layer)) return -1;
    const int ids = c->layer.op == GABA_NN_EMBEDDING;
    gaba_nn_dtype dts[GABA_NN_MAX_INPUTS];
    c->n_in = gaba_py_nn_inputs(args[3], func, ids ? NPY_INT32 : NPY_FLOAT32, c->xa, c->shapes,
                                &c->batch);
    if (c->n_in < 0) return -1;
    for (int i = 0; i < c->n_in; i++) dts[i] = ids ? GABA_NN_I32 : GABA_NN_F32;
    gaba_status st = gaba_nn_prepare(&c->layer, c->n_in, c->shapes, dts, &c->plan);
    if (st != GABA_OK) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): op %s does not take these params, act and input "
                     "shapes (%s)",
                     func, gaba_nn_op_name(c->layer.op), gaba_status_str(st));
        return -1;
    }
    PyObject *ws = PySequence_Fast(args[4], "weights must be a sequence of arrays");
    if (!ws) return -1;
    int n_w = (int)PySequence_Fast_GET_SIZE(ws), bad = n_w != c->plan.n_weights;
    if (bad)
        PyErr_Format(PyExc_ValueError, "%s(): argument 'weights' holds %d arrays, op %s needs %d",
                     func, n_w, gaba_nn_op_name(c->layer.op), c->plan.n_weights);
    for (int i = 0; i < n_w && !bad; i++) {
        const char *name = c->plan.weight_names[i];
        int64_t want = gaba_nn_numel(&c->plan.weight_shapes[i]);
        c->wa[i] = gaba_py_array(PySequence_Fast_GET_ITEM(ws, i), func, name, NPY_FLOAT32, 1, 4,
                                 GABA_PY_CONTIGUOUS);
        if ((bad = !c->wa[i])) break;
        if ((bad = PyArray_SIZE(c->wa[i]) != want))
            PyErr_Format(PyExc_ValueError, "%s(): weight '%s' has %zd values, op %s needs %lld",
                         func, name, (Py_ssize_t)PyArray_SIZE(c->wa[i]),
                         gaba_nn_op_name(c->layer.op), (long long)want);
        c->wp[i] = PyArray_DATA(c->wa[i]);
    }
    Py_DECREF(ws);
    return bad ? -1 : c->n_in;
}

// A (batch, shape) float32 array, uninitialised (zeroed: `zero`).
static PyArrayObject *batch_array(npy_intp batch, const gaba_nn_shape *s, int zero) {
    npy_intp dims[GABA_NN_MAX_DIMS + 1] = {batch};
    for (int j = 0; j < s->ndim; j++) dims[j + 1] = s->d[j];
    return (PyArrayObject *)(zero ? PyArray_ZEROS(s->ndim + 1, dims, NPY_FLOAT32, 0)
                                  : PyArray_SimpleNew(s->ndim + 1, dims, NPY_FLOAT32));
}

// Runs the parsed layer forward over the batch into out.
static gaba_status layer_call_forward(const layer_call *c, float *out, float *scratch,
                                      gaba_nn_impl impl) {
    gaba_status st = GABA_OK;
    int64_t out_n = gaba_nn_numel(&c->plan.out);
    for (npy_intp s = 0; s < c->batch && st == GABA_OK; s++) {
        const void *xp[GABA_NN_MAX_INPUTS];
        for (int i = 0; i < c->n_in; i++)
            xp[i] = (const char *)PyArray_DATA(c->xa[i]) + s * gaba_nn_numel(&c->shapes[i]) * 4;
        st = gaba_nn_eval(&c->layer, c->n_in, c->shapes, xp, &c->plan, c->wp, out + s * out_n,
                          scratch, impl);
    }
    return st;
}

static PyObject *layer_call_raise(const layer_call *c, gaba_status st, const char *func) {
    if (st == GABA_ERR_ARG && c->layer.op == GABA_NN_EMBEDDING)
        return PyErr_Format(PyExc_ValueError,
                            "%s(): argument 'inputs' holds a token id outside [0, params[1])",
                            func);
    if (st == GABA_ERR_NO_IMPL)
        return PyErr_Format(PyExc_ValueError, "%s(): op %s with act %s has no backward", func,
                            gaba_nn_op_name(c->layer.op), gaba_nn_act_name(c->layer.act));
    return gaba_py_raise(st, func);
}

// nn_layer(op, act, params, inputs, weights, impl) -> output: one layer over a batch
// (inputs: list of arrays with a leading batch axis, one batch for all; weights: list in
// plan order, each of the plan's size; impl 1 = reference).
static PyObject *py_nn_layer(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "nn_layer";
    if (nargs != 6) return PyErr_Format(PyExc_TypeError, "_gaba.nn_layer takes 6 arguments");
    layer_call c = {0};
    long impl;
    PyArrayObject *out = NULL;
    float *scratch = NULL;
    if (gaba_py_long(args[5], func, "impl", 0, 1, &impl) || layer_call_parse(args, func, &c) < 0)
        goto done;
    out = batch_array(c.batch, &c.plan.out, 0);
    scratch = gaba_aligned_alloc((size_t)(c.plan.workspace + 1) * sizeof(float));
    if (!out || !scratch) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        goto done;
    }
    gaba_status st;
    Py_BEGIN_ALLOW_THREADS
    st = layer_call_forward(&c, PyArray_DATA(out), scratch,
                            impl ? GABA_NN_IMPL_REF : GABA_NN_IMPL_FAST);
    Py_END_ALLOW_THREADS
    if (st != GABA_OK) {
        layer_call_raise(&c, st, func);
        Py_CLEAR(out);
    }
done:
    gaba_aligned_free(scratch);
    layer_call_free(&c);
    return (PyObject *)out;
}

// nn_backward(op, act, params, inputs, weights, dy, impl) -> (y, [dx], [dw]): one layer's
// forward over a batch, then its backward from dy (the output's shape, with the batch axis)
// in one call: the gradients of the float32 inputs and of the weights.
static PyObject *py_nn_backward(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "nn_backward";
    if (nargs != 7) return PyErr_Format(PyExc_TypeError, "_gaba.nn_backward takes 7 arguments");
    layer_call c = {0};
    long impl;
    PyArrayObject *y = NULL, *dy = NULL, *dx[GABA_NN_MAX_INPUTS] = {0},
                  *dw[GABA_NN_MAX_WEIGHTS] = {0};
    float *scratch = NULL;
    PyObject *result = NULL;
    if (gaba_py_long(args[6], func, "impl", 0, 1, &impl) || layer_call_parse(args, func, &c) < 0)
        goto done;
    if (!(dy = gaba_py_array(args[5], func, "dy", NPY_FLOAT32, c.plan.out.ndim + 1,
                             c.plan.out.ndim + 1, GABA_PY_CONTIGUOUS)) ||
        gaba_py_check_dim(dy, func, "dy", 0, c.batch, "the batch"))
        goto done;
    for (int j = 0; j < c.plan.out.ndim; j++)
        if (gaba_py_check_dim(dy, func, "dy", j + 1, c.plan.out.d[j], "the output's shape"))
            goto done;
    y = batch_array(c.batch, &c.plan.out, 0);
    int64_t n_ws =
        c.plan.workspace > c.plan.bwd_workspace ? c.plan.workspace : c.plan.bwd_workspace;
    scratch = gaba_aligned_alloc((size_t)(n_ws + 1) * sizeof(float));
    if (!y || !scratch) goto nomem;
    float *dxp[GABA_NN_MAX_INPUTS] = {0}, *dwp[GABA_NN_MAX_WEIGHTS] = {0};
    const void *xp[GABA_NN_MAX_INPUTS];
    for (int i = 0; i < c.n_in; i++) {
        xp[i] = PyArray_DATA(c.xa[i]);
        if (c.layer.op == GABA_NN_EMBEDDING) continue; // ids have no gradient
        if (!(dx[i] = batch_array(c.batch, &c.shapes[i], 1))) goto nomem;
        dxp[i] = PyArray_DATA(dx[i]);
    }
    for (int k = 0; k < c.plan.n_weights; k++) {
        if (!(dw[k] = (PyArrayObject *)PyArray_ZEROS(PyArray_NDIM(c.wa[k]), PyArray_DIMS(c.wa[k]),
                                                     NPY_FLOAT32, 0)))
            goto nomem;
        dwp[k] = PyArray_DATA(dw[k]);
    }
    gaba_nn_impl im = impl ? GABA_NN_IMPL_REF : GABA_NN_IMPL_FAST;
    gaba_status st;
    Py_BEGIN_ALLOW_THREADS
    st = layer_call_forward(&c, PyArray_DATA(y), scratch, im);
    if (st == GABA_OK)
        st = gaba_nn_backward(&c.layer, c.n_in, c.shapes, c.batch, xp, &c.plan, c.wp,
                              PyArray_DATA(y), PyArray_DATA(dy), dxp, dwp, scratch, im);
    Py_END_ALLOW_THREADS
    if (st != GABA_OK) {
        layer_call_raise(&c, st, func);
        goto done;
    }
    PyObject *dxl = PyList_New(c.n_in), *dwl = PyList_New(c.plan.n_weights);
    if (dxl && dwl) {
        for (int i = 0; i < c.n_in; i++) {
            PyList_SET_ITEM(dxl, i, dx[i] ? (PyObject *)dx[i] : Py_NewRef(Py_None));
            dx[i] = NULL;
        }
        for (int k = 0; k < c.plan.n_weights; k++) {
            PyList_SET_ITEM(dwl, k, (PyObject *)dw[k]);
            dw[k] = NULL;
        }
        result = PyTuple_Pack(3, (PyObject *)y, dxl, dwl);
    }
    Py_XDECREF(dxl);
    Py_XDECREF(dwl);
    goto done;
nomem:
    if (!PyErr_Occurred()) PyErr_NoMemory();
done:
    gaba_aligned_free(scratch);
    layer_call_free(&c);
    Py_XDECREF(y);
    Py_XDECREF(dy);
    for (int i = 0; i < GABA_NN_MAX_INPUTS; i++) Py_XDECREF(dx[i]);
    for (int k = 0; k < GABA_NN_MAX_WEIGHTS; k++) Py_XDECREF(dw[k]);
    return result;
}

// nn_batchnorm_fold(w (co, per), b (co), gamma, beta, mean, var, eps): in place.
static PyObject *py_nn_batchnorm_fold(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "nn_batchnorm_fold";
    if (nargs != 7)
        return PyErr_Format(PyExc_TypeError, "_gaba.nn_batchnorm_fold takes 7 arguments");
    double eps = PyFloat_AsDouble(args[6]);
    if (eps == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return PyErr_Format(PyExc_TypeError, "%s(): argument 'eps' must be a float, got %s", func,
                            Py_TYPE(args[6])->tp_name);
    }
    PyArrayObject *a[6] = {0};
    PyObject *res = NULL;
    static const char *const names[6] = {"w", "b", "gamma", "beta", "mean", "var"};
    for (int i = 0; i < 6; i++)
        if (!(a[i] =
                  gaba_py_array(args[i], func, names[i], NPY_FLOAT32, i ? 1 : 2, i ? 1 : 2,
                                i < 2 ? GABA_PY_OUTPUT | GABA_PY_CONTIGUOUS : GABA_PY_CONTIGUOUS)))
            goto done;
    npy_intp co = PyArray_DIM(a[0], 0);
    for (int i = 1; i < 6; i++)
        if (gaba_py_check_dim(a[i], func, names[i], 0, co, "w.shape[0]")) goto done;
    gaba_nn_batchnorm_fold(co, PyArray_DIM(a[0], 1), PyArray_DATA(a[0]), PyArray_DATA(a[1]),
                           PyArray_DATA(a[2]), PyArray_DATA(a[3]), PyArray_DATA(a[4]),
                           PyArray_DATA(a[5]), (float)eps);
    res = Py_NewRef(Py_None);
done:
    for (int i = 0; i < 6; i++) Py_XDECREF(a[i]);
    return res;
}

PyMethodDef gaba_py_zoo_methods[] = {
    {"zoo_names", py_zoo_names, METH_NOARGS, "See gaba.zoo.names."},
    {"zoo_create", (PyCFunction)(void (*)(void))py_zoo_create, METH_FASTCALL,
     "See gaba.zoo.create."},
    {"zoo_define", (PyCFunction)(void (*)(void))py_zoo_define, METH_FASTCALL,
     "A model from a layer table built at run time (gaba.importers)."},
    {"zoo_describe", py_zoo_describe, METH_O, "See gaba.zoo.info."},
    {"zoo_table", py_zoo_table, METH_O, "A registered model's layer table (gaba.zoo.create)."},
    {"zoo_weights", py_zoo_weights, METH_O, "See gaba.zoo.Model.weights."},
    {"zoo_set_impl", (PyCFunction)(void (*)(void))py_zoo_set_impl, METH_FASTCALL,
     "Reference or fast kernels."},
    {"zoo_call", (PyCFunction)(void (*)(void))py_zoo_call, METH_FASTCALL,
     "See gaba.zoo.Model.forward."},
    {"zoo_forward", (PyCFunction)(void (*)(void))py_zoo_forward, METH_FASTCALL,
     "See gaba.zoo.Model.forward."},
    {"zoo_profile", (PyCFunction)(void (*)(void))py_zoo_profile, METH_FASTCALL,
     "See gaba.zoo.Model.profile."},
    {"zoo_node_seconds", py_zoo_node_seconds, METH_O, "See gaba.zoo.Model.profile."},
    {"nn_ops", py_nn_ops, METH_NOARGS, "The op names in code order; see gaba.zoo.OPS."},
    {"nn_acts", py_nn_acts, METH_NOARGS, "The activation names in code order; see gaba.zoo.ACTS."},
    {"nn_layer", (PyCFunction)(void (*)(void))py_nn_layer, METH_FASTCALL,
     "One layer over a batch (tests)."},
    {"nn_backward", (PyCFunction)(void (*)(void))py_nn_backward, METH_FASTCALL,
     "One layer's forward and backward over a batch (tests)."},
    {"nn_batchnorm_fold", (PyCFunction)(void (*)(void))py_nn_batchnorm_fold, METH_FASTCALL,
     "Batch-norm folding (tests)."},
    {NULL, NULL, 0, NULL},
};
