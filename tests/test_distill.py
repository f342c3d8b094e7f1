"""gaba.distillation_loss against the float64 reference (gaba.ref.distill), finite
differences and PyTorch."""
import numpy as np
import pytest

import gaba
from gaba.ref import distill as ref
from arrays import rand
from tolerances import distill_grad_atol, distill_loss_rtol

pytestmark = pytest.mark.kernels

SHAPES = [(1, 2), (1, 1), (3, 17), (7, 16), (5, 33), (64, 10), (256, 1000), (9, 1001)]


def logits(shape, seed, scale=3.0):
    return rand(shape, seed=seed, low=-scale, high=scale)


def check(s, t, temperature=2.0, alpha=0.5, labels=None, reduction="batchmean"):
    loss, grad = gaba.distillation_loss(s, t, temperature, alpha, labels, reduction=reduction,
                                        return_grad=True)
    rloss, rgrad = ref.distillation_loss(s, t, temperature, alpha, labels, reduction)
    scale = np.abs(rloss).max() if np.size(rloss) else 0.0
    np.testing.assert_allclose(loss, rloss, rtol=distill_loss_rtol(s.shape[1]),
                               atol=distill_loss_rtol(s.shape[1]) * max(scale, 1.0))
    assert grad.dtype == np.float32 and grad.shape == s.shape
    np.testing.assert_allclose(grad, rgrad, rtol=0, atol=distill_grad_atol(rgrad))
    return loss, grad


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("temperature", [1.0, 2.0, 4.5])
@pytest.mark.parametrize("with_labels", [False, True])
def test_against_reference(shape, temperature, with_labels):
    s, t = logits(shape, 1), logits(shape, 2)
    labels = np.random.default_rng(3).integers(0, shape[1], shape[0]) if with_labels else None
    check(s, t, temperature, 0.3, labels)


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none"])
def test_reductions(reduction):
    s, t = logits((6, 11), 4), logits((6, 11), 5)
    labels = np.arange(6) % 11
    loss, _ = check(s, t, 3.0, 0.7, labels, reduction)
    per = gaba.distillation_loss(s, t, 3.0, 0.7, labels, reduction="none")
    assert per.shape == (6,) and per.dtype == np.float32
    if reduction == "sum":
        assert loss == pytest.approx(per.astype(np.float64).sum(), rel=1e-6)
    if reduction == "batchmean":
        assert loss == pytest.approx(per.astype(np.float64).mean(), rel=1e-6)


def test_seed_positional_call():
    """The user's document calls distillation_loss(student_logits, teacher_logits, 2.0, 0.5)."""
    s, t = logits((4, 10), 6), logits((4, 10), 7)
    loss = gaba.distillation_loss(s, t, 2.0, 0.5)
    assert isinstance(loss, float)
    # Without labels alpha is unused: the loss is the T^2-scaled soft term alone.
    assert loss == pytest.approx(gaba.distillation_loss(s, t, 2.0, 0.0), rel=1e-7)
    assert loss == pytest.approx(ref.distillation_loss(s, t, 2.0)[0], rel=1e-5)


def test_identical_logits_zero_loss():
    s = logits((8, 100), 8)
    loss, grad = gaba.distillation_loss(s, s, 2.0, return_grad=True)
    assert abs(loss) < 1e-6
    assert np.abs(grad).max() < 1e-6


def test_alpha_weighting():
    s, t = logits((5, 7), 9), logits((5, 7), 10)
    y = np.array([0, 1, 2, 3, 4])
    soft = gaba.distillation_loss(s, t, 2.0, 1.0, y)
    hard = gaba.distillation_loss(s, t, 2.0, 0.0, y)
    mixed = gaba.distillation_loss(s, t, 2.0, 0.25, y)
    assert mixed == pytest.approx(0.25 * soft + 0.75 * hard, rel=1e-6)
    assert soft == pytest.approx(gaba.distillation_loss(s, t, 2.0), rel=1e-7)
    # The hard term is the plain cross-entropy at T = 1 whatever the temperature.
    log_sm = ref.log_softmax(s)
    assert hard == pytest.approx(-log_sm[np.arange(5), y].mean(), rel=1e-5)


@pytest.mark.parametrize("scale", [1e2, 1e4])
@pytest.mark.parametrize("with_labels", [False, True])
def test_huge_logits(scale, with_labels):
    """Logits of +-1e4: no overflow, no NaN, same values as the float64 reference."""
    s, t = logits((16, 50), 11, scale), logits((16, 50), 12, scale)
    s[0, :] = scale
    s[1, 0], s[1, 1:] = scale, -scale
    t[2, 0], t[2, 1:] = -scale, scale
    labels = np.arange(16) % 50 if with_labels else None
    loss, grad = check(s, t, 2.0, 0.5, labels)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))


