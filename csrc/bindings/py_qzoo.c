// py_qzoo.c - bindings of int8 zoo inference (qzoo.h): calibrate a float model's
// capsule into its ranges, quantize it from ranges into an int8 model's capsule,
// describe it, run it (float or raw int8 edges) with the GIL released. Glue only.
#include "py_zoo_io.h"

#include "gaba/qzoo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char QCAPSULE[] = "gaba.zoo.qmodel";

static void qcapsule_free(PyObject *cap) {
    gaba_zoo_qmodel *q = PyCapsule_GetPointer(cap, QCAPSULE);
    if (q) {
        gaba_zoo_qmodel_free(q);
        free(q);
    }
    Py_XDECREF(PyCapsule_GetContext(cap)); // a run-time definition (py_zoo.c's zoo_define)
}

// The number of ranges gaba_zoo_calibrate records for `m`.
static npy_intp n_ranges(const gaba_zoo_model *m) {
    return (npy_intp)m->n_tensors + GABA_ZOO_NODE_RANGES * (npy_intp)m->n_nodes;
}

// A (rows, cols) C-contiguous writeable array of `dtype` (cols < 0: any), or NULL
// with the exception set.
static PyArrayObject *state_array(PyObject *obj, const char *name, int dtype, npy_intp rows,
                                  npy_intp cols) {
    static const char func[] = "zoo.quantize";
    PyArrayObject *a =
        gaba_py_array(obj, func, name, dtype, 2, 2, GABA_PY_OUTPUT | GABA_PY_CONTIGUOUS);
    if (a && (gaba_py_check_dim(a, func, name, 0, rows, "the model's ranges") ||
              (cols >= 0 && gaba_py_check_dim(a, func, name, 1, cols, "the state's width")))) {
        Py_DECREF(a);
        return NULL;
    }
    return a;
}

// Nonzero, with ValueError set, unless the histogram state is one gaba_zoo_calibrate
// keeps (apart from the ranges, an even number of bins, each width 0 or one that can
// double over any float32 range without overflow) and the three arrays are apart.
static int hist_state_bad(PyArrayObject *r, PyArrayObject *edges, PyArrayObject *counts) {
    static const char func[] = "zoo.quantize";
    npy_intp nb = PyArray_DIM(counts, 1), n = PyArray_DIM(edges, 0);
    if (nb < 2 || nb % 2) {
        PyErr_Format(PyExc_ValueError, "%s(): counts must have an even number of bins >= 2", func);
        return 1;
    }
    const double *e = PyArray_DATA(edges);
    for (npy_intp i = 0; i < n; i++) {
        double first = e[2 * i], w = e[2 * i + 1];
        if (w != 0.0 && !(fabs(first) <= 1e300 && w >= 1e-300 && w * (double)nb <= 1e300)) {
            PyErr_Format(PyExc_ValueError, "%s(): edges row %ld is not a histogram's", func,
                         (long)i);
            return 1;
        }
    }
    return gaba_py_check_no_overlap(edges, r, func, "edges", "ranges") ||
           gaba_py_check_no_overlap(counts, r, func, "counts", "ranges") ||
           gaba_py_check_no_overlap(counts, edges, func, "counts", "edges");
}

// zoo_calibrate(float capsule, inputs tuple[, ranges[, edges, counts]]) -> ranges:
// float32 (2, n_ranges), row 0 each range's min, row 1 its max (gaba_zoo_calibrate),
// widened over the batch: a new array starting empty (+inf, -inf) unless `ranges` is
// given, which is updated in place and returned. With edges (float64 (n_ranges, 2): first
// edge and bin width, width 0 for a histogram never filled) and counts (uint64 (n_ranges,
// bins), bins even), each range's histogram too, in place (gaba_zoo_hist).
static PyObject *py_zoo_calibrate(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "zoo.quantize";
    if (nargs != 2 && nargs != 3 && nargs != 5)
        return PyErr_Format(PyExc_TypeError, "_gaba.zoo_calibrate takes 2, 3 or 5 arguments");
    gaba_zoo_model *m = PyCapsule_GetPointer(args[0], "gaba.zoo.model");
    if (!m) return NULL;
    int idx[8];
    void *in[8];
    if (m->def->n_inputs > 8) return gaba_py_raise(GABA_ERR_INTERNAL, func);
    gaba_py_zoo_io_indices(m->tensors, m->n_tensors, 1, m->def->n_inputs, idx);
    npy_intp batch =
        gaba_py_zoo_collect(func, args[1], m->def->n_inputs, m->tensors, idx, 0, in, -1);
    if (batch < 0) return NULL;
    npy_intp n = n_ranges(m);
    PyArrayObject *r = NULL, *edges = NULL, *counts = NULL;
    if (nargs == 2) {
        npy_intp dims[2] = {2, n};
        if ((r = (PyArrayObject *)PyArray_SimpleNew(2, dims, NPY_FLOAT32))) {
            float *lo = PyArray_DATA(r);
            for (npy_intp i = 0; i < n; i++) lo[i] = INFINITY, lo[n + i] = -INFINITY;
        }
    } else if ((r = state_array(args[2], "ranges", NPY_FLOAT32, 2, n)) && nargs == 5) {
        edges = state_array(args[3], "edges", NPY_FLOAT64, n, 2);
        counts = edges ? state_array(args[4], "counts", NPY_UINT64, n, -1) : NULL;
        if (counts && hist_state_bad(r, edges, counts)) Py_CLEAR(counts);
    }
    if (!r || (nargs == 5 && !counts)) {
        Py_XDECREF(r);
        Py_XDECREF(edges);
        return NULL;
    }
    float *tmin = PyArray_DATA(r), *tmax = tmin + n;
    gaba_zoo_hist hist = {counts ? PyArray_DIM(counts, 1) : 0, edges ? PyArray_DATA(edges) : NULL,
                          counts ? PyArray_DATA(counts) : NULL};
    gaba_status st = GABA_OK;
    if (batch > 0) {
        Py_BEGIN_ALLOW_THREADS
        st = gaba_zoo_calibrate(m, batch, (const void *const *)in, tmin, tmax,
                                counts ? &hist : NULL);
        Py_END_ALLOW_THREADS
    }
    Py_XDECREF(edges);
    Py_XDECREF(counts);
    if (st != GABA_OK) {
        Py_DECREF(r);
        return gaba_py_zoo_raise(st, func);
    }
    return (PyObject *)r;
}

// zoo_tensor_names(float capsule) -> the names of its tensors, in the order of the
// first ranges zoo_calibrate records.
static PyObject *py_zoo_tensor_names(PyObject *self, PyObject *cap) {
    gaba_zoo_model *m = PyCapsule_GetPointer(cap, "gaba.zoo.model");
    if (!m) return NULL;
    PyObject *names = PyList_New(m->n_tensors);
    for (int i = 0; names && i < m->n_tensors; i++) {
        PyObject *s = PyUnicode_FromString(m->tensors[i].name);
        if (!s)
            Py_CLEAR(names);
        else
            PyList_SET_ITEM(names, i, s);
    }
    return names;
}

static PyObject *quantize(gaba_zoo_model *m, PyObject *const *args, const gaba_zoo_qgiven *given);

