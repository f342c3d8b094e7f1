"""Quantization: fake quantization (bit-exact with PyTorch), the STE and LSQ
gradients for quantization-aware training, min/max observers, and real
quantized tensors (INT8, INT4 packed two per byte).

The formulas are in docs/compression/quantization.md; the C kernels are in
csrc/quant/.
"""
import numpy as np

from ._args import int_arg
from ._ext import _gaba

__all__ = [
    "fake_quantize", "fake_quantize_backward", "fake_quantize_lsq_backward", "quant_params",
    "quantize", "dequantize", "QTensor", "MinMaxObserver", "MovingAverageObserver",
]

_ROUNDINGS = ("half_even", "half_away")
# Storage kinds of csrc/include/gaba/quant.h (gaba_quant_storage).
_S8, _U8, _S16, _U16, _S4, _U4 = range(6)
_GRIDS = {}


def _grid(bits, symmetric, narrow_range, func):
    """(qmin, qmax) of the integer grid; cached, so checks cost one dict lookup."""
    key = (bits, symmetric, narrow_range)
    grid = _GRIDS.get(key) if type(bits) is int else None  # 8.0 == 8: no cache hit for floats
    if grid is not None:
        return grid
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)):
        raise TypeError(f"{func}(): bits must be an int from 2 to 16, got {type(bits).__name__}")
    if not 2 <= bits <= 16:
        raise ValueError(f"{func}(): bits must be from 2 to 16, got {bits}")
    if symmetric:
        qmin, qmax = -(1 << (bits - 1)) + bool(narrow_range), (1 << (bits - 1)) - 1
    else:
        if narrow_range:
            raise ValueError(f"{func}(): narrow_range applies to symmetric quantization only "
                             "(it drops -2**(bits-1), as TFLite does for weights)")
        qmin, qmax = 0, (1 << bits) - 1
    grid = _GRIDS[key] = (int(qmin), int(qmax))
    return grid


def _channels(x, axis, func):
    """Length of x's quantized axis (1 for per-tensor), for broadcasting parameters."""
    if axis is None:
        return 1
    shape = np.shape(x)
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{func}(): axis must be an int or None, got {type(axis).__name__}")
    if not -len(shape) <= axis < len(shape):
        raise ValueError(f"{func}(): axis {axis} is out of range for a {len(shape)}-D array "
                         f"(use -{len(shape)}..{len(shape) - 1}, or None for one scale per tensor)")
    return shape[axis]


def _scale_array(scale, channels, func):
    s = np.asarray(scale, dtype=np.float32)
    if s.ndim == 0:
        s = np.full(channels, s, np.float32)
    if s.ndim != 1 or s.shape[0] != channels:
        raise ValueError(f"{func}(): scale must be a scalar or hold one value per channel "
                         f"({channels}), got shape {s.shape}")
    with np.errstate(divide="ignore", over="ignore"):
        bad = ~(np.isfinite(s) & (s > 0) & np.isfinite(np.float32(1) / s))
    if bad.any():
        raise ValueError(f"{func}(): scale must be finite and > 0 (with a finite 1/scale), "
                         f"got {s[bad][0]!r}")
    return np.ascontiguousarray(s)


def _scheme(scheme, symmetric, narrow_range, rounding, func):
    """(symmetric, narrow_range, rounding) of `scheme`; None takes the scheme's value and a
    given value that contradicts "tflite" raises."""
    if scheme == "pytorch":
        return (True if symmetric is None else symmetric, bool(narrow_range),
                "half_even" if rounding is None else rounding)
    if scheme != "tflite":
        raise ValueError(f"{func}(): scheme must be 'pytorch' or 'tflite', got {scheme!r}")
    for name, value, want in (("symmetric", symmetric, True), ("narrow_range", narrow_range, True),
                              ("rounding", rounding, "half_away")):
        if value is not None and value != want:
            raise ValueError(f"{func}(): scheme='tflite' means symmetric=True, narrow_range=True "
                             f"and rounding='half_away'; got {name}={value!r} (leave it out)")
    return True, True, "half_away"


