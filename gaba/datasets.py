"""Real data sets that installed packages carry inside them, loaded offline.

>>> import gaba
>>> gaba.datasets.names()
('digits', 'basic_motions', 'japanese_vowels', 'mnist1d')

``load(name)`` reads one of them from the package that ships it (the ``data``
extra installs all three: ``pip install "gaba[data]"``). Nothing is
downloaded and no file is written: the loaders read the data files inside
the installed wheels, or generate the data from the package's templates.

| name | package | sample (C, ...) | classes | train | test | suggested model |
| --- | --- | --- | --- | --- | --- | --- |
| `digits` | scikit-learn | (1, 8, 8) | 10 | 1438 | 359 | EfficientEdgeLite |
| `basic_motions` | sktime or aeon | (6, 100) | 4 | 40 | 40 | FallDetectMicro |
| `japanese_vowels` | sktime or aeon | (12, 29) | 9 | 270 | 370 | KeywordSpotMicro |
| `mnist1d` | mnist1d | (1, 40) | 10 | 4000 | 1000 | FallDetectMicro |

Splits: BasicMotions, JapaneseVowels and MNIST-1D keep the official
train/test split. The digits have none, so they get a stratified 80/20 split
drawn from ``seed``. Give ``test_fraction`` to pool a data set's samples and
draw a stratified split of that size instead.

Layout and scaling: samples are float32, channel-major as gaba's models read
them: an image is (1, H, W), a signal (C, L). Each channel is standardized
with the mean and standard deviation of that channel over every training
sample and position (the test split never contributes). ``Dataset.mean`` and
``Dataset.std`` keep those statistics for scaling new data.

JapaneseVowels utterances last 7 to 29 frames. Each one is padded at its end
to 29 frames, the longest in either split, and no frame is cropped. The
statistics leave the padding out, and the padded frames are 0 after scaling,
which is the channel's training mean.

The suggested model (``Dataset.model``, ``input_shape``, ``num_classes``) is a
zoo architecture of the data's modality whose layers accept the sample's
shape. For the digits that is EfficientEdgeLite, an image classifier with a
stride-4 patch stem and global pooling. For BasicMotions and MNIST-1D it is
FallDetectMicro, a 1-D CNN and a GRU over (C, L) sensor windows. For
JapaneseVowels it is KeywordSpotMicro, a 1-D CNN over cepstral frames with
global pooling, so any length works.
"""
import functools
import importlib.util
import numbers
import random
from collections import namedtuple
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._args import int_arg

__all__ = ["names", "load", "Dataset"]


@dataclass(frozen=True, eq=False)  # arrays have no == that gives a bool
class Dataset:
    """A data set split into train and test, as ``load`` returns it.

    Attributes
    ----------
    name : str
        The name ``load`` was given.
    x_train, x_test : numpy.ndarray
        float32 samples, (N, C, ...) channel-major, standardized per channel
        with the training split's statistics.
    y_train, y_test : numpy.ndarray
        int64 labels in 0..num_classes-1, indexing `classes`.
    classes : tuple of str
        The class names, in label order.
    description : str
        Where the data comes from, what a sample is, and the split.
    model : str
        The suggested zoo architecture (a name in ``gaba.zoo.names()``).
    input_shape : tuple of int
        One sample's shape, what that model is built for.
    num_classes : int
        ``len(classes)``.
    mean, std : numpy.ndarray
        float64 (C,): the per-channel statistics of the raw training split
        that the samples were standardized with: ``x = (raw - mean) / std``.
    """
    name: str
    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    classes: tuple
    description: str = field(repr=False)
    model: str
    input_shape: tuple
    num_classes: int
    mean: np.ndarray = field(repr=False)
    std: np.ndarray = field(repr=False)


# packages: (module, pip name) pairs, any one of which provides the data.
# loader(module) -> (x, y, n_train, classes), with x float64 (N, C, ...)
# holding NaN where a sample is padded; the first n_train samples are the
# official training split (n_train None: there is none, draw one with
# test_fraction).
_Spec = namedtuple("_Spec", "packages loader test_fraction model description")


