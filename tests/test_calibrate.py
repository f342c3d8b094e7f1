"""Model.quantize's calibration: batches streamed from any iterable, the C histograms
against np.histogram, each method's range against an independent NumPy reference,
the per-tensor report, keep_float, its save/load, the errors and `gaba bench calib`."""
import gc
import json
import re
import os
import subprocess
import sys
import weakref

import numpy as np
import pytest

import gaba
from gaba import _calib, zoo
from gaba._ext import _gaba

RNG = np.random.default_rng(0)


def _x(m, n, seed=0):
    (name, spec), = m.inputs.items()
    return np.random.default_rng(seed).standard_normal((n, *spec["shape"])).astype(np.float32)


@pytest.fixture(scope="module")
def kws():
    return zoo.create("KeywordSpotMicro", seed=3)


def _state(m, batches):
    """Ranges and histogram state recorded over `batches` (each one array)."""
    ranges = zoo._empty_ranges(m)
    state = _calib.new_state(ranges.shape[1])
    for b in batches:
        _gaba.zoo_calibrate(m._cap, (b,), ranges, *state)
    return ranges, state


# ---- the C histograms ------------------------------------------------------------------


def test_histogram_equals_numpy_of_the_same_values():
    """The input's histogram after one sample (bins of a power-of-two width over its
    min..max), then after a wider batch (the bins doubled until they hold each sample)
    equals np.histogram of every value seen over the same edges; old edges stay edges."""
    m = zoo.create("AnomalyDetectEdge")
    a = _x(m, 1, 1)
    b = _x(m, 8, 2) * 5 + 3  # beyond both ends: doubling down and up
    ranges, (edges, counts) = _state(m, [a])
    r = _gaba.zoo_tensor_names(m._cap).index(next(iter(m.inputs)))
    first, width = edges[r]
    assert np.log2(width) % 1 == 0 and first / width % 1 == 0
    span = (a.max() - a.min()) / _calib.BINS
    assert span <= width < 2 * span and first <= a.min() < first + width
    assert a.max() <= first + _calib.BINS * width
    ref, _ = np.histogram(a.astype(np.float64), first + width * np.arange(_calib.BINS + 1))
    np.testing.assert_array_equal(counts[r], ref)
    _gaba.zoo_calibrate(m._cap, (b,), ranges, edges, counts)
    first2, width2 = edges[r]
    doublings = np.log2(width2 / width)
    assert doublings >= 2 and doublings == round(doublings)
    assert (first - first2) / width % 1 == 0
    every = np.concatenate([a.ravel(), b.ravel()]).astype(np.float64)
    ref, _ = np.histogram(every, first2 + width2 * np.arange(_calib.BINS + 1))
    np.testing.assert_array_equal(counts[r], ref)
    assert (ranges[0, r], ranges[1, r]) == (every.min(), every.max())


def test_histogram_skips_values_that_are_not_finite():
    m = zoo.create("AnomalyDetectEdge")
    a = _x(m, 4)
    a[0, 0, :3] = (np.nan, np.inf, -np.inf)
    ranges, (edges, counts) = _state(m, [a])
    r = _gaba.zoo_tensor_names(m._cap).index(next(iter(m.inputs)))
    assert counts[r].sum() == a.size - 3
    assert edges[r][0] <= np.min(a[np.isfinite(a)])
    a[:] = np.inf  # no finite value anywhere: every method keeps the ranges seen
    for method in _calib.METHODS:
        rows = m.quantize(a, method=method).calibration
        assert rows[0]["range"] == (0.0, np.inf) and rows[0]["clipped"] == 0


def test_histogram_state_is_checked():
    m = zoo.create("AnomalyDetectEdge")
    ranges = zoo._empty_ranges(m)
    edges, counts = _calib.new_state(ranges.shape[1])
    x = (_x(m, 1),)
    with pytest.raises(ValueError, match="even number of bins"):
        _gaba.zoo_calibrate(m._cap, x, ranges, edges, counts[:, :3].copy())
    bad = edges.copy()
    bad[0] = (0.0, -1.0)
    with pytest.raises(ValueError, match="edges row 0"):
        _gaba.zoo_calibrate(m._cap, x, ranges, bad, counts)
    with pytest.raises(ValueError, match="overlap|share"):
        _gaba.zoo_calibrate(m._cap, x, ranges, edges, edges.view(np.uint64))
    with pytest.raises(TypeError, match="uint64"):
        _gaba.zoo_calibrate(m._cap, x, ranges, edges, counts.astype(np.int64))


# ---- batches --------------------------------------------------------------------------------