def _rows(x, axis, func):
    """x (float32) as a 2-D float32 view or copy: one row per channel (one row per tensor)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{func}(): argument 'x' must be a numpy.ndarray of float32, got "
                        f"{type(x).__name__}")
    if x.dtype.type is not np.float32:  # any byte order, as the C kernels take
        raise TypeError(f"{func}(): argument 'x' must have dtype float32, got {x.dtype} array "
                        f"of shape {x.shape} (convert it with .astype(numpy.float32))")
    channels = _channels(x, axis, func)
    moved = x if axis is None else np.moveaxis(x, axis, 0)
    return moved.reshape(channels, x.size // max(channels, 1))


def _unrows(a, x, axis):
    """The inverse of _rows: `a` (one row per channel) in x's shape, C-contiguous."""
    if axis is None:
        return a.reshape(x.shape)
    return np.ascontiguousarray(np.moveaxis(a.reshape(np.moveaxis(x, axis, 0).shape), 0, axis))


def _tflite_scale(rows, qmax):
    """max|row| / qmax per row, in float64 as gaba's int8 quantizer computes it (quantize_row
    in csrc/zoo/quantizer.c): NaN ignored, and a row that is all zeros or holds +-Inf gets 1."""
    a = np.abs(rows)
    amax = np.max(a, axis=1, where=~np.isnan(a), initial=0)
    return np.where((amax > 0) & np.isfinite(amax), amax.astype(np.float64) / qmax, 1.0)


def _tflite_levels(x, axis, scale, zero_point, qmax, func):
    """TFLite's weight quantizer on x: the levels round(x / scale) (float64, half away from
    zero, before clamping; one row per channel) and the float64 scales."""
    rows = _rows(x, axis, func)
    if zero_point is not None and np.any(np.asarray(zero_point) != 0):
        raise ValueError(f"{func}(): zero_point must be 0 with scheme='tflite' (symmetric), "
                         f"got {zero_point!r}")
    ws = (_tflite_scale(rows, qmax) if scale is None
          else _scale_array(scale, rows.shape[0], func).astype(np.float64))
    v = rows / ws[:, None]
    t = np.trunc(v)
    with np.errstate(invalid="ignore"):  # +-Inf - +-Inf: NaN, so no step; Inf stays
        frac = np.abs(np.subtract(v, t, out=v), out=v) >= 0.5
    return np.add(t, np.copysign(frac, rows, dtype=np.float64), out=t), ws


def _tflite_fake_quantize(x, axis, scale, zero_point, qmax, out, return_mask):
    levels, ws = _tflite_levels(x, axis, scale, zero_point, qmax, "fake_quantize")
    # + 0.0 turns -0.0 into the integer code 0's +0.0
    q = np.clip(levels, -qmax, qmax) + 0.0
    y = _unrows(q.astype(np.float32) * ws.astype(np.float32)[:, None], x, axis)
    if out is not None:
        if not isinstance(out, np.ndarray) or out.dtype.type is not np.float32:
            raise TypeError("fake_quantize(): argument 'out' must be a numpy.ndarray of float32")
        flags = out.flags
        if out.shape != x.shape or not (flags.c_contiguous and flags.aligned and flags.writeable
                                        and out.dtype.isnative):
            raise ValueError("fake_quantize(): 'out' must have the shape of 'x' and be "
                             "C-contiguous, writeable, aligned and in native byte order")
        out[...] = y
        y = out
    if return_mask:
        return y, _unrows((levels >= -qmax) & (levels <= qmax), x, axis)
    return y


