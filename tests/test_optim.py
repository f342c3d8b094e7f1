"""gaba.optim against torch.optim: the same weights and gradients for 20 steps,
state_dict round trips, clipping, the learning-rate schedules; argument errors."""
import math
import sys

import numpy as np
import pytest

import gaba
from gaba import optim

torch = pytest.importorskip("torch")

STEPS = 20
# Reason: each step does PyTorch's float32 operations in its order; what
# differs is FMA contraction in PyTorch's vector loops (one rounding of
# 2**-24 per operation), so after 20 steps the weights agree to well under
# 1e-6 relative to their size (about 1).
RTOL = 1e-6
ATOL = 1e-6


def data(n, seed=0):
    r = np.random.default_rng(seed)
    w = r.standard_normal(n).astype(np.float32)
    grads = [r.standard_normal(n).astype(np.float32) for _ in range(STEPS)]
    return w, grads


def run_gaba(make, w0, grads):
    w, g = w0.copy(), np.zeros_like(w0)
    opt = make((w, g))
    for gi in grads:
        g[:] = gi
        opt.step()
    return w, opt


def run_torch(make, w0, grads):
    p = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    opt = make([p])
    for gi in grads:
        p.grad = torch.from_numpy(gi.copy())
        opt.step()
    return p.detach().numpy()


SGD_CASES = [
    {},
    {"momentum": 0.9},
    {"momentum": 0.9, "dampening": 0.3},
    {"momentum": 0.9, "nesterov": True},
    {"momentum": 0.5, "weight_decay": 0.1, "nesterov": True},
    {"weight_decay": 0.05},
    {"momentum": 0.9, "dampening": 0.1, "weight_decay": 1e-2},
]
ADAM_CASES = [
    {},
    {"betas": (0.8, 0.99), "eps": 1e-6},
    {"weight_decay": 0.1},
    {"betas": (0.0, 0.5), "weight_decay": 1e-3},
    {"betas": (0.6, 0.9)},  # 1 - beta1 >= 0.5: torch.lerp's other form
]
CASES = ([("SGD", kw) for kw in SGD_CASES] + [("Adam", kw) for kw in ADAM_CASES]
         + [("AdamW", kw) for kw in ADAM_CASES])


@pytest.mark.parametrize("name, kwargs", CASES, ids=lambda x: str(x))
@pytest.mark.parametrize("n", [1, 1000, 20011])  # 20011: the call releases the GIL
def test_vs_torch(name, kwargs, n):
    w0, grads = data(n)
    lr = 0.05 if name == "SGD" else 0.01
    got, _ = run_gaba(lambda p: getattr(optim, name)(p, lr=lr, **kwargs), w0, grads)
    ref = run_torch(lambda p: getattr(torch.optim, name)(p, lr=lr, **kwargs), w0, grads)
    np.testing.assert_allclose(got, ref, rtol=RTOL, atol=ATOL)
    assert np.abs(got - w0).max() > 10 * ATOL  # the weights moved


