"""gaba.datasets: each data set split, scaled and laid out as documented,
checked against the raw data of the package that ships it."""
import importlib.util
import random
import sys

import numpy as np
import pytest

import gaba
from gaba import datasets

# name: sample shape, classes, train, test, the modules that provide it, the
# suggested model's modality.
EXPECTED = {
    "digits": ((1, 8, 8), 10, 1438, 359, ("sklearn",), "vision"),
    "basic_motions": ((6, 100), 4, 40, 40, ("sktime", "aeon"), "sensor"),
    "japanese_vowels": ((12, 29), 9, 270, 370, ("sktime", "aeon"), "audio"),
    "mnist1d": ((1, 40), 10, 4000, 1000, ("mnist1d",), "sensor"),
}
# float32 samples of float64 data scaled to unit variance
ATOL = 1e-5


def _needs(*modules):
    if not any(importlib.util.find_spec(m) for m in modules):
        pytest.skip(f"{' or '.join(modules)} not installed")


def _load(name, **kw):
    _needs(*EXPECTED[name][4])
    return datasets.load(name, **kw)


def _source(name):
    """The raw data as the source package's own API returns it: (x_train,
    y_train, x_test, y_test) with labels as class-name strings; JapaneseVowels
    samples as a list of (12, L) arrays of their own lengths."""
    if name == "mnist1d":
        _needs("mnist1d")
        from mnist1d.data import get_dataset_args, make_dataset
        d = make_dataset(get_dataset_args())
        return (d["x"][:, None], d["y"].astype(str), d["x_test"][:, None],
                d["y_test"].astype(str))
    _needs("sktime")
    from sktime.datasets import load_basic_motions, load_japanese_vowels
    if name == "basic_motions":
        splits = [load_basic_motions(split=s, return_type="numpy3D") for s in ("train", "test")]
    else:
        splits = []
        for s in ("train", "test"):
            x, y = load_japanese_vowels(split=s, return_type="nested_univ")
            splits.append(([np.stack([x.iloc[i, c].to_numpy() for c in range(x.shape[1])])
                            for i in range(len(x))], y))
    return splits[0][0], splits[0][1], splits[1][0], splits[1][1]


def test_names_are_the_documented_data_sets():
    assert datasets.names() == tuple(EXPECTED)
    assert gaba.datasets is datasets


@pytest.mark.parametrize("name", EXPECTED)
def test_layout_labels_and_suggested_model(name):
    shape, k, n_train, n_test, _, modality = EXPECTED[name]
    ds = _load(name)
    assert ds.x_train.shape == (n_train, *shape) and ds.x_test.shape == (n_test, *shape)
    assert ds.x_train.dtype == ds.x_test.dtype == np.float32
    assert ds.y_train.dtype == ds.y_test.dtype == np.int64
    assert ds.y_train.shape == (n_train,) and ds.y_test.shape == (n_test,)
    assert len(ds.classes) == ds.num_classes == k
    for y in (ds.y_train, ds.y_test):  # every class in both splits, nothing else
        assert np.array_equal(np.unique(y), np.arange(k))
    assert np.isfinite(ds.x_train).all() and np.isfinite(ds.x_test).all()
    assert f"{n_train} train, {n_test} test" in ds.description
    (row,) = [[c.strip() for c in r.split("|")[1:-1]] for r in datasets.__doc__.splitlines()
              if r.startswith(f"| `{name}` |")]
    assert row[-3:-1] == [str(n_train), str(n_test)] and row[-1] == ds.model
    # A model of the data's modality whose one input has the sample's rank.
    assert ds.input_shape == shape
    card = gaba.zoo.info(ds.model)
    assert card["modality"] == modality
    (spec,) = card["inputs"].values()
    assert len(spec["shape"]) == len(shape) and spec["dtype"] == "float32"


