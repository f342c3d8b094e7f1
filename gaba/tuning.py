"""The GEMM backend selector: gaba.tune() and its cache file.

``backend="auto"`` looks up a small table: for each shape class (see
``_gaba.gemm_auto_classes()``: "gemv", "narrow", "tiny", "s32" ... "s1024",
"huge")
and for one thread or more, the backend that is faster there. gaba ships
defaults; :func:`tune` measures this machine and stores its winners in
``$GABA_CACHE_DIR/gemm_tune.json`` (default ``~/.cache/gaba/``), which
``import gaba`` loads when it was written by the same gaba version for the
same CPU, ISA level and OpenBLAS core. Both backends give the same results
within float32 rounding: the table changes speed, never results.
"""
import os
import time

from ._ext import _gaba

CACHE_VERSION = 1
CACHE_NAME = "gemm_tune.json"

# One representative (M, N, K) per shape class, in class order.
_SHAPES = {
    "gemv": (1, 1000, 256),
    "narrow": (2304, 16, 27),
    "tiny": (16, 16, 16),
    "s32": (32, 32, 32),
    "s64": (64, 64, 64),
    "s128": (128, 128, 128),
    "s256": (256, 256, 256),
    "s512": (512, 512, 512),
    "s1024": (1024, 1024, 1024),
    "huge": (1600, 1600, 1600),
}

_loaded_from = None


def cache_path():
    """Where the tuning table lives: $GABA_CACHE_DIR or ~/.cache/gaba, + gemm_tune.json."""
    root = os.environ.get("GABA_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache",
                                                            "gaba")
    return os.path.join(root, CACHE_NAME)


def _fingerprint():
    from ._version import __version__

    cpu, isa = _gaba.gemm_machine()
    return {"gaba": __version__, "cpu": cpu, "isa": isa}


def _apply(table):
    classes = _gaba.gemm_auto_classes()
    for threads_key, row in table.items():
        threads = int(threads_key)
        for name, backend in row.items():
            if name in classes:
                _gaba.gemm_auto_set(classes.index(name), threads, backend)


def current_table():
    """The table auto uses now: {"1": {class: backend}, "2": {...}}."""
    classes = _gaba.gemm_auto_classes()
    return {str(t): {name: _gaba.gemm_auto_get(i, t) for i, name in enumerate(classes)}
            for t in (1, 2)}


def load_cache():
    """Apply the cache file when it matches this build and machine; returns its path or None.

    The OpenBLAS core is checked only when the file is applied, without
    loading OpenBLAS at import: a file measured under another core type is
    still trusted (re-run gaba.tune() after changing OPENBLAS_CORETYPE).
    """
    global _loaded_from
    path = cache_path()
    if not os.path.exists(path):
        return None
    import json  # here, not at import: most processes have no cache file

    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    if data.get("version") != CACHE_VERSION or data.get("fingerprint") != _fingerprint():
        return None
    try:
        _apply(data["table"])
    except (KeyError, TypeError, ValueError):
        return None
    _loaded_from = path
    return path


def table_source():
    """"built-in defaults" or the path of the cache file in use."""
    return _loaded_from or "built-in defaults"


def _median_time(fn, min_time=0.03, repeats=5):
    fn()
    calls = 1
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    calls = max(1, int(min_time / repeats / once))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls)
    samples.sort()
    return samples[len(samples) // 2]


def tune(threads=None, classes=None, save=True):
    """Time the native and OpenBLAS backends per shape class and make auto pick the winners.

    Parameters
    ----------
    threads : list of int, optional
        Thread counts to tune (default: 1 and, when the pool has more, its
        size). Entries for one thread and for more than one are kept apart.
    save : bool
        Write the table to :func:`cache_path` (creating the folder), so
        later processes start with it.
    classes : list of str, optional
        Shape classes to measure (default: all; the others keep their
        current entry).

    Returns
    -------
    dict
        ``{"table": {threads: {class: backend}}, "timings_us": {...},
        "path": str or None}``.

    Raises
    ------
    TypeError
        If `threads` is not an int or a list of ints.
    ValueError
        For a thread count outside 1..256, or an unknown shape class (the
        message lists the known ones).

    Examples
    --------
    >>> import gaba
    >>> result = gaba.tune(threads=[1], classes=["s64"], save=False)
    >>> result["table"]["1"]["s64"] in ("native", "openblas")
    True
    """
    import json

    import numpy as np

    pool = _gaba.get_num_threads()
    if threads is None:
        threads = [1] + ([pool] if pool > 1 else [])
    elif isinstance(threads, int):
        threads = [threads]
    if any(not isinstance(t, int) or isinstance(t, bool) for t in threads):
        raise TypeError(f"tune(): threads must be an int or a list of ints, got {threads!r}")
    if any(not 1 <= t <= 256 for t in threads):
        raise ValueError(f"tune(): thread counts must be in 1..256, got {threads!r}")
    unknown = sorted(set(classes or ()) - set(_SHAPES))
    if unknown:
        raise ValueError(f"tune(): unknown shape class(es) {unknown}; known: {sorted(_SHAPES)}")
    rng = np.random.default_rng(0)
    table, timings = {}, {}
    try:
        for t in threads:
            _gaba.set_num_threads(t)
            row, times = {}, {}
            for name, (m, n, k) in _SHAPES.items():
                if classes is not None and name not in classes:
                    continue
                a = rng.standard_normal((m, k)).astype(np.float32)
                b = rng.standard_normal((k, n)).astype(np.float32)
                out = np.empty((m, n), np.float32)
                # Each backend timed in its own block: OpenBLAS's threads keep
                # spinning after a call and would slow an interleaved peer.
                result = {}
                for backend in ("native", "openblas"):
                    try:
                        result[backend] = _median_time(
                            lambda: _gaba.gemm(a, b, out, 1.0, 0.0, False, False, None, None,
                                               backend))
                    except NotImplementedError:
                        continue
                row[name] = min(result, key=result.get)
                times[name] = {k2: round(v * 1e6, 2) for k2, v in result.items()}
            table[str(t)] = row
            timings[str(t)] = times
    finally:
        _gaba.set_num_threads(pool)
    _apply(table)
    path = None
    if save:
        path = cache_path()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        payload = {"version": CACHE_VERSION, "fingerprint": _fingerprint(),
                   "openblas_corename": _gaba.build_info()["openblas_corename"],
                   "table": table, "timings_us": timings,
                   "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        tmp = path + f".{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            json.dump(payload, f, indent=2)
        os.replace(tmp, path)
        global _loaded_from
        _loaded_from = path
    return {"table": table, "timings_us": timings, "path": path}