def fake_quantize(x, bits=8, symmetric=None, *, axis=None, scale=None, zero_point=None,
                  narrow_range=None, rounding=None, out=None, return_mask=False,
                  scheme="pytorch"):
    """Quantize to a `bits`-bit integer grid and back, in float32 (QAT's forward pass).

    Bit-exact with ``torch.fake_quantize_per_tensor_affine`` (``axis=None``)
    and ``torch.fake_quantize_per_channel_affine`` for finite inputs (with
    ``|x / scale| < 2**63``)::

        q_f = zero_point + nearbyint(x * (1 / scale))   # 1/scale rounded once to float32
        q   = clamp(q_f, qmin, qmax)
        y   = (q - zero_point) * scale

    With ``scheme="tflite"`` it is bit-exact with what ``m.quantize`` deploys
    for conv and dense weights (``axis=0``): the grid ``[-qmax, qmax]``, the
    scale ``max|x| / qmax`` and ``q = round(x / scale)`` (ties away from zero),
    both in float64, then ``y = q * float32(scale)``.

    Parameters
    ----------
    x : numpy.ndarray, float32, any number of dimensions
        C-contiguous arrays are read in place; other layouts are copied once.
    bits : int, 2..16
    symmetric : bool, default True
        True: signed grid ``[-2**(bits-1), 2**(bits-1) - 1]`` and zero_point 0.
        False: unsigned grid ``[0, 2**bits - 1]`` with a zero point.
    axis : int or None
        None: one scale for the tensor; an int: one scale per index along
        that axis (per-channel, e.g. ``axis=0`` for conv/linear weights).
    scale, zero_point : float/int or 1-D arrays (one per channel), optional
        When `scale` is None both come from the data by PyTorch's observer
        rule (see :func:`quant_params`). Given values are checked: scale
        finite and > 0, zero_point an integer in ``[qmin, qmax]`` (0 when
        symmetric).
    narrow_range : bool, default False
        Symmetric only: drop ``-2**(bits-1)`` so the grid is
        ``[-(2**(bits-1) - 1), 2**(bits-1) - 1]`` (TFLite/Brevitas weights).
    rounding : {"half_even", "half_away"}, default "half_even"
        ``"half_even"``: ``x * (1/scale)``, ties to even (PyTorch).
        ``"half_away"``: ``x / scale`` in float32, ties away from zero
        (TFLite's reference quantizer).
    out : numpy.ndarray, float32, optional
        C-contiguous, the shape of `x`; may be `x` itself (in place).
    return_mask : bool
        Also return the straight-through mask ``qmin <= q_f <= qmax`` (bool),
        taken before clamping as PyTorch's ``*_cachemask`` ops do. Pass it to
        :func:`fake_quantize_backward`.
    scheme : {"pytorch", "tflite"}
        ``"pytorch"``: the arguments above, PyTorch's observer rule for the
        scale (symmetric 8-bit: ``max|x| / 127.5``, codes -128..127).
        ``"tflite"``: the grid and scale rule of gaba's int8 models
        (``m.quantize``) and TFLite's weights: symmetric, narrow range,
        ``max|x| / 127`` (8 bits), a channel of zeros gets scale 1; computed
        in NumPy in float64, slower than the C kernel (milliseconds for 256k
        values). Leave `symmetric`, `narrow_range` and `rounding` out, or give
        the values it implies.

    Returns
    -------
    numpy.ndarray or (numpy.ndarray, numpy.ndarray)
        `y` (float32, the shape of `x`), and the bool mask when asked.

    Raises
    ------
    TypeError
        If an array argument is not a numpy.ndarray of the documented dtype.
    ValueError
        For bits outside 2..16, an axis out of range, a scale that is not
        finite and > 0, a zero point off the integer grid, mismatched shapes,
        an unknown option, or ``scheme="tflite"`` with an argument it
        contradicts (``symmetric=False``, ``narrow_range=False``, ...).

    Notes
    -----
    Non-finite inputs (a documented policy, not PyTorch's): NaN gives NaN
    with mask False; +Inf and -Inf saturate to the ``qmax``/``qmin`` levels
    with mask False. Scales computed from the data ignore NaN and +-Inf.
    PyTorch maps NaN to the ``qmin`` level, and its per-channel op also maps
    +Inf (and ``x / scale >= 2**63``) there.

    Examples
    --------
    >>> import numpy as np, gaba
    >>> w = np.array([-1.0, -0.3, 0.0, 0.26, 1.0], np.float32)
    >>> gaba.fake_quantize(w, 4, True)    # the seed's positional call
    array([-0.9333334 , -0.26666668,  0.        ,  0.26666668,  0.9333334 ],
          dtype=float32)
    """
    symmetric, narrow_range, rounding = _scheme(scheme, symmetric, narrow_range, rounding,
                                                "fake_quantize")
    qmin, qmax = _grid(bits, symmetric, narrow_range, "fake_quantize")
    if scheme == "tflite":
        return _tflite_fake_quantize(x, axis, scale, zero_point, qmax, out, return_mask)
    # scale/zero_point are checked in C: NumPy checks here would cost more than
    # the kernel on small tensors.
    return _gaba.fake_quantize(x, out, scale, zero_point, axis, qmin, qmax, symmetric, rounding,
                               return_mask)