@pytest.mark.parametrize("name", ["basic_motions", "japanese_vowels", "mnist1d"])
def test_official_split_scaled_with_training_statistics(name):
    """Every sample equals the source's, standardized per channel with the
    training split's mean and standard deviation as NumPy computes them here."""
    x_tr, y_tr, x_te, y_te = _source(name)
    ds = _load(name)
    train = np.concatenate(list(x_tr), axis=1)  # (C, all training positions)
    mean, std = train.mean(axis=1), train.std(axis=1)
    np.testing.assert_allclose(ds.mean, mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ds.std, std, rtol=1e-12)
    # Statistics of both splits would move a test sample past the tolerance.
    pooled = np.concatenate([train, *x_te], axis=1)
    first = x_te[0]
    wrong = (first - pooled.mean(axis=1)[:, None]) / pooled.std(axis=1)[:, None]
    assert np.abs(wrong - ds.x_test[0][:, :first.shape[1]]).max() > 10 * ATOL
    names = np.array([c.casefold() for c in ds.classes])
    for x_src, y_src, x, y in ((x_tr, y_tr, ds.x_train, ds.y_train),
                               (x_te, y_te, ds.x_test, ds.y_test)):
        assert list(names[y]) == [str(v).casefold() for v in y_src]
        for a, b in zip(x_src, x):
            n = a.shape[1]
            np.testing.assert_allclose(b[:, :n], (a - mean[:, None]) / std[:, None], atol=ATOL)
            assert not b[:, n:].any()  # padding: the training mean
    if name == "japanese_vowels":
        lengths = [a.shape[1] for a in (*x_tr, *x_te)]
        assert min(lengths) == 7 and max(lengths) == 29


def _unscaled(ds, x):
    return x.astype(np.float64) * ds.std.reshape(1, -1, *[1] * (x.ndim - 2)) + \
        ds.mean.reshape(1, -1, *[1] * (x.ndim - 2))


def _nearest(a, b):
    """For each sample of a, the index of the nearest sample of b."""
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2 * a @ b.T
    return d.argmin(axis=1)


def _check_stratified_partition(ds, x_raw, y_raw, fraction):
    """ds's splits hold every raw sample once, with its label, scaled with
    the training split's statistics, and round(fraction * n) of each class's
    n in test."""
    train = _unscaled(ds, ds.x_train)
    axes = (0, *range(2, train.ndim))
    np.testing.assert_allclose(ds.mean, train.mean(axis=axes), atol=1e-5)
    np.testing.assert_allclose(ds.std, train.std(axis=axes), rtol=1e-5)
    pooled = np.concatenate([train, _unscaled(ds, ds.x_test)])
    source = _nearest(pooled, x_raw)
    np.testing.assert_allclose(pooled, x_raw[source], atol=1e-4)
    assert np.array_equal(np.concatenate([ds.y_train, ds.y_test]), y_raw[source])
    # each raw sample used once (identical raw samples count as one index)
    assert np.array_equal(np.sort(source), np.sort(_nearest(x_raw, x_raw)))
    counts = np.bincount(y_raw)
    assert np.array_equal(np.bincount(ds.y_test), np.round(fraction * counts).astype(int))


def test_digits_seeded_stratified_split():
    _needs("sklearn")
    from sklearn.datasets import load_digits
    raw = load_digits()
    x_raw, y_raw = raw.data.reshape(-1, 1, 8, 8), raw.target
    ds = datasets.load("digits", seed=3)
    _check_stratified_partition(ds, x_raw, y_raw, 0.2)
    again, other = datasets.load("digits", seed=3), datasets.load("digits", seed=4)
    assert np.array_equal(ds.x_test, again.x_test) and np.array_equal(ds.y_test, again.y_test)
    assert ds != again and ds == ds  # compared as objects, not array by array
    again.y_train[:] = 0  # a load's arrays are its own
    assert ds.y_train.any() and datasets.load("digits", seed=3).y_train.any()
    assert not np.array_equal(np.sort(_nearest(_unscaled(ds, ds.x_test), x_raw)),
                              np.sort(_nearest(_unscaled(other, other.x_test), x_raw)))
    assert ds.classes == tuple(str(c) for c in raw.target_names)


