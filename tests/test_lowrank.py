"""gaba.low_rank_factorization / singular_values against the float64 NumPy SVD
(gaba.ref.lowrank)."""
import warnings

import numpy as np
import pytest

import gaba
from gaba.ref import lowrank as ref
from arrays import layouts, rand
from tolerances import lowrank_error_rtol, singular_value_atol

pytestmark = pytest.mark.kernels

METHODS = ("exact", "randomized")


def frob(x):
    return float(np.linalg.norm(np.asarray(x, np.float64)))


def decaying(m, n, seed=0, decay=0.9):
    """A matrix with singular values decay**i (a weight-like spectrum)."""
    rng = np.random.default_rng(seed)
    k = min(m, n)
    qu, _ = np.linalg.qr(rng.standard_normal((m, k)))
    qv, _ = np.linalg.qr(rng.standard_normal((n, k)))
    return ((qu * decay ** np.arange(k)) @ qv.T).astype(np.float32)


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (5, 3), (3, 5), (33, 17), (64, 64)])
def test_singular_values(shape):
    w = rand(shape, seed=3)
    s = gaba.singular_values(w)
    expected = np.linalg.svd(w.astype(np.float64), compute_uv=False)
    assert s.dtype == np.float32 and s.shape == (min(shape),)
    np.testing.assert_allclose(s, expected, rtol=0, atol=singular_value_atol(w))
    assert np.all(np.diff(s) <= 0)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape,rank", [((40, 30), 5), ((30, 40), 5), ((64, 64), 16),
                                        ((100, 20), 3), ((17, 33), 1)])
def test_eckart_young(method, shape, rank):
    """u @ v reaches the optimal Frobenius error sqrt(sum_{i>=r} sigma_i^2)."""
    w = decaying(*shape, seed=rank)
    u, v = gaba.low_rank_factorization(w, rank, method=method)
    assert u.shape == (shape[0], rank) and v.shape == (rank, shape[1])
    assert u.dtype == v.dtype == np.float32
    optimum = ref.eckart_young_error(w, rank)
    err = frob(w.astype(np.float64) - u.astype(np.float64) @ v)
    bound = optimum * (1 + lowrank_error_rtol(method)) + singular_value_atol(w) * np.sqrt(w.size)
    assert err <= bound


def test_matches_reference_factors():
    """Same factors as the float64 reference, signs included (deterministic sign rule)."""
    w = decaying(48, 40, seed=1, decay=0.7)
    u, v = gaba.low_rank_factorization(w, 6, method="exact")
    ru, rv = ref.low_rank_factorization(w, 6)
    np.testing.assert_allclose(u, ru, atol=1e-4)
    np.testing.assert_allclose(v, rv, atol=1e-4)
    # sqrt(S) is split evenly: both factors carry the same column/row norms.
    np.testing.assert_allclose(np.linalg.norm(u, axis=0), np.linalg.norm(v, axis=1), rtol=1e-4)


def test_randomized_matches_exact_on_clear_spectrum():
    w = decaying(200, 180, seed=2, decay=0.8)
    ue, ve = gaba.low_rank_factorization(w, 8, method="exact")
    ur, vr = gaba.low_rank_factorization(w, 8, method="randomized")
    np.testing.assert_allclose(ur, ue, atol=2e-4)
    np.testing.assert_allclose(vr, ve, atol=2e-4)


@pytest.mark.parametrize("method", METHODS)
def test_deterministic(method):
    w = rand((70, 50), seed=4)
    a = gaba.low_rank_factorization(w, 7, method=method, seed=5)
    b = gaba.low_rank_factorization(w, 7, method=method, seed=5)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    idx = np.argmax(np.abs(a[0]), axis=0)
    assert np.all(a[0][idx, np.arange(7)] > 0)


def test_seed_positional_call():
    """The user's document calls low_rank_factorization(weights, rank)."""
    w = rand((20, 12), seed=6)
    u, v = gaba.low_rank_factorization(w, 4)
    assert u.shape == (20, 4) and v.shape == (4, 12)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("rank", [10, 11, 100])
def test_rank_at_least_min_dim_is_exact(method, rank):
    w = rand((10, 16), seed=7)
    with pytest.warns(UserWarning, match="not smaller"):
        u, v = gaba.low_rank_factorization(w, rank, method=method)
    assert u.shape == (10, 10) and v.shape == (10, 16)
    np.testing.assert_allclose(u @ v, w, atol=1e-5)


