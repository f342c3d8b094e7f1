"""zoo.create's num_classes, input_shape and width: the rewritten tables build, give the
output shapes the overrides ask for, change only what they name, keep the registered
model bit for bit at width 1.0, round-trip through save/load, and bad values raise."""
import re
from pathlib import Path

import numpy as np
import pytest

import gaba
from gaba import _zoo_config

NAMES = gaba.zoo.names()
CLASSIFIERS = [n for n in NAMES if n not in _zoo_config.NO_CLASSES]
DOCS = Path(__file__).resolve().parents[1] / "docs" / "zoo.md"


def batch(m, n=2, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for v in m.inputs.values():
        shape = (n, *v["shape"])
        if v["dtype"] == "int32":
            out.append(rng.integers(0, v["vocab"], shape).astype(np.int32))
        else:
            out.append(rng.standard_normal(shape).astype(np.float32))
    return out


def arrays(y):
    """The output arrays of a forward, in order (one output: the array; several: a dict)."""
    return list(y.values()) if isinstance(y, dict) else [y]


def out_shapes(m):
    return {k: tuple(v["shape"]) for k, v in m.outputs.items()}


def conv_params(m):
    return sum(la["n_params"] for la in m.layers if la["op"] in ("conv1d", "conv2d"))


@pytest.mark.parametrize("name", NAMES)
def test_width_one_is_the_registered_model(name):
    d = gaba.zoo.create(name, seed=3, threads=1)
    m = gaba.zoo.create(name, seed=3, threads=1, width=1.0)
    assert m.name == name and m.modality == d.modality and m._graph["name"] == name
    assert m.weights.keys() == d.weights.keys()
    for k in d.weights:
        np.testing.assert_array_equal(m.weights[k], d.weights[k])
    x = batch(d)
    for a, b in zip(arrays(m(*x)), arrays(d(*x)), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_width_scales_hidden_layers(name):
    d = gaba.zoo.create(name, threads=1)
    half = gaba.zoo.create(name, threads=1, width=0.5)
    double = gaba.zoo.create(name, threads=1, width=2)
    for m in (half, double):  # inputs and outputs keep their shapes; the model runs
        assert m.inputs == d.inputs and out_shapes(m) == out_shapes(d)
        assert all(np.isfinite(a).all() for a in arrays(m(*batch(m))))
    if conv_params(d):
        assert 0.2 < conv_params(half) / conv_params(d) < 0.4
        assert 2.5 < conv_params(double) / conv_params(d) < 4.5


def test_width_counts_as_written():
    # KeywordSpotMicro at 0.5: 48 -> 24 and 64 -> 32 channels; the 40 MFCC input and
    # the 10-logit head keep theirs; depthwise layers follow their input.
    m = gaba.zoo.create("KeywordSpotMicro", width=0.5)
    want = (24 * 40 * 3 + 24) + 3 * (24 * 3 + 24) + 2 * (24 * 24 + 24) + (32 * 24 + 32) \
        + (10 * 32 + 10)
    assert m.params == want
    # The dense autoencoder: 128 -> 64 hidden units, the 8-unit bottleneck -> 4.
    a = gaba.zoo.create("DenseAutoencoder_AD", width=0.5)
    dense = [(640, 64)] + [(64, 64)] * 3 + [(64, 4), (4, 64)] + [(64, 64)] * 3 + [(64, 640)]
    assert a.params == sum(i * o + o for i, o in dense)
    # GRU hidden 32 -> 16 on 64 -> 32 features; attention d_k 32 -> 16 on 64 -> 32
    # channels; a byte embedding's 24 dims -> 12 over the same 256 ids.
    g = gaba.zoo.create("VoiceActivityMicro", width=0.5).weights
    assert (g["gru.w_ih"].shape, g["gru.w_hh"].shape) == ((48, 32), (48, 16))
    e = gaba.zoo.create("EmotionRecogNano", width=0.5).weights
    assert (e["attn.w_qkv"].shape, e["attn.w_o"].shape) == ((48, 32), (32, 16))
    assert gaba.zoo.create("LanguageDetectNano", width=0.5).weights["embed.table"].shape == \
        (256, 12)


def test_grouped_conv_keeps_one_group_per_frame():
    m = gaba.zoo.create("GestureNetMicro", width=0.5, input_shape=(16, 48, 48))
    spatial = next(la for la in m.layers if la["name"] == "spatial")
    assert spatial["params"][0] == 2 * 16 and spatial["params"][11] == 16  # 2 filters a frame
    assert m.weights["spatial.weight"].shape == (32, 1, 3, 3)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_num_classes_changes_only_the_head(name):
    d = gaba.zoo.create(name, seed=1, threads=1)
    m = gaba.zoo.create(name, seed=1, threads=1, num_classes=11)
    first, *rest = d.outputs
    changed = [(a, b) for a, b in zip(m.outputs[first]["shape"], d.outputs[first]["shape"])
               if a != b]
    assert len(changed) == 1 and changed[0][0] == 11
    assert all(m.outputs[k] == d.outputs[k] for k in rest)
    differ = [k for k in d.weights if m.weights[k].shape != d.weights[k].shape]
    assert len(differ) == 2 and {k.split(".")[0] for k in differ} == {differ[0].split(".")[0]}
    for k in d.weights:
        if k in differ:
            assert m.weights[k].shape[0] == 11 and m.weights[k].shape[1:] == d.weights[k].shape[1:]
        else:
            np.testing.assert_array_equal(m.weights[k], d.weights[k])
    assert m(*batch(m)) is not None


@pytest.mark.parametrize("name", sorted(_zoo_config.NO_CLASSES))
def test_num_classes_refused_where_the_output_is_not_classes(name):
    with pytest.raises(ValueError, match=f"num_classes does not apply to {name}: "):
        gaba.zoo.create(name, num_classes=3)


def doubled(name, m):
    """A larger input for each model: the non-channel dims doubled (OCRNano: the line's
    width only), rank-1 inputs doubled; and the output shapes it gives."""
    shapes = {}
    for k, v in m.inputs.items():
        s = tuple(v["shape"])
        if name == "OCRNano":
            shapes[k] = (1, 32, 256)
        elif len(s) == 1:
            shapes[k] = (s[0] * 2,)
        else:
            shapes[k] = (s[0], *(2 * d for d in s[1:]))
    grown = {"SegmentMicro": {"logits": (5, 128, 128)},
             "DepthEstimateLite": {"depth": (1, 256, 256)},
             "PoseEstimateMicro": {"heatmaps": (17, 32, 32)},
             "FaceDetectNano": {"boxes": (5, 10, 10), "landmarks": (10, 10, 10)},
             "SpeechEnhanceNano": {"enhanced": (1, 3200)},
             "AnomalyDetectEdge": {"reconstruction": (5, 64), "error": (1,)},
             "DenseAutoencoder_AD": {"reconstruction": (1280,)},
             "OCRNano": {"logits": (32, 63)},
             "NamedEntityMicro": {"tags": (100, 9)},
             "TextSummarizeNano": {"scores": (100,)}}
    return shapes, grown.get(name, out_shapes(m))


@pytest.mark.parametrize("name", [n for n in NAMES if n not in _zoo_config.FIXED_INPUT])
def test_input_shape(name):
    d = gaba.zoo.create(name, threads=1)
    shapes, want = doubled(name, d)
    arg = shapes if len(shapes) > 1 else next(iter(shapes.values()))
    m = gaba.zoo.create(name, threads=1, input_shape=arg)
    assert {k: tuple(v["shape"]) for k, v in m.inputs.items()} == shapes
    assert out_shapes(m) == want
    assert all(np.isfinite(a).all() for a in arrays(m(*batch(m, 1))))


def test_the_issue_example():
    m = gaba.zoo.create("KeywordSpotMicro", num_classes=9, input_shape=(12, 29), seed=0)
    s = gaba.zoo.create("KeywordSpotMicro", width=0.5, num_classes=9, input_shape=(12, 29))
    x = np.random.default_rng(0).standard_normal((4, 12, 29)).astype(np.float32)
    assert m(x).shape == s(x).shape == (4, 9)
    assert s.params < m.params / 2 and m.name == s.name == "KeywordSpotMicro"


@pytest.mark.parametrize("name, shape, match", [
    ("OCRNano", (1, 64, 128), r"input_shape \(1, 64, 128\) does not fit OCRNano: layer 'seq'"),
    ("ResNet8", (3, 4, 4), r"input_shape \(3, 4, 4\) does not fit ResNet8"),
    ("MicroYOLONano", (3, 64, 64), "input_shape does not apply to MicroYOLONano"),
    ("TimeSeriesForecastMicro", (3, 32), "does not apply to TimeSeriesForecastMicro"),
    ("AnomalyDetectEdge", (5, 30), r"input_shape \(5, 30\) does not fit"),
    ("KeywordSpotMicro", (40,), r"must have 2 dims, as the default \(40, 49\), got \(40,\)"),
    ("KeywordSpotMicro", (40, 49, 1), "must have 2 dims"),
    ("KeywordSpotMicro", (40, 0), r"'input_shape' must be in 1\.\."),
    ("HealthMonitorNano", (1, 250), "has 2 inputs"),
    ("HealthMonitorNano", {"ecg": (1, 250), "nope": (1,)}, "unknown inputs"),
])
def test_bad_input_shape(name, shape, match):
    with pytest.raises(ValueError, match=match):
        gaba.zoo.create(name, input_shape=shape)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(num_classes=0), ValueError, r"'num_classes' must be in 1\.\."),
    (dict(num_classes=-3), ValueError, "'num_classes'"),
    (dict(num_classes=2.0), TypeError, "'num_classes' must be an int"),
    (dict(num_classes="3"), TypeError, "'num_classes' must be an int"),
    (dict(num_classes=True), TypeError, "'num_classes' must be an int"),
    (dict(width=0), ValueError, r"'width' must be in \(0, 16\]"),
    (dict(width=-0.5), ValueError, "'width'"),
    (dict(width=float("nan")), ValueError, "'width'"),
    (dict(width=100.0), ValueError, "'width'"),
    (dict(width="0.5"), TypeError, "'width' must be a float"),
    (dict(width=True), TypeError, "'width' must be a float"),
    (dict(input_shape=5), TypeError, "'input_shape' must be a tuple of ints"),
    (dict(input_shape="40x49"), TypeError, "'input_shape' must be a tuple of ints"),
    (dict(input_shape=(40, 49.0)), TypeError, "must be an int"),
])
def test_bad_values(kwargs, error, match):
    with pytest.raises(error, match=match):
        gaba.zoo.create("KeywordSpotMicro", **kwargs)


