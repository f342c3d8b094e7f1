"""Low-rank factorization: gaba.low_rank_factorization, gaba.singular_values,
gaba.low_rank_conv2d."""
import operator
import warnings

import numpy as np

from ._ext import _gaba

_METHODS = ("auto", "exact", "randomized")

#: Upper bounds of the randomized method's `oversample` and `n_iter`: more
#: test vectors than the matrix has columns are never used, and power
#: iterations beyond a few tens only cost time (scikit-learn uses 4 to 7).
MAX_OVERSAMPLE = 10_000
MAX_N_ITER = 100


def singular_values(w):
    """Singular values of a float32 matrix, in descending order.

    Parameters
    ----------
    w : numpy.ndarray, float32, shape (M, N)
        Any strides. NaN or Inf raise ArithmeticError.

    Returns
    -------
    numpy.ndarray, float32, shape (min(M, N),)
        Computed by LAPACK ``sgesdd`` (``sgesvd`` if it does not converge).

    Raises
    ------
    TypeError
        If `w` is not a float32 numpy.ndarray.
    ValueError
        If `w` is not 2-D.
    ArithmeticError
        If `w` holds NaN or Inf, or LAPACK does not converge.

    Examples
    --------
    >>> import numpy as np, gaba
    >>> gaba.singular_values(np.diag([3.0, 4.0]).astype(np.float32))
    array([4., 3.], dtype=float32)
    """
    return _gaba.singular_values(w)


def rank_for_energy(sigma, energy):
    """Smallest r with ``sum(sigma[:r]**2) >= energy * sum(sigma**2)`` (float64 sums).

    Energy is the share of the squared Frobenius norm, i.e. of sigma**2, not
    of sigma. ``energy=1`` keeps every non-zero singular value.
    """
    try:
        energy = float(energy)
    except OverflowError:  # an int beyond float range: outside (0, 1] as well
        energy = float("inf")
    if not 0.0 < energy <= 1.0:
        raise ValueError(f"low_rank_factorization(): energy must be in (0, 1], got {energy}")
    sq = np.asarray(sigma, np.float64) ** 2
    total = sq.sum()
    if total == 0.0:
        return 0
    cumulative = np.cumsum(sq)
    # A relative slack of a few float64 ulps, so energy=1 is not missed by rounding.
    r = int(np.searchsorted(cumulative, energy * total * (1.0 - 4e-16), side="left")) + 1
    return min(r, sq.size)


def _as_matrix(w):
    if not isinstance(w, np.ndarray):
        raise TypeError("low_rank_factorization(): argument 'w' must be a numpy.ndarray of "
                        f"float32, got {type(w).__name__}")
    if w.ndim == 4:  # conv weight (out, in, kh, kw) -> (out, in*kh*kw)
        return w.reshape(w.shape[0], -1)
    return w


def _int_in(value, name, lo, hi):
    """`value` as an int in lo..hi: TypeError for a non-integer, ValueError naming `name` else."""
    value = operator.index(value)
    if not lo <= value <= hi:
        raise ValueError(f"low_rank_factorization(): argument '{name}' must be in {lo}..{hi}, "
                         f"got {value}")
    return value


