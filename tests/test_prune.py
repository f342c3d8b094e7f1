"""gaba.magnitude_prune against the sort-based NumPy reference (gaba.ref.prune)."""
import numpy as np
import pytest

import gaba
from gaba.ref import prune as ref
from arrays import SIZES, layouts, rand, with_specials

pytestmark = pytest.mark.kernels


def check(w, sparsity, **kwargs):
    pruned, mask = gaba.magnitude_prune(w, sparsity, **kwargs)
    assert pruned.dtype == np.float32 and mask.dtype == np.bool_
    assert pruned.shape == mask.shape == w.shape
    return pruned, mask


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 0.77, 1.0])
def test_unstructured(n, sparsity):
    w = rand((n,), seed=n)
    pruned, mask = check(w, sparsity)
    rp, rm = ref.magnitude_prune(w, sparsity)
    np.testing.assert_array_equal(mask, rm)
    np.testing.assert_array_equal(pruned, rp)
    assert (~mask).sum() == round(sparsity * n)


@pytest.mark.parametrize("shape", [(64, 3, 3, 3), (300, 700), (1 << 20,)])
def test_unstructured_big(shape):
    """Sizes that take the threaded path, several chunks."""
    w = rand(shape, seed=1)
    pruned, mask = check(w, 0.5)
    rp, rm = ref.magnitude_prune(w, 0.5)
    np.testing.assert_array_equal(mask, rm)
    np.testing.assert_array_equal(pruned, rp)


def test_exact_count_and_threshold():
    w = rand((1000,), seed=2)
    for sparsity in (0.123, 0.5, 0.999):
        _, mask = check(w, sparsity)
        k = round(sparsity * w.size)
        assert (~mask).sum() == k
        assert np.abs(w[~mask]).max() <= np.abs(w[mask]).min()


@pytest.mark.parametrize("n", [10, 1000, 200_000])
def test_ties_lower_index_first(n):
    """Many equal magnitudes (and signs): the lower index goes first, in every chunk."""
    rng = np.random.default_rng(3)
    w = (rng.integers(-3, 4, n) * 0.25).astype(np.float32)
    w[::7] = -0.0
    for sparsity in (0.3, 0.5, 0.61):
        pruned, mask = check(w, sparsity)
        rp, rm = ref.magnitude_prune(w, sparsity)
        np.testing.assert_array_equal(mask, rm)
        np.testing.assert_array_equal(pruned, rp)


def test_threads_do_not_change_result():
    rng = np.random.default_rng(4)
    w = (rng.integers(0, 50, 300_000) / 8).astype(np.float32)
    gaba.set_num_threads(1)
    one = gaba.magnitude_prune(w, 0.37)
    gaba.set_num_threads(2)
    two = gaba.magnitude_prune(w, 0.37)
    np.testing.assert_array_equal(one[1], two[1])


def test_specials_policy():
    """NaN ranks above +Inf, Inf above finite: they are pruned last."""
    w = with_specials(rand((50,), seed=5), seed=6)
    for sparsity in (0.5, 0.9, 0.98, 1.0):
        pruned, mask = check(w, sparsity)
        _, rm = ref.magnitude_prune(w, sparsity)
        np.testing.assert_array_equal(mask, rm)
    _, mask = check(w, 0.9)
    assert mask[np.isnan(w)].all() and mask[np.isinf(w)].all()


def test_sparsity_zero_and_one():
    w = with_specials(rand((37, 3), seed=7))
    pruned, mask = check(w, 0.0)
    assert mask.all()
    np.testing.assert_array_equal(pruned, w)
    pruned, mask = check(w, 1.0)
    assert not mask.any()
    np.testing.assert_array_equal(pruned, np.zeros_like(w))


def test_existing_zeros():
    w = np.zeros(10, np.float32)
    w[:3] = [1, 2, 3]
    pruned, mask = check(w, 0.5)
    assert (~mask).sum() == 5
    np.testing.assert_array_equal(mask, [1, 1, 1, 0, 0, 0, 0, 0, 1, 1])