def test_specials_policy():
    """NaN/Inf in a row make that sample NaN; other samples are unaffected."""
    s, t = logits((4, 9), 13), logits((4, 9), 14)
    s[1, 3] = np.nan
    t[2, 0] = np.inf
    per, grad = gaba.distillation_loss(s, t, reduction="none", return_grad=True)
    assert np.isnan(per[1]) and np.isnan(per[2])
    clean = [0, 3]
    rper, rgrad = ref.distillation_loss(s[clean], t[clean], reduction="none")
    np.testing.assert_allclose(per[clean], rper, rtol=1e-5)
    np.testing.assert_allclose(grad[clean], rgrad, atol=1e-6)
    assert np.isnan(gaba.distillation_loss(s, t))


def test_teacher_minus_inf_is_zero_probability():
    s, t = logits((2, 6), 15), logits((2, 6), 16)
    t[:, 0] = -np.inf
    loss, grad = gaba.distillation_loss(s, t, reduction="none", return_grad=True)
    t2 = t.copy()
    t2[:, 0] = -1e30  # exp underflows to exactly 0, as -inf does
    rloss, rgrad = ref.distillation_loss(s, t2, reduction="none")
    np.testing.assert_allclose(loss, rloss, rtol=1e-5)
    np.testing.assert_allclose(grad, rgrad, atol=1e-6)


@pytest.mark.parametrize("with_labels", [False, True])
@pytest.mark.parametrize("temperature", [1.0, 3.0])
def test_gradient_finite_differences(with_labels, temperature):
    rng = np.random.default_rng(17)
    s, t = logits((3, 5), 18), logits((3, 5), 19)
    labels = rng.integers(0, 5, 3) if with_labels else None
    _, grad = gaba.distillation_loss(s, t, temperature, 0.4, labels, return_grad=True)
    s64 = s.astype(np.float64)
    h = 1e-5
    fd = np.zeros_like(s64)
    for idx in np.ndindex(*s.shape):
        plus, minus = s64.copy(), s64.copy()
        plus[idx] += h
        minus[idx] -= h
        fd[idx] = (ref.distillation_loss(plus, t, temperature, 0.4, labels)[0]
                   - ref.distillation_loss(minus, t, temperature, 0.4, labels)[0]) / (2 * h)
    np.testing.assert_allclose(grad, fd, atol=1e-5)


def test_one_sample_1d():
    s, t = logits((10,), 20), logits((10,), 21)
    loss, grad = gaba.distillation_loss(s, t, return_grad=True)
    assert grad.shape == (10,)
    assert loss == pytest.approx(gaba.distillation_loss(s[None], t[None]), rel=1e-7)


def test_non_contiguous_inputs_unchanged():
    big_s, big_t = logits((8, 40), 22), logits((8, 40), 23)
    s, t = big_s[::2, ::3], big_t[::2, ::3]
    before = s.copy(), t.copy()
    loss = gaba.distillation_loss(s, t, 2.0, 0.5)
    assert loss == pytest.approx(gaba.distillation_loss(s.copy(), t.copy(), 2.0, 0.5), rel=1e-7)
    np.testing.assert_array_equal(s, before[0])
    np.testing.assert_array_equal(t, before[1])


def test_threads_do_not_change_result():
    s, t = logits((600, 300), 24), logits((600, 300), 25)
    labels = np.arange(600) % 300
    gaba.set_num_threads(1)
    one = gaba.distillation_loss(s, t, 2.0, 0.5, labels, return_grad=True)
    gaba.set_num_threads(2)
    two = gaba.distillation_loss(s, t, 2.0, 0.5, labels, return_grad=True)
    assert one[0] == two[0]
    np.testing.assert_array_equal(one[1], two[1])


def test_large_batch():
    s, t = logits((4096, 1000), 26), logits((4096, 1000), 27)
    labels = np.arange(4096) % 1000
    loss, grad = gaba.distillation_loss(s, t, 2.0, 0.5, labels, return_grad=True)
    rloss, rgrad = ref.distillation_loss(s[:64], t[:64], 2.0, 0.5, labels[:64], "sum")
    per = gaba.distillation_loss(s, t, 2.0, 0.5, labels, reduction="none")
    assert per[:64].astype(np.float64).sum() == pytest.approx(rloss, rel=1e-5)
    np.testing.assert_allclose(grad[:64] * 4096, rgrad, atol=1e-5)
    assert loss == pytest.approx(per.astype(np.float64).mean(), rel=1e-6)


