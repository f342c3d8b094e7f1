"""Magnitude pruning: gaba.magnitude_prune and the gradual-pruning schedule gaba.PolynomialDecay."""
import math
import numbers
import operator

import numpy as np

from ._args import int_arg
from ._ext import _gaba

_MAX_STEP = 2**63 - 1  # steps are training-step counters


def magnitude_prune(w, sparsity, *, structured=False, axis=0, pattern=None):
    """Zero the smallest-magnitude weights; returns ``(pruned, mask)``.

    Three modes:

    * unstructured (default): exactly ``k = round(sparsity * w.size)``
      weights (Python's round, half to even) with the smallest ``|w|`` are
      zeroed. Selection is O(n) (a radix select on the magnitudes), not a sort.
    * ``structured=True``: whole slices ``w[..., j, ...]`` along `axis` (for
      ``axis=0``: rows / output channels) are zeroed, the
      ``round(sparsity * w.shape[axis])`` slices of smallest L2 norm.
    * ``pattern=(N, M)``: in every run of M consecutive weights along the last
      axis, the N largest ``|w|`` are kept (``(2, 4)`` is the 2:4 pattern of
      sparse tensor cores). `sparsity` must then be None or ``1 - N/M``, and
      ``w.shape[-1]`` a multiple of M.

    Ties are deterministic: among equal magnitudes (or norms) the lower
    index is pruned first; -0.0 equals 0.0; NaN counts as larger than any
    number and Inf as larger than any finite value (NaN is never pruned
    before a number).

    Parameters
    ----------
    w : numpy.ndarray, float32, any shape
        Not modified. C-contiguous arrays are read in place; others are copied.
    sparsity : float in [0, 1], or None with `pattern`
        Fraction of weights (or slices) to zero.
    structured : bool
    axis : int
        The axis whose slices are ranked in structured mode.
    pattern : (int, int), optional
        (N, M) with 0 <= N <= M <= 256.

    Returns
    -------
    pruned : numpy.ndarray, float32, the shape of `w`
        `w` with pruned entries set to 0.0.
    mask : numpy.ndarray, bool, the shape of `w`
        True where the weight is kept (multiply by it to re-apply the
        pruning after an optimizer step). Unstructured, it has exactly k
        False entries (`pruned` may hold more zeros when `w` already had some).

    Raises
    ------
    TypeError
        If `w` is not a float32 numpy.ndarray.
    ValueError
        For a sparsity outside [0, 1], an axis out of range, a pattern that
        is not 0 <= N <= M <= 256, a last dimension that is not a multiple of
        M, or a sparsity that contradicts the pattern.

    Examples
    --------
    >>> import numpy as np, gaba
    >>> w = np.array([0.5, -0.1, 0.3, -0.7], np.float32)
    >>> pruned, mask = gaba.magnitude_prune(w, 0.5)
    >>> pruned, mask
    (array([ 0.5,  0. ,  0. , -0.7], dtype=float32), array([ True, False, False,  True]))
    >>> gaba.magnitude_prune(np.arange(1, 9, dtype=np.float32), None, pattern=(2, 4))[1]
    array([False, False,  True,  True, False, False,  True,  True])
    """
    if not isinstance(w, np.ndarray):
        raise TypeError("magnitude_prune(): argument 'w' must be a numpy.ndarray of float32, "
                        f"got {type(w).__name__}")
    if pattern is not None:
        if structured:
            raise ValueError("magnitude_prune(): pattern and structured=True exclude each other")
        try:
            keep_n, m = (operator.index(v) for v in pattern)
        except (TypeError, ValueError):
            raise ValueError(
                f"magnitude_prune(): pattern must be (N, M), got {pattern!r}") from None
        if not 0 <= keep_n <= m or not 1 <= m <= 256:
            raise ValueError(f"magnitude_prune(): pattern (N, M) needs 0 <= N <= M <= 256, "
                             f"got {pattern!r}")
        if sparsity is not None and abs(float(sparsity) - (m - keep_n) / m) > 1e-9:
            raise ValueError(f"magnitude_prune(): pattern {keep_n}:{m} means sparsity "
                             f"{(m - keep_n) / m}, got sparsity={sparsity}")
        if w.ndim == 0 or w.shape[-1] % m:
            raise ValueError(f"magnitude_prune(): pattern {keep_n}:{m} needs w.shape[-1] to be a "
                             f"multiple of {m}, got shape {w.shape}")
        return _gaba.prune_nm(w, keep_n, m)
    if sparsity is None:
        raise ValueError("magnitude_prune(): give sparsity (or pattern=(N, M))")
    sparsity = float(sparsity)
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"magnitude_prune(): sparsity must be in [0, 1], got {sparsity}")
    if structured:
        if w.ndim == 0:
            raise ValueError("magnitude_prune(): structured pruning needs at least 1-D weights")
        axis = operator.index(axis)
        if not -w.ndim <= axis < w.ndim:
            raise ValueError(f"magnitude_prune(): axis {axis} is out of range for shape {w.shape}")
        axis %= w.ndim
        d = w.shape[axis]
        outer = int(np.prod(w.shape[:axis], dtype=np.int64))
        inner = int(np.prod(w.shape[axis + 1:], dtype=np.int64))
        return _gaba.prune_structured(w, outer, d, inner, round(sparsity * d))
    return _gaba.prune_magnitude(w, round(sparsity * w.size))