def test_iterable_minmax_is_the_single_batch_bit_for_bit(kws):
    x = _x(kws, 24, 5)
    x[3] *= 10
    one = kws.quantize(x)
    for many in ([x[:7], x[7:8], x[8:]], (b for b in np.split(x, 4)), iter([{"mfcc": x}]),
                 [(x[:12],), {"mfcc": x[12:]}], [x[:0], x]):
        qm = kws.quantize(many)
        np.testing.assert_array_equal(qm._source[2], one._source[2])
        np.testing.assert_array_equal(qm(x), one(x))


def test_a_generator_is_streamed_batch_by_batch(kws):
    """Each batch is released before the one after next is asked for: memory stays that of
    a batch or two, whatever their number."""
    alive, seen = [], []

    def batches():
        for i in range(6):
            gc.collect()
            seen.append(sum(ref() is not None for ref in alive))
            b = _x(kws, 4, i)
            alive.append(weakref.ref(b))
            yield b

    qm = kws.quantize(batches(), method="entropy")
    assert max(seen) <= 2 and len(seen) == 6
    assert qm.calibration.title.endswith("over 24 samples")


def test_histogram_methods_stream_as_one_batch(kws):
    """The histograms accumulate over batches as over their concatenation."""
    x = _x(kws, 16, 2)
    one, many = _state(kws, [x]), _state(kws, [x[:5], x[5:]])
    np.testing.assert_array_equal(one[0], many[0])
    for r in np.flatnonzero(one[0][0] <= one[0][1]):  # ranges reached
        (f1, w1), (f2, w2) = one[1][0][r], many[1][0][r]
        c1, c2 = one[1][1][r], many[1][1][r]
        # the same values over edges that differ by doublings: merged to the coarser, equal
        k = round(np.log2(max(w1, w2) / min(w1, w2)))
        fine, coarse = (c1, c2) if w1 < w2 else (c2, c1)
        f_fine, f_coarse = (f1, f2) if w1 < w2 else (f2, f1)
        shift = round((f_fine - f_coarse) / min(w1, w2))
        padded = np.zeros(shift + fine.size + (1 << k), np.uint64)
        padded[shift:shift + fine.size] = fine
        merged = padded[: coarse.size << k].reshape(coarse.size, 1 << k).sum(1)
        np.testing.assert_array_equal(merged, coarse)


# ---- the methods against NumPy ---------------------------------------------------------


def _synthetic(n=200_000, bins=512, outliers=0.001, seed=0):
    """Gaussian values with a fraction ten times wider, and their histogram."""
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(n) * 2 + 0.5
    v[rng.random(n) < outliers] *= 10
    counts, edges = np.histogram(v, bins)
    return v, counts.astype(np.uint64), edges[0], edges[1] - edges[0]


def test_percentile_is_numpys_within_a_bin():
    v, counts, first, width = _synthetic()
    for p in (99.0, 99.9, 99.99):
        a, b = _calib.choose("percentile", counts, first, width, v.min(), v.max(), p)
        lo, hi = np.percentile(v, [100 - p, p])
        assert abs(a - lo) <= width and abs(b - hi) <= width


def test_percentile_through_quantize(kws):
    x = _x(kws, 32, 4)
    qm = kws.quantize(x, method="percentile", percentile=99.5)
    row = qm.calibration[0]
    assert row["tensor"] == "mfcc" and row["layer"] == "(input)"
    assert (row["min"], row["max"]) == (x.min(), x.max())
    width = (x.max() - x.min()) / _calib.BINS
    lo, hi = np.percentile(x, [0.5, 99.5])
    np.testing.assert_allclose(row["range"], (lo, hi), atol=width * 1.01)
    assert abs(row["clipped"] - np.mean((x < row["range"][0]) | (x > row["range"][1]))) < 0.001
    for r in qm.calibration:  # a range that holds every value seen clips none
        if r["range"] == (min(r["min"], 0), max(r["max"], 0)):
            assert r["clipped"] == 0
    assert qm.input_qparams["mfcc"][0] == pytest.approx((row["range"][1] - row["range"][0]) / 255,
                                                       rel=1e-6)


def _brute(cost, edges, lo, hi):
    """The least cost(a, b) over every pair of clip values on the bin edges, the lower
    at most 0 and the upper at least 0, neither beyond [lo, hi]."""
    a = np.unique(np.clip(edges[edges <= 0], lo, hi))
    b = np.unique(np.clip(edges[edges >= 0], lo, hi))
    return min(cost(x, y) for x in a for y in b)


