"""Training losses with their gradients: ``gaba.losses``.

Each loss is the mean PyTorch's ``torch.nn.functional`` function takes by
default, computed in C (csrc/train/loss.c) with float64 sums. With
``grad=True`` it also returns the gradient with respect to the prediction,
already divided by the mean's count: the array backward starts from.

>>> import numpy as np, gaba
>>> logits = np.array([[2.0, 0.5, -1.0]], np.float32)
>>> round(gaba.losses.cross_entropy(logits, [0]), 6)
0.241311
>>> loss, g = gaba.losses.mse(np.ones(4, np.float32), np.zeros(4, np.float32), grad=True)
>>> loss, g
(1.0, array([0.5, 0.5, 0.5, 0.5], dtype=float32))
"""
import math

import numpy as np

from ._ext import _gaba

__all__ = ["cross_entropy", "binary_cross_entropy", "mse", "l1", "huber", "LOSSES"]

# gaba_loss codes of csrc/include/gaba/train.h.
_CROSS_ENTROPY, _BCE, _MSE, _L1, _HUBER = range(5)


def _result(loss, grad, want_grad):
    return (loss, grad) if want_grad else loss


def _real(value, func, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{func}(): argument '{name}' must be a real number, "
                        f"got {type(value).__name__}")
    return float(value)


def cross_entropy(logits, labels, *, label_smoothing=0.0, grad=False):
    """Mean cross-entropy of logits against integer class labels.

    As ``torch.nn.functional.cross_entropy(logits, labels,
    label_smoothing=eps)``: with ``lse_i = log(sum_j exp(logits[i, j]))``,
    ``loss = mean_i [lse_i - (1 - eps) * logits[i, y_i] - eps / C * sum_j
    logits[i, j]]``.

    Parameters
    ----------
    logits : numpy.ndarray, float32, shape (N, C)
        Raw (pre-softmax) scores; C >= 1.
    labels : array_like of int, shape (N,)
        Class indices in ``[0, C)``; int64, int32 or any integer dtype.
    label_smoothing : float in [0, 1]
        Share of the target spread uniformly over the C classes.
    grad : bool
        Also return d loss / d logits: ``(softmax(logits) - (1 - eps) *
        onehot(labels) - eps / C) / N``.

    Returns
    -------
    loss : float
        NaN for an empty batch.
    grad : numpy.ndarray, float32, shape (N, C)
        Only with ``grad=True``: ``(loss, grad)``.

    Raises
    ------
    TypeError
        Logits that are not a float32 array, labels that are not integers.
    ValueError
        Logits that are not 2-D or have no class, labels of the wrong length
        or outside ``[0, C)``, label_smoothing outside [0, 1].

    Notes
    -----
    The log-sum-exp subtracts each row's maximum, so logits of +-1e4 give
    exact results; a NaN logit makes the loss NaN.
    """
    func = "cross_entropy"
    eps = _real(label_smoothing, func, "label_smoothing")
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"{func}(): argument 'label_smoothing' must be in [0, 1], got {eps}")
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{func}(): argument 'labels' must hold integers, got dtype {labels.dtype}")
    if labels.dtype == np.uint64 and labels.size and labels.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{func}(): labels must be in [0, C), got {labels.max()}")
    loss, g = _gaba.loss(_CROSS_ENTROPY, logits, labels.astype(np.int64, copy=False), eps,
                         bool(grad))
    return _result(loss, g, grad)


def binary_cross_entropy(logits, targets, *, grad=False):
    """Mean binary cross-entropy of logits against target probabilities.

    As ``torch.nn.functional.binary_cross_entropy_with_logits(logits,
    targets)``: ``mean(max(x, 0) - x * t + log(1 + exp(-|x|)))``, stable for
    any logit.

    Parameters
    ----------
    logits : numpy.ndarray, float32, any shape
    targets : numpy.ndarray, float32, the shape of `logits`
        Probabilities, usually 0 or 1 (soft targets are accepted as is).
    grad : bool
        Also return d loss / d logits: ``(sigmoid(logits) - targets) / size``.

    Returns
    -------
    loss : float
        NaN for empty arrays.
    grad : numpy.ndarray, float32, the shape of `logits`
        Only with ``grad=True``: ``(loss, grad)``.

    Raises
    ------
    TypeError
        Logits or targets that are not float32 numpy arrays.
    ValueError
        Targets of another shape than the logits.
    """
    loss, g = _gaba.loss(_BCE, logits, targets, 0.0, bool(grad))
    return _result(loss, g, grad)


def mse(pred, target, *, grad=False):
    """Mean squared error, ``mean((pred - target)**2)``, as ``F.mse_loss``.

    Parameters
    ----------
    pred, target : numpy.ndarray, float32, one shape
    grad : bool
        Also return d loss / d pred: ``2 * (pred - target) / size``.

    Returns
    -------
    float, or ``(loss, grad)`` with ``grad=True``
        The mean (NaN for empty arrays) and a float32 gradient of pred's shape.

    Raises
    ------
    TypeError
        Arguments that are not float32 numpy arrays.
    ValueError
        A target of another shape than pred (no broadcasting).
    """
    loss, g = _gaba.loss(_MSE, pred, target, 0.0, bool(grad))
    return _result(loss, g, grad)


def l1(pred, target, *, grad=False):
    """Mean absolute error, ``mean(|pred - target|)``, as ``F.l1_loss``.

    Parameters
    ----------
    pred, target : numpy.ndarray, float32, one shape
    grad : bool
        Also return d loss / d pred: ``sign(pred - target) / size`` (0 where
        they are equal, as PyTorch).

    Returns
    -------
    float, or ``(loss, grad)`` with ``grad=True``
        Accumulated in float64; NaN for empty arrays.

    Raises
    ------
    TypeError
        `pred` or `target` not a float32 numpy.ndarray.
    ValueError
        `pred` and `target` of different shapes.
    """
    loss, g = _gaba.loss(_L1, pred, target, 0.0, bool(grad))
    return _result(loss, g, grad)


def huber(pred, target, *, delta=1.0, grad=False):
    """Mean Huber loss, as ``F.huber_loss(pred, target, delta=delta)``.

    With ``d = |pred - target|``: ``d**2 / 2`` where ``d < delta``, else
    ``delta * (d - delta / 2)``: quadratic near the target, linear beyond.

    Parameters
    ----------
    pred, target : numpy.ndarray, float32, one shape
    delta : float > 0
    grad : bool
        Also return d loss / d pred: ``clip(pred - target, -delta, delta) / size``.

    Returns
    -------
    loss : float, or ``(loss, grad)`` with ``grad=True``
        NaN for empty arrays.

    Raises
    ------
    TypeError
        Arguments that are not float32 arrays, a delta that is not a number.
    ValueError
        Arrays of different shapes, a delta that is not finite and > 0.
    """
    d = _real(delta, "huber", "delta")
    if not (d > 0.0 and math.isfinite(d)):
        raise ValueError(f"huber(): argument 'delta' must be finite and > 0, got {delta}")
    loss, g = _gaba.loss(_HUBER, pred, target, d, bool(grad))
    return _result(loss, g, grad)


#: The losses by name, for a trainer that takes ``loss="cross_entropy"``.
LOSSES = {"cross_entropy": cross_entropy, "binary_cross_entropy": binary_cross_entropy,
          "mse": mse, "l1": l1, "huber": huber}