// The parameters of gaba_zoo_qgiven from `params` ({tensor name: (scale, zp)}) and
// `w_scales` ({layer name: float32 array of its output channels' scales}), either None;
// the arrays stay referenced in held[] (n_nodes entries) until the caller releases them.
static int given_params(const gaba_zoo_model *m, PyObject *params, PyObject *w_scales,
                        const char *func, float *scale, int32_t *zp, const float **ws,
                        PyObject **held) {
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    if (params != Py_None && !PyDict_Check(params)) {
        PyErr_Format(PyExc_TypeError, "%s: tensor parameters must be a dict", func);
        return -1;
    }
    while (params != Py_None && PyDict_Next(params, &pos, &key, &value)) {
        const char *name = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
        int i = 0;
        while (name && i < m->n_tensors && strcmp(m->tensors[i].name, name) != 0) i++;
        double s;
        long z;
        if (!name || i == m->n_tensors || !PyTuple_Check(value) || PyTuple_GET_SIZE(value) != 2) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_ValueError,
                             "%s: %R is not a tensor of the model, or its "
                             "parameters are not a (scale, zero point) pair",
                             func, key);
            return -1;
        }
        if (gaba_py_double(PyTuple_GET_ITEM(value, 0), func, "scale", &s) ||
            gaba_py_long(PyTuple_GET_ITEM(value, 1), func, "zero point", -128, 127, &z))
            return -1;
        if (!(s > 1e-30 && s < 1e30)) {
            PyErr_Format(PyExc_ValueError,
                         "%s: tensor %R has scale %g; expected a finite "
                         "scale > 0",
                         func, key, s);
            return -1;
        }
        scale[i] = (float)s, zp[i] = (int32_t)z;
    }
    if (w_scales != Py_None && !PyDict_Check(w_scales)) {
        PyErr_Format(PyExc_TypeError, "%s: weight scales must be a dict", func);
        return -1;
    }
    pos = 0;
    while (w_scales != Py_None && PyDict_Next(w_scales, &pos, &key, &value)) {
        const char *name = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
        int n = 0;
        while (name && n < m->n_nodes && strcmp(m->nodes[n].name, name) != 0) n++;
        const gaba_zoo_node *nd = n < m->n_nodes ? &m->nodes[n] : NULL;
        gaba_nn_op op = nd ? nd->layer.op : GABA_NN_OP_COUNT;
        if ((op != GABA_NN_CONV2D && op != GABA_NN_CONV1D && op != GABA_NN_DENSE) || nd->shared ||
            held[n]) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_ValueError,
                             "%s: %R is not a conv or dense layer of the "
                             "model with weights of its own",
                             func, key);
            return -1;
        }
        PyArrayObject *a =
            gaba_py_array(value, func, "weight scales", NPY_FLOAT32, 1, 1, GABA_PY_CONTIGUOUS);
        if (!a) return -1;
        held[n] = (PyObject *)a;
        if (gaba_py_check_dim(a, func, "weight scales", 0, nd->plan.weight_shapes[1].d[0],
                              "the layer's output channels"))
            return -1;
        const float *v = PyArray_DATA(a);
        for (npy_intp c = 0; c < PyArray_DIM(a, 0); c++)
            if (!(v[c] > 1e-30f && v[c] < 1e30f)) {
                PyErr_Format(PyExc_ValueError,
                             "%s: layer %R has weight scale %g; expected "
                             "finite scales > 0",
                             func, key, (double)v[c]);
                return -1;
            }
        ws[n] = v;
    }
    return 0;
}

// zoo_quantize(float capsule, ranges, threads, requant, keep_float[, params, w_scales])
// -> int8 capsule: ranges float32 (2, n_ranges) as zoo_calibrate gives them (any values
// are safe: the quantizer reads a reversed or NaN range as one never seen, and a width
// that is not finite as scale 1); requant a gaba_qnn_requant_mode (0 double rounding,
// 1 fp32); keep_float uint8 (n_nodes): nonzero runs that layer in float32; params and
// w_scales (given_params) what an imported file fixes.
static PyObject *py_zoo_quantize(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "zoo.quantize";
    if (nargs != 5 && nargs != 7)
        return PyErr_Format(PyExc_TypeError, "_gaba.zoo_quantize takes 5 or 7 arguments");
    gaba_zoo_model *m = PyCapsule_GetPointer(args[0], "gaba.zoo.model");
    if (!m) return NULL;
    gaba_zoo_qgiven given = {0};
    PyObject **held = NULL;
    if (nargs == 7) {
        float *scale = calloc((size_t)m->n_tensors + 1, sizeof(float));
        int32_t *zp = calloc((size_t)m->n_tensors + 1, sizeof(int32_t));
        const float **ws = calloc((size_t)m->n_nodes + 1, sizeof *ws);
        held = calloc((size_t)m->n_nodes + 1, sizeof *held);
        given = (gaba_zoo_qgiven){scale, zp, ws};
        PyObject *r = NULL;
        if (!scale || !zp || !ws || !held)
            PyErr_NoMemory();
        else if (given_params(m, args[5], args[6], func, scale, zp, ws, held) == 0)
            r = quantize(m, args, &given);
        for (int n = 0; held && n < m->n_nodes; n++) Py_XDECREF(held[n]);
        free(held);
        free(scale);
        free(zp);
        free((void *)ws);
        return r;
    }
    return quantize(m, args, NULL);
}

// py_zoo_quantize's work once `given` is read.
static PyObject *quantize(gaba_zoo_model *m, PyObject *const *args, const gaba_zoo_qgiven *given) {
    static const char func[] = "zoo.quantize";
    long threads, requant;
    if (gaba_py_long(args[2], func, "threads", 1, GABA_MAX_THREADS, &threads) ||
        gaba_py_long(args[3], func, "requant", GABA_QNN_REQUANT_DOUBLE, GABA_QNN_REQUANT_FP32,
                     &requant))
        return NULL;
    PyArrayObject *r =
        gaba_py_array(args[1], func, "ranges", NPY_FLOAT32, 2, 2, GABA_PY_CONTIGUOUS);
    if (!r) return NULL;
    if (gaba_py_check_dim(r, func, "ranges", 0, 2, "(min, max)") ||
        gaba_py_check_dim(r, func, "ranges", 1, n_ranges(m), "the model's ranges")) {
        Py_DECREF(r);
        return NULL;
    }
    PyArrayObject *keep =
        gaba_py_array(args[4], func, "keep_float", NPY_UINT8, 1, 1, GABA_PY_CONTIGUOUS);
    if (!keep || gaba_py_check_dim(keep, func, "keep_float", 0, m->n_nodes, "the model's layers")) {
        Py_XDECREF(keep);
        Py_DECREF(r);
        return NULL;
    }
    const float *tmin = PyArray_DATA(r), *tmax = tmin + n_ranges(m);
    gaba_zoo_qmodel *q = calloc(1, sizeof *q);
    gaba_status st = q ? GABA_OK : GABA_ERR_NOMEM;
    Py_BEGIN_ALLOW_THREADS
    if (st == GABA_OK)
        st = gaba_zoo_quantize_given(q, m, tmin, tmax, (int)threads, (gaba_qnn_requant_mode)requant,
                                     PyArray_DATA(keep), given);
    Py_END_ALLOW_THREADS
    Py_DECREF(r);
    Py_DECREF(keep);
    if (st == GABA_ERR_ARG) // no token is read here: the ranges gave parameters a layer refused
        PyErr_Format(PyExc_ValueError, "%s: the int8 model does not build from these ranges", func);
    else if (st != GABA_OK)
        gaba_py_raise(st, func);
    if (st != GABA_OK) {
        free(q);
        return NULL;
    }
    PyObject *cap = PyCapsule_New(q, QCAPSULE, qcapsule_free);
    if (!cap) {
        gaba_zoo_qmodel_free(q);
        free(q);
        return NULL;
    }
    PyObject *def_owner = PyCapsule_GetContext(args[0]); // q->def is the float model's
    if (def_owner) {
        Py_INCREF(def_owner);
        PyCapsule_SetContext(cap, def_owner);
    }
    return cap;
}

static const char *const kinds[4] = {"int8", "float32", "quantize", "dequantize"};

static const char *dtype_name(gaba_nn_dtype d) {
    return d == GABA_NN_I8 ? "int8" : d == GABA_NN_I32 ? "int32" : "float32";
}

static PyObject *edge_list(const gaba_zoo_qmodel *q, int n, const int *idx) {
    PyObject *list = PyList_New(n);
    for (int i = 0; list && i < n; i++) {
        const gaba_zoo_tensor *t = &q->tensors[idx[i]];
        PyList_SET_ITEM(list, i,
                        Py_BuildValue("(sdis)", t->name, (double)q->scale[idx[i]],
                                      (int)q->zp[idx[i]], dtype_name(t->dtype)));
    }
    return list;
}

