"""Backward of conv1d, conv2d and dense (gaba_nn_backward) against PyTorch's autograd.

Each case runs one layer's forward and backward through ``_nn.<op>(..., dy=g)``, fast
and reference kernels, batch 1 and 5, and compares the output and the gradients of
the input, the weight and the bias with torch's in float64. The gradients are sums of
up to some thousands of products (a weight's over every position of every sample), so
float32's rounding grows with the sum of the terms' magnitudes, not with the result,
which cancels: each value may differ by 1e-6 of the sum of its terms' magnitudes
(torch's gradient of the same layer on |x|, |w|, |b| and |dy|, exact for a bilinear
layer) on top of 1e-4 relative. One term missing or counted twice is off by about
1/n of that sum, far more for these n.
"""
import numpy as np
import pytest

import gaba
from gaba import _nn
from grads import torch_grads

pytestmark = pytest.mark.kernels  # rerun at every ISA level (test_isa_levels.py)

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL, SUM_TOL = 1e-4, 1e-6


def torch_conv(one_d, stride, pads, dilation, groups):
    """torch's conv with gaba's padding (top, left, bottom, right), padded by F.pad
    (the two sides may differ)."""
    t, left, b, r = pads
    if one_d:
        return lambda x, w, bias: F.conv1d(F.pad(x, (left, r)), w, bias, stride[1], 0,
                                           dilation[1], groups)
    return lambda x, w, bias: F.conv2d(F.pad(x, (left, r, t, b)), w, bias, stride, 0,
                                       dilation, groups)


def check(got, fn, inputs, weights, dy):
    """got (y, [dx], [dw, db]) against torch's float64 gradients of fn."""
    f64 = [a.astype(np.float64) for a in (*inputs, *weights, dy)]
    want = torch_grads(fn, f64[:len(inputs)], f64[len(inputs):-1], f64[-1])
    mag = [np.abs(a) for a in f64]
    bound = torch_grads(fn, mag[:len(inputs)], mag[len(inputs):-1], mag[-1])
    flat = lambda r: [r[0], *r[1], *r[2]]  # noqa: E731
    names = ["output", *(f"d input {i}" for i in range(len(inputs))),
             *(f"d weight {k}" for k in range(len(weights)))]
    assert len(flat(got)) == len(names)
    for name, a, b, s in zip(names, flat(got), flat(want), flat(bound)):
        a = a.reshape(b.shape)
        err, tol = np.abs(a - b), RTOL * np.abs(b) + SUM_TOL * s
        worst = np.unravel_index(np.argmax(err - tol), err.shape)
        assert np.all(err <= tol), (f"{name}: |{a[worst]} - {b[worst]}| > {tol[worst]} at "
                                    f"{worst}")


def data(rng, nb, x_shape, w_shape):
    x = rng.standard_normal((nb, *x_shape)).astype(np.float32)
    w = (rng.standard_normal(w_shape) / np.sqrt(np.prod(w_shape[1:]))).astype(np.float32)
    b = rng.standard_normal(w_shape[0]).astype(np.float32)
    return x, w, b