def test_test_fraction_resplits_the_pooled_samples():
    x_tr, y_tr, x_te, y_te = _source("basic_motions")
    ds = _load("basic_motions", test_fraction=0.25, seed=1)
    assert len(ds.y_train) == 60 and len(ds.y_test) == 20
    classes = [c.casefold() for c in ds.classes]
    y_raw = np.array([classes.index(v) for v in np.concatenate([y_tr, y_te])])
    _check_stratified_partition(ds, np.concatenate([x_tr, x_te]), y_raw, 0.25)
    again = datasets.load("basic_motions", test_fraction=0.25, seed=1)
    assert np.array_equal(ds.x_train, again.x_train)
    official = datasets.load("basic_motions", seed=5)  # the official split ignores the seed
    assert np.array_equal(official.x_test, datasets.load("basic_motions", seed=6).x_test)


def test_mnist1d_keeps_the_callers_random_state():
    _needs("mnist1d")
    datasets._raw.cache_clear()  # generate, not reuse
    np.random.seed(7)
    random.seed(7)
    datasets.load("mnist1d")
    assert np.random.randint(1 << 30) == np.random.RandomState(7).randint(1 << 30)
    assert random.random() == random.Random(7).random()


@pytest.mark.parametrize("name", EXPECTED)
def test_missing_package_names_it(name, monkeypatch):
    modules = EXPECTED[name][4]
    for m in modules:
        monkeypatch.setitem(sys.modules, m, None)  # import m, find_spec(m): not installed
    pip = {"sklearn": "scikit-learn"}.get(modules[0], modules[0])
    with pytest.raises(ImportError, match=rf"'{name}'.*pip install {pip}.*gaba\[data\]"):
        datasets.load(name)


def test_aeon_copy_when_sktime_is_missing(monkeypatch):
    _needs("aeon")
    _needs("sktime")
    want = datasets.load("japanese_vowels")
    monkeypatch.setitem(sys.modules, "sktime", None)
    got = datasets.load("japanese_vowels")
    assert np.array_equal(got.x_train, want.x_train) and np.array_equal(got.y_test, want.y_test)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(name="cifar10"), ValueError, "unknown data set 'cifar10'; known: digits, basic_motions"),
    (dict(name=3), TypeError, "argument 'name' must be a str"),
    (dict(name="digits", seed=-1), ValueError, "argument 'seed' must be in"),
    (dict(name="digits", seed=1.0), TypeError, "argument 'seed' must be an int"),
    (dict(name="digits", test_fraction=0.0), ValueError, "'test_fraction' must be in (0, 1)"),
    (dict(name="digits", test_fraction=1), ValueError, "'test_fraction' must be in (0, 1)"),
    (dict(name="digits", test_fraction=float("nan")), ValueError, "must be in (0, 1)"),
    (dict(name="digits", test_fraction="0.2"), TypeError, "'test_fraction' must be a float"),
    (dict(name="digits", test_fraction=True), TypeError, "'test_fraction' must be a float"),
])
def test_bad_arguments(kwargs, error, words):
    name = kwargs.pop("name")
    with pytest.raises(error, match=r"gaba\.datasets\.load\(\): .*") as e:
        datasets.load(name, **kwargs)
    assert words in str(e.value)


@pytest.mark.parametrize("fraction, empty", [(0.01, "test"), (0.99, "training")])
def test_test_fraction_that_empties_a_split(fraction, empty):
    _needs("sktime", "aeon")
    with pytest.raises(ValueError, match=f"leaves the {empty} split of 'basic_motions' empty"):
        datasets.load("basic_motions", test_fraction=fraction)
