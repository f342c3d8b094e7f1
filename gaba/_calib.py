"""How :meth:`gaba.zoo.Model.quantize` chooses each activation range from what
calibration recorded: its min/max and a histogram of its values (docs/int8.md,
"Calibration").

A histogram has ``BINS`` bins of one width ``w`` from a first edge ``e0`` (edges
``e_k = e0 + k w``); the C side (csrc/zoo/calibrate.c) doubles ``w`` by merging
bin pairs whenever a value falls outside, so it is built in one pass over any
number of batches. Every method returns a range ``[a, b]`` inside the observed
``[lo, hi]``; the int8 grid is then ``[min(a, 0), max(b, 0)]`` (0 exact) cut
into 255 steps of ``s = (max(b, 0) - min(a, 0)) / 255``.

* percentile: ``a`` and ``b`` are the ``100 - p`` and ``p`` percentiles, read off
  the histogram's cumulative counts, linear within a bin (both tails clipped).
* mse: the pair of bin edges minimising the expected squared error of the
  int8 values over the histogram (each bin at its centre ``x_k``): ``s^2 / 12``
  (uniform rounding error) per value inside ``[a, b]``, ``(x_k - a)^2`` or
  ``(x_k - b)^2`` per value clipped.
* entropy: the pair of bin edges minimising KL(P || Q), as TensorRT's entropy
  calibrator: P is the histogram inside ``[a, b]`` with the clipped counts added
  to its first and last bin; Q the histogram inside (without them) quantized,
  each bin going to its nearest of the grid's 256 levels, every level's count
  spread evenly over its bins where P is nonzero; both smoothed as TensorRT
  does (an empty bin gets 1e-4 of a count, taken from the others). Candidates hold at least 255
  bins (TensorRT's 128 of 2048 on |x|, here on both sides). The bin holding 0
  counts as much as its neighbour: a ReLU's many exact zeros are exact in int8,
  but spread over their level they would pull every range in (NVIDIA's
  pytorch-quantization does the same).

The mse and entropy searches are coordinate descents over the bin edges: the
best upper edge for the lower one, then the best lower edge for that upper
one, until neither moves; each 1-D step tries every edge (mse) or every k-th
edge, then every edge near the best (entropy, whose cost is a loop).
"""
import numpy as np

METHODS = ("minmax", "percentile", "mse", "entropy")
BINS = 4096  # per range; even (bin pairs merge)
LEVELS = 256  # int8 codes
_COARSE = 64  # entropy: candidate edges per side tried before the fine step


def new_state(n_ranges):
    """The histogram state of n_ranges ranges for _gaba.zoo_calibrate: edges (first
    edge, bin width; width 0: empty) and counts. np.zeros leaves the rows of ranges
    never reached unwritten (no memory taken)."""
    return np.zeros((n_ranges, 2)), np.zeros((n_ranges, BINS), np.uint64)


def check_method(method, percentile, func):
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"{func}: method must be one of {', '.join(map(repr, METHODS))}, "
                         f"got {method!r}")
    if isinstance(percentile, bool) or not isinstance(percentile, (int, float, np.floating)):
        raise TypeError(f"{func}: percentile must be a number, got {type(percentile).__name__}")
    if not 50.0 < percentile <= 100.0:
        raise ValueError(f"{func}: percentile must be in (50, 100], got {percentile!r}")


def _bins(counts, first, width):
    """(counts float64, edges, centres) of one histogram."""
    c = counts.astype(np.float64)
    edges = first + width * np.arange(c.size + 1)
    return c, edges, edges[:-1] + width / 2


def _cdf_value(c, edges, q):
    """The value below which a fraction q of the histogram's counts lie, linear in a bin."""
    cum = np.concatenate([[0.0], np.cumsum(c)])
    target = q * cum[-1]
    k = int(np.clip(np.searchsorted(cum, target, side="right") - 1, 0, c.size - 1))
    frac = (target - cum[k]) / c[k] if c[k] > 0 else 0.0
    return edges[k] + frac * (edges[k + 1] - edges[k])


def percentile_range(c, edges, lo, hi, p):
    a = _cdf_value(c, edges, (100.0 - p) / 100.0)
    b = _cdf_value(c, edges, p / 100.0)
    return max(a, lo), min(b, hi)


def _candidates(edges, lo, hi):
    """Candidate edge indices of the lower clip (edges <= 0 from the bin holding lo) and
    of the upper clip (edges >= 0 up to the edge after hi), and the clip values, which
    never go beyond [lo, hi]."""
    n = edges.size - 1
    i0 = int(np.clip(np.searchsorted(edges, lo, side="right") - 1, 0, n - 1))
    j1 = int(np.clip(np.searchsorted(edges, hi, side="right"), i0 + 1, n))
    ii = np.arange(i0, j1)
    jj = np.arange(i0 + 1, j1 + 1)
    ii = ii[(edges[ii] <= 0) | (ii == i0)]
    jj = jj[(edges[jj] >= 0) | (jj == j1)]
    return ii, jj, np.clip(edges, lo, hi)