def _mse(v, a, b):
    """Expected squared int8 error over values v for the grid [min(a, 0), max(b, 0)]."""
    s = (max(b, 0) - min(a, 0)) / 255
    inside = (v >= a) & (v <= b)
    return (np.sum((v[v < a] - a) ** 2) + np.sum((v[v > b] - b) ** 2)
            + inside.sum() * s * s / 12)


def test_mse_is_the_least_expected_error():
    """mse's choice costs no more than the best pair of edges (exhaustive, on the bin centres)
    and less than minmax on the values, whose outliers it clips (not all: 0.1% of the values
    clipped to the bulk would cost more than the rounding they cause)."""
    v, counts, first, width = _synthetic(bins=256)
    edges = first + width * np.arange(counts.size + 1)
    centres = np.repeat(edges[:-1] + width / 2, counts.astype(np.int64))
    a, b = _calib.choose("mse", counts, first, width, v.min(), v.max(), 99.99)
    best = _brute(lambda x, y: _mse(centres, x, y), edges, v.min(), v.max())
    assert _mse(centres, a, b) <= best * (1 + 1e-9)
    assert _mse(v, a, b) < _mse(v, v.min(), v.max())
    assert a > v.min() + width and b < v.max() - width


def _kl(counts, edges, i, j):
    """KL(P || Q) of TensorRT's entropy calibration for the clip [edges[i], edges[j]] on
    a 256-level grid that holds 0, the bin holding 0 counted as its neighbour."""
    c = counts.astype(np.float64).copy()
    z = np.searchsorted(edges, 0.0, side="right") - 1
    if 0 <= z < c.size:
        c[z] = c[z + 1]
    p = c[i:j].copy()
    p[0] += c[:i].sum()
    p[-1] += c[j:].sum()
    lo, hi = min(edges[i], 0), max(edges[j], 0)
    s = (hi - lo) / 255
    centres = (edges[i:j] + edges[i + 1:j + 1]) / 2
    levels = np.clip(np.rint((centres - lo) / s), 0, 255)
    q = np.zeros_like(p)
    for lv in np.unique(levels):
        at = levels == lv
        nz = at & (p > 0)
        if nz.any():
            q[nz] = c[i:j][at].sum() / nz.sum()

    def smooth(h):
        zero = h == 0
        h = np.where(zero, 1e-4, h - 1e-4 * zero.sum() / (~zero).sum())
        return h / h.sum()

    p, q = smooth(p), smooth(q)
    return float(np.sum(p * np.log(p / q)))