def fake_quantize_backward(grad, mask):
    """Straight-through estimator: the gradient of :func:`fake_quantize` w.r.t. x.

    ``grad * mask`` as a float32 multiply, exactly PyTorch's cachemask
    backward (so a NaN gradient under a False mask stays NaN, and a negative
    one gives -0.0).

    Parameters
    ----------
    grad : numpy.ndarray, float32
        Gradient of the loss w.r.t. the fake-quantized output.
    mask : numpy.ndarray, bool, same shape
        From ``fake_quantize(..., return_mask=True)``.

    Returns
    -------
    numpy.ndarray, float32

    Raises
    ------
    TypeError
        If `grad` is not float32 or `mask` not bool.
    ValueError
        If their shapes differ.

    Examples
    --------
    >>> import numpy as np, gaba
    >>> y, mask = gaba.fake_quantize(np.array([0.5, 9.0], np.float32), 4, scale=1.0,
    ...                              return_mask=True)
    >>> gaba.fake_quantize_backward(np.ones(2, np.float32), mask)
    array([1., 0.], dtype=float32)
    """
    return _gaba.ste_backward(grad, mask)


def fake_quantize_lsq_backward(grad, x, scale, zero_point=0.0, bits=8, symmetric=None, *,
                               axis=None, narrow_range=None, grad_factor=1.0, scheme="pytorch"):
    """LSQ gradients (Esser et al., 2020) of :func:`fake_quantize` w.r.t. x, scale, zero_point.

    Per element, exactly as PyTorch's
    ``_fake_quantize_learnable_per_{tensor,channel}_affine`` backward, with
    ``q = nearbyint(zp + x * (1/scale))`` and ``xfq`` the fake-quantized x::

        grad_x      = grad * [qmin <= q <= qmax]
        d_scale     = grad * (xfq - x) / scale * grad_factor      inside the grid
                    = grad * (qmin - zp) * grad_factor            below   (qmax above)
        d_zp        = 0 inside,  -grad * scale * grad_factor      outside

    and ``grad_scale``, ``grad_zero_point`` are the sums of these terms (per
    channel when `axis` is given), accumulated in float64. LSQ's paper uses
    ``grad_factor = 1 / sqrt(x.size * qmax)``.

    Parameters
    ----------
    grad, x : numpy.ndarray, float32, same shape
    scale : float or 1-D float array (per channel)
    zero_point : float or 1-D float array
        Learnable, so float; rounded half to even and clamped to
        ``[qmin, qmax]`` first, as PyTorch does.
    bits, symmetric, narrow_range, axis :
        As for :func:`fake_quantize`.
    grad_factor : float
    scheme : {"pytorch", "tflite"}
        ``"tflite"`` takes TFLite's grid (symmetric, narrow range, zero
        point 0); the scale is the one given, and the levels still round
        ``x * (1/scale)`` half to even (they differ from TFLite's only at
        exact ties).

    Returns
    -------
    (grad_x, grad_scale, grad_zero_point)
        grad_x shaped like x; the other two a float (``axis=None``) or float32
        arrays of one value per channel. NaN inputs contribute nothing.

    Raises
    ------
    TypeError, ValueError
        For the arguments :func:`fake_quantize` rejects (named in the message).

    Examples
    --------
    >>> import numpy as np, gaba
    >>> x = np.array([0.2, 0.9, 5.0], np.float32)  # 5.0 / 0.5 = 10 > qmax = 7
    >>> gx, gs, gz = gaba.fake_quantize_lsq_backward(np.ones(3, np.float32), x, 0.5, 0.0, 4)
    >>> gx, round(gs, 4), gz
    (array([1., 1., 0.], dtype=float32), 6.8, -0.5)
    """
    func = "fake_quantize_lsq_backward"
    symmetric, narrow_range, _ = _scheme(scheme, symmetric, narrow_range, None, func)
    if scheme == "tflite" and np.any(np.asarray(zero_point) != 0):
        raise ValueError(f"{func}(): zero_point must be 0 with scheme='tflite' (symmetric), "
                         f"got {zero_point!r}")
    qmin, qmax = _grid(bits, symmetric, narrow_range, func)
    channels = _channels(x, axis, func)
    s = _scale_array(scale, channels, func)
    z = np.asarray(zero_point, dtype=np.float32)
    z = np.ascontiguousarray(np.full(channels, z, np.float32) if z.ndim == 0 else z)
    gx, gs, gz = _gaba.lsq_backward(grad, x, s, z, axis, qmin, qmax, float(grad_factor))
    if axis is None:
        return gx, float(gs[0]), float(gz[0])
    return gx, gs, gz