// zoo_qdescribe(capsule) -> dict
static PyObject *py_zoo_qdescribe(PyObject *self, PyObject *cap) {
    gaba_zoo_qmodel *q = PyCapsule_GetPointer(cap, QCAPSULE);
    if (!q) return NULL;
    PyObject *layers = PyList_New(0);
    for (int n = 0; layers && n < q->n_nodes; n++) {
        const gaba_zoo_qnode *nd = &q->nodes[n];
        // the int8 GRU's recurrence runs in float32 (qnn.h)
        int hybrid = nd->kind == GABA_ZOO_Q_INT8 && nd->q.layer.op == GABA_NN_GRU;
        PyObject *row = Py_BuildValue("(ss)", nd->name, hybrid ? "int8+float32" : kinds[nd->kind]);
        if (!row || PyList_Append(layers, row)) Py_CLEAR(layers);
        Py_XDECREF(row);
    }
    PyObject *ins = edge_list(q, q->def->n_inputs, q->raw_in);
    PyObject *outs = edge_list(q, q->def->n_outputs, q->raw_out);
    if (!layers || !ins || !outs) {
        Py_XDECREF(layers), Py_XDECREF(ins), Py_XDECREF(outs);
        return NULL;
    }
    return Py_BuildValue("{sLsLsisisNsNsNss}", "weight_bytes", (long long)q->weight_bytes,
                         "arena_bytes", (long long)q->arena_bytes, "n_int8", q->n_int8, "n_float",
                         q->n_float, "layers", layers, "raw_inputs", ins, "raw_outputs", outs,
                         "requant", q->requant == GABA_QNN_REQUANT_FP32 ? "fp32" : "double");
}

// A new C-contiguous array of `ndim` dims holding a copy of `src`.
static PyObject *array_copy(int ndim, const npy_intp *dims, int dtype, const void *src) {
    PyObject *a = PyArray_SimpleNew(ndim, dims, dtype);
    if (a)
        memcpy(PyArray_DATA((PyArrayObject *)a), src, (size_t)PyArray_NBYTES((PyArrayObject *)a));
    return a;
}

// The int8 attention's own parameters (gaba_qnn_attention), for the NumPy
// reference: "proj" (q, k, v, out: weight int8 (co, K), bias/mult/shift int32
// (co), in_zp, out_zp, act_min, act_max), "score" (mult, shift, zp), "ctx"
// (mult, shift), "exp_table" int32 (256). Adds them to `d`; -1 on error.
static int attention_params(const gaba_qnn_attention *a, int64_t d0, int64_t dk, PyObject *d) {
    PyObject *proj = PyList_New(4);
    for (int i = 0; proj && i < 4; i++) {
        const gaba_qnn_layer *p = &a->proj[i];
        npy_intp co = i < 3 ? dk : d0, w_dims[2] = {co, i < 3 ? d0 : dk};
        PyObject *row = Py_BuildValue(
            "{sNsNsNsNsisisisi}", "weight", array_copy(2, w_dims, NPY_INT8, p->w), "bias",
            array_copy(1, &co, NPY_INT32, p->bias), "mult", array_copy(1, &co, NPY_INT32, p->mult),
            "shift", array_copy(1, &co, NPY_INT32, p->shift), "in_zp", (int)p->in_zp[0], "out_zp",
            (int)p->out_zp, "act_min", (int)p->act_min, "act_max", (int)p->act_max);
        if (!row)
            Py_CLEAR(proj);
        else
            PyList_SET_ITEM(proj, i, row);
    }
    npy_intp n_exp = 256;
    PyObject *rest = proj ? Py_BuildValue("{sNs(iii)s(ii)sN}", "proj", proj, "score",
                                          (int)a->score_mult, (int)a->score_shift, (int)a->score_zp,
                                          "ctx", (int)a->ctx_mult, (int)a->ctx_shift, "exp_table",
                                          array_copy(1, &n_exp, NPY_INT32, a->exp_table))
                          : NULL;
    int st = rest ? PyDict_Update(d, rest) : -1;
    Py_XDECREF(rest);
    return st;
}

// An int8 GRU's arrays into d: the float GRU's four weights as the int8 node
// computes with them ("w_ih", "b_ih" dequantized: q * w_scale[j], bias[j] *
// acc_scale[j]; "w_hh", "b_hh" as they are), and its integer ones ("w_ih_int8"
// (3H, F) unpacked, "b_ih_int32", "acc_scale" float32).
static int gru_weights(const gaba_zoo_qnode *nd, PyObject *d) {
    const gaba_qnn_layer *q = &nd->q;
    npy_intp f = nd->in_shape[0].d[0], hd = q->layer.p[0], g3 = 3 * hd, ld = gaba_qnn_gru_ld(hd);
    npy_intp dih[2] = {g3, f}, dhh[2] = {g3, hd};
    PyObject *arr[7] = {
        PyArray_SimpleNew(2, dih, NPY_FLOAT32),       PyArray_SimpleNew(1, &g3, NPY_FLOAT32),
        PyArray_SimpleNew(2, dhh, NPY_FLOAT32),       array_copy(1, &g3, NPY_FLOAT32, q->gru_b_hh),
        PyArray_SimpleNew(2, dih, NPY_INT8),          array_copy(1, &g3, NPY_INT32, q->bias),
        array_copy(1, &g3, NPY_FLOAT32, q->acc_scale)};
    static const char *names[7] = {"w_ih",      "b_ih",       "w_hh",     "b_hh",
                                   "w_ih_int8", "b_ih_int32", "acc_scale"};
    int bad = 0;
    for (int i = 0; i < 7; i++) bad |= !arr[i];
    if (!bad) {
        float *w_ih = PyArray_DATA((PyArrayObject *)arr[0]),
              *b_ih = PyArray_DATA((PyArrayObject *)arr[1]);
        float *w_hh = PyArray_DATA((PyArrayObject *)arr[2]);
        int8_t *wq = PyArray_DATA((PyArrayObject *)arr[4]);
        for (npy_intp j = 0; j < g3; j++) {
            for (npy_intp k = 0; k < f; k++) {
                wq[j * f + k] = q->w[((k / 4) * ld + j) * 4 + k % 4];
                w_ih[j * f + k] = (float)wq[j * f + k] * nd->w_scale[j];
            }
            for (npy_intp i = 0; i < hd; i++) w_hh[j * hd + i] = q->gru_wt[i * ld + j];
            b_ih[j] = (float)q->bias[j] * q->acc_scale[j];
        }
    }
    for (int i = 0; i < 7 && !bad; i++) bad = PyDict_SetItemString(d, names[i], arr[i]) < 0;
    for (int i = 0; i < 7; i++) Py_XDECREF(arr[i]);
    return bad ? -1 : 0;
}

