// module.c - gaba._gaba: multi-phase init. The exec slot imports NumPy's C
// API, initialises the runtime (CPU probe, GABA_ISA, kernel tables) and adds
// each family's functions. A bad GABA_ISA fails the import with its reason.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define PY_ARRAY_UNIQUE_SYMBOL gaba_ARRAY_API
#include <numpy/arrayobject.h>

#include "py_common.h"

static PyMethodDef *const family_methods[] = {
    gaba_py_core_methods,    gaba_py_gemm_methods,  gaba_py_lowrank_methods,
    gaba_py_distill_methods, gaba_py_prune_methods, gaba_py_quant_methods,
    gaba_py_zoo_methods,     gaba_py_qzoo_methods,  gaba_py_trainer_methods,
    gaba_py_train_methods,
};

static int gaba_exec(PyObject *module) {
    if (PyArray_ImportNumPyAPI() < 0) return -1;
    gaba_status status = gaba_runtime_init();
    if (status != GABA_OK) {
        PyErr_Format(status == GABA_ERR_ISA ? PyExc_RuntimeError : PyExc_ValueError,
                     "gaba cannot start: %s", gaba_runtime_error());
        return -1;
    }
    for (size_t i = 0; i < sizeof family_methods / sizeof family_methods[0]; i++)
        if (PyModule_AddFunctions(module, family_methods[i]) < 0) return -1;
    return 0;
}

static PyModuleDef_Slot gaba_slots[] = {
    {Py_mod_exec, gaba_exec},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef gaba_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "gaba._gaba",
    .m_doc = "gaba's C core. Use the documented wrappers in the gaba package.",
    .m_size = 0,
    .m_slots = gaba_slots,
};

PyMODINIT_FUNC PyInit__gaba(void) { return PyModuleDef_Init(&gaba_module); }
