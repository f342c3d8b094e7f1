"""The model zoo: every model's shapes, determinism, finiteness, batch
consistency, fast-vs-reference agreement, save/load, parameter budget and
recorded arena size; plus the Python API's contracts and errors."""
import json
import os
import threading
import time

import numpy as np
import pytest

import gaba
from gaba import zoo
from gaba._ext import _gaba
from gaba.benchmarks.bench_zoo import make_inputs

ALL = zoo.names()
THIRTY = zoo.names("all30")
ARENA = json.load(open(os.path.join(os.path.dirname(__file__), "data", "zoo",
                                    "arena_sizes.json")))["arena_bytes"]


def inputs_for(m, batch, seed=0):
    return make_inputs(m, batch, seed)


def as_dict(m, y):
    return y if isinstance(y, dict) else {next(iter(m.outputs)): y}


_cache = {}


def model(name):
    if name not in _cache:
        _cache[name] = zoo.create(name, seed=0)
    return _cache[name]


def test_catalogue():
    assert len(THIRTY) == 30 and len(ALL) == 34
    for cat in ("vision", "audio", "sensor"):
        assert len(zoo.names(cat)) == 10
    assert zoo.names("reference") == ["DSCNN_KWS", "MobileNetV1_VWW", "ResNet8",
                                      "DenseAutoencoder_AD"]
    with pytest.raises(ValueError):
        zoo.names("nope")


def test_modality():
    by = {mod: zoo.names(modality=mod) for mod in zoo.MODALITIES}
    assert sorted(n for names in by.values() for n in names) == sorted(ALL)  # a partition
    # the text models are exactly those whose inputs are token ids
    tokens = [n for n in ALL if all(v["dtype"] == "int32" for v in zoo.info(n)["inputs"].values())]
    assert by["text"] == tokens and len(tokens) == 5
    assert zoo.names("audio", modality="text") == ["SentimentAnalysisMicro", "IntentClassifyNano",
                                                   "LanguageDetectNano"]
    assert zoo.names("reference", modality="audio") == ["DSCNN_KWS", "DenseAutoencoder_AD"]
    assert zoo.names("all30", modality="vision") == zoo.names("vision")
    for mod, names in by.items():
        for n in names[:2]:
            assert zoo.info(n)["modality"] == mod and zoo.create(n).modality == mod
    with pytest.raises(ValueError, match=r"unknown modality 'image'.*'vision', 'audio', 'text'"):
        zoo.names(modality="image")
    with pytest.raises(ValueError, match="unknown category"):
        zoo.names("text")


@pytest.mark.parametrize("name", ALL)
def test_model(name):
    m = model(name)
    card = zoo.info(name)
    for key in ("name", "category", "modality", "task", "inputs", "outputs", "params", "macs",
                "weight_bytes", "arena_bytes"):
        assert key in card
    assert card["params"] == m.params and card["arena_bytes"] == m.arena_bytes
    x = inputs_for(m, 3)
    y = as_dict(m, m(x))
    assert set(y) == set(m.outputs)
    for k, v in y.items():
        assert v.shape == (3,) + tuple(m.outputs[k]["shape"]) and v.dtype == np.float32
        assert np.isfinite(v).all(), k
    # batch 1 vs batch N, and a threaded split of the batch
    for i in range(3):
        yi = as_dict(m, m({k: v[i:i + 1] for k, v in x.items()}))
        for k in y:
            np.testing.assert_allclose(yi[k][0], y[k][i], rtol=1e-5, atol=1e-6)
    y2 = as_dict(m, m(x, threads=2))
    for k in y:
        np.testing.assert_allclose(y2[k], y[k], rtol=1e-5, atol=1e-6)
    # the fast kernels agree with the reference kernels
    m._use_reference(True)
    try:
        yr = as_dict(m, m({k: v[:1] for k, v in x.items()}))
    finally:
        m._use_reference(False)
    for k in y:
        scale = max(1.0, float(np.abs(yr[k]).max()))
        np.testing.assert_allclose(y[k][:1], yr[k], rtol=0, atol=1e-4 * scale)
    # the arena must not grow more than 3% over the recorded plan
    assert name in ARENA, "record the arena in tests/data/zoo/arena_sizes.json"
    assert m.arena_bytes <= ARENA[name] * 1.03, (m.arena_bytes, ARENA[name])
    assert m.weight_bytes >= 4 * m.params


@pytest.mark.parametrize("name", THIRTY)
def test_params_within_budget(name):
    card = zoo.info(name)
    assert abs(card["params"] - card["budget_params"]) <= 0.2 * card["budget_params"]


