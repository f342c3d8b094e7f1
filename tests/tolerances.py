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


def singular_value_atol(w):
    """Absolute bound on float32 singular values: 8 * max(M, N) ulps of sigma_max.

    Reason: backward-stable SVD in float32 perturbs each singular value by at
    most about p(M, N) * eps * ||W||_2 (Demmel); max(M, N) covers LAPACK's
    growth factor p for the sizes tested.
    """
    s_max = float(np.linalg.norm(np.asarray(w, np.float64), 2)) if np.asarray(w).size else 0.0
    return 8 * max(np.asarray(w).shape + (1,)) * FLOAT32_EPS * s_max + 1e-30


def lowrank_error_rtol(method):
    """Relative slack on the Eckart-Young optimum: exact 1e-5; randomized 1%.

    Reason: the exact path only adds float32 rounding; the randomized range
    finder (HMT 2011, with power iterations) is near-optimal, and the issue's
    target is within 1% of the optimal Frobenius error.
    """
    return 1e-5 if method == "exact" else 1e-2


def distill_loss_rtol(classes):
    """Relative bound on a distillation loss: 16 * (C/16 + 8) float32 ulps.

    Reason: the SIMD kernel sums C/16 float32 terms per lane before the
    float64 reduction, and its expf is within ~2 ulps; logits are scaled
    by 1/T in float32 (one rounding each).
    """
    return 16 * (classes / 16 + 8) * FLOAT32_EPS


def distill_grad_atol(grad):
    """Absolute bound on the gradient: 8 ulps of the largest gradient entry, + 1e-9.

    Reason: each entry is a difference of two probabilities computed in
    float32 (expf within ~2 ulps, one product by the reciprocal sum).
    """
    return 8 * FLOAT32_EPS * max(float(np.abs(grad).max()) if np.size(grad) else 0.0, 1e-3) + 1e-9


def nn_close(got, want, k):
    """Layer ops against the float64 references of gaba/ref/nn.py.

    Reason: every output is a dot product of length k (1 for elementwise ops)
    over values of magnitude ~1, accumulated in float32 in some order, plus
    exp/tanh in float32 (a few ulps); (k + 8) ulps of the output scale bounds
    all of it.
    """
    want = np.asarray(want, np.float64)
    scale = max(1.0, float(np.abs(want).max())) if want.size else 1.0
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=0,
                               atol=(k + 8) * 8 * FLOAT32_EPS * scale)
