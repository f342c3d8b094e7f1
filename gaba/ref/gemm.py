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