def test_empty_batch():
    s = np.zeros((0, 5), np.float32)
    assert np.isnan(gaba.distillation_loss(s, s))
    assert gaba.distillation_loss(s, s, reduction="sum") == 0.0
    assert gaba.distillation_loss(s, s, reduction="none").shape == (0,)


def test_errors():
    s, t = logits((4, 5), 1), logits((4, 5), 2)
    with pytest.raises(TypeError, match="float32"):
        gaba.distillation_loss(s.astype(np.float64), t)
    with pytest.raises(ValueError, match="teacher_logits"):
        gaba.distillation_loss(s, t[:, :4])
    with pytest.raises(ValueError, match=r"temperature must be > 0 and finite, got 0\.0$"):
        gaba.distillation_loss(s, t, 0.0)
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\], got 1\.5$"):
        gaba.distillation_loss(s, t, 2.0, 1.5)
    with pytest.raises(ValueError, match="reduction"):
        gaba.distillation_loss(s, t, reduction="mean")
    with pytest.raises(ValueError, match="labels"):
        gaba.distillation_loss(s, t, 2.0, 0.5, np.array([0, 1, 2, 5]))
    with pytest.raises(ValueError, match="labels"):
        gaba.distillation_loss(s, t, 2.0, 0.5, np.array([0, 1, -1, 2]))
    with pytest.raises(ValueError, match="labels"):
        gaba.distillation_loss(s, t, 2.0, 0.5, np.array([0, 1]))
    with pytest.raises(TypeError, match="integers"):
        gaba.distillation_loss(s, t, 2.0, 0.5, np.array([0.0, 1, 2, 3]))
    with pytest.raises(ValueError, match="class"):
        gaba.distillation_loss(s[:, :0], t[:, :0])


def test_float_arguments_too_large():
    """An int beyond float range is a ValueError naming the argument, not OverflowError."""
    s = rand((2, 3))
    for name in ("temperature", "alpha"):
        with pytest.raises(ValueError, match=f"argument '{name}' is too large"):
            gaba.distillation_loss(s, s, **{name: 10**400})


@pytest.mark.parametrize("with_labels", [False, True])
def test_vs_torch(with_labels):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    s, t = logits((32, 100), 28), logits((32, 100), 29)
    labels = np.arange(32) % 100 if with_labels else None
    T, alpha = 3.0, 0.6
    st = torch.from_numpy(s.copy()).requires_grad_(True)
    tt = torch.from_numpy(t)
    soft = F.kl_div(F.log_softmax(st / T, dim=1), F.softmax(tt / T, dim=1),
                    reduction="batchmean") * T * T
    if with_labels:
        expected = alpha * soft + (1 - alpha) * F.cross_entropy(st, torch.from_numpy(labels))
    else:
        expected = soft
    expected.backward()
    loss, grad = gaba.distillation_loss(s, t, T, alpha, labels, return_grad=True)
    assert loss == pytest.approx(expected.item(), rel=1e-4, abs=1e-6)
    np.testing.assert_allclose(grad, st.grad.numpy(), atol=1e-6)


def test_16m_logits():
    """4096 x 4096 logits (16.7M): per-sample losses match the reference on sampled rows."""
    s, t = logits((4096, 4096), 32), logits((4096, 4096), 33)
    per = gaba.distillation_loss(s, t, 2.0, reduction="none")
    rows = np.arange(0, 4096, 257)
    rper, _ = ref.distillation_loss(s[rows], t[rows], 2.0, reduction="none")
    np.testing.assert_allclose(per[rows], rper, rtol=distill_loss_rtol(4096))


def test_refcounts_and_inputs_unchanged():
    import sys

    s, t = logits((8, 5), 34), logits((8, 5), 35)
    labels = np.arange(8) % 5
    saved = s.copy(), t.copy(), labels.copy()
    counts = [sys.getrefcount(x) for x in (s, t, labels)]
    for _ in range(3):
        gaba.distillation_loss(s, t, 2.0, 0.5, labels, return_grad=True)
        gaba.distillation_loss(s, t, reduction="none")
    assert [sys.getrefcount(x) for x in (s, t, labels)] == counts
    for a, b in zip((s, t, labels), saved):
        np.testing.assert_array_equal(a, b)