// {"weight": int8 (c_out, K), "bias": int32 (c_out), "w_scale": float32 (c_out)} of an
// int8 conv/dense node, {"table": int8 (vocab, dim), in the output's parameters} of an
// int8 embedding, the four float32 weights, dequantized, of an int8 attention
// (with attention_params' entries), gru_weights' of an int8 GRU, {"gamma", "beta":
// float32 (C)} of an int8 LayerNorm,
// {weight name: float32 array} of a float node, else {}.
static PyObject *node_weights(const gaba_zoo_qnode *nd) {
    PyObject *d = PyDict_New();
    if (!d) return NULL;
    if (nd->kind == GABA_ZOO_Q_FLOAT) {
        for (int w = 0; w < nd->plan.n_weights; w++) {
            const gaba_nn_shape *s = &nd->plan.weight_shapes[w];
            npy_intp dims[GABA_NN_MAX_DIMS];
            for (int j = 0; j < s->ndim; j++) dims[j] = s->d[j];
            PyObject *a = array_copy(s->ndim, dims, NPY_FLOAT32, nd->w[w]);
            if (!a || PyDict_SetItemString(d, nd->plan.weight_names[w], a) < 0) {
                Py_XDECREF(a);
                Py_DECREF(d);
                return NULL;
            }
            Py_DECREF(a);
        }
        return d;
    }
    if (nd->kind == GABA_ZOO_Q_INT8 && nd->q.layer.op == GABA_NN_EMBEDDING) {
        npy_intp dims[2] = {nd->q.layer.p[1], nd->q.layer.p[0]};
        PyObject *t = array_copy(2, dims, NPY_INT8, nd->q.w);
        if (!t || PyDict_SetItemString(d, "table", t) < 0) Py_CLEAR(d);
        Py_XDECREF(t);
        return d;
    }
    if (nd->kind == GABA_ZOO_Q_INT8 && nd->q.layer.op == GABA_NN_ATTENTION) {
        // The float attention's four weights, dequantized:
        // w = q * w_scale[c], b = q * in_scale * w_scale[c].
        const gaba_qnn_attention *a = nd->q.attn;
        int64_t d0 = nd->in_shape[0].d[0], dk = nd->q.layer.p[0];
        npy_intp dw[2][2] = {{3 * dk, d0}, {d0, dk}};
        PyObject *arr[4] = {
            PyArray_SimpleNew(2, dw[0], NPY_FLOAT32), PyArray_SimpleNew(1, dw[0], NPY_FLOAT32),
            PyArray_SimpleNew(2, dw[1], NPY_FLOAT32), PyArray_SimpleNew(1, dw[1], NPY_FLOAT32)};
        static const char *names[4] = {"w_qkv", "b_qkv", "w_o", "b_o"};
        int bad = !arr[0] || !arr[1] || !arr[2] || !arr[3];
        for (int i = 0; i < 4 && !bad; i++) {
            const gaba_qnn_layer *p = &a->proj[i];
            int64_t co = i < 3 ? dk : d0, per = i < 3 ? d0 : dk, c0 = i < 3 ? i * dk : 0;
            float *w = (float *)PyArray_DATA((PyArrayObject *)arr[i < 3 ? 0 : 2]) + c0 * per;
            float *b = (float *)PyArray_DATA((PyArrayObject *)arr[i < 3 ? 1 : 3]) + c0;
            const float *ws = nd->w_scale + (i < 3 ? i * dk : 3 * dk);
            for (int64_t c = 0; c < co; c++) {
                for (int64_t j = 0; j < per; j++) w[c * per + j] = (float)p->w[c * per + j] * ws[c];
                b[c] = (float)((double)p->bias[c] * ((double)p->in_scale[0] * ws[c]));
            }
        }
        for (int i = 0; i < 4 && !bad; i++) bad = PyDict_SetItemString(d, names[i], arr[i]) < 0;
        for (int i = 0; i < 4; i++) Py_XDECREF(arr[i]);
        if (!bad) bad = attention_params(a, d0, dk, d) < 0;
        if (bad) {
            if (!PyErr_Occurred()) PyErr_NoMemory();
            Py_CLEAR(d);
        }
        return d;
    }
    if (nd->kind == GABA_ZOO_Q_INT8 && nd->q.layer.op == GABA_NN_GRU) {
        if (gru_weights(nd, d) < 0) {
            if (!PyErr_Occurred()) PyErr_NoMemory();
            Py_CLEAR(d);
        }
        return d;
    }
    if (nd->kind == GABA_ZOO_Q_INT8 && nd->q.layer.op == GABA_NN_LAYER_NORM) {
        // gamma and beta (float32) as the int8 node holds them: ln_gb times the output scale
        npy_intp c = nd->in_shape[0].d[0];
        PyObject *ab[2] = {PyArray_SimpleNew(1, &c, NPY_FLOAT32),
                           PyArray_SimpleNew(1, &c, NPY_FLOAT32)};
        for (int i = 0; i < 2 && ab[0] && ab[1]; i++)
            for (npy_intp j = 0; j < c; j++)
                ((float *)PyArray_DATA((PyArrayObject *)ab[i]))[j] =
                    nd->q.ln_gb[i * c + j] * nd->q.out_scale;
        if (!ab[0] || !ab[1] || PyDict_SetItemString(d, "gamma", ab[0]) < 0 ||
            PyDict_SetItemString(d, "beta", ab[1]) < 0)
            Py_CLEAR(d);
        Py_XDECREF(ab[0]), Py_XDECREF(ab[1]);
        return d;
    }
    int64_t co, k;
    if (gaba_zoo_qnode_weights(nd, &co, &k, NULL, NULL, NULL) != GABA_OK) return d;
    npy_intp dims[2] = {(npy_intp)co, (npy_intp)k};
    PyObject *w = PyArray_SimpleNew(2, dims, NPY_INT8), *b = PyArray_SimpleNew(1, dims, NPY_INT32),
             *sc = PyArray_SimpleNew(1, dims, NPY_FLOAT32);
    int bad = !w || !b || !sc ||
              gaba_zoo_qnode_weights(nd, &co, &k, PyArray_DATA((PyArrayObject *)w),
                                     PyArray_DATA((PyArrayObject *)b),
                                     PyArray_DATA((PyArrayObject *)sc)) != GABA_OK ||
              PyDict_SetItemString(d, "weight", w) < 0 || PyDict_SetItemString(d, "bias", b) < 0 ||
              PyDict_SetItemString(d, "w_scale", sc) < 0;
    Py_XDECREF(w), Py_XDECREF(b), Py_XDECREF(sc);
    if (bad) {
        if (!PyErr_Occurred()) gaba_py_raise(GABA_ERR_INTERNAL, "zoo.qgraph");
        Py_CLEAR(d);
    }
    return d;
}

// zoo_qgraph(capsule) -> dict: the int8 graph in execution order (gaba/zoo_onnx.py).
// tensors: (name, dtype, shape, scale, zp, kind, io_index) per tensor index (kind 1:
// model input, 2: model output, 3: scratch); nodes: (name, kind, op code, act code,
// params, input indices, output index, weights).
static PyObject *py_zoo_qgraph(PyObject *self, PyObject *cap) {
    gaba_zoo_qmodel *q = PyCapsule_GetPointer(cap, QCAPSULE);
    if (!q) return NULL;
    PyObject *tensors = PyList_New(q->n_tensors), *nodes = PyList_New(q->n_nodes);
    for (int i = 0; tensors && i < q->n_tensors; i++) {
        const gaba_zoo_tensor *t = &q->tensors[i];
        PyObject *row =
            Py_BuildValue("(ssNdiii)", t->name, dtype_name(t->dtype), gaba_py_shape(&t->shape),
                          (double)q->scale[i], (int)q->zp[i], t->kind, t->io_index);
        if (!row)
            Py_CLEAR(tensors);
        else
            PyList_SET_ITEM(tensors, i, row);
    }
    for (int n = 0; tensors && nodes && n < q->n_nodes; n++) {
        const gaba_zoo_qnode *nd = &q->nodes[n];
        const gaba_nn_layer *L = nd->kind == GABA_ZOO_Q_INT8 ? &nd->q.layer : &nd->layer;
        int edge = nd->kind == GABA_ZOO_Q_QUANTIZE || nd->kind == GABA_ZOO_Q_DEQUANTIZE;
        PyObject *p = PyTuple_New(GABA_NN_MAX_PARAMS), *ins = PyTuple_New(nd->n_in);
        for (int j = 0; p && j < GABA_NN_MAX_PARAMS; j++)
            PyTuple_SET_ITEM(p, j, PyLong_FromLong(edge ? 0 : L->p[j]));
        for (int j = 0; ins && j < nd->n_in; j++)
            PyTuple_SET_ITEM(ins, j, PyLong_FromLong(nd->in[j]));
        PyObject *w = p && ins ? node_weights(nd) : NULL;
        PyObject *row =
            w ? Py_BuildValue("(ssiiOOiO)", nd->name, kinds[nd->kind], edge ? -1 : (int)L->op,
                              edge ? -1 : (int)L->act, p, ins, nd->out, w)
              : NULL;
        Py_XDECREF(p), Py_XDECREF(ins), Py_XDECREF(w);
        if (!row)
            Py_CLEAR(nodes);
        else
            PyList_SET_ITEM(nodes, n, row);
    }
    if (!tensors || !nodes) {
        Py_XDECREF(tensors), Py_XDECREF(nodes);
        return NULL;
    }
    return Py_BuildValue("{sNsN}", "tensors", tensors, "nodes", nodes);
}

