// py_core.c - bindings of the core runtime: build and CPU facts for
// gaba.info(), and the thread-count setters.
#include "py_common.h"

#include "gaba/gemm.h"
#include "../core/openblas.h"

#ifndef GABA_BUILD_FLAGS
#define GABA_BUILD_FLAGS "unknown"
#endif

#define SET_ITEM(dict, key, value_expr)                                                            \
    do {                                                                                           \
        PyObject *value_ = (value_expr);                                                           \
        if (!value_ || PyDict_SetItemString(dict, key, value_) < 0) {                              \
            Py_XDECREF(value_);                                                                    \
            goto fail;                                                                             \
        }                                                                                          \
        Py_DECREF(value_);                                                                         \
    } while (0)

static PyObject *py_build_info(PyObject *self, PyObject *unused) {
    const gaba_cpu_info *cpu = gaba_cpu();
    PyObject *info = PyDict_New(), *features = PyDict_New();
    if (!info || !features) goto fail;
    SET_ITEM(info, "version", PyUnicode_FromString(gaba_version()));
    SET_ITEM(info, "cpu_vendor", PyUnicode_FromString(cpu->vendor));
    SET_ITEM(info, "cpu_brand", PyUnicode_FromString(cpu->brand));
    SET_ITEM(info, "cpu_family", PyLong_FromLong(cpu->family));
    SET_ITEM(info, "cpu_model", PyLong_FromLong(cpu->model));
    const struct {
        const char *name;
        int present;
    } flags[] = {
        {"sse4.2", cpu->sse42},
        {"avx", cpu->avx},
        {"avx2", cpu->avx2},
        {"fma", cpu->fma},
        {"f16c", cpu->f16c},
        {"avx512f", cpu->avx512f},
        {"avx512bw", cpu->avx512bw},
        {"avx512vl", cpu->avx512vl},
        {"avx512dq", cpu->avx512dq},
        {"avx512vnni", cpu->avx512vnni},
        {"avx512bf16", cpu->avx512bf16},
        {"avxvnni", cpu->avxvnni},
        {"avx512vbmi", cpu->avx512vbmi},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        SET_ITEM(features, flags[i].name, PyBool_FromLong(flags[i].present));
    SET_ITEM(info, "cpu_features", Py_NewRef(features));
    SET_ITEM(info, "isa_best", PyUnicode_FromString(gaba_isa_name(cpu->best_isa)));
    SET_ITEM(info, "isa", PyUnicode_FromString(gaba_isa_name(gaba_isa_active())));
    SET_ITEM(info, "threads", PyLong_FromLong(gaba_threads_get()));
    SET_ITEM(info, "usable_cores", PyLong_FromLong(gaba_threads_usable_cores()));
    SET_ITEM(info, "openblas_config", PyUnicode_FromString(gaba_gemm_openblas_config()));
    SET_ITEM(info, "openblas_corename", PyUnicode_FromString(gaba_gemm_openblas_corename()));
    SET_ITEM(info, "openblas_threads", PyLong_FromLong(gaba_gemm_openblas_threads()));
#ifdef __VERSION__
    SET_ITEM(info, "compiler", PyUnicode_FromString("gcc-compatible " __VERSION__));
#else
    SET_ITEM(info, "compiler", PyUnicode_FromString("unknown"));
#endif
    SET_ITEM(info, "build_flags", PyUnicode_FromString(GABA_BUILD_FLAGS));
    Py_DECREF(features);
    return info;
fail:
    Py_XDECREF(info);
    Py_XDECREF(features);
    return NULL;
}

static PyObject *py_set_num_threads(PyObject *self, PyObject *arg) {
    if (!PyLong_Check(arg) || PyBool_Check(arg))
        return PyErr_Format(PyExc_TypeError,
                            "set_num_threads(): argument 'n' must be an int, got %s",
                            Py_TYPE(arg)->tp_name);
    int overflow = 0;
    long n = PyLong_AsLongAndOverflow(arg, &overflow);
    if (n == -1 && PyErr_Occurred()) return NULL;
    if (overflow || n < 1 || n > GABA_MAX_THREADS)
        return PyErr_Format(PyExc_ValueError,
                            "set_num_threads(): argument 'n' must be in 1..%d, got %S",
                            GABA_MAX_THREADS, arg);
    gaba_status status = gaba_threads_set((int)n);
    if (status != GABA_OK) return gaba_py_raise(status, "set_num_threads");
    Py_RETURN_NONE;
}

static PyObject *py_set_openblas_path(PyObject *self, PyObject *arg) {
    const char *path = PyUnicode_AsUTF8(arg);
    if (!path) return NULL;
    gaba_openblas_set_path(path);
    Py_RETURN_NONE;
}

static PyObject *py_get_num_threads(PyObject *self, PyObject *unused) {
    return PyLong_FromLong(gaba_threads_get());
}

PyMethodDef gaba_py_core_methods[] = {
    {"build_info", py_build_info, METH_NOARGS, "C-side facts for gaba.info()."},
    {"set_num_threads", py_set_num_threads, METH_O, "See gaba.set_num_threads."},
    {"get_num_threads", py_get_num_threads, METH_NOARGS, "See gaba.get_num_threads."},
    {"set_openblas_path", py_set_openblas_path, METH_O,
     "Where OpenBLAS is; it is loaded on first use."},
    {NULL, NULL, 0, NULL},
};