def test_entropy_is_near_the_least_kl_and_clips_outliers():
    """entropy's pair is within 2% of the least KL over every pair of edges 8 bins apart
    (its coordinate descent is not exhaustive); it clips the outliers, and for uniform
    values it keeps almost the whole range."""
    v, counts, first, width = _synthetic(bins=1024, outliers=0.0001)
    edges = first + width * np.arange(counts.size + 1)
    a, b = _calib.choose("entropy", counts, first, width, v.min(), v.max(), 99.99)
    i, j = int(round((a - first) / width)), int(round((b - first) / width))
    if a == v.min():
        i = 0
    if b == v.max():
        j = counts.size
    zero = int((0 - first) // width)
    best = min(_kl(counts, edges, x, y) for x in range(0, zero + 1, 8)
               for y in range(zero + 1, counts.size + 1, 8) if y - x >= 255)
    assert _kl(counts, edges, i, j) <= best * 1.02
    assert b - a < 0.5 * (v.max() - v.min())
    u = np.random.default_rng(1).uniform(-1, 3, 100_000)
    counts, e = np.histogram(u, 1024)
    a, b = _calib.choose("entropy", counts.astype(np.uint64), e[0], e[1] - e[0], u.min(),
                         u.max(), 99.99)
    assert a < -0.95 and b > 2.9


# ---- the report ---------------------------------------------------------------------------


def test_report_lists_every_range_with_its_choice(kws):
    x = _x(kws, 16)
    qm = kws.quantize(x)
    rep = qm.calibration
    assert isinstance(rep, zoo.Calibration)
    layers = {r["name"]: r for r in kws.layers}
    assert [r["tensor"] for r in rep] == ["mfcc"] + [r["output"] for r in kws.layers]
    assert all(r["method"] == "minmax" and r["clipped"] == 0 for r in rep)
    assert all(r["layer"] in layers for r in rep[1:])
    out = rep[-1]
    y = kws(x)
    assert (out["min"], out["max"]) == (y.min(), y.max())
    assert out["range"] == (min(y.min(), 0), max(y.max(), 0))
    text = repr(rep)
    assert text.splitlines()[1].split() == ["tensor", "layer", "min", "max", "range", "clipped",
                                            "method"]
    assert len(text.splitlines()) == 3 + len(rep)
    assert "<table>" in rep._repr_html_()
    assert kws.quantize(x, method="mse").calibration[0]["method"] == "mse"


def test_report_names_a_node_range():
    m = zoo.create("EmotionRecogNano")
    rep = m.quantize(_x(m, 4), method="percentile").calibration
    tensors = {r["tensor"]: r for r in rep}
    assert {"attn.q", "attn.k", "attn.v", "attn.scores", "attn.ctx"} <= set(tensors)
    assert tensors["attn.scores"]["layer"] == "attn"
    assert all(r["range"][0] <= 0 <= r["range"][1] for r in rep)


@pytest.mark.parametrize("method", ["percentile", "mse", "entropy"])
def test_clipping_methods_beat_minmax_on_outliers(kws, method):
    """Calibrated on data with 0.1% of the values x10, each clipping method's int8 model is
    closer to float32 on clean data than minmax's, percentile's by 1 dB at least (the
    table in docs/int8.md: all models)."""
    x = _x(kws, 32, 6)
    rng = np.random.default_rng(6)
    x[rng.random(x.shape) < 0.001] *= 10
    clean = _x(kws, 32, 7)
    base = zoo.compare(kws, kws.quantize(x), clean)["sqnr_db"]
    gain = zoo.compare(kws, kws.quantize(x, method=method), clean)["sqnr_db"] - base
    assert gain > (1 if method == "percentile" else 0.2)


# ---- keep_float ---------------------------------------------------------------------------


def test_keep_float_runs_the_layer_in_float32(kws):
    x = _x(kws, 8)
    default = kws.quantize(x)
    qm = kws.quantize(x, keep_float=["fc", "dw2"])
    assert qm.keep_float == ["dw2", "fc"]  # in layer order
    kinds, before = dict(qm.layer_dtypes), dict(default.layer_dtypes)
    assert before["fc"] == before["dw2"] == "int8"
    assert kinds["fc"] == kinds["dw2"] == "float32"
    assert {k for k, v in kinds.items() if v != before[k]} == {"fc", "dw2"}
    assert set(qm.float_layers) == {"fc", "dw2"} and not qm.fully_int8
    assert qm.weight_bytes > default.weight_bytes  # float32 weights


def test_keep_float_everywhere_is_the_float_model_between_the_edges(kws):
    """Every layer kept: the float model on the input as its int8 edge holds it, the output
    quantized and dequantized at its edge (gaba's kernels, bit for bit); closer to float32
    than the int8 model."""
    x, clean = _x(kws, 8), _x(kws, 16, 9)
    qm = kws.quantize(x, keep_float=[r["name"] for r in kws.layers])
    assert qm.float_layers == [r["name"] for r in kws.layers]
    s, z = qm.input_qparams["mfcc"]
    xin = np.float32(s) * (qm.quantize_input(clean).astype(np.float32) - np.float32(z))
    y = kws(xin)
    so, zo = qm.output_qparams["logits"]
    want = qm.dequantize_output(_gaba.qnn_quantize(y, so, zo))
    np.testing.assert_array_equal(qm(clean), want)
    assert (zoo.compare(kws, qm, clean)["sqnr_db"]
            > zoo.compare(kws, kws.quantize(x), clean)["sqnr_db"])


def test_keep_float_round_trips_through_save(kws, tmp_path):
    x = _x(kws, 8)
    qm = kws.quantize(x, method="entropy", keep_float=["pw1"])
    path = tmp_path / "q.npz"
    qm.save(path)
    back = zoo.load(path)
    assert back.keep_float == ["pw1"] and back.layer_dtypes == qm.layer_dtypes
    assert back.calibration is None
    np.testing.assert_array_equal(back(x), qm(x))
    np.testing.assert_array_equal(back(qm.quantize_input(x), raw=True),
                                  qm(qm.quantize_input(x), raw=True))


def _rewrite_meta(src, dst, edit):
    with np.load(src) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays["__gaba_meta__"]))
    edit(meta)
    arrays["__gaba_meta__"] = np.array(json.dumps(meta))
    np.savez(dst, **arrays)


