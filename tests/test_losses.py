"""gaba.losses against PyTorch's functional losses in float64 (autograd for
the gradients), at ordinary and extreme inputs; argument errors."""
import sys

import numpy as np
import pytest

import gaba
from gaba import losses

torch = pytest.importorskip("torch")
F = torch.nn.functional

EPS32 = float(np.finfo(np.float32).eps)


def rng(seed):
    return np.random.default_rng(seed)


def torch_loss(fn, pred, *rest):
    """The float64 loss of fn(pred, *rest) and its gradient w.r.t. pred."""
    p = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    out = fn(p, *rest)
    out.backward()
    return out.item(), p.grad.numpy()


def check(got, ref, pred, terms_scale):
    """Loss and gradient within float32 rounding of the float64 reference.

    Reason: each elementwise term is computed in float32 (a few roundings of
    2**-24 relative to its inputs' magnitude `terms_scale`), the sum in
    float64; the gradient's elements are a float32 product or quotient of
    such terms, divided by the count.
    """
    (loss, grad), (ref_loss, ref_grad) = got, ref
    assert grad.dtype == np.float32 and grad.shape == pred.shape
    assert abs(loss - ref_loss) <= 8 * EPS32 * (abs(ref_loss) + terms_scale)
    count = ref_grad.size if pred.ndim != 2 or ref_grad.size == 0 else pred.shape[0]
    np.testing.assert_allclose(grad, ref_grad, rtol=8 * EPS32,
                               atol=8 * EPS32 * max(1.0, terms_scale) / max(count, 1))


@pytest.mark.parametrize("n, c", [(1, 1), (7, 3), (32, 10), (5, 1000)])
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("label_dtype", [np.int64, np.int32])
def test_cross_entropy_vs_torch(n, c, smoothing, label_dtype):
    r = rng(n * c)
    x = (r.standard_normal((n, c)) * 3).astype(np.float32)
    y = r.integers(0, c, n).astype(label_dtype)
    got = losses.cross_entropy(x, y, label_smoothing=smoothing, grad=True)
    ref = torch_loss(lambda p: F.cross_entropy(p, torch.from_numpy(y.astype(np.int64)),
                                               label_smoothing=smoothing), x)
    check(got, ref, x, float(np.abs(x).max()))
    assert losses.cross_entropy(x, y, label_smoothing=smoothing) == got[0]


@pytest.mark.parametrize("scale", [1e2, 1e4])
def test_cross_entropy_extreme_logits(scale):
    r = rng(1)
    x = (np.sign(r.standard_normal((16, 5))) * scale).astype(np.float32)
    x[0] = [scale, -scale, -scale, -scale, -scale]  # the label's probability underflows
    y = r.integers(0, 5, 16)
    y[0] = 1
    got = losses.cross_entropy(x, y, label_smoothing=0.1, grad=True)
    assert np.isfinite(got[0]) and np.isfinite(got[1]).all()
    ref = torch_loss(lambda p: F.cross_entropy(p, torch.from_numpy(y), label_smoothing=0.1), x)
    check(got, ref, x, scale)


