"""Optimizers and learning-rate schedules: ``gaba.optim``.

An optimizer updates one flat float32 weight block in place from the
gradient block beside it, in C (csrc/train/optim.c), with PyTorch's
formulas: ``SGD``, ``Adam`` and ``AdamW`` track ``torch.optim``'s updates to
float32 rounding. It takes a model (anything with ``_train_arrays()``
returning its ``(weights, grads)`` views) or such a pair of arrays.

>>> import numpy as np, gaba
>>> w = np.ones(3, np.float32); g = np.full(3, 0.5, np.float32)
>>> opt = gaba.optim.SGD((w, g), lr=0.1, momentum=0.9)
>>> opt.step(); w
array([0.95, 0.95, 0.95], dtype=float32)
>>> sched = gaba.optim.StepLR(opt, step_size=2, gamma=0.5)
>>> sched.step(); sched.step(); opt.lr
0.05
"""
import bisect
import contextlib
import math
import numbers

import numpy as np

from ._args import int_arg
from ._ext import _gaba

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "clip_grad_norm", "Schedule", "StepLR",
           "CosineAnnealingLR", "LinearWarmup", "SequentialLR"]


def _real(value, func, name, lo=0.0, *, lo_open=False, hi=math.inf, hi_open=True):
    """`value` as a finite float in the range lo..hi (ends open as asked)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{func}(): argument '{name}' must be a real number, "
                        f"got {type(value).__name__}")
    v = float(value)
    ok = math.isfinite(v) and (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    if not ok:
        rng = f"{'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
        raise ValueError(f"{func}(): argument '{name}' must be finite and in {rng}, got {value!r}")
    return v


def _block(a, func, name, n=None):
    """`a` checked as a 1-D C-contiguous writeable float32 array (of length n)."""
    if not isinstance(a, np.ndarray) or a.dtype != np.float32:
        what = f"{a.dtype} array" if isinstance(a, np.ndarray) else type(a).__name__
        raise TypeError(f"{func}(): '{name}' must be a float32 numpy.ndarray, got {what}")
    if a.ndim != 1 or not a.flags.c_contiguous or not a.flags.writeable:
        raise ValueError(f"{func}(): '{name}' must be 1-D, C-contiguous and writeable, got "
                         f"shape {a.shape}" + ("" if a.flags.writeable else " (read-only)"))
    if n is not None and a.shape[0] != n:
        raise ValueError(f"{func}(): '{name}' has {a.shape[0]} values, the weights {n}")
    return a


def _train_arrays(params, func):
    """The (weights, grads) of a model or of a pair, checked."""
    if hasattr(params, "_train_arrays"):
        pair = params._train_arrays()
    elif isinstance(params, (tuple, list)) and len(params) == 2:
        pair = params
    else:
        raise TypeError(f"{func}(): argument 'params' must be a model (with _train_arrays()) or "
                        f"a (weights, grads) pair of float32 arrays, got {type(params).__name__}")
    w = _block(pair[0], func, "weights")
    g = _block(pair[1], func, "grads", w.shape[0])
    if np.may_share_memory(w, g):
        raise ValueError(f"{func}(): 'weights' and 'grads' share memory")
    return w, g


def clip_grad_norm(params, max_norm):
    """Scale the gradients so that their global L2 norm is at most `max_norm`.

    As ``torch.nn.utils.clip_grad_norm_``: the gradients are multiplied by
    ``max_norm / (norm + 1e-6)`` when that is below 1. Call it between the
    backward pass and ``opt.step()`` (or use ``opt.clip_grad_norm``).

    Parameters
    ----------
    params : model or (weights, grads)
        What an optimizer takes; only the gradients are read and scaled.
    max_norm : float > 0
        ``math.inf`` measures the norm without clipping.

    Returns
    -------
    float
        The norm before clipping (float64 sum). A non-finite gradient gives a
        NaN or Inf norm, and the gradients then become 0 and NaN (Inf norm)
        or all NaN (NaN norm), as PyTorch's do: check the norm before stepping.

    Raises
    ------
    TypeError, ValueError
        For `params` that are not as described, a `max_norm` that is not > 0.
    """
    func = "clip_grad_norm"
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real):
        raise TypeError(f"{func}(): argument 'max_norm' must be a real number, "
                        f"got {type(max_norm).__name__}")
    if not max_norm > 0:
        raise ValueError(f"{func}(): argument 'max_norm' must be > 0, got {max_norm!r}")
    _, g = _train_arrays(params, func)
    return _gaba.clip_grad_norm(g, float(max_norm))


def _state_array(state, name, n, func):
    """state[name] as a new float32 array of n values."""
    a = state.get(name)
    if a is None:
        raise ValueError(f"{func}(): argument 'state' lacks '{name}'")
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f" or a.shape != (n,):
        what = f"{a.dtype} array of shape {a.shape}" if isinstance(a, np.ndarray) else type(a)
        raise ValueError(f"{func}(): state['{name}'] must be a float array of shape ({n},), "
                         f"got {what}")
    return np.array(a, np.float32, order="C")


class Optimizer:
    """The base of SGD, Adam and AdamW: the parameter block, the learning
    rate, the step count and the state arrays.

    Parameters
    ----------
    params : model or (weights, grads)
        A model's ``_train_arrays()`` gives its two 1-D C-contiguous float32
        views of equal length, read again at every step; a pair is used as
        given. The state arrays are sized from them once.
    lr : float > 0

    Attributes
    ----------
    lr : float
        The learning rate of the next step; settable (a schedule sets it),
        then finite and >= 0.
    initial_lr : float or None
        The learning rate the first schedule started from (None before).
    steps : int
        Updates done (PyTorch's ``state["step"]``).
    """

    _STATE = ()  # names of the state arrays (state_dict keys)
    _HYPER = ()  # names of the hyperparameters saved by state_dict

    def __init__(self, params, lr):
        func = type(self).__name__
        self._params = params
        w, _ = _train_arrays(params, func)
        self._lr = _real(lr, func, "lr", lo_open=True)
        self.initial_lr = None
        self.steps = 0
        self._state = {name: np.zeros_like(w) for name in self._state_names()}

    def _state_names(self):
        return self._STATE

    @property
    def lr(self):
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = _real(value, type(self).__name__ + ".lr", "lr")

    def _arrays(self, func):
        w, g = _train_arrays(self._params, func)
        for name, a in self._state.items():
            if a.shape[0] != w.shape[0]:
                raise ValueError(f"{func}(): the weights have {w.shape[0]} values, the "
                                 f"optimizer's '{name}' {a.shape[0]}: the model changed size")
        return w, g

    def step(self):
        """One update of the weights from the current gradients, in place; a model's
        weights then take the update (its batch norms folded again)."""
        func = type(self).__name__ + ".step"
        training = getattr(self._params, "_training", None)  # a model: not while it trains
        with training(func) if training is not None else contextlib.nullcontext():
            w, g = self._arrays(func)
            self._update(w, g, self.steps + 1)
            self.steps += 1
            changed = getattr(self._params, "_weights_changed", None)
            if changed is not None:
                changed()

    def zero_grad(self):
        """Set the gradients to zero (backward passes accumulate into them)."""
        _, g = _train_arrays(self._params, type(self).__name__ + ".zero_grad")
        g.fill(0.0)

    def clip_grad_norm(self, max_norm):
        """``clip_grad_norm(params, max_norm)`` on this optimizer's gradients;
        returns the norm before clipping."""
        return clip_grad_norm(self._params, max_norm)

    def state_dict(self):
        """What resuming needs, as a plain dict of numbers and numpy arrays
        (copies): ``lr``, ``steps``, the hyperparameters, ``initial_lr`` once a
        schedule set it, and the state arrays by name."""
        d = {"lr": self._lr, "steps": self.steps}
        d.update((name, getattr(self, name)) for name in self._HYPER)
        if self.initial_lr is not None:
            d["initial_lr"] = self.initial_lr
        d.update((name, a.copy()) for name, a in self._state.items())
        return d

    def load_state_dict(self, state):
        """Restore what `state_dict` gave (of this optimizer class), so that
        the next ``step`` continues the saved run exactly.

        Raises
        ------
        TypeError, ValueError
            For a `state` that is not a dict, lacks a key, or holds a value
            out of its range or an array of another length.
        """
        func = type(self).__name__ + ".load_state_dict"
        if not isinstance(state, dict):
            raise TypeError(f"{func}(): argument 'state' must be a dict, "
                            f"got {type(state).__name__}")
        missing = [k for k in ("lr", "steps") + self._HYPER if k not in state]
        if missing:
            raise ValueError(f"{func}(): argument 'state' lacks {missing}")
        n = _train_arrays(self._params, func)[0].shape[0]
        old = {name: getattr(self, name) for name in self._HYPER}
        try:
            for name in self._HYPER:
                setattr(self, name, state[name])
            self._check(func)
            lr = _real(state["lr"], func, "lr")
            steps = int_arg(state["steps"], func, "steps", 0, 2**62)
            initial = state.get("initial_lr")
            initial = None if initial is None else _real(initial, func, "initial_lr")
            arrays = {name: _state_array(state, name, n, func) for name in self._state_names()}
        except (TypeError, ValueError):
            for name, value in old.items():
                setattr(self, name, value)
            raise
        self._lr, self.steps, self.initial_lr, self._state = lr, steps, initial, arrays

    def __repr__(self):
        hyper = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._HYPER)
        return f"{type(self).__name__}(lr={self._lr!r}, {hyper}, steps={self.steps})"


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, as ``torch.optim.SGD``.

    ``g' = grads + weight_decay * w``; with momentum, ``buf = g'`` at the
    first step and ``momentum * buf + (1 - dampening) * g'`` after; then
    ``w -= lr * (g' + momentum * buf if nesterov else buf)`` (``g'`` without
    momentum).

    Parameters
    ----------
    params : model or (weights, grads)
        See :class:`Optimizer`.
    lr : float > 0
    momentum : float >= 0
    dampening : float
    weight_decay : float >= 0
        L2 penalty, added to the gradient.
    nesterov : bool
        Needs momentum > 0 and dampening 0.

    Raises
    ------
    TypeError
        For `params` that are not float32 blocks, a non-numeric hyperparameter.
    ValueError
        For lr <= 0, a negative momentum or weight_decay, nesterov without
        momentum or with dampening.

    Notes
    -----
    ``state_dict()`` holds ``momentum_buffer`` when momentum > 0.
    """

    _HYPER = ("momentum", "dampening", "weight_decay", "nesterov")

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False):
        self.momentum, self.dampening = momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, nesterov
        self._check("SGD")
        super().__init__(params, lr)

    def _check(self, func):
        self.momentum = _real(self.momentum, func, "momentum")
        self.dampening = _real(self.dampening, func, "dampening", -math.inf)
        self.weight_decay = _real(self.weight_decay, func, "weight_decay")
        if not isinstance(self.nesterov, (bool, np.bool_)):
            raise TypeError(f"{func}(): argument 'nesterov' must be a bool, "
                            f"got {type(self.nesterov).__name__}")
        self.nesterov = bool(self.nesterov)
        if self.nesterov and (self.momentum == 0.0 or self.dampening != 0.0):
            raise ValueError(f"{func}(): nesterov needs momentum > 0 and dampening 0, got "
                             f"momentum={self.momentum}, dampening={self.dampening}")

    def _state_names(self):
        return ("momentum_buffer",) if self.momentum > 0.0 else ()

    def _update(self, w, g, step):
        _gaba.sgd_step(w, g, self._state.get("momentum_buffer"), step, self._lr, self.momentum,
                       self.dampening, self.weight_decay, self.nesterov)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction, as ``torch.optim.Adam``.

    ``g' = grads + weight_decay * w``; ``m = beta1 m + (1 - beta1) g'``;
    ``v = beta2 v + (1 - beta2) g'**2``; ``w -= lr / (1 - beta1**t) * m /
    (sqrt(v / (1 - beta2**t)) + eps)`` at step t.

    Parameters
    ----------
    params : model or (weights, grads)
        See :class:`Optimizer`.
    lr : float > 0
    betas : (float, float), each in [0, 1)
    eps : float >= 0
    weight_decay : float >= 0
        L2 penalty added to the gradient (AdamW decouples it instead).

    Raises
    ------
    TypeError
        For `params` that are not float32 blocks, `betas` that are not a pair.
    ValueError
        For lr <= 0, betas outside [0, 1), a negative eps or weight_decay.

    Notes
    -----
    ``state_dict()`` holds ``exp_avg`` (m) and ``exp_avg_sq`` (v); the step
    count makes the bias correction.
    """

    _STATE = ("exp_avg", "exp_avg_sq")
    _HYPER = ("beta1", "beta2", "eps", "weight_decay")
    _DECOUPLED = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        func = type(self).__name__
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{func}(): argument 'betas' must be a pair of floats, got {betas!r}")
        self.beta1, self.beta2 = betas
        self.eps, self.weight_decay = eps, weight_decay
        self._check(func)
        super().__init__(params, lr)

    def _check(self, func):
        self.beta1 = _real(self.beta1, func, "betas[0]", hi=1.0)
        self.beta2 = _real(self.beta2, func, "betas[1]", hi=1.0)
        self.eps = _real(self.eps, func, "eps")
        self.weight_decay = _real(self.weight_decay, func, "weight_decay")

    def _update(self, w, g, step):
        _gaba.adam_step(w, g, self._state["exp_avg"], self._state["exp_avg_sq"], step, self._lr,
                        self.beta1, self.beta2, self.eps, self.weight_decay, self._DECOUPLED)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019), as
    ``torch.optim.AdamW``: ``w *= 1 - lr * weight_decay`` before the Adam
    update, which then uses the plain gradient. Arguments as :class:`Adam`;
    weight_decay defaults to 0.01, as PyTorch's."""

    _DECOUPLED = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)