class PolynomialDecay:
    """Gradual pruning schedule of Zhu & Gupta (2017), as TF-MOT's ``PolynomialDecay``.

    ``sparsity(step) = final + (initial - final) * (1 - p) ** power`` with
    ``p = clip((step - begin_step) / (end_step - begin_step), 0, 1)``: sparsity
    rises quickly at first and levels off at `final_sparsity` (power 3 in the
    paper). Calling the schedule gives ``(should_prune, sparsity)``, where
    `should_prune` is true when ``begin_step <= step <= end_step`` and
    ``(step - begin_step) % frequency == 0``, as in TF-MOT.

    Parameters
    ----------
    initial_sparsity, final_sparsity : float in [0, 1]
    begin_step, end_step : int
        Pruning ramps from `begin_step` to `end_step` (0 <= begin < end).
    power : float
        The exponent of the decay (3 in Zhu & Gupta).
    frequency : int >= 1
        Prune every `frequency` steps.

    Raises
    ------
    ValueError
        For sparsities outside [0, 1], steps not 0 <= begin < end <= 2**63 - 1,
        a power that is not finite and > 0, or a frequency below 1.
    TypeError
        For steps or a frequency that are not ints, or sparsities and power
        that are not real numbers.

    Examples
    --------
    >>> import gaba
    >>> schedule = gaba.PolynomialDecay(0.0, 0.8, begin_step=0, end_step=100, frequency=10)
    >>> [(prune, round(s, 4)) for prune, s in map(schedule, (0, 50, 100, 105))]
    [(True, 0.0), (True, 0.7), (True, 0.8), (False, 0.8)]
    """

    def __init__(self, initial_sparsity, final_sparsity, begin_step, end_step, power=3,
                 frequency=100):
        func = "PolynomialDecay"
        for name, value in (("initial_sparsity", initial_sparsity),
                            ("final_sparsity", final_sparsity)):
            if not isinstance(value, numbers.Real):
                raise TypeError(f"{func}(): {name} must be a float, got {type(value).__name__}")
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{func}(): {name} must be in [0, 1], got {value}")
        begin_step = int_arg(begin_step, func, "begin_step", 0, _MAX_STEP - 1)
        end_step = int_arg(end_step, func, "end_step", 0, _MAX_STEP)
        if end_step <= begin_step:
            raise ValueError(f"{func}(): need 0 <= begin_step < end_step, got "
                             f"begin_step={begin_step}, end_step={end_step}")
        if not isinstance(power, numbers.Real):
            raise TypeError(f"{func}(): power must be a float, got {type(power).__name__}")
        if not 0.0 < power < math.inf:
            raise ValueError(f"{func}(): power must be finite and > 0, got {power}")
        self.initial_sparsity = float(initial_sparsity)
        self.final_sparsity = float(final_sparsity)
        self.begin_step = begin_step
        self.end_step = end_step
        self.power = float(power)
        self.frequency = int_arg(frequency, func, "frequency", 1, _MAX_STEP)

    def sparsity(self, step):
        step = int_arg(step, "PolynomialDecay.sparsity", "step", -_MAX_STEP, _MAX_STEP)
        p = (step - self.begin_step) / (self.end_step - self.begin_step)
        p = min(1.0, max(0.0, p))
        return (self.final_sparsity
                + (self.initial_sparsity - self.final_sparsity) * (1.0 - p) ** self.power)

    def should_prune(self, step):
        step = int_arg(step, "PolynomialDecay.should_prune", "step", -_MAX_STEP, _MAX_STEP)
        return (self.begin_step <= step <= self.end_step
                and (step - self.begin_step) % self.frequency == 0)

    def __call__(self, step):
        return self.should_prune(step), self.sparsity(step)

    def __repr__(self):
        return (f"PolynomialDecay(initial_sparsity={self.initial_sparsity}, "
                f"final_sparsity={self.final_sparsity}, begin_step={self.begin_step}, "
                f"end_step={self.end_step}, power={self.power}, frequency={self.frequency})")
