"""Backward of each op of the table (gaba_nn_backward) against PyTorch's autograd.

Each test runs one layer's forward and backward through ``_nn.<op>(..., dy=g)``,
with the fast and the reference kernels, and compares the gradients of the
inputs and the weights with those torch computes for the same layer from the
same upstream gradient ``g``.
"""
import numpy as np
import pytest

from gaba import _nn
from grads import check, torch, torch_grads

pytestmark = pytest.mark.kernels  # rerun at every ISA level (test_isa_levels.py)

F = torch.nn.functional

ACT_FNS = {"relu": torch.relu, "relu6": F.relu6, "sigmoid": torch.sigmoid,
           "tanh": torch.tanh, "hard_swish": F.hardswish}


@pytest.mark.parametrize("reference", [False, True])
@pytest.mark.parametrize("activation", sorted(ACT_FNS))
def test_act_backward(activation, reference):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((3, 4, 50)) * 4).astype(np.float32)
    x[0, 0, :6] = [0.0, 6.0, -3.0, 3.0, -0.0, 1e-7]  # the kinks, taken as torch takes them
    g = rng.standard_normal(x.shape).astype(np.float32)
    got = _nn.act(x, activation, dy=g, reference=reference)
    check(got, torch_grads(ACT_FNS[activation], [x], [], g))


def test_backward_rejects_bad_input():
    x = np.ones((2, 3, 4), np.float32)
    with pytest.raises(ValueError, match="dy"):
        _nn.act(x, "relu", dy=np.ones((2, 3, 5), np.float32))
    with pytest.raises(ValueError, match="dy"):
        _nn.act(x, "relu", dy=np.ones((3, 3, 4), np.float32))
    with pytest.raises(ValueError, match="float32 only"):
        _nn.act(x.astype(np.int8), "relu", dy=x, dtype="int8", in_q=(1, 0), out_q=(1, 0))