def _read_ts(path):
    """A .ts file of the UEA/UCR time series classification archive: a list
    of (C, L) float64 arrays, int64 labels, the class names its header lists."""
    xs, ys, classes = [], [], None
    with open(path) as f:
        lines = (line.strip() for line in f)
        for line in lines:
            if line.lower().startswith("@classlabel"):
                classes = line.split()[2:]
            elif line.lower() == "@data":
                break
        for line in lines:
            if line:
                *dims, label = line.split(":")
                xs.append(np.array([d.split(",") for d in dims], np.float64))
                ys.append(classes.index(label))
    return xs, np.array(ys, np.int64), tuple(classes)


def _ts_loader(problem, length):
    """The loader of a problem that sktime and aeon both ship, its two .ts
    files read straight from the package folder (importing aeon would pull in
    numba, whose releases pin NumPy below the newest)."""
    def load(module):
        folder = Path(importlib.util.find_spec(module).submodule_search_locations[0])
        folder = folder / "datasets" / "data" / problem
        x_tr, y_tr, classes = _read_ts(folder / f"{problem}_TRAIN.ts")
        x_te, y_te, _ = _read_ts(folder / f"{problem}_TEST.ts")
        xs = x_tr + x_te
        x = np.full((len(xs), xs[0].shape[0], length), np.nan)
        for i, s in enumerate(xs):
            x[i, :, :min(s.shape[1], length)] = s[:, :length]
        return x, np.concatenate([y_tr, y_te]), len(y_tr), classes
    return load


def _digits(module):
    from sklearn.datasets import load_digits
    d = load_digits()
    return d.data.reshape(-1, 1, 8, 8), d.target.astype(np.int64), None, tuple(
        str(c) for c in d.target_names)


def _mnist1d(module):
    from mnist1d.data import get_dataset_args, make_dataset
    # make_dataset seeds Python's and NumPy's global generators; the caller's
    # are put back as they were.
    state = random.getstate(), np.random.get_state()
    try:
        d = make_dataset(get_dataset_args())
    finally:
        random.setstate(state[0])
        np.random.set_state(state[1])
    x = np.concatenate([d["x"], d["x_test"]])[:, None, :]
    y = np.concatenate([d["y"], d["y_test"]]).astype(np.int64)
    return x, y, len(d["y"]), tuple("0123456789")


_TS = (("sktime", "sktime"), ("aeon", "aeon"))
_SPECS = {
    "digits": _Spec(
        (("sklearn", "scikit-learn"),), _digits, 0.2, "EfficientEdgeLite",
        "scikit-learn's handwritten digits (UCI optdigits test set): 1797 grey "
        "8x8 images with 17 levels, the digits 0-9. There is no official split: "
        "a stratified 80/20 split is drawn from the seed (1438 train, 359 test)."),
    "basic_motions": _Spec(
        _TS, _ts_loader("BasicMotions", 100), None, "FallDetectMicro",
        "BasicMotions (UEA archive, as sktime and aeon ship it): a smartwatch's "
        "3-axis accelerometer and gyroscope, 6 channels x 100 steps (10 s at "
        "10 Hz), while the wearer stands, walks, runs or plays badminton. The "
        "official split: 40 train, 40 test."),
    "japanese_vowels": _Spec(
        _TS, _ts_loader("JapaneseVowels", 29), None, "KeywordSpotMicro",
        "JapaneseVowels (UCI, as sktime and aeon ship it): 12 LPC cepstrum "
        "coefficients per frame of the vowel pair /ae/ said by one of 9 male "
        "speakers, the class. 7 to 29 frames, padded at the end to 29 (0 after "
        "scaling). The official split: 270 train, 370 test."),
    "mnist1d": _Spec(
        (("mnist1d", "mnist1d"),), _mnist1d, None, "FallDetectMicro",
        "MNIST-1D, generated offline by the mnist1d package from its ten digit "
        "templates with its default recipe and seed (42): 1 channel x 40 steps, "
        "10 classes. The package's split: 4000 train, 1000 test."),
}


def names():
    """The names ``load`` accepts.

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> import gaba
    >>> "digits" in gaba.datasets.names()
    True
    """
    return tuple(_SPECS)


@functools.lru_cache(maxsize=None)
def _raw(name, module):
    x, y, n_train, classes = _SPECS[name].loader(module)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y, n_train, classes