def test_a_file_without_keep_float_keeps_none_and_a_bad_one_is_refused(kws, tmp_path):
    qm = kws.quantize(_x(kws, 8))
    qm.save(tmp_path / "q.npz")
    _rewrite_meta(tmp_path / "q.npz", tmp_path / "old.npz", lambda m: m.pop("keep_float"))
    old = zoo.load(tmp_path / "old.npz")
    assert old.keep_float == [] and old.fully_int8 == qm.fully_int8
    for bad in (["no_such_layer"], [3], "fc"):
        _rewrite_meta(tmp_path / "q.npz", tmp_path / "bad.npz",
                      lambda m: m.__setitem__("keep_float", bad))
        with pytest.raises(gaba.ModelFileError, match="keep_float"):
            zoo.load(tmp_path / "bad.npz")


# ---- errors -------------------------------------------------------------------------------


def test_errors_name_quantize_calibration_and_the_batch(kws):
    x = _x(kws, 4)
    q = re.escape("KeywordSpotMicro.quantize()")
    with pytest.raises(ValueError, match=rf"{q}.*calibration holds no sample"):
        kws.quantize([])
    with pytest.raises(ValueError, match=rf"{q}.*calibration holds no sample"):
        kws.quantize(iter([x[:0]]))
    with pytest.raises(TypeError, match=rf"{q}: calibration batch 2 is a list; expected one "
                                        r"array, a dict or a tuple of the inputs: mfcc"):
        kws.quantize(iter([x, x, [x]]))
    with pytest.raises(ValueError, match=rf"{q}: calibration batch 1: input 'mfcc' must have "
                                         r"shape .*; expected one array"):
        kws.quantize([x, x[:, :3]])
    with pytest.raises(TypeError, match=rf"{q}: calibration batch 0: .*float32"):
        kws.quantize([x.astype(np.float64)])
    with pytest.raises(TypeError, match=rf"{q}: calibration batch 0: takes 1 input"):
        kws.quantize((x, x))
    with pytest.raises(TypeError, match=rf"{q}: calibration must be a batch or an iterable"):
        kws.quantize(3)
    with pytest.raises(ValueError, match="method must be one of 'minmax', 'percentile'"):
        kws.quantize(x, method="kl")
    with pytest.raises(ValueError, match=r"percentile must be in \(50, 100\]"):
        kws.quantize(x, method="percentile", percentile=40)
    with pytest.raises(TypeError, match="percentile must be a number"):
        kws.quantize(x, percentile="99")
    with pytest.raises(ValueError, match=r"keep_float names 'fcc'.*close names: \['fc'"):
        kws.quantize(x, keep_float=["fcc"])
    with pytest.raises(TypeError, match="keep_float must be a list of layer names"):
        kws.quantize(x, keep_float="fc")


def test_multi_input_batches(kws):
    """A tuple is one batch of several inputs; a list, several batches."""
    m = zoo.create("SensorFusionNano")
    rng = np.random.default_rng(0)
    x = {k: rng.standard_normal((6, *v["shape"])).astype(np.float32) for k, v in m.inputs.items()}
    one = m.quantize(x)
    as_tuple = m.quantize(tuple(x.values()))
    listed = m.quantize([{k: v[:2] for k, v in x.items()}, tuple(v[2:] for v in x.values())])
    for qm in (as_tuple, listed):
        np.testing.assert_array_equal(qm._source[2], one._source[2])
    with pytest.raises(TypeError, match=r"batch 0: missing input\(s\) \['env'\].*a list or other "
                                        "iterable is read as several batches"):
        m.quantize(list(x.values()))


# ---- the table's command -------------------------------------------------------------------


def test_bench_calib_quick_through_the_cli(tmp_path):
    where = os.path.dirname(os.path.dirname(os.path.abspath(gaba.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (where, os.environ.get("PYTHONPATH")) if p))
    out = tmp_path / "calib.json"
    got = subprocess.run([sys.executable, "-m", "gaba", "bench", "calib", "--quick", "--json",
                          str(out)], capture_output=True, text=True, env=env, timeout=600,
                         cwd=tmp_path)  # not the clone's root, whose gaba/ has no extension
    assert got.returncode == 0, got.stderr
    lines = got.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("| model"))
    assert lines[head].split(" | ")[2:6] == list(_calib.METHODS)
    assert [line.split(" | ")[0] for line in lines[head + 2:head + 5]] == [
        "| KeywordSpotMicro", "| AnomalyDetectEdge", "| EmotionRecogNano"]
    assert lines[head + 5].startswith("| **mean")
    data = json.loads(out.read_text())
    assert data["benchmark"] == "calib" and len(data["rows"]) == 3
    for row in data["rows"]:
        assert all(np.isfinite(row[k]) for k in _calib.METHODS + ("clean",))
        assert row["best"] in _calib.METHODS
