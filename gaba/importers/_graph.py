"""The layer table an importer builds: the rows a C model file holds as const
data (csrc/zoo/zoo_defs.h), made at run time, and the model built from them."""

import numpy as np

from .. import _gaba
from .._args import threads_arg
from ..zoo import Model

_OPS = {name: code for code, name in enumerate(_gaba.nn_ops())}
_ACTS = {name: code for code, name in enumerate(_gaba.nn_acts())}


class ModelImportError(ValueError):
    """A valid model file gaba cannot map onto its layer table: an operator, option or
    tensor type it does not support; the message names the operator and its index."""


class Graph:
    """Layers and weights collected in execution order.

    Tensor names are chosen by the importer; each layer's weights are
    float32 arrays in gaba's layout, set once the model is built."""

    def __init__(self, func):
        self.func = func
        self.inputs = []   # (name, dtype, per-sample shape, vocab)
        self.layers = []   # (name, op, act, params, inputs, output, share)
        self.weights = {}  # "layer.weight" -> array
        self._count = 0

    def fresh(self, stem):
        """A tensor or layer name not used before."""
        self._count += 1
        return f"{stem}_{self._count}"

    def add_input(self, name, shape, dtype="float32"):
        self.inputs.append((name, dtype, tuple(int(d) for d in shape), 0))

    def add(self, name, op, x, out, params=(), act="none", **weights):
        """One layer row; x is a tensor name or a tuple of them."""
        ins = (x,) if isinstance(x, str) else tuple(x)
        self.layers.append((name, _OPS[op], _ACTS[act], tuple(int(p) for p in params), ins,
                            out, None))
        for key, value in weights.items():
            self.weights[f"{name}.{key}"] = np.ascontiguousarray(value, np.float32)
        return out

    def build(self, name, category, task, outputs, threads=None):
        """The float32 model of the table with the collected weights."""
        n_threads = threads_arg(threads, self.func)
        cap = _gaba.zoo_define(name, category, task, self.inputs, list(outputs), self.layers, 0,
                               n_threads)
        model = Model(cap)
        model._graph = {"name": name, "category": category, "task": task,  # for save()
                        "inputs": [list(row) for row in self.inputs], "outputs": list(outputs),
                        "layers": [list(row) for row in self.layers]}
        views = model.weights
        for key, value in self.weights.items():
            if views[key].shape != value.shape:
                raise ModelImportError(f"{self.func}: {key} has shape {value.shape}, the layer "
                                   f"needs {views[key].shape}")
            views[key][...] = value
        for key in set(views) - set(self.weights):  # biases a file leaves out
            views[key][...] = 0.0
        return model


def quantize_given(model, params, w_scales, requant, threads, func):
    """The int8 model of an imported float model on the parameters its file fixes (tensor
    name -> (scale, zero point), layer name -> weight scales): no calibration, every
    layer in int8."""
    from ..zoo import QuantizedModel

    empty = _gaba.zoo_calibrate(model._cap, tuple(  # over no sample: every range empty
        np.zeros((0,) + tuple(v["shape"]), np.float32 if v["dtype"] == "float32" else np.int32)
        for v in model.inputs.values()))
    keep = np.zeros(len(model.layers), np.uint8)
    return QuantizedModel._from_ranges(model, empty, requant, threads_arg(threads, func), keep,
                                       (params, w_scales))