def _provider(name, packages):
    """The first of `packages` installed (found, not imported), or ImportError."""
    for module, _ in packages:
        if importlib.util.find_spec(module) is not None:
            return module
    pips = " or ".join(pip for _, pip in packages)
    raise ImportError(f"gaba.datasets.load(): the data set {name!r} comes with {pips}, which "
                      f"is not installed: pip install {packages[0][1]}, or pip install "
                      f"\"gaba[data]\" for every data set", name=packages[0][0])


def _stratified_test_mask(y, fraction, rng):
    """True for the samples drawn for the test split: round(fraction * n) of
    each class's n, so the classes keep their proportions."""
    test = np.zeros(len(y), bool)
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        test[rng.permutation(members)[:round(fraction * len(members))]] = True
    return test


def load(name, *, seed=0, test_fraction=None):
    """Load a data set, split, standardized, in gaba's layout.

    Parameters
    ----------
    name : str
        One of ``names()``.
    seed : int, default 0
        The seed of a drawn split: the digits' default split, or the split
        `test_fraction` asks for. The official splits do not depend on it.
    test_fraction : float in (0, 1), optional
        Pool the training and test samples and draw a stratified split with
        this share of each class in the test split. None: the official split,
        and for the digits (which have none) a drawn 0.2.

    Returns
    -------
    Dataset
        Samples float32 (N, C, ...), labels int64, class names, the
        description and the suggested zoo model with its input shape and
        class count. See the module's documentation for the layout and scaling.

    Raises
    ------
    TypeError
        `name` not a str, `seed` not an int, `test_fraction` not a real number.
    ValueError
        An unknown `name` (the message lists the known ones), a negative
        `seed`, a `test_fraction` outside (0, 1) or one that leaves a split
        empty.
    ImportError
        The package that ships the data set is not installed; the message
        names it.

    Examples
    --------
    >>> import gaba
    >>> ds = gaba.datasets.load("digits")  # doctest: +SKIP
    >>> ds.x_train.shape, ds.x_test.shape, ds.model, ds.input_shape  # doctest: +SKIP
    ((1438, 1, 8, 8), (359, 1, 8, 8), 'EfficientEdgeLite', (1, 8, 8))
    """
    func = "gaba.datasets.load"
    if not isinstance(name, str):
        raise TypeError(f"{func}(): argument 'name' must be a str, got {type(name).__name__}")
    if name not in _SPECS:
        raise ValueError(f"{func}(): unknown data set {name!r}; known: {', '.join(_SPECS)}")
    seed = int_arg(seed, func, "seed", 0, 2**63 - 1)
    if test_fraction is not None:
        if isinstance(test_fraction, bool) or not isinstance(test_fraction, numbers.Real):
            raise TypeError(f"{func}(): argument 'test_fraction' must be a float in (0, 1) "
                            f"or None, got {type(test_fraction).__name__}")
        if not 0 < test_fraction < 1:
            raise ValueError(f"{func}(): argument 'test_fraction' must be in (0, 1), "
                             f"got {test_fraction!r}")
    spec = _SPECS[name]
    x, y, n_train, classes = _raw(name, _provider(name, spec.packages))
    fraction = spec.test_fraction if test_fraction is None else float(test_fraction)
    if fraction is None:
        test = np.arange(len(y)) >= n_train
    else:
        test = _stratified_test_mask(y, fraction, np.random.default_rng(seed))
        if test.all() or not test.any():
            raise ValueError(f"{func}(): test_fraction={test_fraction!r} leaves the "
                             f"{'training' if test.all() else 'test'} split of {name!r} empty")
    # Statistics per channel over the training samples and positions; NaN
    # marks padding, which they leave out and which becomes 0 after scaling.
    axes = (0,) + tuple(range(2, x.ndim))
    mean = np.nanmean(x[~test], axis=axes)
    std = np.nanstd(x[~test], axis=axes)
    std[std == 0] = 1.0  # a constant channel is only centred
    shape = (1, -1) + (1,) * (x.ndim - 2)
    scaled = np.nan_to_num((x - mean.reshape(shape)) / std.reshape(shape), nan=0.0)
    scaled = scaled.astype(np.float32)
    return Dataset(name=name, x_train=scaled[~test], y_train=y[~test],
                   x_test=scaled[test], y_test=y[test], classes=classes,
                   description=spec.description, model=spec.model,
                   input_shape=tuple(x.shape[1:]), num_classes=len(classes),
                   mean=mean, std=std)