@pytest.mark.parametrize("name, kwargs", [c for c in CASES if c[1]], ids=lambda x: str(x))
def test_state_dict_round_trip(name, kwargs):
    w0, grads = data(500, seed=1)
    whole, _ = run_gaba(lambda p: getattr(optim, name)(p, lr=0.02, **kwargs), w0, grads)
    half, opt = run_gaba(lambda p: getattr(optim, name)(p, lr=0.02, **kwargs), w0,
                         grads[:STEPS // 2])
    state = opt.state_dict()
    assert all(isinstance(v, (int, float, bool, np.ndarray)) for v in state.values())
    assert state["steps"] == STEPS // 2
    # A fresh optimizer with default arguments takes everything from the state.
    w, g = half.copy(), np.zeros_like(half)
    resumed = getattr(optim, name)((w, g), lr=1.0)
    resumed.load_state_dict(state)
    for gi in grads[STEPS // 2:]:
        g[:] = gi
        resumed.step()
    np.testing.assert_array_equal(w, whole)
    for key, value in opt.state_dict().items():
        if isinstance(value, np.ndarray):
            assert not np.shares_memory(value, state[key])  # copies, not views


def test_load_state_dict_errors():
    w = np.zeros(4, np.float32)
    opt = optim.Adam((w, np.zeros_like(w)))
    state = opt.state_dict()
    with pytest.raises(ValueError, match=r"load_state_dict.*lacks.*beta1"):
        opt.load_state_dict({k: v for k, v in state.items() if k != "beta1"})
    with pytest.raises(ValueError, match=r"exp_avg.*\(4,\)"):
        opt.load_state_dict({**state, "exp_avg": np.zeros(5, np.float32)})
    with pytest.raises(ValueError, match="betas"):
        opt.load_state_dict({**state, "beta2": 1.0})
    assert opt.beta2 == 0.999  # a refused state leaves the optimizer as it was
    with pytest.raises(TypeError, match="state"):
        opt.load_state_dict([1])
    sgd = optim.SGD((w, np.zeros_like(w)), lr=0.1)
    with pytest.raises(ValueError, match="momentum_buffer"):
        sgd.load_state_dict({**sgd.state_dict(), "momentum": 0.9})


class Model:
    """What a model offers an optimizer: views of its weight and gradient blocks."""

    def __init__(self, n):
        self.block = np.zeros((2, n), np.float32)
        self.calls = 0

    def _train_arrays(self):
        self.calls += 1
        return self.block[0], self.block[1]


def test_model_params_zero_grad_and_clip():
    m = Model(6)
    opt = optim.AdamW(m, lr=0.1)
    m.block[1] = [3, 4, 0, 0, 0, 0]
    assert opt.clip_grad_norm(1.0) == pytest.approx(5.0, rel=1e-12)
    np.testing.assert_allclose(m.block[1, :2], [0.6, 0.8], rtol=1e-6)
    opt.step()
    assert m.block[0, 0] < 0 and m.calls >= 3  # read again at every use
    opt.zero_grad()
    assert not m.block[1].any()


@pytest.mark.parametrize("max_norm", [0.5, 1.0, 1e3, math.inf])
@pytest.mark.parametrize("n", [0, 3, 20011])
def test_clip_vs_torch(max_norm, n):
    w = np.zeros(n, np.float32)
    g = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    p = torch.nn.Parameter(torch.from_numpy(w.copy()))
    p.grad = torch.from_numpy(g.copy())
    ref_norm = torch.nn.utils.clip_grad_norm_([p], max_norm).item()
    norm = optim.clip_grad_norm((w, g), max_norm)
    assert norm == pytest.approx(ref_norm, rel=1e-6, abs=1e-12)
    np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-6, atol=1e-7)
    assert norm == pytest.approx(np.linalg.norm(p.grad.numpy().astype(np.float64)) if
                                 max_norm == math.inf else norm)


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_clip_nonfinite_as_torch(bad):
    g = np.array([1.0, bad], np.float32)
    p = torch.nn.Parameter(torch.zeros(2))
    p.grad = torch.from_numpy(g.copy())
    ref_norm = torch.nn.utils.clip_grad_norm_([p], 1.0).item()
    norm = optim.clip_grad_norm((np.zeros(2, np.float32), g), 1.0)
    np.testing.assert_array_equal([norm], [ref_norm])
    np.testing.assert_array_equal(g, p.grad.numpy())  # inf: [0, nan]; nan: [nan, nan]


def torch_lrs(make_sched, lr=0.1, steps=50):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = make_sched(opt)
    out = [opt.param_groups[0]["lr"]]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(opt.param_groups[0]["lr"])
    return out


def gaba_lrs(make_sched, lr=0.1, steps=50):
    w = np.zeros(1, np.float32)
    opt = optim.SGD((w, np.zeros_like(w)), lr=lr)
    sched = make_sched(opt)
    out = [opt.lr]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(opt.lr)
    return out


S = torch.optim.lr_scheduler
SCHEDULES = {
    "step": (lambda o: optim.StepLR(o, 7, 0.5), lambda o: S.StepLR(o, 7, 0.5)),
    "cosine": (lambda o: optim.CosineAnnealingLR(o, 20, eta_min=1e-3),
               lambda o: S.CosineAnnealingLR(o, 20, eta_min=1e-3)),
    "cosine50": (lambda o: optim.CosineAnnealingLR(o, 50), lambda o: S.CosineAnnealingLR(o, 50)),
    "warmup": (lambda o: optim.LinearWarmup(o, 10, 0.1),
               lambda o: S.LinearLR(o, 0.1, 1.0, total_iters=10)),
    "warmup_cosine": (
        lambda o: optim.SequentialLR(o, [optim.LinearWarmup(o, 5, 0.2),
                                         optim.CosineAnnealingLR(o, 45)], [5]),
        lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.2, 1.0, total_iters=5),
                                     S.CosineAnnealingLR(o, 45)], [5])),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_vs_torch(name):
    ours, theirs = SCHEDULES[name]
    got, ref = gaba_lrs(ours), torch_lrs(theirs)
    # Reason: PyTorch updates most schedules recursively (lr *= ratio), gaba
    # evaluates the closed form; both are float64, 50 steps apart by a few ulps.
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)
    assert len(set(got)) > 2


def test_schedule_state_dict():
    w = np.zeros(1, np.float32)
    opt = optim.AdamW((w, np.zeros_like(w)), lr=0.1)
    sched = optim.CosineAnnealingLR(opt, 10)
    for _ in range(4):
        sched.step()
    saved, lr = sched.state_dict(), opt.lr
    opt2 = optim.AdamW((w, np.zeros_like(w)), lr=0.1)
    sched2 = optim.CosineAnnealingLR(opt2, 10)
    sched2.load_state_dict(saved)
    assert opt2.lr == lr and opt.state_dict()["initial_lr"] == 0.1


