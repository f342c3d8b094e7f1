"""Reference quantization in NumPy float32, written from docs/compression/quantization.md.

Every step is one float32 NumPy operation in the documented order, so the
results are the exact values the C kernels must produce (bit for bit). The
per-channel axis is moved last and parameters broadcast along it.
"""
import numpy as np

F32 = np.float32


def grid(bits, symmetric=True, narrow_range=False):
    """(qmin, qmax) of the integer grid."""
    if symmetric:
        return -(2 ** (bits - 1)) + int(narrow_range), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1


def _per_channel(x, axis):
    """x with the channel axis last (a view), and the function undoing it."""
    x = np.asarray(x, F32)
    if axis is None:
        return x.reshape(-1, 1), lambda y: y.reshape(x.shape)
    moved = np.moveaxis(x, axis, -1)
    return moved.reshape(-1, x.shape[axis]), lambda y: np.moveaxis(
        y.reshape(moved.shape), -1, axis)


def minmax(x, axis=None):
    """Min and max of the finite values, per channel; +inf/-inf where none."""
    flat, _ = _per_channel(x, axis)
    finite = np.isfinite(flat)
    lo = np.where(finite, flat, F32(np.inf)).min(axis=0, initial=np.inf).astype(F32)
    hi = np.where(finite, flat, F32(-np.inf)).max(axis=0, initial=-np.inf).astype(F32)
    return lo, hi


def qparams(min_val, max_val, qmin, qmax, symmetric):
    """PyTorch's observer rule (_calculate_qparams) in float32, +-inf bounds read as 0."""
    lo = np.asarray(min_val, F32)
    hi = np.asarray(max_val, F32)
    lo = np.where(np.isfinite(lo) & (lo < 0), lo, F32(0)).astype(F32)
    hi = np.where(np.isfinite(hi) & (hi > 0), hi, F32(0)).astype(F32)
    if symmetric:
        scale = np.maximum(-lo, hi) / F32((qmax - qmin) / 2)
    else:
        scale = (hi - lo) / F32(qmax - qmin)
    scale = np.maximum(scale.astype(F32), np.finfo(F32).eps).astype(F32)
    if symmetric:
        zp = np.zeros(scale.shape, np.int32)
    else:
        zp = np.clip(F32(qmin) - np.rint(lo / scale), qmin, qmax).astype(np.int32)
    return scale, zp


def _levels(flat, scale, zp, qmin, qmax, rounding):
    """q_f (before clamping) as float32, per the documented formula."""
    scale = np.asarray(scale, F32)
    zpf = np.asarray(zp).astype(F32)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if rounding == "half_even":
            r = np.rint(flat * (F32(1) / scale))
        else:
            t = flat / scale
            tr = np.trunc(t)
            r = tr + np.where(np.abs(t - tr) >= F32(0.5), np.copysign(F32(1), t), F32(0))
        return (r + zpf).astype(F32)


def fake_quantize(x, scale, zero_point, qmin, qmax, axis=None, rounding="half_even"):
    """(y, mask): y = (clamp(q_f) - zp) * scale, NaN kept; mask = qmin <= q_f <= qmax."""
    flat, back = _per_channel(x, axis)
    q = _levels(flat, scale, zero_point, qmin, qmax, rounding)
    with np.errstate(invalid="ignore"):
        mask = (q >= qmin) & (q <= qmax)
        c = np.clip(q, F32(qmin), F32(qmax))
        y = (c - np.asarray(zero_point).astype(F32)) * np.asarray(scale, F32)
    y = np.where(np.isnan(flat), flat, y).astype(F32)
    return back(y), back(mask)


def quantize_int(x, scale, zero_point, qmin, qmax, axis=None, rounding="half_even"):
    """The clamped integers (int32, NaN stored as zero_point) in x's shape."""
    flat, back = _per_channel(x, axis)
    q = _levels(flat, scale, zero_point, qmin, qmax, rounding)
    zp = np.broadcast_to(np.asarray(zero_point).astype(F32), q.shape)
    q = np.where(np.isnan(q), zp, np.clip(q, F32(qmin), F32(qmax)))
    return back(q.astype(np.int32))


def pack_nibbles(ints):
    """Element 2i in the low nibble, 2i+1 in the high nibble of byte i (0-padded)."""
    v = (np.asarray(ints).reshape(-1) & 0xF).astype(np.uint8)
    if v.size % 2:
        v = np.append(v, np.uint8(0))
    return (v[0::2] | (v[1::2] << 4)).astype(np.uint8)


def dequantize_int(ints, scale, zero_point, axis=None):
    flat, back = _per_channel(np.asarray(ints).astype(F32), axis)
    return back(((flat - np.asarray(zero_point).astype(F32)) * np.asarray(scale, F32)).astype(F32))


def observe(run_min, run_max, x, axis=None, averaging_constant=None, first=True):
    """One observer step: running min/max, or the float32 moving average."""
    lo, hi = minmax(x, axis)
    has = lo <= hi
    run_min = np.array(run_min, F32)
    run_max = np.array(run_max, F32)
    if averaging_constant is None:
        run_min = np.where(has, np.minimum(run_min, lo), run_min)
        run_max = np.where(has, np.maximum(run_max, hi), run_max)
    elif first:
        run_min = np.where(has, lo, run_min)
        run_max = np.where(has, hi, run_max)
    else:
        c = F32(averaging_constant)
        run_min = np.where(has, run_min + c * (lo - run_min), run_min)
        run_max = np.where(has, run_max + c * (hi - run_max), run_max)
    return run_min.astype(F32), run_max.astype(F32)


def lsq_backward(grad, x, scale, zero_point, qmin, qmax, axis=None, grad_factor=1.0):
    """PyTorch's learnable fake-quant backward, per element in float32, sums in float64."""
    gflat, _ = _per_channel(grad, axis)
    flat, back = _per_channel(x, axis)
    s = np.asarray(scale, F32)
    inv = F32(1) / s
    zp = np.rint(np.clip(np.asarray(zero_point, F32), F32(qmin), F32(qmax))).astype(F32)
    gf = F32(grad_factor)
    with np.errstate(invalid="ignore", over="ignore"):
        q = np.rint(zp + flat * inv)
        nan = np.isnan(q)
        below, above = q < qmin, q > qmax
        inside = ~(below | above | nan)
        gx = np.where(inside, gflat, gflat * F32(0)).astype(F32)
        xfq = (np.clip(q, F32(qmin), F32(qmax)) - zp) * s
        d_in = gflat * (xfq - flat) * inv * gf
        d_lo = (gflat * (F32(qmin) - zp)) * gf
        d_hi = (gflat * (F32(qmax) - zp)) * gf
        d_scale = np.where(inside, d_in, np.where(below, d_lo, np.where(above, d_hi, F32(0))))
        d_zp = np.where(below | above, gflat * F32(-1) * s * gf, F32(0))
    return (back(gx), d_scale.astype(np.float64).sum(axis=0),
            d_zp.astype(np.float64).sum(axis=0))