def quant_params(x, bits=8, symmetric=None, *, axis=None, narrow_range=None,
                 scheme="pytorch"):
    """Scale and zero point for `x` by PyTorch's observer rule (MinMaxObserver).

    In float32, over the finite values (NaN and +-Inf ignored)::

        lo = min(min(x), 0);  hi = max(max(x), 0)
        symmetric:  scale = max(-lo, hi) / ((qmax - qmin) / 2),  zero_point = 0
        affine:     scale = (hi - lo) / (qmax - qmin)
                    zero_point = clamp(qmin - nearbyint(lo / scale), qmin, qmax)
        scale = max(scale, float32 eps)     # an all-zero channel gets eps

    ``scheme="tflite"``: the rule of gaba's int8 quantizer (``m.quantize``),
    ``scale = float32(max|x| / qmax)`` divided in float64, zero_point 0; a
    channel that is all zeros (or holds +-Inf) gets scale 1, NaN is ignored.

    Parameters
    ----------
    x : numpy.ndarray, float32, any shape
    bits, symmetric, axis, narrow_range, scheme
        As for :func:`fake_quantize`.

    Returns
    -------
    (scale, zero_point)
        A float and an int for ``axis=None``; else float32 and int32 arrays
        with one value per index along `axis`.

    Raises
    ------
    TypeError, ValueError
        For the arguments :func:`fake_quantize` rejects (named in the message).

    Examples
    --------
    >>> import numpy as np, gaba
    >>> gaba.quant_params(np.array([-1.0, 0.5], np.float32), 8)
    (0.007843137718737125, 0)
    """
    symmetric, narrow_range, _ = _scheme(scheme, symmetric, narrow_range, None, "quant_params")
    qmin, qmax = _grid(bits, symmetric, narrow_range, "quant_params")
    if scheme == "tflite":
        scale = _tflite_scale(_rows(x, axis, "quant_params"), qmax).astype(np.float32)
        zp = np.zeros(scale.shape, np.int32)
    elif axis is not None and _channels(x, axis, "quant_params") == 0:
        return np.empty(0, np.float32), np.empty(0, np.int32)
    else:
        scale, zp = _gaba.quant_params(x, axis, qmin, qmax, symmetric)
    if axis is None:
        return float(scale[0]), int(zp[0])
    return scale, zp


def _storage(bits, symmetric):
    if bits <= 4:
        return _S4 if symmetric else _U4
    if bits <= 8:
        return _S8 if symmetric else _U8
    return _S16 if symmetric else _U16


