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
    KeyboardInterrupt
        On Ctrl-C during a long product (main thread), within a block of its work;
        `out` is then partly written.

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
    active ISA level on `threads` threads at once, in repeats of about 2 ms,
    and returns the best repeat: the ceiling that GEMM throughput is compared
    with ("% of peak").

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

    Raises
    ------
    TypeError
        If `threads` is not an int.
    ValueError
        If `threads` is outside 1..256 or `seconds` is not > 0.

    Examples
    --------
    >>> import gaba
    >>> gaba.peak_gflops() > 0
    True
    """
    if not isinstance(threads, int) or isinstance(threads, bool):
        raise TypeError("peak_gflops(): argument 'threads' must be an int, "
                        f"got {type(threads).__name__}")
    if not seconds > 0:
        raise ValueError(f"peak_gflops(): argument 'seconds' must be > 0, got {seconds!r}")
    return _gaba.peak_gflops(threads, seconds)


def gemm_s8(a, b, *, out=None):
    """Int8 matrix product ``out = a @ b`` in int32, exactly.

    Parameters
    ----------
    a : numpy.ndarray, uint8 or int8, shape (M, K)
        Quantized activations (uint8 with a zero point, or int8).
    b : numpy.ndarray, int8, shape (K, N)
        Quantized weights. Any strides; transposes are free.
    out : numpy.ndarray, int32, shape (M, N), optional
        Written (never read) and returned.

    Returns
    -------
    numpy.ndarray
        int32 ``a @ b``, equal to the integer result whenever it fits in
        int32 (always for K <= 66,000; beyond, sums wrap modulo 2**32).
        Zero points and scales are the caller's: fold them into the int32
        bias and use :func:`requantize`.

    Raises
    ------
    TypeError
        For other dtypes or non-arrays.
    ValueError
        For wrong dimensions, mismatched shapes or a bad `out`.

    Examples
    --------
    >>> import numpy as np, gaba
    >>> a = np.array([[255, 1]], np.uint8); b = np.array([[-128], [127]], np.int8)
    >>> gaba.gemm_s8(a, b)
    array([[-32513]], dtype=int32)
    """
    return _gaba.gemm_s8(a, b, out)


def quantize_multiplier(real):
    """Split real multipliers into TFLite's Q31 integer and power-of-two shift.

    ``real ~= multiplier * 2**(shift - 31)`` with ``multiplier`` in
    ``[2**30, 2**31)`` (or 0), exactly as TFLite's ``QuantizeMultiplier``
    (a positive shift is a left shift).

    Parameters
    ----------
    real : float or array_like of float
        Multipliers ``>= 0``, typically ``in_scale * w_scale[j] / out_scale``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        int32 multipliers and int32 shifts, of the shape of `real` (1-D at least).

    Raises
    ------
    ValueError
        If a multiplier is negative, NaN or infinite.

    Examples
    --------
    >>> import gaba
    >>> gaba.quantize_multiplier(0.5)
    (array([1073741824], dtype=int32), array([0], dtype=int32))
    """
    import numpy as np

    values = np.atleast_1d(np.asarray(real, np.float64))
    pairs = [_gaba.quantize_multiplier(float(v)) for v in values.reshape(-1)]
    mult = np.array([p[0] for p in pairs], np.int32).reshape(values.shape)
    shift = np.array([p[1] for p in pairs], np.int32).reshape(values.shape)
    return mult, shift


def requantize(acc, multiplier, shift, *, zero_point=0, bias=None, act_min=-128, act_max=127,
               out=None):
    """int32 accumulators to int8, per output channel, bit-exact with TFLite.

    ``out[i, j] = clip(zero_point + MBQM(acc[i, j] + bias[j], multiplier[j], shift[j]),
    act_min, act_max)``, where MBQM is TFLite's ``MultiplyByQuantizedMultiplier``
    (gemmlowp's rounding doubling high multiply, then a rounding right shift).

    Parameters
    ----------
    acc : numpy.ndarray, int32, shape (M, N)
        Accumulators, e.g. from :func:`gemm_s8`.
    multiplier, shift : numpy.ndarray, int32, shape (N,) or (1,)
        From :func:`quantize_multiplier`; one per output channel (column),
        or one for all.
    zero_point : int
        Output zero point, in [-128, 127].
    bias : numpy.ndarray, int32, shape (N,), optional
        Added to the accumulators first (wrapping).
    act_min, act_max : int
        The clamp, in [-128, 127] (a fused ReLU is ``act_min=zero_point``).
    out : numpy.ndarray, int8, shape (M, N), optional

    Returns
    -------
    numpy.ndarray
        int8 of shape (M, N).

    Raises
    ------
    TypeError
        If `acc`, `bias` or `out` have the wrong dtype (int32, int32, int8).
    ValueError
        For a `multiplier`/`shift` length other than N or 1, a zero point or
        clamp outside [-128, 127] (or act_min > act_max), or a wrong `out`.

    Examples
    --------
    >>> import numpy as np, gaba
    >>> m, s = gaba.quantize_multiplier(0.25)
    >>> gaba.requantize(np.array([[10, -10, 1000]], np.int32), m, s)
    array([[  3,  -3, 127]], dtype=int8)
    """
    return _gaba.requantize(acc, multiplier, shift, zero_point, bias, act_min, act_max, out)
