"""Tolerances as data: each bound with the reason it is what it is.

Float kernels are compared with float64 references. A float32 dot product of
length K accumulates at most about K rounding errors of 2**-24 relative to the
sum of the absolute products, so GEMM bounds scale with K and with |A| |B|.
Integer and quantized paths are compared exactly.
"""
import numpy as np

FLOAT32_EPS = float(np.finfo(np.float32).eps)  # 2**-23


def gemm_bound(a, b, alpha=1.0, beta=0.0, c=None):
    """Elementwise bound for |gemm - float64 gemm|: (K + 2) ulps of |alpha| |A||B| + |beta C|.

    Reason: each of the K products and sums rounds once in float32 (any
    summation order, any FMA use), plus the scaling by alpha and the add of
    beta * C; float32 results of OpenBLAS cores, gaba's kernels and the
    reference differ only by these roundings.
    """
    k = a.shape[-1]
    mag = abs(alpha) * (np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64)))
    if beta != 0.0 and c is not None:
        mag = mag + abs(beta) * np.abs(c.astype(np.float64))
    return (k + 2) * FLOAT32_EPS * mag + np.finfo(np.float32).tiny
