"""Matrix multiplication: gaba.gemm."""
from ._ext import _gaba


def gemm(a, b, out=None, *, alpha=1.0, beta=0.0, bias=None, activation=None, backend="auto"):
    """Float32 matrix product ``out = act(alpha * a @ b + beta * out + bias)``.

    Parameters
    ----------
    a : numpy.ndarray, float32, shape (M, K)
    b : numpy.ndarray, float32, shape (K, N)
        C-ordered, F-ordered and strided views (negative steps included) are
        read in place; only misaligned or byte-swapped arrays are copied.
    out : numpy.ndarray, float32, shape (M, N), optional
        Written in place and returned. It must be writeable, aligned, in
        native byte order and share no memory with `a`, `b` or `bias`.
        Needed when ``beta != 0``; when ``beta == 0`` its old contents are
        never read (NaN there does not leak into the result).
    alpha, beta : float
        Scale factors, as in BLAS. With ``alpha == 0`` or ``K == 0``, `a` and
        `b` are not read.
    bias : numpy.ndarray, float32, shape (N,), optional
        Added to every row after scaling.
    activation : {None, "none", "relu", "relu6"}
        Applied last. NaN passes through, as in PyTorch.
    backend : {"auto", "ref", "openblas"}
        ``"openblas"`` calls ``cblas_sgemm``; ``"ref"`` runs the portable
        reference loops (slow: the test oracle); ``"auto"`` picks for you.

    Returns
    -------
    numpy.ndarray
        `out`, or a new C-ordered float32 array.

    Raises
    ------
    TypeError
        If an array argument is not a numpy.ndarray of float32.
    ValueError
        For wrong dimensions, mismatched shapes, a read-only or overlapping
        `out`, ``beta != 0`` without `out`, or an unknown option.

    Examples
    --------
    >>> import numpy as np, gaba
    >>> a = np.arange(6, dtype=np.float32).reshape(2, 3)
    >>> gaba.gemm(a, a.T)
    array([[ 5., 14.],
           [14., 50.]], dtype=float32)
    """
    return _gaba.gemm(a, b, out, alpha, beta, bias, activation, backend)