@pytest.mark.parametrize("method", ("auto",) + METHODS)
def test_rank_zero(method):
    w = rand((6, 9), seed=8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        u, v = gaba.low_rank_factorization(w, 0, method=method)
    assert u.shape == (6, 0) and v.shape == (0, 9)
    np.testing.assert_array_equal(u @ v, np.zeros((6, 9), np.float32))


def test_warning_threshold():
    """The warning fires exactly when r * (M + N) >= M * N."""
    w = rand((12, 12), seed=9)  # M*N/(M+N) = 6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gaba.low_rank_factorization(w, 5)
    with pytest.warns(UserWarning):
        gaba.low_rank_factorization(w, 6)


@pytest.mark.parametrize("energy", [0.5, 0.9, 0.99, 1.0])
def test_energy(energy):
    w = decaying(40, 30, seed=10, decay=0.85)
    s = np.linalg.svd(w.astype(np.float64), compute_uv=False)
    r = ref.rank_for_energy(s, energy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        u, v = gaba.low_rank_factorization(w, energy=energy)
    assert u.shape[1] == r
    kept = np.sum(s[:r] ** 2) / np.sum(s ** 2)
    assert kept >= energy * (1 - 1e-6)


def test_zero_matrix():
    w = np.zeros((8, 5), np.float32)
    np.testing.assert_array_equal(gaba.singular_values(w), np.zeros(5, np.float32))
    u, v = gaba.low_rank_factorization(w, 2, method="exact")
    np.testing.assert_array_equal(u @ v, np.zeros((8, 5), np.float32))
    u, v = gaba.low_rank_factorization(w, energy=0.9)
    assert u.shape == (8, 0)


@pytest.mark.parametrize("name,view", layouts(rand((23, 19), seed=11)))
@pytest.mark.parametrize("method", METHODS)
def test_layouts(name, view, method):
    before = view.copy()
    u, v = gaba.low_rank_factorization(view, 4, method=method, seed=1)
    u0, v0 = gaba.low_rank_factorization(np.ascontiguousarray(before), 4, method=method, seed=1)
    np.testing.assert_allclose(u @ v, u0 @ v0, atol=1e-4)
    np.testing.assert_array_equal(view, before)


@pytest.mark.parametrize("normalizer", ["lu", "qr", "none"])
def test_normalizers(normalizer):
    w = decaying(80, 60, seed=12, decay=0.8)
    u, v = gaba.low_rank_factorization(w, 5, method="randomized", normalizer=normalizer)
    optimum = ref.eckart_young_error(w, 5)
    assert frob(w - u @ v) <= optimum * 1.01 + 1e-5


def test_conv2d():
    rng = np.random.default_rng(13)
    w = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    first, second = gaba.low_rank_conv2d(w, 4, method="exact")
    assert first.shape == (4, 3, 3, 3) and second.shape == (8, 4, 1, 1)
    u, v = gaba.low_rank_factorization(w, 4, method="exact")
    np.testing.assert_array_equal(first.reshape(4, -1), v)
    np.testing.assert_array_equal(second.reshape(8, 4), u)
    # Composing the two convs = the conv with the rank-4 weight: check on one patch.
    patch = rng.standard_normal((3, 3, 3)).astype(np.float64)
    two_step = second[:, :, 0, 0].astype(np.float64) @ (first.reshape(4, -1) @ patch.ravel())
    direct = (u.astype(np.float64) @ v).reshape(w.shape).reshape(8, -1) @ patch.ravel()
    np.testing.assert_allclose(two_step, direct, rtol=1e-5, atol=1e-5)


def test_errors():
    w = rand((6, 5))
    with pytest.raises(TypeError, match="float32"):
        gaba.low_rank_factorization(w.astype(np.float64), 2)
    with pytest.raises(TypeError):
        gaba.low_rank_factorization([[1.0]], 1)
    with pytest.raises(ValueError, match="exactly one"):
        gaba.low_rank_factorization(w)
    with pytest.raises(ValueError, match="exactly one"):
        gaba.low_rank_factorization(w, 2, energy=0.9)
    with pytest.raises(ValueError, match="method"):
        gaba.low_rank_factorization(w, 2, method="qr")
    with pytest.raises(ValueError, match="rank"):
        gaba.low_rank_factorization(w, -1)
    with pytest.raises(ValueError, match="energy"):
        gaba.low_rank_factorization(w, energy=1.5)
    with pytest.raises(ValueError, match="normalizer"):
        gaba.low_rank_factorization(w, 2, method="randomized", normalizer="svd")
    with pytest.raises(ValueError):
        gaba.low_rank_factorization(rand((2, 3, 4)), 1)
    bad = w.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ArithmeticError, match="'w' holds NaN or Inf"):
        gaba.low_rank_factorization(bad, 2)
    bad[1, 2] = np.inf
    with pytest.raises(ArithmeticError, match=r"singular_values\(\): 'w' holds NaN or Inf"):
        gaba.singular_values(bad)


@pytest.mark.parametrize("method", METHODS)
def test_values_near_float_max(method):
    """Finite values up to FLT_MAX work with either method (the randomized one used to
    overflow its products and raise SystemError)."""
    w = np.random.default_rng(0).standard_normal((7, 33)).astype(np.float32)
    w[0, 0] = 3.4e38
    u, v = gaba.low_rank_factorization(w, 1, method=method)
    uu, ss, vt = np.linalg.svd(w.astype(np.float64))
    best = ss[0] * np.outer(uu[:, 0], vt[0])
    assert np.all(np.isfinite(u)) and np.all(np.isfinite(v))
    np.testing.assert_allclose(u.astype(np.float64) @ v, best, rtol=0, atol=1e-6 * ss[0])


def test_plain_power_iterations_stay_in_range():
    """normalizer="none" multiplies by (A A^T)^n_iter: sigma_max = 1e3 and 100 iterations
    used to overflow float32 (1e600); the panels are rescaled by powers of two instead."""
    w = decaying(60, 50, seed=6, decay=0.5) * np.float32(1e3)
    u, v = gaba.low_rank_factorization(w, 1, method="randomized", n_iter=100, normalizer="none")
    eu, ev = gaba.low_rank_factorization(w, 1, method="exact")
    np.testing.assert_allclose(u @ v, eu @ ev, rtol=0, atol=1e-5 * np.abs(w).max())


def test_iteration_caps():
    """n_iter and oversample have documented upper bounds: the fuzzer's n_iter=10**6 ran
    for minutes."""
    w = rand((20, 10))
    assert gaba.lowrank.MAX_N_ITER == 100 and gaba.lowrank.MAX_OVERSAMPLE == 10_000
    with pytest.raises(ValueError, match=r"argument 'n_iter' must be in 0..100, got 1000000"):
        gaba.low_rank_factorization(w, 1, method="randomized", n_iter=10**6)
    with pytest.raises(ValueError, match=r"argument 'oversample' must be in 0..10000, got"):
        gaba.low_rank_factorization(w, 1, method="randomized", oversample=10**6)
    u, v = gaba.low_rank_factorization(w, 2, method="randomized", n_iter=100, oversample=10_000)
    eu, ev = gaba.low_rank_factorization(w, 2, method="exact")
    np.testing.assert_allclose(u @ v, eu @ ev, atol=1e-5)
    # The binding checks the same bounds for callers of the private module.
    for n_iter, oversample in ((101, 10), (4, 10_001)):
        with pytest.raises(ValueError, match="must be in 0.."):
            gaba._gaba.low_rank_factorization(w, 1, "randomized", oversample, n_iter, "lu", 0)


def test_int_arguments_out_of_range():
    """TypeError or ValueError naming the argument, never OverflowError or SystemError."""
    w = rand((6, 5))
    with pytest.warns(UserWarning, match="not smaller"):
        u, v = gaba.low_rank_factorization(w, 2**63)  # clamped to min(M, N), as documented
    assert u.shape == (6, 5)
    for kwargs in (dict(rank=float("inf")), dict(rank=2, n_iter=float("nan")),
                   dict(rank=2, oversample=1.0), dict(rank=2, seed=0.5)):
        with pytest.raises(TypeError):
            gaba.low_rank_factorization(w, **kwargs)
    for name, value in (("seed", -1), ("seed", 2**64), ("oversample", 2**63), ("n_iter", -1)):
        with pytest.raises(ValueError, match=f"argument '{name}' must be in 0.."):
            gaba.low_rank_factorization(w, 2, method="randomized", **{name: value})
    with pytest.raises(ValueError, match="energy must be in"):
        gaba.low_rank_factorization(w, energy=10**400)
    with pytest.raises(ValueError, match="argument 'rank' must be in 0.."):
        gaba._gaba.low_rank_factorization(w, 2**63, "exact", 10, 4, "lu", 0)


def test_empty():
    for shape in [(0, 5), (5, 0), (0, 0)]:
        w = np.zeros(shape, np.float32)
        assert gaba.singular_values(w).shape == (0,)
        u, v = gaba.low_rank_factorization(w, 3)
        assert u.shape == (shape[0], 0) and v.shape == (0, shape[1])


def test_vs_torch():
    torch = pytest.importorskip("torch")
    w = decaying(96, 80, seed=14, decay=0.9)
    s_torch = torch.linalg.svdvals(torch.from_numpy(w)).numpy()
    np.testing.assert_allclose(gaba.singular_values(w), s_torch, atol=singular_value_atol(w))
    u, v = gaba.low_rank_factorization(w, 10, method="exact")
    ut, st, vt = torch.linalg.svd(torch.from_numpy(w).double(), full_matrices=False)
    approx = (ut[:, :10] * st[:10]) @ vt[:10]
    np.testing.assert_allclose(u @ v, approx.numpy(), atol=1e-5)


def test_refcounts_and_inputs_unchanged():
    import sys

    w = rand((30, 20), seed=40)
    before = w.copy()
    count = sys.getrefcount(w)
    for _ in range(3):
        gaba.low_rank_factorization(w, 3, method="exact")
        gaba.low_rank_factorization(w, 3, method="randomized")
        gaba.singular_values(w)
    assert sys.getrefcount(w) == count
    np.testing.assert_array_equal(w, before)
