"""Models from layer tables built at run time (_gaba.zoo_define, the importers'
back end) and int8 models on given parameters (zoo_quantize's params and
w_scales): bad tables raise, lifetimes hold, given scales are used exactly."""
import gc

import numpy as np
import pytest

from gaba import _gaba
from gaba.importers._graph import Graph
from gaba.zoo import Model, QuantizedModel

OPS = {n: i for i, n in enumerate(_gaba.nn_ops())}
X = [("x", "float32", (3, 8, 8), 0)]
CONV = ("c", OPS["conv2d"], 1, (4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), ("x",), "h", None)
FLAT = ("f", OPS["flatten"], 0, (), ("h",), "hf", None)
DENSE = ("d", OPS["dense"], 0, (5,), ("hf",), "y", None)


def define(inputs=X, outputs=("y",), layers=(CONV, FLAT, DENSE), threads=1):
    return _gaba.zoo_define("T", "imported", "a test", inputs, outputs, layers, 0, threads)


def test_runs_as_numpy_says():
    m = Model(define())
    w = m.weights
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    pad = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    conv = np.zeros((2, 4, 8, 8))
    wc = w["c.weight"].astype(np.float64)
    for o in range(4):
        for i in range(3):
            for ky in range(3):
                for kx in range(3):
                    conv[:, o] += wc[o, i, ky, kx] * pad[:, i, ky:ky + 8, kx:kx + 8]
        conv[:, o] += w["c.bias"][o]
    ref = np.maximum(conv, 0).reshape(2, -1) @ w["d.weight"].T.astype(np.float64) + w["d.bias"]
    np.testing.assert_allclose(m(x), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(layers=[("c", 99, 0, (), ("x",), "y", None)]), ValueError, r"'op' must be in 0\.\.\d+"),
    (dict(layers=[("c", OPS["dense"], 9, (5,), ("x",), "y", None)]), ValueError, "'act'"),
    (dict(layers=[("c", OPS["dense"], 0, (5,), ("nope",), "y", None)]), ValueError,
     "does not build"),
    (dict(layers=[("c", OPS["dense"], 0, (5,), ("x",), "x", None)]), ValueError, "does not build"),
    (dict(layers=[("c", OPS["dense"], 0, tuple(range(13)), ("x",), "y", None)]), ValueError,
     "at most 12"),
    (dict(layers=[("c\0", OPS["dense"], 0, (5,), ("x",), "y", None)]), ValueError, "no NUL"),
    (dict(layers=[("c" * 101, OPS["dense"], 0, (5,), ("x",), "y", None)]), ValueError,
     "1 to 100 bytes"),
    (dict(layers=[("c", OPS["dense"], 0, (5,), (), "y", None)]), ValueError, "1 to 4 items"),
    (dict(layers=[("c", OPS["dense"], 0, (5,), ("x",), "y")]), ValueError, "7 to 7 items"),
    (dict(layers=5), TypeError, "must be a sequence"),
    (dict(layers=[]), ValueError, "1 to 100000 items"),
    (dict(layers=[(1, OPS["dense"], 0, (5,), ("x",), "y", None)]), TypeError, "must be a str"),
    (dict(inputs=[("x", "float16", (3,), 0)]), ValueError, "dtype"),
    (dict(inputs=[("x", "float32", (0, 2), 0)]), ValueError, "shape"),
    (dict(inputs=[("x", "float32", (65536, 65536), 0)]), ValueError, "2\\*\\*31-1"),
    (dict(inputs=[("x", "float32", (1, 2, 3, 4, 5), 0)]), ValueError, "1 to 4 items"),
    (dict(inputs=[("x", "int32", (8,), 0)]), ValueError, "vocab"),
    (dict(inputs=[("x", "float32", (8,), 3)]), ValueError, "vocab"),
    (dict(outputs=("x",)), ValueError, "does not build"),
    (dict(outputs=("y", "y")), ValueError, "does not build"),
    (dict(threads=0), ValueError, "threads"),
])
def test_bad_tables_raise(kwargs, error, message):
    with pytest.raises(error, match=message):
        define(**kwargs)