@pytest.mark.parametrize("name", ALL)
def test_determinism_and_seed(name):
    a, b, c = zoo.create(name, seed=7), zoo.create(name, seed=7), zoo.create(name, seed=8)
    for k in a.weights:
        np.testing.assert_array_equal(a.weights[k], b.weights[k])
    assert any(not np.array_equal(a.weights[k], c.weights[k]) for k in a.weights)
    x = inputs_for(a, 2)
    ya, yb = as_dict(a, a(x)), as_dict(b, b(x))
    for k in ya:
        np.testing.assert_array_equal(ya[k], yb[k])


@pytest.mark.parametrize("name", ALL)
def test_save_load_roundtrip(name, tmp_path):
    m = zoo.create(name, seed=3)
    for v in m.weights.values():
        v *= 1.5  # weights differ from any fresh create
    path = str(tmp_path / "m.npz")
    m.save(path)
    m2 = zoo.load(path)
    assert m2.name == name
    x = inputs_for(m, 2)
    y, y2 = as_dict(m, m(x)), as_dict(m2, m2(x))
    for k in y:
        np.testing.assert_array_equal(y[k], y2[k])


def test_load_rejects_bad_files(tmp_path):
    p = str(tmp_path / "x.npz")
    np.savez(p, a=np.zeros(3))
    with pytest.raises(ValueError, match="not a gaba.zoo file"):
        zoo.load(p)
    np.savez(p, __gaba_meta__=np.array(json.dumps({"format": "gaba.zoo", "version": 99,
                                                    "model": "ResNet8", "weights": {}})))
    with pytest.raises(ValueError, match="version"):
        zoo.load(p)


def test_document_example_batch_32():
    m = zoo.create("MicroYOLONano", seed=0)
    y = m(np.random.default_rng(0).standard_normal((32, 3, 96, 96)).astype(np.float32))
    assert y.shape == (32, 12, 12, 3, 10)


def test_weights_are_zero_copy_and_writable():
    m = zoo.create("KeywordSpotMicro")
    x = inputs_for(m, 1)
    before = m(x).copy()
    w = m.weights["fc.bias"]
    assert w.flags.writeable and w.shape == (10,)
    w += 1.0
    np.testing.assert_allclose(m(x), before + 1.0, rtol=1e-6, atol=1e-6)
    assert m.weights["fc.bias"] is w


def test_multi_input_forms_and_out():
    m = zoo.create("ObjectTrackNano")
    x = inputs_for(m, 2)
    a = m(search=x["search"], template=x["template"])
    b = m(x)
    c = m(x["search"], x["template"])
    out = np.empty((2, 4), np.float32)
    d = m.forward(x, out=out)
    assert d is out
    # arrays the executor refuses as they are (a Fortran-ordered search) go
    # the checked path, which copies them
    e = m(search=np.asfortranarray(x["search"]), template=x["template"])
    for v in (b, c, d, e):
        np.testing.assert_array_equal(a, v)
    qm = m.quantize(inputs_for(m, 4))
    q = qm(**x)
    np.testing.assert_array_equal(q, qm(x))  # by name (fast) and as a dict (checked)
    np.testing.assert_array_equal(q, qm(x["search"], np.asfortranarray(x["template"])))
    h = zoo.create("HealthMonitorNano")
    xs = inputs_for(h, 2)
    outs = {k: np.empty((2,) + tuple(s["shape"]), np.float32) for k, s in h.outputs.items()}
    r = h(xs, out=outs)
    assert set(r) == {"hr", "hrv", "spo2", "stress"} and r["stress"] is outs["stress"]


def test_executor_checks_call_arrays():
    """The executor's own checks, which the call's fast path relies on: exact
    shapes (not only sizes), dtypes, and outputs apart from the other arrays."""
    m = zoo.create("KeywordSpotMicro")
    x, y = np.zeros((2, 40, 49), np.float32), np.zeros((2, 10), np.float32)
    _gaba.zoo_forward(m._cap, (x,), (y,), 1)
    with pytest.raises(ValueError, match="wrong shape"):
        _gaba.zoo_forward(m._cap, (x.reshape(2, 49, 40),), (y,), 1)
    with pytest.raises(ValueError, match="wrong shape"):
        _gaba.zoo_forward(m._cap, (x,), (y.reshape(2, 5, 2),), 1)
    with pytest.raises(TypeError, match="float32"):
        _gaba.zoo_forward(m._cap, (x.astype(np.float64),), (y,), 1)
    with pytest.raises(ValueError, match="shares memory"):
        _gaba.zoo_forward(m._cap, (x,), (x.reshape(-1)[:20].reshape(2, 10),), 1)
    qm = m.quantize(x)
    with pytest.raises(ValueError, match="shares memory"):
        _gaba.zoo_qforward(qm._cap, (x,), (x.reshape(-1)[-20:].reshape(2, 10),), False, 1)
    h = zoo.create("HealthMonitorNano")
    xs = (np.zeros((1, 1, 250), np.float32), np.zeros((1, 1, 100), np.float32))
    o = np.zeros((1, 6), np.float32)
    with pytest.raises(ValueError, match="'hrv' shares memory with tensor 'hr'"):
        _gaba.zoo_forward(h._cap, xs, (o[:, :1], o[:, :1], o[:, 2:3], o[:, 3:]), 1)