class Schedule:
    """The base of the learning-rate schedules, as ``torch.optim.lr_scheduler``:
    create it after the optimizer, call ``step()`` once per epoch (or per
    batch: the unit is yours) after ``opt.step()``. It sets ``opt.lr`` from the
    optimizer's ``initial_lr`` (its lr when the first schedule was made) and
    the count of ``step()`` calls, ``last_epoch``."""

    def __init__(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}(): argument 'optimizer' must be a "
                            f"gaba.optim optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if optimizer.initial_lr is None:
            optimizer.initial_lr = optimizer.lr
        self.base_lr = optimizer.initial_lr
        self.last_epoch = 0
        optimizer.lr = self.lr_at(0)

    def lr_at(self, epoch):
        """The learning rate after `epoch` calls of ``step()``."""
        raise NotImplementedError

    def step(self):
        """Advance one epoch and set the optimizer's lr."""
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def state_dict(self):
        """``{"last_epoch": n}``: the schedule's arguments come from the code."""
        return {"last_epoch": self.last_epoch}

    def load_state_dict(self, state):
        """Resume at ``state["last_epoch"]`` and set the optimizer's lr."""
        func = type(self).__name__ + ".load_state_dict"
        if not isinstance(state, dict) or "last_epoch" not in state:
            raise ValueError(f"{func}(): argument 'state' must be a dict with 'last_epoch'")
        self.last_epoch = int_arg(state["last_epoch"], func, "last_epoch", 0, 2**62)
        self.optimizer.lr = self.lr_at(self.last_epoch)