@pytest.mark.parametrize("name, kwargs", [
    ("KeywordSpotMicro", dict(num_classes=9, input_shape=(12, 29), width=0.5)),
    ("IntentClassifyNano", dict(num_classes=4, input_shape=(20,), width=1.5)),
    ("ObjectTrackNano", dict(input_shape={"template": (3, 16, 16)}, width=0.75)),
])
def test_save_load_round_trip(tmp_path, name, kwargs):
    m = gaba.zoo.create(name, seed=5, **kwargs)
    rng = np.random.default_rng(9)
    for w in m.weights.values():  # weights of its own, as after training
        w[...] = rng.standard_normal(w.shape)
    m.save(tmp_path / "m.npz")
    r = gaba.zoo.load(tmp_path / "m.npz")
    assert (r.name, r.modality, r.inputs, r.outputs, r.params) == \
        (m.name, m.modality, m.inputs, m.outputs, m.params)
    for k in m.weights:
        np.testing.assert_array_equal(r.weights[k], m.weights[k])
    x = batch(m, 3)
    for a, b in zip(arrays(r(*x)), arrays(m(*x)), strict=True):
        np.testing.assert_array_equal(a, b)
    q = m.quantize(tuple(batch(m, 8, seed=1)))
    q.save(tmp_path / "q.npz")
    for a, b in zip(arrays(gaba.zoo.load(tmp_path / "q.npz")(*x)), arrays(q(*x)), strict=True):
        np.testing.assert_array_equal(a, b)
    assert m.summary()[0]["name"] == m.layers[0]["name"]


