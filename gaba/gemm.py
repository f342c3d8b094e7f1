"""Matrix multiplication: gaba.gemm."""
from ._ext import _gaba


def gemm(a, b, out=None, *, alpha=1.0, beta=0.0, trans_a=False, trans_b=False, bias=None,
         activation=None, backend="auto"):
    """Float32 matrix product ``out = act(alpha * op(a) @ op(b) + beta * out + bias)``.

    ``op(x)`` is ``x`` or, with ``trans_x=True``, its transpose (of the last
    two axes). A transpose is a swap of strides: nothing is copied.

    Parameters
    ----------
    a : numpy.ndarray, float32, shape (M, K) or (batch, M, K)
        With ``trans_a``: shape (K, M) or (batch, K, M).
    b : numpy.ndarray, float32, shape (K, N) or (batch, K, N)
        With ``trans_b``: shape (N, K) or (batch, N, K). C-ordered,
        F-ordered and strided views (negative steps included) are read in
        place; only misaligned or byte-swapped arrays are copied. A batch
        axis broadcasts as in ``numpy.matmul``: a 2-D operand, or a batch
        of size 1, is used for every product of the other's batch.
    out : numpy.ndarray, float32, shape (M, N) or (batch, M, N), optional
        Written in place and returned. It must be writeable, aligned, in
        native byte order and share no memory with `a`, `b` or `bias`.
        Needed when ``beta != 0``; when ``beta == 0`` its old contents are
        never read (NaN there does not leak into the result).
    trans_a, trans_b : bool
        Use the transpose of `a` / `b` (BLAS's ``transa``/``transb``).
    alpha, beta : float
        Scale factors, as in BLAS. With ``alpha == 0`` or ``K == 0``, `a` and
        `b` are not read.
    bias : numpy.ndarray, float32, shape (N,), optional
        Added to every row after scaling.
    activation : {None, "none", "relu", "relu6"}
        Applied last. NaN passes through, as in PyTorch.
    backend : {"auto", "native", "openblas", "ref"}
        ``"native"`` runs gaba's own blocked SIMD kernels (AVX-512, AVX2 or
        portable, per ``gaba.info()["isa"]``); ``"openblas"`` calls
        ``cblas_sgemm``; ``"ref"`` runs the portable reference loops (slow:
        the test oracle); ``"auto"`` picks the faster of native and OpenBLAS
        for the shape and thread count (see :func:`gaba.tune`). All give the
        same results within float32 rounding.

    Returns
    -------
    numpy.ndarray
        `out`, or a new C-ordered float32 array.

    Raises
    ------
    TypeError
        If an array argument is not a numpy.ndarray of float32.
    ValueError
        For wrong dimensions, mismatched shapes or batch sizes, a read-only or overlapping
        `out`, ``beta != 0`` without `out`, or an unknown option.

    Examples
    --------
    >>> import numpy as np, gaba
    >>> a = np.arange(6, dtype=np.float32).reshape(2, 3)
    >>> gaba.gemm(a, a.T)
    array([[ 5., 14.],
           [14., 50.]], dtype=float32)
    """
    return _gaba.gemm(a, b, out, alpha, beta, trans_a, trans_b, bias, activation, backend)


def peak_gflops(threads=1, seconds=0.25):
    """Measure this machine's float32 FMA peak in GFLOP/s.

    Runs a short kernel of independent FMA chains (no memory traffic) at the
    active ISA level on `threads` threads at once and returns the best of 5
    repeats: the ceiling that GEMM throughput is compared with ("% of peak").

    Parameters
    ----------
    threads : int
        Threads running the kernel simultaneously (at most the pool's size
        run in parallel; total flops are divided by wall time).
    seconds : float
        Rough time budget of the measurement.

    Returns
    -------
    float
        GFLOP/s (one FMA = 2 flops).

    Examples
    --------
    >>> import gaba
    >>> gaba.peak_gflops() > 0
    True
    """
    return _gaba.peak_gflops(threads, seconds)