class StepLR(Schedule):
    """``lr = initial_lr * gamma ** (epoch // step_size)``, as ``torch.optim.lr_scheduler.StepLR``.

    Parameters
    ----------
    optimizer : Optimizer
    step_size : int >= 1
    gamma : float > 0
    """

    def __init__(self, optimizer, step_size, gamma=0.1):
        self.step_size = int_arg(step_size, "StepLR", "step_size", 1, 2**62)
        self.gamma = _real(gamma, "StepLR", "gamma", lo_open=True)
        super().__init__(optimizer)

    def lr_at(self, epoch):
        try:
            return self.base_lr * self.gamma ** (epoch // self.step_size)
        except OverflowError:  # gamma > 1 over very many epochs
            raise ValueError(f"StepLR: the learning rate overflows at epoch {epoch} (gamma "
                             f"{self.gamma}, step_size {self.step_size})") from None


class CosineAnnealingLR(Schedule):
    """``lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / t_max)) / 2``,
    as ``torch.optim.lr_scheduler.CosineAnnealingLR`` (past t_max it rises
    again, as PyTorch's does).

    Parameters
    ----------
    optimizer : Optimizer
    t_max : int >= 1
        Epochs from initial_lr down to eta_min.
    eta_min : float >= 0
    """

    def __init__(self, optimizer, t_max, eta_min=0.0):
        self.t_max = int_arg(t_max, "CosineAnnealingLR", "t_max", 1, 2**62)
        self.eta_min = _real(eta_min, "CosineAnnealingLR", "eta_min")
        super().__init__(optimizer)

    def lr_at(self, epoch):
        cos = math.cos(math.pi * epoch / self.t_max)
        return self.eta_min + (self.base_lr - self.eta_min) * (1.0 + cos) / 2.0


class LinearWarmup(Schedule):
    """A linear ramp from ``start_factor * initial_lr`` to ``initial_lr`` over
    `warmup_steps`, then constant: ``torch.optim.lr_scheduler.LinearLR`` with
    ``end_factor=1, total_iters=warmup_steps``. Chain it with another
    schedule by :class:`SequentialLR`.

    Parameters
    ----------
    optimizer : Optimizer
    warmup_steps : int >= 1
    start_factor : float in (0, 1]
        PyTorch's default, 1/3.
    """

    def __init__(self, optimizer, warmup_steps, start_factor=1.0 / 3.0):
        self.warmup_steps = int_arg(warmup_steps, "LinearWarmup", "warmup_steps", 1, 2**62)
        self.start_factor = _real(start_factor, "LinearWarmup", "start_factor", lo_open=True,
                                  hi=1.0, hi_open=False)
        super().__init__(optimizer)

    def lr_at(self, epoch):
        done = min(epoch, self.warmup_steps) / self.warmup_steps
        return self.base_lr * (self.start_factor + (1.0 - self.start_factor) * done)


class SequentialLR(Schedule):
    """Schedules one after another, as ``torch.optim.lr_scheduler.SequentialLR``:
    ``schedules[i]`` runs from ``milestones[i - 1]`` on, restarted at its epoch 0.

    Parameters
    ----------
    optimizer : Optimizer
    schedules : sequence of Schedule
        Made on `optimizer`, one more than the milestones.
    milestones : sequence of int
        Increasing epochs at which the next schedule takes over.

    Examples
    --------
    Warm up for 5 epochs, then a cosine over the remaining 45:

    >>> import numpy as np, gaba
    >>> w = np.zeros(4, np.float32)
    >>> opt = gaba.optim.AdamW((w, np.zeros_like(w)), lr=1e-3)
    >>> warm = gaba.optim.LinearWarmup(opt, 5, start_factor=0.1)
    >>> cos = gaba.optim.CosineAnnealingLR(opt, t_max=45)
    >>> sched = gaba.optim.SequentialLR(opt, [warm, cos], milestones=[5])
    >>> round(opt.lr, 9)
    0.0001
    """

    def __init__(self, optimizer, schedules, milestones):
        func = "SequentialLR"
        schedules, milestones = list(schedules), list(milestones)
        if not schedules or not all(isinstance(s, Schedule) for s in schedules):
            raise TypeError(f"{func}(): argument 'schedules' must be a non-empty sequence of "
                            "gaba.optim schedules")
        if any(s.optimizer is not optimizer for s in schedules):
            raise ValueError(f"{func}(): every schedule must be made on 'optimizer'")
        if len(milestones) != len(schedules) - 1:
            raise ValueError(f"{func}(): argument 'milestones' must hold {len(schedules) - 1} "
                             f"epochs (one fewer than the schedules), got {len(milestones)}")
        self.milestones = [int_arg(m, func, "milestones", 1, 2**62) for m in milestones]
        if any(a >= b for a, b in zip(self.milestones, self.milestones[1:])):
            raise ValueError(f"{func}(): argument 'milestones' must increase, got {milestones}")
        self.schedules = schedules
        super().__init__(optimizer)

    def lr_at(self, epoch):
        i = bisect.bisect_right(self.milestones, epoch)
        start = self.milestones[i - 1] if i else 0
        return self.schedules[i].lr_at(epoch - start)