def test_clear_errors():
    m = zoo.create("KeywordSpotMicro")
    with pytest.raises(ValueError, match=r"shape \(batch, 40, 49\)"):
        m(np.zeros((2, 40, 50), np.float32))
    with pytest.raises(ValueError, match="shape"):
        m(np.zeros((40, 49), np.float32))
    with pytest.raises(TypeError, match="float32"):
        m(np.zeros((2, 40, 49)))
    with pytest.raises(TypeError, match="unknown input"):
        m(nope=np.zeros((2, 40, 49), np.float32))
    with pytest.raises(ValueError, match="out"):
        m(np.zeros((2, 40, 49), np.float32), out=np.zeros((3, 10), np.float32))
    with pytest.raises(ValueError, match="out"):  # the right size, not the right shape
        m(np.zeros((2, 40, 49), np.float32), out=np.zeros((2, 5, 2), np.float32))
    buf = np.zeros((2, 40, 49), np.float32)
    with pytest.raises(ValueError, match="shares memory"):
        m(buf, out=buf.reshape(-1)[:20].reshape(2, 10))
    with pytest.raises(ValueError, match="shares memory"):
        m.quantize(buf)(buf, out=buf.reshape(-1)[-20:].reshape(2, 10))
    t = zoo.create("IntentClassifyNano")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        t(np.full((1, 30), 256, np.int64))
    with pytest.raises(ValueError, match="token id -1"):
        t(np.full((1, 30), -1, np.int32))
    with pytest.raises(TypeError, match="integer"):
        t(np.zeros((1, 30), np.float32))
    assert t(np.zeros((1, 30), np.int64)).shape == (1, 20)  # any integer dtype
    s = zoo.create("ObjectTrackNano")
    with pytest.raises(TypeError, match="missing"):
        s(search=np.zeros((1, 3, 64, 64), np.float32))
    with pytest.raises(ValueError, match="batch"):
        s(search=np.zeros((1, 3, 64, 64), np.float32),
          template=np.zeros((2, 3, 32, 32), np.float32))
    with pytest.raises(KeyError):
        zoo.create("NoSuchModel")
    for call in (zoo.create, zoo.info):  # a bad argument: a ValueError too, with close names
        with pytest.raises(ValueError, match=r"did you mean 'ResNet8'\?"):
            call("ResNet9")
    assert issubclass(gaba.UnknownModelError, KeyError)
    with pytest.raises(ValueError):
        zoo.create("ResNet8", seed=-1)


def test_summary_and_zero_batch(capsys):
    m = zoo.create("ResNet8")
    table = m.summary()
    assert capsys.readouterr().out == ""  # returned, not printed: a REPL shows it once
    text = str(table)
    assert text == repr(table) and list(table) == m.layers
    assert "s2_short" in text and "conv2d+bn" in text and f"{m.params:,}" in text
    html = table._repr_html_()
    assert html.count("<tr>") == len(m.layers) + 1 and "s2_short" in html
    assert m(np.zeros((0, 3, 32, 32), np.float32)).shape == (0, 10)


def test_compare_reports_top1_only_where_predictions_spread():
    """compare: SQNR always; top-1 agreement where the float model's classes are
    spread, else None and the share of the one class it predicts."""
    x = make_inputs(zoo.create("SensorFusionNano"), 256)
    m, m2 = zoo.create("SensorFusionNano", seed=0), zoo.create("SensorFusionNano", seed=0)
    for w in m2.weights.values():
        w += 0.05 * np.abs(w).max()
    f, g = m(**x).astype(np.float64), m2(**x).astype(np.float64)
    assert np.bincount(f.argmax(-1)).max() / len(f) <= zoo.TOP1_MAX_SHARE
    r = zoo.compare(m, m2, **x)
    assert list(r)[0] == "sqnr_db"
    assert r["sqnr_db"] == pytest.approx(10 * np.log10(np.sum(f**2) / np.sum((f - g) ** 2)))
    assert r["top1"] == np.mean(f.argmax(-1) == g.argmax(-1)) and r["top1_note"] == ""
    assert 0 < r["top1"] < 1  # the perturbation moves some predictions, not all
    k = zoo.create("KeywordSpotMicro", seed=0)
    xk = make_inputs(k, 64)
    share = np.bincount(k(**xk).argmax(-1)).max() / 64
    r = zoo.compare(k, k.quantize(xk), **xk)
    assert r["top1"] is None and r["per_output"]["logits"]["top1"] is None
    assert r["top1_note"] == (f"n/a: the float model predicts one class for {share:.0%} "
                              "of these 64 rows")