// zoo_qcall(capsule, args, kwargs, out, threads, raw) -> the float (raw: int8) output(s),
// or NotImplemented where the call is not forward's common case (py_zoo_io.h).
static PyObject *py_zoo_qcall(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "zoo.QuantizedModel.forward";
    if (nargs != 6 || !PyTuple_Check(args[1]) || (args[2] != Py_None && !PyDict_Check(args[2])))
        return PyErr_Format(PyExc_TypeError,
                            "_gaba.zoo_qcall(capsule, tuple, dict, out, threads, raw)");
    gaba_zoo_qmodel *q = PyCapsule_GetPointer(args[0], QCAPSULE);
    if (!q) return NULL;
    long threads;
    int raw = PyObject_IsTrue(args[5]);
    if (raw < 0) return NULL;
    if (gaba_py_zoo_threads(args[4], &threads) < 0) return Py_NewRef(Py_NotImplemented);
    int n_in = q->def->n_inputs, n_out = q->def->n_outputs, iin[8], iout[8];
    void *in[8], *out[8];
    if (n_in > 8 || n_out > 8) return gaba_py_raise(GABA_ERR_INTERNAL, func);
    gaba_py_zoo_io_indices(q->tensors, q->n_tensors, 1, n_in, iin);
    gaba_py_zoo_io_indices(q->tensors, q->n_tensors, 2, n_out, iout);
    for (int k = 0; raw && k < n_in; k++) iin[k] = q->raw_in[k]; // the int8 edges bind
    for (int k = 0; raw && k < n_out; k++) iout[k] = q->raw_out[k];
    npy_intp batch;
    PyObject *ins, *outs;
    int got = gaba_py_zoo_call_arrays(func, q->tensors, n_in, iin, n_out, iout, args[1],
                                      args[2] == Py_None ? NULL : args[2], args[3], in, out, &batch,
                                      &ins, &outs);
    if (got <= 0) return got < 0 ? NULL : Py_NewRef(Py_NotImplemented);
    gaba_status st;
    Py_BEGIN_ALLOW_THREADS
    st = gaba_zoo_qmodel_forward(q, batch, (const void *const *)in, out, raw, (int)threads);
    Py_END_ALLOW_THREADS
    PyObject *r = st == GABA_OK ? gaba_py_zoo_call_result(outs, n_out, iout, q->tensors)
                                : Py_NewRef(Py_NotImplemented); // the checked path words it
    Py_DECREF(ins);
    Py_DECREF(outs);
    return r;
}

// zoo_qforward(capsule, inputs, outputs, raw, threads)
static PyObject *py_zoo_qforward(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "zoo.QuantizedModel.forward";
    if (nargs != 5) return PyErr_Format(PyExc_TypeError, "_gaba.zoo_qforward takes 5 arguments");
    gaba_zoo_qmodel *q = PyCapsule_GetPointer(args[0], QCAPSULE);
    if (!q) return NULL;
    int raw = PyObject_IsTrue(args[3]);
    long threads;
    if (raw < 0 || gaba_py_long(args[4], func, "threads", 1, GABA_MAX_THREADS, &threads))
        return NULL;
    int n_in = q->def->n_inputs, n_out = q->def->n_outputs, iin[8], iout[8];
    void *in[8], *out[8];
    if (n_in > 8 || n_out > 8) return gaba_py_raise(GABA_ERR_INTERNAL, func);
    if (raw) {
        for (int i = 0; i < n_in; i++) iin[i] = q->raw_in[i];
        for (int i = 0; i < n_out; i++) iout[i] = q->raw_out[i];
    } else {
        gaba_py_zoo_io_indices(q->tensors, q->n_tensors, 1, n_in, iin);
        gaba_py_zoo_io_indices(q->tensors, q->n_tensors, 2, n_out, iout);
    }
    npy_intp batch = gaba_py_zoo_collect(func, args[1], n_in, q->tensors, iin, 0, in, -1);
    if (batch < 0 ||
        gaba_py_zoo_collect(func, args[2], n_out, q->tensors, iout, 1, out, batch) < 0 ||
        gaba_py_zoo_outputs_apart(func, args[1], n_in, iin, args[2], n_out, iout, q->tensors) < 0)
        return NULL;
    gaba_status st;
    Py_BEGIN_ALLOW_THREADS
    st = gaba_zoo_qmodel_forward(q, batch, (const void *const *)in, out, raw, (int)threads);
    Py_END_ALLOW_THREADS
    if (st != GABA_OK) return gaba_py_zoo_raise(st, func);
    Py_RETURN_NONE;
}

// zoo_qnode_eval(capsule, node, inputs, ref) -> int8 array: int8 node `node` of the
// graph (zoo_qgraph's order) on one sample of int8 inputs (its input shapes), with
// the fast (ref false) or reference kernels: the op tests' entry to a model's layer.
static PyObject *py_zoo_qnode_eval(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "zoo.qnode_eval";
    if (nargs != 4) return PyErr_Format(PyExc_TypeError, "_gaba.zoo_qnode_eval takes 4 arguments");
    gaba_zoo_qmodel *q = PyCapsule_GetPointer(args[0], QCAPSULE);
    if (!q) return NULL;
    long n;
    int ref = PyObject_IsTrue(args[3]);
    if (ref < 0 || gaba_py_long(args[1], func, "node", 0, q->n_nodes - 1, &n)) return NULL;
    if (q->nodes[n].kind != GABA_ZOO_Q_INT8)
        return PyErr_Format(PyExc_ValueError, "%s(): node must index an int8 node, got %ld", func,
                            n);
    const gaba_zoo_qnode *nd = &q->nodes[n];
    PyObject *ins = PySequence_Fast(args[2], "zoo.qnode_eval(): inputs must be a sequence");
    if (!ins) return NULL;
    PyArrayObject *xa[GABA_NN_MAX_INPUTS] = {0};
    const int8_t *x[GABA_NN_MAX_INPUTS];
    PyObject *y = NULL;
    void *ws = NULL;
    if (PySequence_Fast_GET_SIZE(ins) != nd->n_in) {
        PyErr_Format(PyExc_ValueError, "%s(): node %ld takes %d inputs, got %zd", func, n, nd->n_in,
                     PySequence_Fast_GET_SIZE(ins));
        goto done;
    }
    for (int i = 0; i < nd->n_in; i++) {
        const gaba_nn_shape *s = &nd->in_shape[i];
        xa[i] = gaba_py_array(PySequence_Fast_GET_ITEM(ins, i), func, "inputs", NPY_INT8, s->ndim,
                              s->ndim, GABA_PY_CONTIGUOUS);
        if (!xa[i]) goto done;
        for (int j = 0; j < s->ndim; j++)
            if (gaba_py_check_dim(xa[i], func, "inputs", j, s->d[j], "the node's input shape") < 0)
                goto done;
        x[i] = PyArray_DATA(xa[i]);
    }
    gaba_nn_shape out;
    int64_t ws_bytes;
    gaba_status st = gaba_qnn_prepare(&nd->q, nd->n_in, nd->in_shape, &out, &ws_bytes);
    if (st != GABA_OK) {
        gaba_py_raise(st, func);
        goto done;
    }
    npy_intp dims[GABA_NN_MAX_DIMS];
    for (int j = 0; j < out.ndim; j++) dims[j] = out.d[j];
    y = PyArray_SimpleNew(out.ndim, dims, NPY_INT8);
    ws = gaba_aligned_alloc((size_t)(ws_bytes > 0 ? ws_bytes : 64));
    if (!y || !ws) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        Py_CLEAR(y);
        goto done;
    }
    st = gaba_qnn_eval(&nd->q, nd->n_in, nd->in_shape, x, PyArray_DATA((PyArrayObject *)y), ws,
                       ref ? GABA_NN_IMPL_REF : GABA_NN_IMPL_FAST);
    if (st != GABA_OK) {
        gaba_py_raise(st, func);
        Py_CLEAR(y);
    }