def run_conv(rng, nb, one_d, c, size, co, kernel, stride, pads, dilation, groups, reference):
    x, w, b = data(rng, nb, (c, *size), (co, c // groups, *kernel[one_d:]))
    fn = torch_conv(one_d, stride, pads, dilation, groups)
    y = fn(*(torch.from_numpy(a) for a in (x, w, b)))
    g = rng.standard_normal(tuple(y.shape)).astype(np.float32)
    if one_d:
        got = _nn.conv1d(x, w, b, stride=stride[1], padding=(pads[1], pads[3]),
                         dilation=dilation[1], groups=groups, dy=g, reference=reference)
    else:
        got = _nn.conv2d(x, w, b, stride=stride, padding=pads, dilation=dilation,
                         groups=groups, dy=g, reference=reference)
    check(got, fn, [x], [w, b], g)


# (C, (H, W), c_out, (kh, kw), stride, (top, left, bottom, right), dilation, groups)
CONV2D = {
    "3x3 same": (3, (9, 8), 5, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
    "stride 2 asymmetric": (4, (11, 10), 6, (3, 3), (2, 2), (0, 0, 1, 1), (1, 1), 1),
    "odd kernel and strides": (3, (13, 7), 4, (5, 2), (3, 2), (2, 0, 1, 1), (1, 1), 1),
    "dilation": (2, (12, 11), 3, (3, 3), (1, 1), (2, 2, 2, 2), (2, 3), 1),
    "groups": (6, (7, 9), 4, (3, 3), (1, 2), (1, 1, 1, 1), (1, 1), 2),
    "depth multiplier": (4, (10, 10), 8, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 4),
    "depthwise": (5, (9, 11), 5, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 5),
    "depthwise strided": (6, (12, 9), 6, (3, 5), (2, 3), (0, 1, 1, 2), (1, 1), 6),
    "depthwise dilated": (3, (10, 10), 3, (3, 3), (1, 1), (2, 2, 2, 2), (2, 2), 3),
    "depthwise global": (4, (5, 6), 4, (5, 6), (1, 1), (0, 0, 0, 0), (1, 1), 4),
    "pointwise": (7, (6, 5), 9, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1),
    "pointwise grouped": (6, (4, 5), 9, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 3),
    "1x1 strided": (5, (9, 8), 4, (1, 1), (2, 2), (0, 0, 0, 0), (1, 1), 1),
    "1x1 padded": (3, (4, 4), 2, (1, 1), (1, 1), (1, 0, 0, 1), (1, 1), 1),
    "kernel over the input": (2, (3, 4), 3, (5, 5), (1, 1), (1, 1, 1, 1), (1, 1), 1),
}

# (C, L, c_out, k, stride, (left, right), dilation, groups)
CONV1D = {
    "k3 same": (4, 17, 5, 3, 1, (1, 1), 1, 1),
    "causal dilated": (3, 20, 4, 3, 1, (4, 0), 2, 1),
    "stride 2": (5, 21, 3, 4, 2, (1, 2), 1, 1),
    "groups": (4, 15, 6, 3, 1, (1, 1), 1, 2),
    "depthwise causal": (6, 19, 6, 3, 1, (8, 0), 4, 6),
    "depthwise strided": (4, 16, 4, 5, 3, (2, 2), 1, 4),
    "pointwise": (8, 13, 5, 1, 1, (0, 0), 1, 1),
    "global": (3, 9, 2, 9, 1, (0, 0), 1, 1),
}


@pytest.mark.parametrize("reference", [False, True], ids=["fast", "ref"])
@pytest.mark.parametrize("nb", [1, 5])
@pytest.mark.parametrize("case", sorted(CONV2D))
def test_conv2d_backward(case, nb, reference):
    c, size, co, kernel, stride, pads, dilation, groups = CONV2D[case]
    run_conv(np.random.default_rng(1), nb, False, c, size, co, kernel, stride, pads, dilation,
             groups, reference)


@pytest.mark.parametrize("reference", [False, True], ids=["fast", "ref"])
@pytest.mark.parametrize("nb", [1, 5])
@pytest.mark.parametrize("case", sorted(CONV1D))
def test_conv1d_backward(case, nb, reference):
    c, n, co, k, stride, (left, right), dilation, groups = CONV1D[case]
    run_conv(np.random.default_rng(2), nb, True, c, (n,), co, (1, k), (1, stride),
             (0, left, 0, right), (1, dilation), groups, reference)


@pytest.mark.parametrize("reference", [False, True], ids=["fast", "ref"])
@pytest.mark.parametrize("nb", [1, 5])
@pytest.mark.parametrize("x_shape, n_out", [((7,), 1), ((3, 4, 5), 13), ((640,), 128)])
def test_dense_backward(x_shape, n_out, nb, reference):
    rng = np.random.default_rng(3)
    x, w, b = data(rng, nb, x_shape, (n_out, int(np.prod(x_shape))))
    g = rng.standard_normal((nb, n_out)).astype(np.float32)
    got = _nn.dense(x, w, b, dy=g, reference=reference)
    assert got[1][0].shape == x.shape
    check(got, lambda x, w, b: F.linear(x.reshape(nb, -1), w, b).reshape(nb, n_out), [x],
          [w, b], g)


def zoo_layers(*names):
    """The distinct conv and dense layers of zoo models: (op, input shape, p[])."""
    layers = {}
    for name in names:
        m = gaba.zoo.create(name)
        shapes = {k: v["shape"] for k, v in m._desc["inputs"].items()}
        for lay in m.layers:
            shapes[lay["output"]] = lay["shape"]
            if lay["op"] in ("conv1d", "conv2d", "dense"):
                key = (lay["op"], shapes[lay["inputs"][0]], lay["params"])
                layers.setdefault(key, f"{name}.{lay['name']}")
    return {v: k for k, v in layers.items()}


ZOO = zoo_layers("KeywordSpotMicro", "DSCNN_KWS", "ResNet8", "GestureNetMicro")


@pytest.mark.parametrize("reference", [False, True], ids=["fast", "ref"])
@pytest.mark.parametrize("nb", [1, 5])
@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_layer_backward(name, nb, reference):
    op, in_shape, p = ZOO[name]
    rng = np.random.default_rng(4)
    if op == "dense":
        x, w, b = data(rng, nb, in_shape, (p[0], int(np.prod(in_shape))))
        fn = lambda x, w, b: F.linear(x.reshape(nb, -1), w, b)  # noqa: E731
    else:
        one_d = op == "conv1d"
        co, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups = p
        x, w, b = data(rng, nb, in_shape, (co, in_shape[0] // groups, *((kh,) * (not one_d)), kw))
        fn = torch_conv(one_d, (sh, sw), (pt, pl, pb, pr), (dh, dw), groups)
    y = fn(*(torch.from_numpy(a) for a in (x, w, b)))
    g = rng.standard_normal(tuple(y.shape)).astype(np.float32)
    got = _nn.layer(op, [x], [w, b], p, dy=g, reference=reference)
    check(got, fn, [x], [w, b], g)


def test_backward_refuses_a_fused_activation():
    x, w, b = data(np.random.default_rng(5), 2, (2, 4, 4), (3, 2, 3, 3))
    with pytest.raises(ValueError, match="conv2d with act relu has no backward"):
        _nn.conv2d(x, w, b, activation="relu", dy=np.ones((2, 3, 2, 2), np.float32))
    with pytest.raises(ValueError, match="dense with act relu6 has no backward"):
        _nn.dense(x, np.ones((3, 32), np.float32), b, activation="relu6",
                  dy=np.ones((2, 3), np.float32))