@pytest.mark.parametrize("name,view", layouts(rand((13, 17), seed=8)))
def test_layouts_and_input_unchanged(name, view):
    before = np.array(view, copy=True)
    pruned, mask = check(view, 0.4)
    rp, rm = ref.magnitude_prune(np.ascontiguousarray(before), 0.4)
    np.testing.assert_array_equal(mask, rm)
    np.testing.assert_array_equal(pruned, rp)
    np.testing.assert_array_equal(view, before)


def test_zero_d_and_empty():
    pruned, mask = check(np.array(2.0, np.float32), 1.0)
    assert pruned == 0 and not mask
    pruned, mask = check(np.zeros((0, 4), np.float32), 0.5)
    assert pruned.shape == (0, 4)


@pytest.mark.parametrize("shape,axis", [((8, 5), 0), ((8, 5), 1), ((16, 3, 3, 3), 0),
                                        ((16, 4, 3, 3), 1), ((4, 6, 5), -1)])
@pytest.mark.parametrize("sparsity", [0.0, 0.25, 0.5, 1.0])
def test_structured(shape, axis, sparsity):
    w = rand(shape, seed=9)
    pruned, mask = check(w, sparsity, structured=True, axis=axis)
    rp, rm = ref.structured_prune(w, sparsity, axis)
    np.testing.assert_array_equal(mask, rm)
    np.testing.assert_array_equal(pruned, rp)
    moved = np.moveaxis(mask, axis, 0).reshape(shape[axis], -1)
    assert np.all(moved.all(axis=1) | ~moved.any(axis=1))  # whole slices
    assert (~moved[:, 0]).sum() == round(sparsity * shape[axis])


def test_structured_ties():
    w = np.ones((6, 4), np.float32)
    w[4] = 0.5
    _, mask = check(w, 0.5, structured=True)
    np.testing.assert_array_equal(mask[:, 0], [False, False, True, True, False, True])


@pytest.mark.parametrize("pattern", [(2, 4), (1, 4), (0, 4), (4, 4), (1, 2), (4, 8), (3, 7)])
def test_nm(pattern):
    n, m = pattern
    w = rand((6, 4 * m), seed=10)
    pruned, mask = check(w, None, pattern=pattern)
    rp, rm = ref.nm_prune(w, n, m)
    np.testing.assert_array_equal(mask, rm)
    np.testing.assert_array_equal(pruned, rp)
    assert np.all(mask.reshape(-1, m).sum(axis=1) == n)


def test_nm_ties_and_sparsity_argument():
    w = np.array([1, 1, 1, 1, -2, 2, 0, -0.0], np.float32)
    _, mask = check(w, 0.5, pattern=(2, 4))
    np.testing.assert_array_equal(mask, [0, 0, 1, 1, 1, 1, 0, 0])
    big = rand((64, 1024), seed=11)
    np.testing.assert_array_equal(check(big, None, pattern=(2, 4))[1],
                                  ref.nm_prune(big, 2, 4)[1])


def test_errors():
    w = rand((4, 8))
    with pytest.raises(TypeError, match="float32"):
        gaba.magnitude_prune(w.astype(np.float64), 0.5)
    with pytest.raises(TypeError):
        gaba.magnitude_prune([1.0, 2.0], 0.5)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="sparsity"):
            gaba.magnitude_prune(w, bad)
    with pytest.raises(ValueError, match="sparsity"):
        gaba.magnitude_prune(w, 0.3, pattern=(2, 4))
    with pytest.raises(ValueError, match="multiple"):
        gaba.magnitude_prune(rand((4, 6)), None, pattern=(2, 4))
    with pytest.raises(ValueError, match="pattern"):
        gaba.magnitude_prune(w, None, pattern=(5, 4))
    with pytest.raises(ValueError, match="pattern"):
        gaba.magnitude_prune(w, None, pattern=(2,))
    with pytest.raises(ValueError, match="axis"):
        gaba.magnitude_prune(w, 0.5, structured=True, axis=2)
    with pytest.raises(ValueError):
        gaba.magnitude_prune(w, 0.5, structured=True, pattern=(2, 4))
    with pytest.raises(ValueError):
        gaba.magnitude_prune(w, None)