done:
    gaba_aligned_free(ws);
    for (int i = 0; i < GABA_NN_MAX_INPUTS; i++) Py_XDECREF(xa[i]);
    Py_DECREF(ins);
    return y;
}

static PyObject *py_zoo_qset_impl(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) return PyErr_Format(PyExc_TypeError, "_gaba.zoo_qset_impl takes 2 arguments");
    gaba_zoo_qmodel *q = PyCapsule_GetPointer(args[0], QCAPSULE);
    if (!q) return NULL;
    int ref = PyObject_IsTrue(args[1]);
    if (ref < 0) return NULL;
    q->impl = ref ? GABA_NN_IMPL_REF : GABA_NN_IMPL_FAST;
    Py_RETURN_NONE;
}

// zoo_qprofile(capsule, on): per-node timing on or off (gaba.zoo.QuantizedModel.profile).
static PyObject *py_zoo_qprofile(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) return PyErr_Format(PyExc_TypeError, "_gaba.zoo_qprofile takes 2 arguments");
    gaba_zoo_qmodel *q = PyCapsule_GetPointer(args[0], QCAPSULE);
    int on = q ? PyObject_IsTrue(args[1]) : -1;
    if (on < 0) return NULL;
    gaba_status st = gaba_zoo_qmodel_profile(q, on);
    if (st != GABA_OK) return gaba_py_zoo_raise(st, "zoo.profile");
    Py_RETURN_NONE;
}

// zoo_qnode_seconds(capsule) -> float64 array (n_nodes): each node's time in the last
// sample run while profiling (0 for the edge nodes a raw run skips).
static PyObject *py_zoo_qnode_seconds(PyObject *self, PyObject *cap) {
    gaba_zoo_qmodel *q = PyCapsule_GetPointer(cap, QCAPSULE);
    if (!q) return NULL;
    if (!q->node_seconds) return PyErr_Format(PyExc_ValueError, "zoo.profile: profiling is not on");
    npy_intp n = q->n_nodes;
    PyObject *out = PyArray_SimpleNew(1, &n, NPY_FLOAT64);
    if (out)
        memcpy(PyArray_DATA((PyArrayObject *)out), q->node_seconds, (size_t)n * sizeof(double));
    return out;
}

// A (scale, zero point) pair of in_q/out_q: any 2-sequence of a positive finite
// float32 scale and an int8 zero point. 0, or -1 with TypeError/ValueError naming it.
static int qparams(PyObject *obj, const char *func, const char *name, float *scale, int32_t *zp) {
    PyObject *pair = PySequence_Check(obj) ? PySequence_Fast(obj, "") : NULL;
    if (!pair || PySequence_Fast_GET_SIZE(pair) != 2) {
        Py_XDECREF(pair);
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError,
                     "%s(): argument '%s' must be a (scale, zero_point) pair, "
                     "got %s",
                     func, name, Py_TYPE(obj)->tp_name);
        return -1;
    }
    double sc = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(pair, 0));
    long z;
    int bad = sc == -1.0 && PyErr_Occurred();
    if (bad) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s(): the scale of '%s' must be a float, got %s", func, name,
                     Py_TYPE(PySequence_Fast_GET_ITEM(pair, 0))->tp_name);
    }
    bad = bad || gaba_py_long(PySequence_Fast_GET_ITEM(pair, 1), func, name, -128, 127, &z);
    Py_DECREF(pair);
    if (bad) return -1;
    *scale = (float)sc, *zp = (int32_t)z;
    if (isfinite(*scale) && *scale > 0.0f) return 0;
    PyErr_Format(PyExc_ValueError,
                 "%s(): the scale of '%s' must be a positive finite float32, "
                 "got %g",
                 func, name, sc);
    return -1;
}

// The int8 weights of a conv/dense: w of the plan's size, bias/mult/shift one int32 per
// output channel, each channel's requantization one the kernels take (mult >= 0, shift
// in -31..31 or GABA_QNN_SHIFT_FP32). 0, or -1 with ValueError/TypeError set.
static int conv_weights(PyObject *const *args, const char *func, const gaba_nn_plan *pl,
                        PyArrayObject **wa) {
    static const char *const names[4] = {"w", "bias", "mult", "shift"};
    const npy_intp want[4] = {gaba_nn_numel(&pl->weight_shapes[0]), pl->weight_shapes[1].d[0],
                              pl->weight_shapes[1].d[0], pl->weight_shapes[1].d[0]};
    for (int i = 0; i < 4; i++) {
        if (!(wa[i] = gaba_py_array(args[i], func, names[i], i ? NPY_INT32 : NPY_INT8, 1, 4,
                                    GABA_PY_CONTIGUOUS)))
            return -1;
        if (PyArray_SIZE(wa[i]) != want[i]) {
            PyErr_Format(PyExc_ValueError,
                         "%s(): argument '%s' has %zd values, the layer's "
                         "c_out (params[0]) and input need %zd",
                         func, names[i], (Py_ssize_t)PyArray_SIZE(wa[i]), (Py_ssize_t)want[i]);
            return -1;
        }
    }
    const int32_t *mult = PyArray_DATA(wa[2]), *shift = PyArray_DATA(wa[3]);
    for (npy_intp c = 0; c < want[1]; c++)
        if (mult[c] < 0 || ((shift[c] < -31 || shift[c] > 31) && shift[c] != GABA_QNN_SHIFT_FP32)) {
            PyErr_Format(PyExc_ValueError,
                         "%s(): channel %zd's mult must be >= 0 and its shift "
                         "in -31..31 or %d (fp32), got %d and %d",
                         func, (Py_ssize_t)c, GABA_QNN_SHIFT_FP32, (int)mult[c], (int)shift[c]);
            return -1;
        }
    return 0;
}

