"""Every zoo model's full gradient against its PyTorch mirror (benchmarks/zoo_torch.py's
build_train): one batch forward and backward in gaba's trainer and in torch's autograd,
same weights, same inputs, same gradient on the output."""
import numpy as np
import pytest

from gaba import train, zoo
from gaba._ext import _gaba
from gaba.benchmarks.bench_zoo import make_inputs
from grads import torch

BATCH = 4
OPS = _gaba.nn_ops()

# Ops whose backward is not in the op table yet: a model using one cannot train (its
# test is a strict xfail naming them, which fails once they land: then drop them here).
NO_BACKWARD_YET = {"conv2d", "conv1d", "dense", "embedding", "softmax", "maxpool", "avgpool",
                   "global_avgpool", "global_maxpool", "upsample", "concat", "add", "sub",
                   "mul", "reshape", "flatten", "transpose", "gru", "attention", "layer_norm"}

# Tolerances. The reference is torch in float64 from the same float32 weights and inputs,
# so what is compared is gaba's float32 rounding alone. A gradient is a sum over the batch
# and the positions of products that went through every layer above it: float32 rounding
# of about 2**-24 per operation, over a few thousand terms and a few dozen layers, stays
# below 1e-4 of the tensor's largest entry. Entries far below the largest one carry the
# same absolute error, so the bound is relative to the largest entry, not per entry.
GRAD_RTOL = 1e-4
# The outputs and the running statistics go through the forward only (no sum over the
# whole graph's backward): 1e-5 of the largest entry.
FWD_RTOL = 1e-5


def missing_backward(name):
    """The ops of model `name` whose backward is missing, sorted."""
    ops = {OPS[r[1]] for r in _gaba.zoo_table(name)["layers"]}
    return sorted(ops & NO_BACKWARD_YET)


def model_params():
    out = []
    for name in zoo.names():
        missing = missing_backward(name)
        marks = [pytest.mark.xfail(strict=True, raises=ValueError,
                                   reason=f"no backward yet for {', '.join(missing)}")
                 ] if missing else []
        out.append(pytest.param(name, marks=marks, id=name))
    return out


MODELS = model_params()


def given_grad(g):
    """A loss whose gradient with respect to the first output is g (value <pred, g>)."""
    return lambda pred, target: (float((pred.astype(np.float64) * g).sum()), g)


def batch_for(m, seed=0):
    """Seeded inputs (token ids within the vocabulary) and a fixed output gradient."""
    x = make_inputs(m, BATCH, seed)
    out = next(iter(m.outputs.values()))
    g = np.random.default_rng(seed + 1).standard_normal((BATCH, *out["shape"]))
    return x, g.astype(np.float32)


def close(got, want, rtol, what):
    """|got - want| <= rtol * max|want| over the whole tensor."""
    want = np.asarray(want, np.float64)
    err = float(np.abs(np.asarray(got, np.float64) - want).max(initial=0.0))
    scale = float(np.abs(want).max(initial=0.0))
    assert err <= rtol * scale + 1e-30, f"{what}: max error {err:.3g}, max |ref| {scale:.3g}"


@pytest.mark.parametrize("name", MODELS)
def test_gradients_match_torch(name):
    from gaba.benchmarks import zoo_torch

    m = zoo.create(name, seed=0, threads=2)
    x, g = batch_for(m)
    net = zoo_torch.build_train(m).double()  # after m.parameters: the training form exists
    buffers = {k: v.copy() for k, v in m.buffers.items()}
    loss, pred = train.backward(m, tuple(x.values()), np.zeros(BATCH), loss=given_grad(g))
    for k, v in buffers.items():
        assert np.array_equal(net.gaba_buffers()[k].numpy(), v)
    tx = [torch.from_numpy(v) if v.dtype == np.int32 else torch.from_numpy(v).double()
          for v in x.values()]
    y = net(*tx)[0]
    want = (y * torch.from_numpy(g).double()).sum()
    want.backward()
    close(pred, y.detach().numpy(), FWD_RTOL, "output")
    assert loss == pytest.approx(want.item(), rel=FWD_RTOL,
                                 abs=FWD_RTOL * float(np.abs(y.detach().numpy() * g).sum()))
    params = net.gaba_parameters()
    assert sorted(params) == sorted(m.gradients)
    for k, p in params.items():
        assert p.grad is not None, f"{k}: no gradient in torch (unused by the output?)"
        close(m.gradients[k], p.grad.numpy(), GRAD_RTOL, k)
    stats = net.gaba_buffers()
    assert sorted(stats) == sorted(m.buffers)
    for k, v in stats.items():
        close(m.buffers[k], v.numpy(), FWD_RTOL, k)


def gradients(name, threads):
    m = zoo.create(name, seed=0, threads=2)
    x, g = batch_for(m)
    train.backward(m, tuple(x.values()), np.zeros(BATCH), loss=given_grad(g), threads=threads)
    return {k: v.copy() for k, v in m.gradients.items()}


@pytest.mark.parametrize("name", MODELS)
def test_gradients_are_deterministic(name):
    """The same seed and thread count give the same gradients bit for bit (the batch's
    parts are reduced in a fixed order); 1 and 2 threads differ by float32 rounding."""
    two = gradients(name, 2)
    again = gradients(name, 2)
    one = gradients(name, 1)
    for k in two:
        np.testing.assert_array_equal(again[k], two[k], err_msg=k)
        close(one[k], two[k], GRAD_RTOL, k)