def test_cross_entropy_bad_labels():
    x = np.zeros((3, 4), np.float32)
    for bad in ([0, 1, 4], [0, -1, 2]):
        with pytest.raises(ValueError, match=r"cross_entropy\(\): labels must be in \[0, 4\)"):
            losses.cross_entropy(x, np.array(bad))
    with pytest.raises(ValueError, match="cross_entropy.*labels.*3"):
        losses.cross_entropy(x, [0, 1])
    with pytest.raises(ValueError, match="cross_entropy.*labels"):
        losses.cross_entropy(x, np.array([0, 1, 2**63 + 1], np.uint64))
    with pytest.raises(TypeError, match="cross_entropy.*labels.*integers"):
        losses.cross_entropy(x, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.cross_entropy(x, [0, 1, 2], label_smoothing=1.5)
    with pytest.raises(TypeError, match="cross_entropy.*logits.*float32"):
        losses.cross_entropy(x.astype(np.float64), [0, 1, 2])
    with pytest.raises(ValueError, match="cross_entropy.*logits.*2-D"):
        losses.cross_entropy(np.zeros(4, np.float32), [0])
    with pytest.raises(ValueError, match="at least one class"):
        losses.cross_entropy(np.zeros((2, 0), np.float32), [0, 0])


def elementwise_cases():
    r = rng(2)
    for shape in [(1,), (7, 3), (4, 5, 6), (70000,)]:
        p = (r.standard_normal(shape) * 2).astype(np.float32)
        t = (r.standard_normal(shape) * 2).astype(np.float32)
        t.reshape(-1)[::5] = p.reshape(-1)[::5]  # d == 0: the kinks of l1 and huber
        yield p, t


TORCH = {
    "mse": lambda p, t: F.mse_loss(p, t),
    "l1": lambda p, t: F.l1_loss(p, t),
    "huber": lambda p, t: F.huber_loss(p, t, delta=1.0),
}


@pytest.mark.parametrize("name", sorted(TORCH))
@pytest.mark.parametrize("case", range(4))
def test_regression_losses_vs_torch(name, case):
    p, t = list(elementwise_cases())[case]
    got = losses.LOSSES[name](p, t, grad=True)
    ref = torch_loss(TORCH[name], p, torch.from_numpy(t.astype(np.float64)))
    check(got, ref, p, float(np.abs(p - t).max()) ** 2)


@pytest.mark.parametrize("delta", [0.05, 0.7, 3.0])
def test_huber_delta_vs_torch(delta):
    p, t = list(elementwise_cases())[1]
    t.reshape(-1)[1] = p.reshape(-1)[1] + np.float32(delta)  # on the boundary
    got = losses.huber(p, t, delta=delta, grad=True)
    ref = torch_loss(lambda a: F.huber_loss(a, torch.from_numpy(t.astype(np.float64)),
                                            delta=delta), p)
    check(got, ref, p, float(np.abs(p - t).max()) ** 2)


@pytest.mark.parametrize("scale", [1.0, 30.0, 1e4])
def test_binary_cross_entropy_vs_torch(scale):
    r = rng(3)
    x = (r.standard_normal((8, 5)) * scale).astype(np.float32)
    t = r.uniform(0, 1, (8, 5)).astype(np.float32)
    t[:4] = np.round(t[:4])  # hard and soft targets
    got = losses.binary_cross_entropy(x, t, grad=True)
    assert np.isfinite(got[0])
    ref = torch_loss(lambda p: F.binary_cross_entropy_with_logits(
        p, torch.from_numpy(t.astype(np.float64))), x)
    check(got, ref, x, scale)


def test_losses_by_name():
    assert set(losses.LOSSES) == {"cross_entropy", "binary_cross_entropy", "mse", "l1", "huber"}
    assert gaba.losses is losses


@pytest.mark.parametrize("name", ["binary_cross_entropy", "mse", "l1", "huber"])
def test_elementwise_errors_and_empty(name):
    fn = losses.LOSSES[name]
    a = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match=name + r"\(\).*shape"):
        fn(a, np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match=name + r"\(\).*shape"):
        fn(a, np.zeros(6, np.float32))
    with pytest.raises(TypeError, match=name + r"\(\).*float32"):
        fn(a, a.astype(np.float64))
    with pytest.raises(TypeError, match=name):
        fn([1.0], [1.0])
    empty = np.zeros((0, 3), np.float32)
    loss, g = fn(empty, empty, grad=True)
    assert np.isnan(loss) and g.shape == (0, 3)
    # Non-contiguous inputs are read through a copy and left unchanged.
    p = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]
    before = p.copy()
    assert fn(p, np.zeros_like(p)) == fn(p.copy(), np.zeros((3, 2), np.float32))
    np.testing.assert_array_equal(p, before)


def test_huber_delta_errors():
    a = np.zeros(3, np.float32)
    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="huber.*delta"):
            losses.huber(a, a, delta=bad)
    with pytest.raises(TypeError, match="huber.*delta"):
        losses.huber(a, a, delta="1")


def test_nan_propagates():
    x = np.array([[0.0, np.nan]], np.float32)
    assert np.isnan(losses.cross_entropy(x, [0]))
    assert np.isnan(losses.mse(x, np.zeros_like(x)))


def test_refcounts_and_inputs_unchanged():
    r = rng(4)
    x = r.standard_normal((6, 4)).astype(np.float32)
    t = r.standard_normal((6, 4)).astype(np.float32)
    y = np.array([0, 1, 2, 3, 0, 1])
    bad = np.array([0, 1, 2, 3, 0, 9])
    calls = [lambda: losses.cross_entropy(x, y, label_smoothing=0.2, grad=True)]
    calls += [lambda f=f: f(x, t, grad=True) for f in
              (losses.binary_cross_entropy, losses.mse, losses.l1, losses.huber)]
    saved = [a.copy() for a in (x, t, y)]
    before = [sys.getrefcount(a) for a in (x, t, y, bad)]
    for call in calls:
        for _ in range(200):
            call()
    for _ in range(200):
        with pytest.raises(ValueError):
            losses.cross_entropy(x, bad, grad=True)
    assert [sys.getrefcount(a) for a in (x, t, y, bad)] == before
    for a, s in zip((x, t, y), saved):
        np.testing.assert_array_equal(a, s)