// qnn_layer(op, act, params, inputs, in_q, out_q, w, bias, mult, shift, impl[, requant[, gru]])
// -> int8. One int8 layer over a batch (tests): inputs int8 (batch, ...), one batch for
// all, in_q a sequence of (scale, zp) per input, out_q (scale, zp); conv/dense: w int8
// (co, per), bias/mult/shift int32 (co), co = params[0] (else None); embedding: w the
// int8 table (vocab, dim); GRU: w int8 W_ih (3H, F) unpacked, bias int32 (3H),
// mult/shift None, gru the float32 (acc_scale (3H), w_hh (3H, H), b_hh (3H)); impl 1 =
// reference; requant true: add/sub/mul rescale in fp32 (gaba_qnn_set_rescale_fp32;
// conv/dense take it from mult/shift). The attention takes a model's parameters: its
// test entry is zoo_qnode_eval.
static PyObject *py_qnn_layer(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "qnn_layer";
    if (nargs < 11 || nargs > 13)
        return PyErr_Format(PyExc_TypeError, "_gaba.qnn_layer takes 11 to 13 arguments");
    gaba_qnn_layer q;
    memset(&q, 0, sizeof q);
    long impl;
    if (gaba_py_nn_layer(args[0], args[1], args[2], func, &q.layer) ||
        gaba_py_long(args[10], func, "impl", 0, 1, &impl))
        return NULL;
    int fp32 = nargs >= 12 ? PyObject_IsTrue(args[11]) : 0;
    if (fp32 < 0) return NULL;
    if (!gaba_qnn_supported(&q.layer) || q.layer.op == GABA_NN_ATTENTION)
        return PyErr_Format(PyExc_ValueError, "%s(): op %d with act %d has no int8 kernel here",
                            func, (int)q.layer.op, (int)q.layer.act);
    PyArrayObject *xa[GABA_NN_MAX_INPUTS] = {0}, *wa[4] = {0}, *ga[3] = {0}, *out = NULL;
    void *scratch = NULL, *buf = NULL;
    gaba_qnn_weights qw = {0};
    PyObject *result = NULL, *inq = NULL;
    gaba_nn_shape shapes[GABA_NN_MAX_INPUTS];
    gaba_nn_dtype dts[GABA_NN_MAX_INPUTS];
    npy_intp batch;
    const int ids = q.layer.op == GABA_NN_EMBEDDING;
    int n_in = gaba_py_nn_inputs(args[3], func, ids ? NPY_INT32 : NPY_INT8, xa, shapes, &batch);
    if (n_in < 0 || !(inq = PySequence_Fast(args[4], "in_q must be a sequence of pairs")))
        goto done;
    if (PySequence_Fast_GET_SIZE(inq) != n_in) {
        PyErr_Format(PyExc_ValueError, "%s(): argument 'in_q' holds %zd pairs for %d inputs", func,
                     PySequence_Fast_GET_SIZE(inq), n_in);
        goto done;
    }
    for (int i = 0; i < n_in; i++) {
        char name[24];
        snprintf(name, sizeof name, "in_q[%d]", i);
        if (qparams(PySequence_Fast_GET_ITEM(inq, i), func, name, &q.in_scale[i], &q.in_zp[i]))
            goto done;
        dts[i] = ids ? GABA_NN_I32 : GABA_NN_F32; // gaba_nn_prepare's view of int8 edges
    }
    if (qparams(args[5], func, "out_q", &q.out_scale, &q.out_zp)) goto done;
    gaba_nn_plan pl;
    gaba_nn_shape oshape;
    int64_t ws_bytes = 0;
    gaba_status st = gaba_nn_prepare(&q.layer, n_in, shapes, dts, &pl);
    if (st == GABA_OK) st = gaba_qnn_prepare(&q, n_in, shapes, &oshape, &ws_bytes);
    if (st != GABA_OK) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): op %d does not take these params, act and input "
                     "shapes (%s)",
                     func, (int)q.layer.op, gaba_status_str(st));
        goto done;
    }
    gaba_nn_op op = q.layer.op;
    if (op == GABA_NN_CONV2D || op == GABA_NN_CONV1D || op == GABA_NN_DENSE) {
        if (conv_weights(args + 6, func, &pl, wa)) goto done;
        qw.w = PyArray_DATA(wa[0]), qw.bias = PyArray_DATA(wa[1]);
        qw.mult = PyArray_DATA(wa[2]), qw.shift = PyArray_DATA(wa[3]);
    }
    if (op == GABA_NN_GRU) {
        npy_intp f = shapes[0].d[0], hd = q.layer.p[0], g3 = 3 * hd;
        PyObject *gru = nargs == 13 ? PySequence_Fast(args[12], "gru must be a sequence") : NULL;
        if (!gru && !PyErr_Occurred())
            PyErr_Format(PyExc_TypeError, "%s: the GRU takes gru = (acc_scale, w_hh, b_hh)", func);
        if (!gru) goto done;
        static const char *const gnames[3] = {"acc_scale", "w_hh", "b_hh"};
        int bad = PySequence_Fast_GET_SIZE(gru) != 3;
        for (int i = 0; i < 3 && !bad; i++)
            bad = !(ga[i] = gaba_py_array(PySequence_Fast_GET_ITEM(gru, i), func, gnames[i],
                                          NPY_FLOAT32, 1, 2, GABA_PY_CONTIGUOUS));
        Py_DECREF(gru);
        if (!bad)
            bad =
                !(wa[0] = gaba_py_array(args[6], func, "w", NPY_INT8, 2, 2, GABA_PY_CONTIGUOUS)) ||
                !(wa[1] =
                      gaba_py_array(args[7], func, "bias", NPY_INT32, 1, 1, GABA_PY_CONTIGUOUS));
        if (bad) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_ValueError, "%s: gru must hold 3 arrays", func);
            goto done;
        }
        if (PyArray_DIM(wa[0], 0) != g3 || PyArray_DIM(wa[0], 1) != f ||
            PyArray_SIZE(wa[1]) != g3 || PyArray_SIZE(ga[0]) != g3 ||
            PyArray_SIZE(ga[1]) != g3 * hd || PyArray_SIZE(ga[2]) != g3) {
            PyErr_Format(PyExc_ValueError,
                         "%s: GRU weights must be w (3H, F), bias, acc_scale, "
                         "b_hh (3H) and w_hh (3H, H)",
                         func);
            goto done;
        }
        qw.w = PyArray_DATA(wa[0]), qw.bias = PyArray_DATA(wa[1]);
        qw.acc_scale = PyArray_DATA(ga[0]), qw.w_hh = PyArray_DATA(ga[1]);
        qw.b_hh = PyArray_DATA(ga[2]);
    }
    if (op == GABA_NN_LAYER_NORM) { // w, bias: gamma and beta, float32 (C)
        npy_intp c = shapes[0].d[0];
        if (!(wa[0] = gaba_py_array(args[6], func, "w", NPY_FLOAT32, 1, 1, GABA_PY_CONTIGUOUS)) ||
            !(wa[1] =
                  gaba_py_array(args[7], func, "bias", NPY_FLOAT32, 1, 1, GABA_PY_CONTIGUOUS)) ||
            gaba_py_check_dim(wa[0], func, "w", 0, c, "channels") ||
            gaba_py_check_dim(wa[1], func, "bias", 0, c, "channels"))
            goto done;
        qw.gamma = PyArray_DATA(wa[0]), qw.beta = PyArray_DATA(wa[1]);
    }
    if (ids) { // w: the int8 table
        if (!(wa[0] = gaba_py_array(args[6], func, "w", NPY_INT8, 2, 2, GABA_PY_CONTIGUOUS)) ||
            gaba_py_check_dim(wa[0], func, "w", 0, pl.weight_shapes[0].d[0], "vocab: params[1]") ||
            gaba_py_check_dim(wa[0], func, "w", 1, pl.weight_shapes[0].d[1], "dim: params[0]"))
            goto done;
        qw.w = PyArray_DATA(wa[0]);
    }
    buf = gaba_aligned_alloc((size_t)gaba_qnn_layer_bytes(&q.layer, n_in, shapes, NULL));
    if (!buf) {
        PyErr_NoMemory();
        goto done;
    }
    if (gaba_qnn_layer_init(&q, n_in, shapes, &qw,
                            fp32 ? GABA_QNN_REQUANT_FP32 : GABA_QNN_REQUANT_DOUBLE, buf,
                            NULL) != GABA_OK) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): the scales of in_q and out_q give no requantization "
                     "multiplier",
                     func);
        goto done;
    }
    npy_intp dims[GABA_NN_MAX_DIMS + 1] = {batch};
    for (int j = 0; j < oshape.ndim; j++) dims[j + 1] = oshape.d[j];
    out = (PyArrayObject *)PyArray_SimpleNew(oshape.ndim + 1, dims, NPY_INT8);
    scratch = gaba_aligned_alloc((size_t)(ws_bytes > 0 ? ws_bytes : 64));
    if (!out || !scratch) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        goto done;
    }
    for (npy_intp b = 0; b < batch && st == GABA_OK; b++) {
        const int8_t *x[GABA_NN_MAX_INPUTS];
        for (int i = 0; i < n_in; i++)
            x[i] = (const int8_t *)PyArray_DATA(xa[i]) +
                   b * gaba_nn_numel(&shapes[i]) * PyArray_ITEMSIZE(xa[i]);
        st = gaba_qnn_eval(&q, n_in, shapes, x,
                           (int8_t *)PyArray_DATA(out) + b * gaba_nn_numel(&oshape), scratch,
                           impl ? GABA_NN_IMPL_REF : GABA_NN_IMPL_FAST);
    }
    if (st == GABA_ERR_ARG && ids)
        PyErr_Format(PyExc_ValueError,
                     "%s(): argument 'inputs' holds a token id outside "
                     "[0, params[1])",
                     func);
    else if (st != GABA_OK)
        gaba_py_raise(st, func);
    else
        result = Py_NewRef((PyObject *)out);