def test_private_geometry_is_checked_before_allocating():
    """The structured kernel's (outer, d, inner) must split w's shape: a d of
    2**31 over an empty w was allocated for before anything was checked."""
    from gaba._ext import _gaba
    with pytest.raises(ValueError, match="split the shape"):
        _gaba.prune_structured(np.zeros((0, 0), np.float32), 1, 2**31, 0, 0)
    with pytest.raises(ValueError, match="split the shape"):
        _gaba.prune_structured(rand((4, 8)), 8, 4, 1, 1)
    with pytest.raises(ValueError, match="'k' must be in"):
        _gaba.prune_magnitude(rand((4, 8)), 2**63)
    with pytest.raises(ValueError, match="'m' must be in"):
        _gaba.prune_nm(rand((4, 8)), 1, -4)
    w = rand((4, 8))
    np.testing.assert_array_equal(_gaba.prune_structured(w, 1, 4, 8, 2)[1],
                                  gaba.magnitude_prune(w, 0.5, structured=True, axis=0)[1])


def test_seed_call():
    """The user's document calls magnitude_prune(weights, sparsity)."""
    pruned, mask = gaba.magnitude_prune(rand((10, 10), seed=12), 0.3)
    assert (~mask).sum() == 30


@pytest.mark.parametrize("power", [1, 3])
def test_polynomial_decay(power):
    schedule = gaba.PolynomialDecay(0.1, 0.9, begin_step=100, end_step=1100, power=power,
                                    frequency=50)
    for step in (0, 100, 150, 333, 600, 1099, 1100, 5000):
        expected = ref.polynomial_decay(step, 0.1, 0.9, 100, 1100, power)
        assert schedule.sparsity(step) == pytest.approx(expected, abs=1e-12)
    assert schedule(100) == (True, pytest.approx(0.1))
    assert schedule(150)[0] and not schedule(151)[0] and not schedule(50)[0]
    assert not schedule(1150)[0]
    sparsities = [schedule.sparsity(s) for s in range(100, 1101, 50)]
    assert all(b >= a for a, b in zip(sparsities, sparsities[1:]))
    with pytest.raises(ValueError):
        gaba.PolynomialDecay(0.0, 0.5, begin_step=10, end_step=10)
    with pytest.raises(ValueError):
        gaba.PolynomialDecay(0.0, 1.5, begin_step=0, end_step=10)


@pytest.mark.parametrize("kwargs, error, text", [
    (dict(power=-3.4e38), ValueError, "power must be finite and > 0"),
    (dict(power=float("nan")), ValueError, "power must be finite and > 0"),
    (dict(power=float("inf")), ValueError, "power must be finite and > 0"),
    (dict(end_step=float("inf")), TypeError, "'end_step' must be an int"),
    (dict(begin_step=-1), ValueError, "'begin_step' must be in"),
    (dict(frequency=2**64), ValueError, "'frequency' must be in"),
    (dict(initial_sparsity="0.1"), TypeError, "initial_sparsity must be a float"),
])
def test_polynomial_decay_arguments(kwargs, error, text):
    args = dict(initial_sparsity=0.2, final_sparsity=0.9, begin_step=1, end_step=378)
    with pytest.raises(error, match=text):
        gaba.PolynomialDecay(**{**args, **kwargs})


def test_polynomial_decay_steps():
    s = gaba.PolynomialDecay(0.2, 0.9, 1, 378, power=3, frequency=1)
    assert s.sparsity(2**31 - 1) == 0.9 and s(1) == (True, pytest.approx(0.2))
    with pytest.raises(TypeError, match="'step' must be an int"):
        s.sparsity(1.5)


def test_16m_elements():
    """A >= 16M-element array: exact count and a clean threshold, on the threaded path."""
    w = np.random.default_rng(30).standard_normal(1 << 24).astype(np.float32)
    pruned, mask = check(w, 0.3)
    assert (~mask).sum() == round(0.3 * w.size)
    assert np.abs(w[~mask]).max() <= np.abs(w[mask]).min()
    assert not pruned[~mask].any()


def test_refcounts_and_inputs_unchanged():
    import sys

    w = rand((40, 8), seed=31)
    before = w.copy()
    count = sys.getrefcount(w)
    for _ in range(3):
        gaba.magnitude_prune(w, 0.5)
        gaba.magnitude_prune(w, 0.5, structured=True)
        gaba.magnitude_prune(w, None, pattern=(2, 4))
    assert sys.getrefcount(w) == count
    np.testing.assert_array_equal(w, before)
