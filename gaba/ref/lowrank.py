"""Reference low-rank factorization: float64 NumPy SVD, written from the documented formulas."""
import numpy as np


def svd(w):
    """Thin float64 SVD with gaba's sign rule (largest-|.| entry of each U column positive)."""
    u, s, vt = np.linalg.svd(np.asarray(w, np.float64), full_matrices=False)
    idx = np.argmax(np.abs(u), axis=0)
    signs = np.where(u[idx, np.arange(u.shape[1])] < 0, -1.0, 1.0)
    return u * signs, s, vt * signs[:, None]


def low_rank_factorization(w, rank):
    """(u, v) = (U_r sqrt(S_r), sqrt(S_r) Vt_r) in float64; rank clamped to min(M, N)."""
    u, s, vt = svd(w)
    r = min(rank, s.size)
    root = np.sqrt(s[:r])
    return u[:, :r] * root, root[:, None] * vt[:r]


def eckart_young_error(w, rank):
    """The optimal rank-r Frobenius error sqrt(sum_{i>=r} sigma_i^2)."""
    s = np.linalg.svd(np.asarray(w, np.float64), compute_uv=False)
    return float(np.sqrt(np.sum(s[rank:] ** 2)))


def rank_for_energy(s, energy):
    """Smallest r with sum(s[:r]^2) >= energy * sum(s^2), by a plain loop."""
    sq = [float(x) ** 2 for x in s]
    total = sum(sq)
    acc = 0.0
    for r, x in enumerate(sq):
        if acc >= energy * total:
            return r
        acc += x
    return len(sq)
