"""Reference GEMM in float64."""
import numpy as np


def gemm(a, b, c=None, alpha=1.0, beta=0.0, bias=None, activation=None):
    """float64 ``act(alpha * a @ b + beta * c + bias)``; c is not read when beta == 0."""
    result = alpha * (np.asarray(a, np.float64) @ np.asarray(b, np.float64))
    if beta != 0.0:
        result = result + beta * np.asarray(c, np.float64)
    if bias is not None:
        result = result + np.asarray(bias, np.float64)
    if activation in ("relu", "relu6"):
        result = np.where(result < 0, 0.0, result)
    if activation == "relu6":
        result = np.where(result > 6, 6.0, result)
    return result


def gemm_s8(a, b):
    """int32 ``a @ b`` from an int64 product (wrapped to int32 as the kernels do)."""
    return (np.asarray(a, np.int64) @ np.asarray(b, np.int64)).astype(np.int32)


def quantize_multiplier(real):
    """TFLite's QuantizeMultiplier for one float: (q31 multiplier, shift)."""
    import math

    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    fixed = int(round(q * (1 << 31)))  # q * 2**31 is never a tie that rounds differently
    if fixed == 1 << 31:
        fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        return (1 << 31) - 1, 30
    return fixed, shift


def _high_mul(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul on int64 arrays."""
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    total = ab + nudge
    result = np.abs(total) // (1 << 31) * np.sign(total)  # truncating division
    return np.where((a == -(1 << 31)) & (b == -(1 << 31)), (1 << 31) - 1, result)


def _divide_pot(x, exponent):
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def requantize(acc, multiplier, shift, zero_point=0, bias=None, act_min=-128, act_max=127):
    """TFLite's per-channel requantization in int64 NumPy: int32 accumulators to int8."""
    x = np.asarray(acc, np.int64)
    if bias is not None:
        x = x + np.asarray(bias, np.int64)
    x = (x + (1 << 31)) % (1 << 32) - (1 << 31)  # wrap to int32
    mult = np.broadcast_to(np.asarray(multiplier, np.int64), x.shape[-1:])
    shift = np.broadcast_to(np.asarray(shift, np.int64), x.shape[-1:])
    left, right = np.maximum(shift, 0), np.maximum(-shift, 0)
    shifted = ((x << left) + (1 << 31)) % (1 << 32) - (1 << 31)
    y = _divide_pot(_high_mul(shifted, mult), right) + zero_point
    return np.clip(y, act_min, act_max).astype(np.int8)