done:
    gaba_aligned_free(scratch);
    gaba_aligned_free(buf);
    for (int i = 0; i < 3; i++) Py_XDECREF(ga[i]);
    Py_XDECREF(out);
    for (int i = 0; i < GABA_NN_MAX_INPUTS; i++) Py_XDECREF(xa[i]);
    for (int i = 0; i < 4; i++) Py_XDECREF(wa[i]);
    Py_XDECREF(inq);
    return result;
}

// qnn_quantize(x float32, scale, zp) -> int8: the float edge of the int8 models
// (gaba_qnn_quantize_f32, the ISA table's kernel), for QuantizedModel.quantize_input.
static PyObject *py_qnn_quantize(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "quantize_input";
    if (nargs != 3) return PyErr_Format(PyExc_TypeError, "_gaba.qnn_quantize takes 3 arguments");
    double scale = PyFloat_AsDouble(args[1]);
    if (scale == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return PyErr_Format(PyExc_TypeError, "%s(): argument 'scale' must be a float, got %s", func,
                            Py_TYPE(args[1])->tp_name);
    }
    long zp;
    if (gaba_py_long(args[2], func, "zero_point", -128, 127, &zp)) return NULL;
    if (!(scale > 0.0))
        return PyErr_Format(PyExc_ValueError, "%s(): scale must be > 0, got %g", func, scale);
    PyArrayObject *x =
        gaba_py_array(args[0], func, "x", NPY_FLOAT32, 0, NPY_MAXDIMS, GABA_PY_CONTIGUOUS);
    if (!x) return NULL;
    PyArrayObject *q =
        (PyArrayObject *)PyArray_SimpleNew(PyArray_NDIM(x), PyArray_DIMS(x), NPY_INT8);
    if (q) {
        Py_BEGIN_ALLOW_THREADS
        gaba_qnn_quantize_f32(PyArray_SIZE(x), PyArray_DATA(x), (float)scale, (int32_t)zp,
                              PyArray_DATA(q));
        Py_END_ALLOW_THREADS
    }
    Py_DECREF(x);
    return (PyObject *)q;
}

// qnn_softmax(scores int8 (l, l), exp_table int32 (256), ref) -> int8 probs (l, l):
// the attention's integer softmax alone (tests). The kernels divide by the sum of a
// row's entries, exp_table[0] among them, and form 512 e + 3 sum in int32: the table
// holds entries >= 0, exp_table[0] >= 1, max (512 + 3 l) < 2^31 (gaba_qnn_build_exp_table's
// entries, at most 2^16, for any l up to the attention's bound).
static PyObject *py_qnn_softmax(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char func[] = "qnn_softmax";
    if (nargs != 3) return PyErr_Format(PyExc_TypeError, "_gaba.qnn_softmax takes 3 arguments");
    int ref = PyObject_IsTrue(args[2]);
    if (ref < 0) return NULL;
    PyArrayObject *s = gaba_py_array(args[0], func, "scores", NPY_INT8, 2, 2, GABA_PY_CONTIGUOUS);
    PyArrayObject *t =
        s ? gaba_py_array(args[1], func, "exp_table", NPY_INT32, 1, 1, GABA_PY_CONTIGUOUS) : NULL;
    PyArrayObject *y = NULL;
    if (!t) goto done;
    npy_intp l = PyArray_DIM(s, 0);
    if (l != PyArray_DIM(s, 1) || l < 1 || PyArray_SIZE(t) != 256) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): scores must be (l, l), l >= 1, and exp_table 256 values", func);
        goto done;
    }
    const int32_t *e = PyArray_DATA(t);
    int32_t lo = e[0], hi = e[0];
    for (int d = 1; d < 256; d++) lo = e[d] < lo ? e[d] : lo, hi = e[d] > hi ? e[d] : hi;
    if (lo < 0 || e[0] < 1 || (int64_t)hi * (512 + 3 * l) >= (int64_t)1 << 31) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): exp_table must hold values >= 0 with exp_table[0] "
                     ">= 1 and max(exp_table) * (512 + 3 l) < 2^31, got min %d, exp_table[0] %d, "
                     "max %d, l %zd",
                     func, (int)lo, (int)e[0], (int)hi, (Py_ssize_t)l);
        goto done;
    }
    y = (PyArrayObject *)PyArray_SimpleNew(2, PyArray_DIMS(s), NPY_INT8);
    gaba_status st =
        y ? gaba_qnn_attention_softmax(l, e, PyArray_DATA(s), PyArray_DATA(y), ref) : GABA_OK;
    if (st == GABA_ERR_ARG)
        PyErr_Format(PyExc_ValueError,
                     "%s(): scores must be (l, l) with l at most the int8 "
                     "attention's 8192, got l %zd",
                     func, (Py_ssize_t)l);
    else if (st != GABA_OK)
        gaba_py_raise(st, func);
    if (st != GABA_OK) Py_CLEAR(y);
done:
    Py_XDECREF(s);
    Py_XDECREF(t);
    return (PyObject *)y;
}

PyMethodDef gaba_py_qzoo_methods[] = {
    {"qnn_quantize", (PyCFunction)(void (*)(void))py_qnn_quantize, METH_FASTCALL,
     "See gaba.zoo.QuantizedModel.quantize_input."},
    {"qnn_layer", (PyCFunction)(void (*)(void))py_qnn_layer, METH_FASTCALL,
     "One int8 layer over a batch (tests)."},
    {"qnn_softmax", (PyCFunction)(void (*)(void))py_qnn_softmax, METH_FASTCALL,
     "The int8 attention's softmax (tests)."},
    {"zoo_calibrate", (PyCFunction)(void (*)(void))py_zoo_calibrate, METH_FASTCALL,
     "See gaba.zoo.Model.quantize."},
    {"zoo_tensor_names", py_zoo_tensor_names, METH_O, "See gaba.zoo.Model.quantize."},
    {"zoo_quantize", (PyCFunction)(void (*)(void))py_zoo_quantize, METH_FASTCALL,
     "See gaba.zoo.Model.quantize and gaba.zoo.load."},
    {"zoo_qdescribe", py_zoo_qdescribe, METH_O, "See gaba.zoo.QuantizedModel."},
    {"zoo_qnode_eval", (PyCFunction)(void (*)(void))py_zoo_qnode_eval, METH_FASTCALL,
     "One int8 node of the graph on one sample (the op tests)."},
    {"zoo_qgraph", py_zoo_qgraph, METH_O,
     "The int8 graph for export (gaba.zoo.QuantizedModel.to_onnx)."},
    {"zoo_qcall", (PyCFunction)(void (*)(void))py_zoo_qcall, METH_FASTCALL,
     "See gaba.zoo.QuantizedModel.forward."},
    {"zoo_qforward", (PyCFunction)(void (*)(void))py_zoo_qforward, METH_FASTCALL,
     "See gaba.zoo.QuantizedModel.forward."},
    {"zoo_qprofile", (PyCFunction)(void (*)(void))py_zoo_qprofile, METH_FASTCALL,
     "See gaba.zoo.QuantizedModel.profile."},
    {"zoo_qnode_seconds", py_zoo_qnode_seconds, METH_O, "See gaba.zoo.QuantizedModel.profile."},
    {"zoo_qset_impl", (PyCFunction)(void (*)(void))py_zoo_qset_impl, METH_FASTCALL,
     "Reference or fast int8 kernels."},
    {NULL, NULL, 0, NULL},
};
