"""Backward of the GRU (through time) and of attention against PyTorch's autograd.

torch runs the same layer in float64 from the same weights and upstream gradient, so
the comparison measures gaba's float32 rounding only; fast and reference kernels both.
"""
import numpy as np
import pytest

from gaba import _nn
from grads import check, torch, torch_grads

pytestmark = pytest.mark.kernels  # the fast kernels run the ISA table's gates and softmax

IMPLS = [False, True]


def rand(shape, seed, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def f64(arrays):
    return [a.astype(np.float64) for a in arrays]


def torch_gru(seq):
    def fn(x, w_ih, w_hh, b_ih, b_hh):
        gru = torch.nn.GRU(x.shape[1], w_hh.shape[1], batch_first=True, dtype=x.dtype)
        params = {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh, "bias_ih_l0": b_ih,
                  "bias_hh_l0": b_hh}
        out, _ = torch.func.functional_call(gru, params, (x.transpose(1, 2),))  # h0 = 0
        return out.transpose(1, 2) if seq else out[:, -1]
    return fn


@pytest.mark.parametrize("reference", IMPLS)
@pytest.mark.parametrize("seq", [False, True])
# T 1: no recurrent product; F 1; H 21 and 40: partial and several vector blocks;
# gain 4: saturated gates
@pytest.mark.parametrize("f,t,h,gain", [(5, 9, 7, 1.0), (3, 1, 4, 1.0), (8, 17, 21, 4.0),
                                        (1, 6, 40, 1.0), (12, 29, 16, 0.5)])
def test_gru_backward(reference, seq, f, t, h, gain):
    n = 3
    x = rand((n, f, t), 1, gain)
    weights = [rand((3 * h, f), 2, f ** -0.5), rand((3 * h, h), 3, h ** -0.5),
               rand((3 * h,), 4, 0.3), rand((3 * h,), 5, 0.3)]
    g = rand((n, h, t) if seq else (n, h), 6)
    got = _nn.gru(x, *weights, return_sequences=seq, dy=g, reference=reference)
    check(got, torch_grads(torch_gru(seq), f64([x]), f64(weights), g.astype(np.float64)))


def torch_attention(x, w_qkv, b_qkv, w_o, b_o):
    dk = w_o.shape[1]
    q, k, v = (x.transpose(1, 2) @ w_qkv.T + b_qkv).split(dk, dim=-1)
    p = torch.softmax(q @ k.transpose(1, 2) / dk ** 0.5, dim=-1)  # over the keys
    return (p @ v @ w_o.T + b_o).transpose(1, 2)


@pytest.mark.parametrize("reference", IMPLS)
# L 1: a one-key softmax; d_k 1; D 1
@pytest.mark.parametrize("d,length,dk,n", [(6, 11, 4, 2), (3, 1, 5, 3), (16, 20, 8, 2),
                                           (1, 7, 1, 3), (24, 33, 12, 1)])
def test_attention_backward(reference, d, length, dk, n):
    x = rand((n, d, length), 7)
    weights = [rand((3 * dk, d), 8, d ** -0.5), rand((3 * dk,), 9, 0.3),
               rand((d, dk), 10, dk ** -0.5), rand((d,), 11, 0.3)]
    g = rand((n, d, length), 12)
    got = _nn.attention(x, *weights, dy=g, reference=reference)
    check(got, torch_grads(torch_attention, f64([x]), f64(weights), g.astype(np.float64)))