def _grid(a, b):
    lo, hi = np.minimum(a, 0.0), np.maximum(b, 0.0)
    return lo, (hi - lo) / (LEVELS - 1)


def mse_cost(c, centres, clip, i, j):
    """Expected squared error of each candidate pair (i, j) of edge indices (arrays
    broadcast against each other)."""
    c0 = np.concatenate([[0.0], np.cumsum(c)])
    c1 = np.concatenate([[0.0], np.cumsum(c * centres)])
    c2 = np.concatenate([[0.0], np.cumsum(c * centres * centres)])
    a, b = clip[i], clip[j]
    left = c2[i] - 2 * a * c1[i] + a * a * c0[i]
    right = (c2[-1] - c2[j]) - 2 * b * (c1[-1] - c1[j]) + b * b * (c0[-1] - c0[j])
    _, s = _grid(a, b)
    return np.maximum(left, 0) + np.maximum(right, 0) + (c0[j] - c0[i]) * s * s / 12


def kl_cost(c, centres, clip, i, j):
    """KL(P || Q) of the candidate pair (i, j) of edge indices (see the module's text);
    inf for one with fewer than LEVELS - 1 bins."""
    if j - i < LEVELS - 1:
        return np.inf
    inside = c[i:j]
    p = inside.copy()
    p[0] += c[:i].sum()
    p[-1] += c[j:].sum()
    z, s = _grid(clip[i], clip[j])
    level = np.clip(np.rint((centres[i:j] - z) / s), 0, LEVELS - 1).astype(np.intp)
    nonzero = p > 0
    total = np.bincount(level, weights=inside, minlength=LEVELS)
    spread = np.bincount(level, weights=nonzero, minlength=LEVELS)
    q = np.where(nonzero, total[level] / np.maximum(spread[level], 1), 0.0)
    p, q = _smooth(p), _smooth(q)
    return float(np.sum(p * np.log(p / q)))


def _smooth(h, eps=1e-4):
    """h normalized, each empty bin given eps taken evenly from the others (TensorRT's
    smoothing: a clipped count with no counterpart in Q costs much, but not inf)."""
    zero = h == 0
    n_zero = int(zero.sum())
    h = np.where(zero, eps, h - eps * n_zero / max(h.size - n_zero, 1))
    return h / h.sum()


def _best(cost, cands, coarse):
    """The candidate of the sorted array `cands` with the least cost: every one, or
    (coarse) every k-th, then every one within k of the best."""
    k = max(1, cands.size // coarse) if coarse else 1
    at = np.unique(np.r_[np.arange(0, cands.size, k), cands.size - 1])  # both ends
    b = int(at[np.argmin(cost(cands[at]))])
    if k > 1:
        near = cands[max(0, b - k):b + k + 1]
        return near[int(np.argmin(cost(near)))]
    return cands[b]


def descend(cost, ii, jj, coarse):
    """Coordinate descent from the widest pair (ii[0], jj[-1]) on cost(i, j)."""
    i, j = ii[0], jj[-1]
    for _ in range(16):
        j2 = _best(lambda js: cost(i, js), jj, coarse)
        i2 = _best(lambda is_: cost(is_, j2), ii, coarse)
        if (i2, j2) == (i, j):
            break
        i, j = i2, j2
    return i, j


def choose(method, counts, first, width, lo, hi, p):
    """The range [a, b] `method` picks for one histogram of values in [lo, hi]."""
    if not counts.any():  # no finite value seen
        return lo, hi
    c, edges, centres = _bins(counts, first, width)
    if method == "percentile":
        return percentile_range(c, edges, lo, hi, p)
    ii, jj, clip = _candidates(edges, lo, hi)
    if method == "mse":
        i, j = descend(lambda i, j: mse_cost(c, centres, clip, i, j), ii, jj, 0)
    elif jj[-1] - ii[0] < LEVELS - 1:
        return lo, hi  # the values span too few bins to weigh a clip
    else:
        z = int(np.searchsorted(edges, 0.0, side="right")) - 1
        if 0 <= z < c.size:
            c[z] = c[z + 1] if z + 1 < c.size else c[z - 1]
        def kl(i, j):
            return np.array([kl_cost(c, centres, clip, a, b)
                             for a, b in np.broadcast(np.asarray(i), np.asarray(j))])
        i, j = descend(kl, ii, jj, _COARSE)
    return float(clip[i]), float(clip[j])


def clipped(counts, first, width, lo, hi, a, b):
    """The fraction of the histogram's counts (values in [lo, hi]) outside [a, b], linear
    within a bin."""
    c, edges, _ = _bins(counts, first, width)
    total = c.sum()
    if total == 0:
        return 0.0

    def below(x):
        k = int(np.clip(np.searchsorted(edges, x, side="right") - 1, 0, c.size - 1))
        return c[:k].sum() + c[k] * np.clip((x - edges[k]) / (edges[k + 1] - edges[k]), 0, 1)

    out = (below(a) if a > lo else 0.0) + (total - below(b) if b < hi else 0.0)
    return float(out / total)
