"""Reference magnitude pruning: NumPy stable sorts, written from the documented rules."""
import numpy as np


def _order_key(values):
    """Magnitudes with NaN mapped above +Inf, for a stable ascending argsort."""
    a = np.abs(np.asarray(values, np.float64))
    return np.where(np.isnan(a), np.inf, a), np.isnan(a)


def prune_order(values):
    """Indices in pruning order: ascending magnitude, NaN last, lower index first on ties."""
    mag, nan = _order_key(values)
    # lexsort: last key is primary. NaN after Inf, then magnitude, then index (stable).
    return np.lexsort((np.arange(mag.size), mag, nan))


def magnitude_prune(w, sparsity):
    w = np.asarray(w)
    k = round(sparsity * w.size)
    mask = np.ones(w.size, bool)
    mask[prune_order(w.ravel())[:k]] = False
    mask = mask.reshape(w.shape)
    return np.where(mask, w, np.float32(0)).astype(w.dtype), mask


def structured_prune(w, sparsity, axis=0):
    w = np.asarray(w)
    moved = np.moveaxis(w, axis, 0).astype(np.float64)
    norms = np.sqrt((moved.reshape(moved.shape[0], -1) ** 2).sum(axis=1))
    k = round(sparsity * w.shape[axis])
    keep = np.ones(w.shape[axis], bool)
    keep[prune_order(norms)[:k]] = False
    shape = [1] * w.ndim
    shape[axis] = -1
    mask = np.broadcast_to(keep.reshape(shape), w.shape).copy()
    return np.where(mask, w, np.float32(0)).astype(w.dtype), mask


def nm_prune(w, n, m):
    w = np.asarray(w)
    groups = w.reshape(-1, m)
    mask = np.ones(groups.shape, bool)
    for g in range(groups.shape[0]):
        mask[g, prune_order(groups[g])[:m - n]] = False
    mask = mask.reshape(w.shape)
    return np.where(mask, w, np.float32(0)).astype(w.dtype), mask


def polynomial_decay(step, initial, final, begin, end, power=3):
    """Zhu & Gupta (2017), eq. 1: s_t = s_f + (s_i - s_f) (1 - (t - t0) / (n dt))^power."""
    t = min(max(step, begin), end)
    return final + (initial - final) * (1 - (t - begin) / (end - begin)) ** power