def test_batchnorm_is_folded():
    m = zoo.create("DSCNN_KWS")
    ops = [row[1] for row in m._desc["layers"]]
    assert "batchnorm" not in ops
    assert not any(k.startswith("conv_bn") for k in m.weights)


def test_torch_peer_names_what_it_cannot_translate():
    """The PyTorch peer fails clearly on an op or activation it has no translation for."""
    import types

    torch = pytest.importorskip("torch")
    from gaba.benchmarks import zoo_torch

    for op, act, what in [("rms_norm", "none", "op 'rms_norm' \\(layer 'ln'\\)"),
                          ("act", "gelu", "activation 'gelu'")]:
        layer = {"name": "ln", "op": op, "act": act, "params": [0] * 12, "inputs": ["x"],
                 "output": "y"}
        m = types.SimpleNamespace(weights={}, layers=[layer], inputs={"x": None},
                                  outputs={"y": None})
        with pytest.raises(NotImplementedError, match=what):
            zoo_torch.build(m)(torch.zeros(1, 4))


@pytest.mark.parametrize("name", ALL)
def test_matches_torch(name):
    """The same graph and weights in PyTorch (benchmarks/zoo_torch.py) give the same outputs."""
    torch = pytest.importorskip("torch")
    from gaba.benchmarks import zoo_torch

    m = model(name)
    x = inputs_for(m, 2, seed=5)
    y = as_dict(m, m(x))
    with torch.inference_mode():
        t = zoo_torch.build(m)(*[torch.from_numpy(v) for v in x.values()])
    for k, v in zip(m.outputs, t):
        want = v.numpy()
        scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(y[k], want, rtol=0, atol=1e-4 * scale, err_msg=k)


@pytest.mark.parametrize("name", ["EfficientEdgeLite", "SegmentMicro", "MobileNetV1_VWW"])
def test_planner_reuses_memory(name):
    """The arena is far smaller than all activations side by side, and at least as large
    as the biggest layer's output plus its largest input (alive together)."""
    m = model(name)
    layers = m.layers
    out_bytes = {L["output"]: L["bytes"] for L in layers}
    outputs = set(m.outputs)
    total = sum(b for t, b in out_bytes.items() if t not in outputs)
    assert m.arena_bytes < total / 2
    for L in layers:
        live = [out_bytes.get(t, 0) for t in L["inputs"]]
        live.append(0 if L["output"] in outputs else L["bytes"])
        assert m.arena_bytes >= sum(live)


def test_profile_times_every_layer(capsys):
    m = zoo.create("KeywordSpotMicro")
    x = np.random.default_rng(0).standard_normal((3, 40, 49)).astype(np.float32)
    table = m.profile(x, runs=7, warmup=1)
    assert capsys.readouterr().out == ""  # returned, not printed
    assert repr(table) == str(table) and table._repr_html_().count("<tr>") == len(table) + 1
    assert [r["layer"] for r in table] == [layer["name"] for layer in m.layers]
    assert all(r["p50_us"] > 0 for r in table)
    assert sum(r["share"] for r in table) == pytest.approx(1.0)
    assert table.total_us == pytest.approx(sum(r["p50_us"] for r in table))
    assert [r["macs"] for r in table] == [layer["macs"] for layer in m.layers]
    assert "us per sample" in str(table)
    # profiling is off again: a threaded batch gives the same answer as one thread
    np.testing.assert_array_equal(m.forward(x, threads=2), m.forward(x, threads=1))


def test_profile_rejects_bad_runs():
    m = zoo.create("AnomalyDetectEdge")
    x = np.zeros((1, 5, 32), np.float32)
    with pytest.raises(ValueError, match=r"'runs' must be in 1\.\.100000"):
        m.profile(x, runs=0)
    with pytest.raises(TypeError, match="'runs' must be an int"):
        m.profile(x, runs=float("inf"))
    with pytest.raises(ValueError, match="'warmup' must be in"):
        m.quantize(x).profile(x, warmup=-1)
    with pytest.raises(ValueError, match="wrong|shape|expected"):
        m.profile(np.zeros((1, 4, 32), np.float32))