def low_rank_factorization(w, rank=None, *, energy=None, method="auto", oversample=10,
                           n_iter="auto", seed=0, normalizer="lu"):
    """Best rank-r factorization ``w ~ u @ v`` by truncated SVD, sqrt(sigma) in both factors.

    With ``w = U diag(sigma) Vt``, returns ``u = U[:, :r] * sqrt(sigma[:r])`` and
    ``v = sqrt(sigma[:r])[:, None] * Vt[:r]``, so ``u @ v`` is the best rank-r
    approximation of `w` (Eckart-Young: Frobenius error
    ``sqrt(sum(sigma[r:]**2))``) and both factors have the same scale. Signs
    are deterministic: the entry of largest magnitude in each column of `u`
    is positive.

    Parameters
    ----------
    w : numpy.ndarray, float32, shape (M, N) or (out, in, kh, kw)
        A 4-D conv weight is factorized as ``w.reshape(out, in*kh*kw)``; see
        :func:`low_rank_conv2d` for the two conv layers. Any strides.
    rank : int, optional
        Target rank r. Values above ``min(M, N)`` are clamped to it (then
        ``u @ v`` reproduces `w`); 0 gives empty factors. Give `rank` or
        `energy`.
    energy : float in (0, 1], optional
        Pick the smallest r whose singular values keep this share of
        ``sum(sigma**2)`` (the squared Frobenius norm; sigma squared, not
        sigma). Computes the singular values first, then factorizes exactly.
    method : {"auto", "exact", "randomized"}
        ``"exact"``: LAPACK ``sgesdd`` (``sgesvd`` if it does not converge).
        ``"randomized"``: Halko-Martinsson-Tropp range finder with
        ``rank + oversample`` Gaussian test vectors and `n_iter` power
        iterations on gaba's GEMM, then an exact SVD of the small projection.
        ``"auto"``: randomized when ``min(M, N) >= 256`` and
        ``rank + oversample <= min(M, N) // 4``, else exact.
    oversample : int in [0, 10000]
        Extra test vectors of the randomized method (HMT's p; 10 is their
        recommendation).
    n_iter : int in [0, 100], or "auto"
        Power iterations of the randomized method; "auto" is 7 when
        ``rank < 0.1 * min(M, N)`` and 4 otherwise (scikit-learn's rule).
    seed : int in [0, 2**63 - 1]
        Seed of the Gaussian test matrix (the result is reproducible).
    normalizer : {"lu", "qr", "none"}
        Renormalisation between power iterations (LU as scikit-learn; QR is
        the most stable, "none" loses the small components in float32).

    Returns
    -------
    u : numpy.ndarray, float32, shape (M, r)
    v : numpy.ndarray, float32, shape (r, N)

    Warns
    -----
    UserWarning
        When ``r >= M*N / (M + N)``: the two factors hold at least as many
        parameters as `w`, so nothing is saved.

    Raises
    ------
    TypeError
        If `w` is not a float32 numpy.ndarray, or an integer argument is not an int.
    ValueError
        For an unknown option, or an integer argument outside its range.
    ArithmeticError
        If `w` holds NaN or Inf, or LAPACK does not converge.
    KeyboardInterrupt
        On Ctrl-C during the randomized method, within a block of its work
        (the exact method is one LAPACK call: Ctrl-C takes effect after it).

    Examples
    --------
    >>> import numpy as np, gaba
    >>> w = np.outer([1.0, 2.0], [3.0, 4.0, 5.0]).astype(np.float32)
    >>> u, v = gaba.low_rank_factorization(w, 1)
    >>> u.shape, v.shape, bool(np.allclose(u @ v, w, atol=1e-5))
    ((2, 1), (1, 3), True)
    """
    if method not in _METHODS:
        raise ValueError(f"low_rank_factorization(): method must be one of {_METHODS}, "
                         f"got {method!r}")
    w2 = _as_matrix(w)
    if w2.ndim != 2:
        raise ValueError("low_rank_factorization(): argument 'w' must be 2-D or a 4-D conv "
                         f"weight, got {w.ndim}-D shape {w.shape}")
    m, n = w2.shape
    k = min(m, n)
    if (rank is None) == (energy is None):
        raise ValueError("low_rank_factorization(): give exactly one of rank and energy")
    oversample = _int_in(oversample, "oversample", 0, MAX_OVERSAMPLE)
    if n_iter != "auto":
        n_iter = _int_in(n_iter, "n_iter", 0, MAX_N_ITER)
    seed = _int_in(seed, "seed", 0, 2**63 - 1)
    if energy is not None:
        if method == "randomized":
            raise ValueError("low_rank_factorization(): energy needs every singular value; "
                             "use method='exact' or 'auto'")
        rank = rank_for_energy(singular_values(w2), energy)
        method = "exact"
    rank = operator.index(rank)
    if rank < 0:
        raise ValueError(f"low_rank_factorization(): rank must be >= 0, got {rank}")
    rank = min(rank, k)
    if n_iter == "auto":
        n_iter = 7 if rank < 0.1 * k else 4
    if method == "auto":
        method = "randomized" if k >= 256 and rank + oversample <= k // 4 else "exact"
    if rank > 0 and rank * (m + n) >= m * n:
        warnings.warn(f"low_rank_factorization(): rank {rank} >= M*N/(M+N) = "
                      f"{m * n / (m + n):.1f} for shape ({m}, {n}): the factors are not "
                      "smaller than the matrix", UserWarning, stacklevel=2)
    u, v, _ = _gaba.low_rank_factorization(w2, rank, method, oversample, n_iter, normalizer,
                                           seed)
    return u, v


def low_rank_conv2d(weight, rank=None, **kwargs):
    """Split a conv weight into two convs: a kh x kw conv to `rank` channels, then a 1x1 conv.

    The weight (out, in, kh, kw) is factorized as the matrix
    ``weight.reshape(out, in*kh*kw) ~ u @ v`` (:func:`low_rank_factorization`,
    same keywords). Then ``first = v.reshape(r, in, kh, kw)`` is a conv with
    the original kernel size, stride, padding and dilation and r output
    channels (no bias), and ``second = u.reshape(out, r, 1, 1)`` is a 1x1
    conv that takes the original bias. ``conv(x, second) o conv(x, first)``
    equals the convolution with the rank-r weight ``(u @ v).reshape(weight.shape)``.
    Grouped convs are not covered (factorize each group's slice).

    Parameters
    ----------
    weight : numpy.ndarray, float32, shape (out, in, kh, kw)
    rank : int, optional
    **kwargs
        `energy`, `method`, `oversample`, `n_iter`, `seed`, `normalizer`, as
        for :func:`low_rank_factorization`.

    Raises
    ------
    ValueError
        If `weight` is not 4-D, or for the arguments
        :func:`low_rank_factorization` rejects.
    ArithmeticError
        If `weight` holds NaN or Inf.

    Returns
    -------
    first : numpy.ndarray, float32, shape (r, in, kh, kw)
    second : numpy.ndarray, float32, shape (out, r, 1, 1)

    Examples
    --------
    >>> import numpy as np, gaba
    >>> w = np.random.default_rng(0).standard_normal((8, 4, 3, 3)).astype(np.float32)
    >>> first, second = gaba.low_rank_conv2d(w, 2)
    >>> first.shape, second.shape
    ((2, 4, 3, 3), (8, 2, 1, 1))
    """
    if not isinstance(weight, np.ndarray) or weight.ndim != 4:
        raise ValueError("low_rank_conv2d(): weight must be a 4-D numpy.ndarray "
                         "(out, in, kh, kw)")
    out_ch, in_ch, kh, kw = weight.shape
    u, v = low_rank_factorization(weight, rank, **kwargs)
    r = u.shape[1]
    return v.reshape(r, in_ch, kh, kw), u.reshape(out_ch, r, 1, 1)