class QTensor:
    """A quantized tensor: integers plus the scale and zero point to read them back.

    Storage: ``bits <= 4`` packs two values per byte, element ``2i`` in the
    low nibble (bits 0-3) and element ``2i + 1`` in the high nibble of byte
    ``i`` (ONNX's int4 order; signed values in two's complement, an odd
    count leaves the last high nibble 0); ``bits <= 8`` one int8 (symmetric)
    or uint8 (affine) per value; up to 16 bits int16/uint16. Values follow
    the C order of `shape`.

    Attributes
    ----------
    data : numpy.ndarray
        The stored integers (1-D uint8 bytes when packed, else shaped like the tensor).
    shape : tuple
    bits : int
    symmetric, narrow_range : bool
    axis : int or None
        The per-channel axis, or None for per-tensor parameters.
    scale : numpy.ndarray, float32, (channels,)
    zero_point : numpy.ndarray, int32, (channels,)

    Parameters
    ----------
    data, shape, bits, symmetric, narrow_range, axis, scale, zero_point
        The attributes above. Build QTensors with :func:`quantize`, which
        checks them; the constructor takes them as they are.

    Raises
    ------
    ValueError
        If `bits` is outside 2..16, a dimension is negative or `axis` out of range.
    TypeError
        If a dimension of `shape` or `axis` is not an int.

    Examples
    --------
    >>> import numpy as np, gaba
    >>> q = gaba.quantize(np.array([0.5, -1.0, 0.25], np.float32), 4)
    >>> q.int_repr(), q.data.dtype, q.data.size
    (array([ 4, -7,  2], dtype=int8), dtype('uint8'), 2)
    """

    __slots__ = ("data", "shape", "bits", "symmetric", "narrow_range", "axis", "scale",
                 "zero_point", "_storage")

    def __init__(self, data, shape, bits, symmetric, narrow_range, axis, scale, zero_point):
        self.data = data
        self.shape = tuple(int_arg(d, "QTensor", "shape", 0, 2**63 - 1) for d in shape)
        self.bits = bits
        self.symmetric = bool(symmetric)
        self.narrow_range = bool(narrow_range)
        axes = max(len(self.shape), 1)
        self.axis = (None if axis is None
                     else int_arg(axis, "QTensor", "axis", -axes, axes - 1) % axes)
        self.scale = scale
        self.zero_point = zero_point
        self._storage = _storage(bits, symmetric)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self):
        """Bytes held: the stored integers plus the float32 scales and int32 zero points."""
        return int(self.data.nbytes + self.scale.nbytes + self.zero_point.nbytes)

    @property
    def compression_ratio(self):
        """float32 bytes of the same tensor divided by :attr:`nbytes`."""
        return 4.0 * self.size / self.nbytes if self.nbytes else float("nan")

    def dequantize(self, out=None):
        """The float32 tensor, ``(q - zero_point) * scale``: see :func:`dequantize`."""
        return _gaba.dequantize(self.data, self._storage, self.shape, self.axis, self.scale,
                                self.zero_point, out)

    def int_repr(self):
        """The integer values as an int8/uint8/int16/uint16 array of `shape` (unpacked)."""
        if self._storage not in (_S4, _U4):
            return self.data.reshape(self.shape)
        pairs = np.stack([self.data & 0x0F, self.data >> 4], axis=-1).reshape(-1)[:self.size]
        if self._storage == _S4:
            pairs = ((pairs.astype(np.int8) ^ 8) - 8).astype(np.int8)
        return pairs.reshape(self.shape)

    def __repr__(self):
        grid = "symmetric" if self.symmetric else "affine"
        if self.narrow_range:
            grid += " narrow"
        where = "per-tensor" if self.axis is None else f"per-channel axis={self.axis}"
        return (f"QTensor(shape={self.shape}, bits={self.bits}, {grid}, {where}, "
                f"nbytes={self.nbytes}, {self.compression_ratio:.2f}x smaller than float32)")