def test_argument_errors():
    w, g = np.zeros(4, np.float32), np.zeros(4, np.float32)
    bad = [
        (TypeError, "SGD.*params", lambda: optim.SGD(w)),
        (TypeError, "SGD.*'weights'.*float32", lambda: optim.SGD((w.astype(np.float64), g))),
        (ValueError, "SGD.*'grads' has 3 values", lambda: optim.SGD((w, g[:3].copy()))),
        (ValueError, "SGD.*'weights'.*C-contiguous",
         lambda: optim.SGD((np.zeros(8, np.float32)[::2], g))),
        (ValueError, "SGD.*'grads'.*1-D", lambda: optim.SGD((w, g.reshape(2, 2)))),
        (ValueError, "SGD.*share memory", lambda: optim.SGD((w, w))),
        (ValueError, "SGD.*'lr'", lambda: optim.SGD((w, g), lr=0)),
        (ValueError, "SGD.*'lr'", lambda: optim.SGD((w, g), lr=float("nan"))),
        (TypeError, "SGD.*'lr'", lambda: optim.SGD((w, g), lr="0.1")),
        (ValueError, "SGD.*'momentum'", lambda: optim.SGD((w, g), momentum=-0.1)),
        (ValueError, "SGD.*'weight_decay'", lambda: optim.SGD((w, g), weight_decay=-1)),
        (ValueError, "SGD.*nesterov", lambda: optim.SGD((w, g), nesterov=True)),
        (ValueError, "SGD.*nesterov",
         lambda: optim.SGD((w, g), momentum=0.9, dampening=0.1, nesterov=True)),
        (ValueError, r"Adam.*'betas\[0\]'", lambda: optim.Adam((w, g), betas=(1.0, 0.9))),
        (ValueError, r"AdamW.*'betas\[1\]'", lambda: optim.AdamW((w, g), betas=(0.9, -0.1))),
        (TypeError, "Adam.*'betas'", lambda: optim.Adam((w, g), betas=0.9)),
        (ValueError, "Adam.*'eps'", lambda: optim.Adam((w, g), eps=-1e-8)),
        (ValueError, "clip_grad_norm.*'max_norm'", lambda: optim.clip_grad_norm((w, g), 0.0)),
        (ValueError, "StepLR.*'step_size'", lambda: optim.StepLR(optim.SGD((w, g)), 0)),
        (ValueError, "CosineAnnealingLR.*'eta_min'",
         lambda: optim.CosineAnnealingLR(optim.SGD((w, g)), 5, eta_min=-1)),
        (ValueError, "LinearWarmup.*'start_factor'",
         lambda: optim.LinearWarmup(optim.SGD((w, g)), 5, start_factor=0.0)),
        (TypeError, "StepLR.*'optimizer'", lambda: optim.StepLR(torch.optim.SGD(
            [torch.nn.Parameter(torch.zeros(1))]), 3)),
    ]
    for exc, match, call in bad:
        with pytest.raises(exc, match=match):
            call()
    ro = np.zeros(4, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        optim.SGD((ro, g))
    opt = optim.SGD((w, g), lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        opt.lr = -1.0
    opt.lr = 0.0  # a schedule may end at 0
    with pytest.raises(TypeError, match="SequentialLR.*schedules"):
        optim.SequentialLR(opt, [], [])
    with pytest.raises(ValueError, match="SequentialLR.*milestones"):
        optim.SequentialLR(opt, [optim.StepLR(opt, 2), optim.StepLR(opt, 3)], [])


def test_model_that_changes_size_is_refused():
    m = Model(4)
    opt = optim.Adam(m)
    m.block = np.zeros((2, 5), np.float32)
    with pytest.raises(ValueError, match="Adam.step.*changed size"):
        opt.step()


def test_binding_checks_arrays():
    # The C entry points keep a direct call safe, whatever the wrapper checked.
    w = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match="momentum_buffer"):
        gaba._gaba.sgd_step(w, np.zeros(4, np.float32), np.zeros(3, np.float32), 1, 0.1, 0.9,
                            0.0, 0.0, False)
    with pytest.raises(ValueError, match="overlaps"):
        gaba._gaba.adam_step(w, np.zeros(4, np.float32), w, np.zeros(4, np.float32), 1, 0.1,
                             0.9, 0.999, 1e-8, 0.0, False)
    with pytest.raises(ValueError, match="invalid argument"):
        gaba._gaba.adam_step(w, np.zeros(4, np.float32), np.zeros(4, np.float32),
                             np.zeros(4, np.float32), 1, 0.1, 1.5, 0.999, 1e-8, 0.0, False)


def test_refcounts():
    w, g = data(64)[0], np.ones(64, np.float32)
    opts = [optim.SGD((w, g), momentum=0.9), optim.Adam((w, g)), optim.AdamW((w, g))]
    state = [a for o in opts for a in o._state.values()]
    before = [sys.getrefcount(a) for a in [w, g] + state]
    for _ in range(200):
        for o in opts:
            o.step()
        optim.clip_grad_norm((w, g), 10.0)
        with pytest.raises(ValueError):
            gaba._gaba.sgd_step(w, g, g, 1, 0.1, 0.9, 0.0, 0.0, False)
    assert [sys.getrefcount(a) for a in [w, g] + state] == before
