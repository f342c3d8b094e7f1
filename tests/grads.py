"""Gradients of a layer from PyTorch's autograd, and their comparison with gaba's
(the backward tests: test_nn_backward.py and the tests of each op family)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-4, 1e-5  # float32 sums of a few hundred terms, in a different order


def torch_grads(fn, inputs, weights, dy):
    """y, the inputs' and the weights' gradients of torch's fn(*inputs, *weights) from dy."""
    ts = [torch.tensor(a, requires_grad=True) for a in (*inputs, *weights)]
    y = fn(*ts)
    y.backward(torch.tensor(dy))
    grads = [t.grad.numpy() for t in ts]
    return y.detach().numpy(), grads[: len(inputs)], grads[len(inputs):]


def check(got, want, rtol=RTOL, atol=ATOL):
    y, dx, dw = got
    wy, wdx, wdw = want
    np.testing.assert_allclose(y, wy, rtol=rtol, atol=atol, err_msg="output")
    assert len(dx) == len(wdx) and len(dw) == len(wdw)
    for i, (a, b) in enumerate(zip(dx, wdx)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"input {i}")
    for k, (a, b) in enumerate(zip(dw, wdw)):
        np.testing.assert_allclose(a.reshape(b.shape), b, rtol=rtol, atol=atol,
                                   err_msg=f"weight {k}")