def quantize(x, bits=8, symmetric=None, *, axis=None, scale=None, zero_point=None,
             narrow_range=None, rounding=None, scheme="pytorch"):
    """Quantize `x` into a :class:`QTensor` (INT8, INT4 packed two per byte, ...).

    Same grid, parameters and rounding as :func:`fake_quantize`, so
    ``dequantize(quantize(x, ...))`` equals ``fake_quantize(x, ...)`` bit for
    bit for finite x (+-Inf saturate alike; NaN, which no integer holds, is
    stored as the zero point and reads back as 0.0).

    Parameters
    ----------
    x : numpy.ndarray, float32, any shape
    bits, symmetric, axis, scale, zero_point, narrow_range, rounding, scheme
        As for :func:`fake_quantize`. Storage: 2 to 4 bits packed two values
        per byte (element 2i in the low nibble), 5 to 8 bits in int8 (uint8
        when asymmetric), 9 to 16 bits in int16 (uint16).

    Returns
    -------
    QTensor
        The integer values with their scale, zero point, axis and shape;
        ``q.nbytes`` is the real storage and ``q.compression_ratio`` its
        ratio to float32.

    Raises
    ------
    TypeError, ValueError
        For the same bad arguments :func:`fake_quantize` rejects.

    Examples
    --------
    >>> import numpy as np, gaba
    >>> w = np.linspace(-1, 1, 4096, dtype=np.float32).reshape(64, 64)
    >>> q = gaba.quantize(w, 4, axis=0)
    >>> q.nbytes, round(q.compression_ratio, 2)
    (2560, 6.4)
    """
    symmetric, narrow_range, rounding = _scheme(scheme, symmetric, narrow_range, rounding,
                                                "quantize")
    qmin, qmax = _grid(bits, symmetric, narrow_range, "quantize")
    if scheme == "tflite":
        levels, ws = _tflite_levels(x, axis, scale, zero_point, qmax, "quantize")
        # the C kernel stores the integer levels (scale 1 keeps them) and packs them
        x, scale = _unrows(np.clip(levels, qmin, qmax).astype(np.float32), x, axis), 1.0
    data, scale, zero_point = _gaba.quantize(x, scale, zero_point, axis, qmin, qmax, symmetric,
                                             rounding, _storage(bits, symmetric))
    if scheme == "tflite":
        scale = ws.astype(np.float32)
    return QTensor(data, np.shape(x), bits, symmetric, narrow_range, axis, scale, zero_point)


def dequantize(q, out=None):
    """Float32 values of a :class:`QTensor`: ``(q - zero_point) * scale`` per channel.

    Parameters
    ----------
    q : QTensor
        From :func:`quantize`.
    out : numpy.ndarray, float32, shape ``q.shape``, C-contiguous, optional
        Written in place and returned.

    Returns
    -------
    numpy.ndarray, float32, shape ``q.shape``
        Equal bit for bit to :func:`fake_quantize` with the same arguments.

    Raises
    ------
    TypeError
        If `q` is not a QTensor, or `out` is not float32.
    ValueError
        If `out` has the wrong shape or is not C-contiguous.

    Examples
    --------
    >>> import numpy as np, gaba
    >>> x = np.array([0.1, -0.5, 1.0], np.float32)
    >>> bool((gaba.dequantize(gaba.quantize(x, 8)) == gaba.fake_quantize(x, 8)).all())
    True
    """
    if not isinstance(q, QTensor):
        raise TypeError(f"dequantize(): q must be a gaba.QTensor, got {type(q).__name__}")
    return q.dequantize(out)