# ---- concurrency and argument ranges ------------------------------------------

def _race(seconds, body, spoiler):
    """Runs body() repeatedly for `seconds` while spoiler() loops in another thread."""
    stop = threading.Event()

    def spoil():
        while not stop.is_set():
            spoiler()

    t = threading.Thread(target=spoil, daemon=True)
    t.start()
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            body()
    finally:
        stop.set()
        t.join()


def test_dict_inputs_dropped_by_another_thread():
    """The call owns its input arrays while it runs: another thread emptying the
    dict the caller passed frees nothing the model still reads (under ASan this
    was a heap-use-after-free)."""
    m = zoo.create("EmotionRecogNano", threads=1)
    (name, spec), = m.inputs.items()
    x = np.random.default_rng(0).standard_normal((64, *spec["shape"])).astype(np.float32)
    want = m(x, threads=1)
    for _ in range(40):
        d = {name: x.copy()}
        t = threading.Timer(0.001, d.clear)
        t.start()
        try:
            np.testing.assert_array_equal(m(d, threads=1), want)
        except TypeError as e:  # emptied before the call read it
            assert "missing input" in str(e)
        t.join()


@pytest.mark.parametrize("quantized", [False, True])
def test_token_ids_rewritten_by_another_thread(quantized):
    """Each id is checked and used as one read: ids flipping between 0 and
    invalid values give the all-zero ids' output or a ValueError, never an
    out-of-bounds read or another output."""
    m = zoo.create("IntentClassifyNano", threads=1)
    ids = np.zeros((256, 30), np.int32)
    if quantized:
        m = m.quantize(ids)
    want = m(ids, threads=1)
    vocab = m.inputs["tokens"]["vocab"] if not quantized else 256

    def flip():
        ids[...] = 2**31 - 1
        ids[...] = vocab
        ids[...] = 0

    outcomes = set()

    def call():
        try:
            np.testing.assert_array_equal(m(ids, threads=1), want)
            outcomes.add("ok")
        except ValueError as e:
            assert "vocabulary" in str(e)
            outcomes.add("rejected")

    _race(1.0, call, flip)
    assert outcomes  # at least one call ran


def test_busy_model_says_so():
    """Two threads calling one model: each call runs or raises ValueError saying
    the model is busy, worded apart from a bad token id."""
    m = zoo.create("ResNet8", threads=1)
    x = np.zeros((64, *m.inputs["image"]["shape"]), np.float32)
    errors = []

    def call():
        try:
            m(x, threads=1)
        except ValueError as e:
            errors.append(str(e))

    _race(1.0, call, call)
    assert errors and all("already running in another thread" in e for e in errors)
    assert not any("token" in e for e in errors)
    t = zoo.create("IntentClassifyNano")
    with pytest.raises(ValueError, match="vocabulary") as info:
        _gaba.zoo_forward(t._cap, (np.full((1, 30), 256, np.int32),),
                          (np.empty((1, 20), np.float32),), 1)
    assert "another thread" not in str(info.value)


@pytest.mark.parametrize("threads", [-5, 0, 257, 2**31 - 1, 2**32 + 1, -2**31 - 1, 2**63])
def test_thread_counts_are_range_checked(threads):
    m = model("KeywordSpotMicro")
    x = np.zeros((2, 40, 49), np.float32)
    for call in (lambda: zoo.create("KeywordSpotMicro", threads=threads),
                 lambda: m(x, threads=threads),
                 lambda: m.quantize(x, threads=threads),
                 lambda: _gaba.zoo_forward(m._cap, (x,), (np.empty((2, 10), np.float32),),
                                           threads)):
        with pytest.raises(ValueError, match=r"'threads' must be in 1\.\.256"):
            call()


@pytest.mark.parametrize("value, error", [(2**64, ValueError), (-1, ValueError),
                                          (1.5, TypeError), ("1", TypeError)])
def test_seed_is_range_checked(value, error):
    with pytest.raises(error, match="seed"):
        zoo.create("KeywordSpotMicro", seed=value)


def test_threads_of_other_types():
    m = model("KeywordSpotMicro")
    x = np.zeros((2, 40, 49), np.float32)
    for bad in (float("inf"), 2.0, "2"):
        with pytest.raises(TypeError, match="threads"):
            m(x, threads=bad)
    np.testing.assert_array_equal(m(x, threads=np.int64(2)), m(x, threads=1))
    assert zoo.create("KeywordSpotMicro", seed=np.uint64(2**64 - 1)).seed == 2**64 - 1