def test_to_onnx_of_a_configured_model(tmp_path):
    try:
        import onnx  # noqa: F401
        import onnxruntime as ort
    except Exception as exc:  # not installed, or built for another NumPy (onnx's ml_dtypes)
        pytest.skip(f"onnx and onnxruntime are not usable here: {exc!r}")
    m = gaba.zoo.create("MusicGenreMicro", num_classes=4, input_shape=(1, 64, 96), width=0.5)
    m.to_onnx(tmp_path / "m.onnx")
    x = batch(m, 2)[0]
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"))
    (y,) = sess.run(None, {"mel": x})
    np.testing.assert_allclose(y, m(x), rtol=1e-4, atol=1e-4)


def overrides_table():
    """The docs' table of which overrides each model takes, from _zoo_config.supports."""
    rows = ["| model | num_classes | input_shape | width |", "|---|---|---|---|"]
    for n in NAMES:
        s = _zoo_config.supports(n)
        rows.append(f"| {n} | " + " | ".join("yes" if s[k] is None else f"no: {s[k]}"
                                             for k in ("num_classes", "input_shape", "width"))
                    + " |")
    return "\n".join(rows)


def test_docs_table_matches_the_code():
    text = DOCS.read_text()
    table = re.search(r"<!-- overrides -->\n(.*?)\n<!-- /overrides -->", text, re.S)
    assert table, "docs/zoo.md lacks the overrides table"
    assert table.group(1) == overrides_table()