class MinMaxObserver:
    """Tracks the running min and max of the tensors it sees (PyTorch's MinMaxObserver).

    ``axis=None`` tracks the whole tensor; an int tracks each index along
    that axis (PerChannelMinMaxObserver). NaN and +-Inf are ignored.
    :meth:`update` runs in C; :meth:`qparams` applies the rule of
    :func:`quant_params` to the running bounds.

    Parameters
    ----------
    axis : int or None
        The channel axis, or None for one min/max over the whole tensor.

    Raises
    ------
    TypeError
        From :meth:`update`, if `x` is not a float32 array.
    ValueError
        From :meth:`update`, for an axis out of range or a channel count that
        changed; from :meth:`qparams`, before any data was observed.

    Examples
    --------
    >>> import numpy as np, gaba
    >>> obs = gaba.MinMaxObserver()
    >>> obs.update(np.array([-1.0, 2.0], np.float32)); obs.update(np.array([3.0], np.float32))
    >>> obs.min_val, obs.max_val
    (-1.0, 3.0)
    """

    _averaging_constant = -1.0  # negative: plain running min/max

    def __init__(self, axis=None):
        self.axis = axis
        self.reset()

    def reset(self):
        """Forget everything seen."""
        self._min = self._max = None
        self.count = 0

    def update(self, x):
        """Fold the batch `x` (float32 array) into the running bounds."""
        if self._min is None:
            channels = _channels(x, self.axis, "update")
            self._min = np.full(channels, np.inf, np.float32)
            self._max = np.full(channels, -np.inf, np.float32)
        _gaba.observe(self._min, self._max, self.count, self._averaging_constant, x, self.axis)
        self.count += 1

    __call__ = update

    def _bound(self, values):
        if values is None:
            return None
        return float(values[0]) if self.axis is None else values.copy()

    @property
    def min_val(self):
        return self._bound(self._min)

    @property
    def max_val(self):
        return self._bound(self._max)

    def qparams(self, bits=8, symmetric=True, narrow_range=False):
        """(scale, zero_point) for the bounds seen so far.

        A float and an int per tensor; float32 and int32 arrays per channel.
        """
        if self._min is None:
            raise ValueError(f"{type(self).__name__}.qparams(): no data observed yet; call "
                             "update(x) first")
        qmin, qmax = _grid(bits, symmetric, narrow_range, "qparams")
        scale, zp = _gaba.qparams(self._min, self._max, qmin, qmax, symmetric)
        if self.axis is None:
            return float(scale[0]), int(zp[0])
        return scale, zp

    def __repr__(self):
        head = f"{type(self).__name__}(axis={self.axis}, count={self.count}"
        if self.axis is None or self._min is None:
            return f"{head}, min_val={self.min_val}, max_val={self.max_val})"
        # per channel: the spread of the bounds, not every channel
        return (f"{head}, channels={self._min.size}, min_val in [{self._min.min():.4g}, "
                f"{self._min.max():.4g}], max_val in [{self._max.min():.4g}, "
                f"{self._max.max():.4g}])")


class MovingAverageObserver(MinMaxObserver):
    """Exponential moving average of the batch min and max (PyTorch's MovingAverageMinMaxObserver).

    The first batch sets the bounds; each later one moves them by
    ``bound += averaging_constant * (batch_bound - bound)`` in float32. An
    ``ema_decay`` of 0.999 is ``averaging_constant=0.001``.

    Parameters
    ----------
    averaging_constant : float in [0, 1]
    axis : int or None
        As for :class:`MinMaxObserver`.

    Raises
    ------
    ValueError
        If `averaging_constant` is outside [0, 1]; :meth:`update` raises as
        :class:`MinMaxObserver`'s does.

    Examples
    --------
    >>> import numpy as np, gaba
    >>> obs = gaba.MovingAverageObserver(averaging_constant=0.5)
    >>> obs.update(np.array([-1.0, 1.0], np.float32)); obs.update(np.array([-3.0, 3.0], np.float32))
    >>> obs.min_val, obs.max_val
    (-2.0, 2.0)
    """

    def __init__(self, averaging_constant=0.01, axis=None):
        c = float(averaging_constant)
        if not 0.0 <= c <= 1.0:
            raise ValueError(f"MovingAverageObserver(): averaging_constant must be in [0, 1], "
                             f"got {averaging_constant!r}")
        self._averaging_constant = c
        super().__init__(axis)

    @property
    def averaging_constant(self):
        return self._averaging_constant