def test_int8_model_keeps_the_table_alive():
    m = Model(define())
    x = np.random.default_rng(1).standard_normal((4, 3, 8, 8)).astype(np.float32)
    qm = m.quantize(x)
    want = qm(x)
    del m
    gc.collect()
    np.testing.assert_array_equal(qm(x), want)
    assert "T" in repr(qm) and qm.layer_dtypes[0][0] == "c"


def test_given_parameters_are_used_exactly():
    g = Graph("test")
    g.add_input("x", (3, 8, 8))
    rng = np.random.default_rng(2)
    w_scale = rng.uniform(0.001, 0.01, 4).astype(np.float32)
    codes = rng.integers(-127, 128, (4, 3, 3, 3)).astype(np.float32)
    g.add("c", "conv2d", "x", "y", (4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
          weight=codes * w_scale[:, None, None, None], bias=np.zeros(4))
    m = g.build("G", "imported", "a test", ["y"], threads=1)
    empty = _gaba.zoo_calibrate(m._cap, (np.zeros((0, 3, 8, 8), np.float32),))
    params = {"x": (0.05, 3), "y": (0.1, -7)}
    keep = np.zeros(len(m.layers), np.uint8)
    qm = QuantizedModel(_gaba.zoo_quantize(m._cap, empty, 1, 0, keep, params, {"c": w_scale}), m)
    assert qm.input_qparams["x"] == pytest.approx((0.05, 3))
    assert qm.output_qparams["y"] == pytest.approx((0.1, -7))
    xq = rng.integers(-128, 128, (2, 3, 8, 8), dtype=np.int8)
    # the int8 conv, exactly: int32 sums of codes, TFLite's double rounding (float64 here
    # is exact enough for these small sums to round the same but at ties, which are rare)
    pad = np.pad(xq.astype(np.int64) - 3, ((0, 0), (0, 0), (1, 1), (1, 1)))
    acc = np.zeros((2, 4, 8, 8), np.int64)
    for ky in range(3):
        for kx in range(3):
            acc += np.einsum("oc,nchw->nohw", codes[:, :, ky, kx].astype(np.int64),
                             pad[:, :, ky:ky + 8, kx:kx + 8])
    real = acc * (np.float64(np.float32(0.05)) * w_scale[None, :, None, None].astype(np.float64)
                  / np.float64(np.float32(0.1)))
    ref = np.clip(np.floor(real + 0.5) - 7, -128, 127)
    got = qm(xq, raw=True).astype(np.int64)
    assert np.mean(got == ref) > 0.999 and np.abs(got - ref).max() <= 1


@pytest.mark.parametrize("params, w_scales, message", [
    ({"nope": (0.1, 0)}, None, "not a tensor"),
    ({"x": (0.0, 0)}, None, "finite scale > 0"),
    ({"x": (0.1, 200)}, None, "zero point"),
    ({"x": 0.1}, None, "pair"),
    (None, {"nope": np.ones(4, np.float32)}, "not a conv or dense"),
    (None, {"c": np.ones(3, np.float32)}, "output channels"),
    (None, {"c": np.zeros(4, np.float32)}, "finite scales > 0"),
    (None, {"c": np.ones(4)}, "float32"),
    ([], None, "must be a dict"),
])
def test_bad_given_parameters(params, w_scales, message):
    m = Model(define())
    empty = _gaba.zoo_calibrate(m._cap, (np.zeros((0, 3, 8, 8), np.float32),))
    with pytest.raises((ValueError, TypeError), match=message):
        _gaba.zoo_quantize(m._cap, empty, 1, 0, np.zeros(len(m.layers), np.uint8), params,
                           w_scales)
