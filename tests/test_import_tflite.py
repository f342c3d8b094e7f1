"""gaba.zoo.from_tflite: TFLite models on gaba's layer table.

References: TensorFlow Lite Micro's interpreter (the `tflite-micro` wheel) for
int8 files, bit for bit; for float32 graphs, a PyTorch interpreter of the
TFLite operators written here (NHWC, TensorFlow's SAME padding), and LiteRT
where the MLPerf Tiny folder is given (GABA_MLPERF_DIR).
"""
import os
import pathlib
import re
from types import SimpleNamespace as NS

import numpy as np
import pytest

import gaba
from gaba.importers import ModelImportError
from gaba.importers.tflite import _Importer
from gaba.importers.tflite_file import read_tflite

torch = pytest.importorskip("torch")
F = torch.nn.functional

DATA = pathlib.Path(__file__).parent / "data" / "mlperf"
KWS_INT8 = DATA / "kws_ref_model.tflite"
KWS_FLOAT = DATA / "kws_ref_model_float32.tflite"
RESNET_INT8 = DATA / "pretrainedResnet_quant.tflite"
MLPERF = os.environ.get("GABA_MLPERF_DIR")


# ---- a PyTorch interpreter of the float operators, as TensorFlow Lite defines them --------

def _value(t):
    """A constant tensor's float64 value (dequantized when it is integer)."""
    if t.dtype == np.float32:
        return t.data.astype(np.float64)
    q = t.quant
    shape = [1] * t.data.ndim
    if q.scale.size > 1:
        shape[q.quantized_dimension] = q.scale.size
    return (t.data.astype(np.float64) - q.zero_point.reshape(-1)[0]) * q.scale.reshape(shape)


def _same(size, k, s, d):
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def _act(y, name):
    return {"NONE": y, "RELU": y.relu(), "RELU6": y.clamp(0, 6), "TANH": y.tanh()}[name]


def _nchw(x):
    return x.permute(0, 3, 1, 2)


def _nhwc(x):
    return x.permute(0, 2, 3, 1)


def _conv(op, x, w, b, depthwise):
    o = op.options
    s, d = (o["stride_h"], o["stride_w"]), (o["dilation_h_factor"], o["dilation_w_factor"])
    if depthwise:  # (1, kh, kw, C m) -> (C m, 1, kh, kw)
        wt, groups = w.permute(3, 0, 1, 2), x.shape[3]
    else:  # (O, kh, kw, I) -> (O, I, kh, kw)
        wt, groups = w.permute(0, 3, 1, 2), x.shape[3] // w.shape[3]
    xc = _nchw(x)
    if o["padding"] == "SAME":
        ph = _same(xc.shape[2], wt.shape[2], s[0], d[0])
        pw = _same(xc.shape[3], wt.shape[3], s[1], d[1])
        xc = F.pad(xc, (pw[0], pw[1], ph[0], ph[1]))
    y = F.conv2d(xc, wt, b, stride=s, dilation=d, groups=groups)
    return _act(_nhwc(y), o["fused_activation_function"])


def _pool(op, x):
    o = op.options
    k, s = (o["filter_height"], o["filter_width"]), (o["stride_h"], o["stride_w"])
    xc = _nchw(x)
    if op.opcode == "MAX_POOL_2D":
        if o["padding"] == "SAME":
            ph, pw = _same(xc.shape[2], k[0], s[0], 1), _same(xc.shape[3], k[1], s[1], 1)
            xc = F.pad(xc, (pw[0], pw[1], ph[0], ph[1]), value=-np.inf)
        y = F.max_pool2d(xc, k, s)
    else:  # padded cells not counted
        ph, pw = ((0, 0), (0, 0)) if o["padding"] == "VALID" else (
            _same(xc.shape[2], k[0], s[0], 1), _same(xc.shape[3], k[1], s[1], 1))
        pad = (pw[0], pw[1], ph[0], ph[1])
        ones = F.pad(torch.ones_like(xc[:, :1]), pad)
        y = F.avg_pool2d(F.pad(xc, pad), k, s) / F.avg_pool2d(ones, k, s)
    return _act(_nhwc(y), o["fused_activation_function"])


def run_reference(f, x):
    """Output 0 of TFLite file `f` on input x (batch 1), in float64."""
    vals = {f.inputs[0]: torch.tensor(x, dtype=torch.float64)}

    def const(i):
        return torch.tensor(_value(f.tensors[i]))

    for op in f.operators:
        a = vals.get(op.inputs[0])
        o, code = op.options, op.opcode
        bias = (lambda n: const(op.inputs[2]) if len(op.inputs) > 2 and op.inputs[2] >= 0
                else torch.zeros(n, dtype=torch.float64))
        if code in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            w = const(op.inputs[1])
            y = _conv(op, a, w, bias(w.shape[0 if code == "CONV_2D" else 3]),
                      code == "DEPTHWISE_CONV_2D")
        elif code == "FULLY_CONNECTED":
            w = const(op.inputs[1])
            y = _act(a.reshape(1, -1) @ w.T + bias(w.shape[0]), o["fused_activation_function"])
        elif code in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
            y = _pool(op, a)
        elif code in ("ADD", "SUB", "MUL"):
            b = vals[op.inputs[1]]
            y = _act({"ADD": a + b, "SUB": a - b, "MUL": a * b}[code],
                     o["fused_activation_function"])
        elif code in ("RESHAPE", "SQUEEZE"):
            y = a.reshape(f.tensors[op.outputs[0]].shape)
        elif code == "SOFTMAX":
            y = torch.softmax(a, -1)
        elif code == "CONCATENATION":
            y = _act(torch.cat([vals[i] for i in op.inputs], o["axis"]),
                     o["fused_activation_function"])
        elif code == "MEAN":
            y = a.mean(dim=(1, 2), keepdim=o["keep_dims"])
        elif code == "PAD":
            p = f.tensors[op.inputs[1]].data
            y = F.pad(a, (p[3, 0], p[3, 1], p[2, 0], p[2, 1], p[1, 0], p[1, 1]))
        elif code in ("RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR"):
            size = tuple(int(v) for v in f.tensors[op.inputs[1]].data)
            mode = "nearest" if code == "RESIZE_NEAREST_NEIGHBOR" else "bilinear"
            y = _nhwc(F.interpolate(_nchw(a), size=size, mode=mode,
                                    **({} if mode == "nearest" else {"align_corners": False})))
        else:
            y = {"LOGISTIC": torch.sigmoid, "TANH": torch.tanh, "RELU": torch.relu,
                 "RELU6": lambda v: v.clamp(0, 6),
                 "HARD_SWISH": lambda v: v * (v + 3).clamp(0, 6) / 6}[code](a)
        vals[op.outputs[0]] = y
    return vals[f.outputs[0]].numpy()


# ---- graphs built here (the parser's objects, duck-typed) ---------------------------------

class FakeFile:
    """A TFLite file's contents, as read_tflite returns them, built tensor by tensor."""

    def __init__(self, rng):
        self.rng, self.tensors, self.operators = rng, [], []
        self.n_subgraphs, self.version, self.description = 1, 3, ""

    def tensor(self, shape, data=None, dtype=np.float32, quant=None):
        self.tensors.append(NS(index=len(self.tensors), name=f"t{len(self.tensors)}",
                               shape=tuple(shape), dtype=np.dtype(dtype), data=data, quant=quant,
                               is_variable=False, shape_signature=None))
        return len(self.tensors) - 1

    def weight(self, *shape):
        return self.tensor(shape, self.rng.standard_normal(shape).astype(np.float32) * 0.3)

    def op(self, opcode, inputs, out_shape, **options):
        y = self.tensor(out_shape)
        self.operators.append(NS(index=len(self.operators), opcode=opcode, version=1,
                                 inputs=tuple(inputs), outputs=(y,), options=options))
        return y


def _conv_opts(padding="SAME", stride=1, act="NONE", dilation=1):
    return dict(padding=padding, stride_h=stride, stride_w=stride, fused_activation_function=act,
                dilation_h_factor=dilation, dilation_w_factor=dilation)


def _vision_graph(seed=0):
    """Every float operator the importer maps, on a (1, 9, 7, 3) input."""
    f = FakeFile(np.random.default_rng(seed))
    x = f.tensor((1, 9, 7, 3))
    f.inputs = (x,)
    c1 = f.op("CONV_2D", (x, f.weight(8, 3, 3, 3), f.weight(8)), (1, 5, 4, 8),
              **_conv_opts("SAME", 2, "RELU6"))
    d1 = f.op("DEPTHWISE_CONV_2D", (c1, f.weight(1, 3, 3, 16), f.weight(16)), (1, 5, 4, 16),
              depth_multiplier=2, **_conv_opts("SAME", 1, "RELU"))
    c2 = f.op("CONV_2D", (d1, f.weight(8, 1, 1, 16), -1), (1, 5, 4, 8), **_conv_opts("VALID"))
    g2 = f.op("CONV_2D", (c2, f.weight(8, 3, 3, 4), f.weight(8)), (1, 5, 4, 8),
              **_conv_opts("SAME", 1, "TANH"))  # two groups
    s = f.op("ADD", (c2, g2), (1, 5, 4, 8), fused_activation_function="NONE")
    m = f.op("MUL", (s, c1), (1, 5, 4, 8), fused_activation_function="NONE")
    h = f.op("HARD_SWISH", (m,), (1, 5, 4, 8))
    cat = f.op("CONCATENATION", (h, c1), (1, 5, 4, 16), axis=3, fused_activation_function="RELU")
    p = f.op("MAX_POOL_2D", (cat,), (1, 3, 2, 16), padding="SAME", stride_h=2, stride_w=2,
             filter_height=3, filter_width=2, fused_activation_function="NONE")
    a = f.op("AVERAGE_POOL_2D", (cat,), (1, 3, 2, 16), padding="SAME", stride_h=2, stride_w=2,
             filter_height=3, filter_width=3, fused_activation_function="RELU6")
    r = f.op("SUB", (p, a), (1, 3, 2, 16), fused_activation_function="NONE")
    flat = f.op("RESHAPE", (r,), (1, 96))
    back = f.op("RESHAPE", (flat,), (1, 2, 3, 16))  # a new (H, W) over the same NHWC values
    sg = f.op("LOGISTIC", (back,), (1, 2, 3, 16))
    mean = f.op("MEAN", (sg, f.tensor((2,), np.array([1, 2], np.int32), np.int32)), (1, 16),
                keep_dims=False)
    fc1 = f.op("FULLY_CONNECTED", (back, f.weight(10, 96), f.weight(10)), (1, 10),
               fused_activation_function="RELU", keep_num_dims=False)
    whole = f.op("MAX_POOL_2D", (cat,), (1, 1, 1, 16), padding="VALID", stride_h=1,
                 stride_w=1, filter_height=5, filter_width=4, fused_activation_function="RELU")
    whole = f.op("RESHAPE", (whole,), (1, 16))
    both = f.op("CONCATENATION", (fc1, mean, whole), (1, 42), axis=1,
                fused_activation_function="NONE")
    y = f.op("SOFTMAX", (both,), (1, 42), beta=1.0)
    f.outputs = (y,)
    return f


def _pad_resize_graph(consumer="CONV_2D"):
    """PAD folded into the VALID conv after it, nearest and bilinear upsampling."""
    f = FakeFile(np.random.default_rng(5))
    x = f.tensor((1, 6, 5, 3))
    f.inputs = (x,)
    paddings = f.tensor((4, 2), np.array([[0, 0], [1, 2], [0, 1], [0, 0]], np.int32), np.int32)
    p = f.op("PAD", (x, paddings), (1, 9, 6, 3))
    if consumer != "CONV_2D":
        f.outputs = (f.op(consumer, (p, p), (1, 9, 6, 3), fused_activation_function="NONE"),)
        return f
    c = f.op("CONV_2D", (p, f.weight(4, 3, 3, 3), f.weight(4)), (1, 7, 4, 4),
             **_conv_opts("VALID", 1, "RELU"))
    size = f.tensor((2,), np.array([14, 8], np.int32), np.int32)
    n = f.op("RESIZE_NEAREST_NEIGHBOR", (c, size), (1, 14, 8, 4), align_corners=False,
             half_pixel_centers=False)
    c2 = f.op("CONV_2D", (n, f.weight(4, 3, 3, 4), f.weight(4)), (1, 14, 8, 4), **_conv_opts())
    size2 = f.tensor((2,), np.array([28, 24], np.int32), np.int32)
    f.outputs = (f.op("RESIZE_BILINEAR", (c2, size2), (1, 28, 24, 4), align_corners=False,
                      half_pixel_centers=True),)
    return f


def test_pad_and_resize_match_torch_reference():
    f = _pad_resize_graph()
    m = _import(f)
    assert [la["op"] for la in m.layers].count("upsample") == 2
    x = np.random.default_rng(6).standard_normal((3, 6, 5, 3)).astype(np.float32)
    got = m(x)
    for s in range(3):
        ref = run_reference(f, x[s:s + 1])
        np.testing.assert_allclose(got[s:s + 1], ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())


def test_pad_feeds_only_convolutions():
    with pytest.raises(ModelImportError, match="comes from a PAD"):
        _import(_pad_resize_graph("ADD"))


def _import(f, threads=1):
    return _Importer(f, "'graph'").run(threads)


def test_operators_match_torch_reference():
    f = _vision_graph()
    m = _import(f)
    assert m.inputs == {"t0": {"shape": (9, 7, 3), "dtype": "float32"}}
    x = np.random.default_rng(1).standard_normal((4, 9, 7, 3)).astype(np.float32)
    got = m(x)
    for s in range(4):
        ref = run_reference(f, x[s:s + 1])
        np.testing.assert_allclose(got[s:s + 1], ref, rtol=1e-5, atol=1e-6)


def test_nhwc_output_and_threads():
    f = FakeFile(np.random.default_rng(2))
    x = f.tensor((1, 6, 5, 3))
    f.inputs = (x,)
    y = f.op("CONV_2D", (x, f.weight(4, 3, 3, 3), f.weight(4)), (1, 6, 5, 4), **_conv_opts())
    f.outputs = (y,)
    m = _import(f, threads=2)
    xs = np.random.default_rng(3).standard_normal((5, 6, 5, 3)).astype(np.float32)
    got = m(xs, threads=2)
    assert got.shape == (5, 6, 5, 4)  # the file's NHWC
    for s in range(5):
        np.testing.assert_allclose(got[s:s + 1], run_reference(f, xs[s:s + 1]), rtol=1e-5,
                                   atol=1e-6)


def _single(opcode, **options):
    f = FakeFile(np.random.default_rng(0))
    x = f.tensor((1, 4, 4, 2))
    f.inputs = (x,)
    f.outputs = (f.op(opcode, (x,), (1, 4, 4, 2), **options),)
    return f


@pytest.mark.parametrize("change, message", [
    (lambda f: setattr(f.operators[0], "opcode", "BATCH_MATMUL"),
     r"operator 0 is BATCH_MATMUL, which gaba does not import; supported: .*CONV_2D"),
    (lambda f: f.operators[0].options.update(fused_activation_function="RELU_N1_TO_1"),
     r"operator 0 \(CONV_2D\): fused activation RELU_N1_TO_1 is not supported"),
    (lambda f: setattr(f, "n_subgraphs", 2), "2 subgraphs"),
    (lambda f: setattr(f.tensors[0], "shape", (2, 4, 4, 2)), r"batch 1"),
    (lambda f: setattr(f.tensors[1], "data", None), r"filter must be a constant"),
])
def test_errors_name_the_operator(change, message):
    f = FakeFile(np.random.default_rng(0))
    x = f.tensor((1, 4, 4, 2))
    f.inputs = (x,)
    f.outputs = (f.op("CONV_2D", (x, f.weight(2, 1, 1, 2), -1), (1, 4, 4, 2), **_conv_opts()),)
    change(f)
    with pytest.raises(ModelImportError, match=message):
        _import(f)


def test_softmax_of_an_nhwc_tensor_refused():
    f = FakeFile(np.random.default_rng(0))
    x = f.tensor((1, 4, 3, 1))  # one channel too: its softmax is over C, gaba's over W
    f.inputs = (x,)
    f.outputs = (f.op("SOFTMAX", (x,), (1, 4, 3, 1), beta=1.0),)
    with pytest.raises(ModelImportError, match=r"softmax over the channels"):
        _import(f)


def test_softmax_beta_refused():
    f = FakeFile(np.random.default_rng(0))
    x = f.tensor((1, 5))
    f.inputs = (x,)
    f.outputs = (f.op("SOFTMAX", (x,), (1, 5), beta=0.5),)
    with pytest.raises(ModelImportError, match=r"beta 0.5 is not supported"):
        _import(f)


def test_imported_model_is_a_model():
    m = _import(_vision_graph())
    assert "conv_2d_0" in str(m.summary()) and m.params > 0
    assert len(m.profile(np.zeros((1, 9, 7, 3), np.float32), runs=3)) == len(m.layers)
    qm = m.quantize(np.random.default_rng(0).standard_normal((16, 9, 7, 3)).astype(np.float32))
    assert qm(np.zeros((2, 9, 7, 3), np.float32)).shape == (2, 42)


# ---- the MLPerf Tiny files ----------------------------------------------------------------

def _tflm(path):
    runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime",
                                  reason="tflite-micro (the int8 oracle) is not installed")
    return runtime.Interpreter.from_file(str(path))


def _tflm_run(it, x):
    it.set_input(x, 0)
    it.invoke()
    return it.get_output(0)


@pytest.mark.parametrize("path", [KWS_INT8, RESNET_INT8], ids=lambda p: p.stem)
def test_int8_equals_tflite_micro(path):
    qm = gaba.zoo.from_tflite(path)
    assert isinstance(qm, gaba.zoo.QuantizedModel)
    it = _tflm(path)
    shape = tuple(it.get_input_details(0)["shape"])
    rng = np.random.default_rng(0)
    xs = rng.integers(-128, 128, (200,) + shape[1:], dtype=np.int8)
    got = qm(xs, raw=True, threads=2)
    for s in range(len(xs)):
        np.testing.assert_array_equal(got[s], _tflm_run(it, xs[s:s + 1])[0], err_msg=f"sample {s}")


def test_kws_bundled_sample():
    qm = gaba.zoo.from_tflite(KWS_INT8)
    x = np.load(DATA / "kws_input_int8_1x49x10x1.npy")
    got = qm(x.reshape(1, 49, 10, 1), raw=True)
    # TensorFlow Lite Micro's answer for the benchmark's own sample (the data README)
    assert got.tolist() == [[-128] * 5 + [127] + [-128] * 6]


def test_kws_float_matches_reference():
    f = read_tflite(KWS_FLOAT)  # its convs hold int8 weights with one scale (dynamic range)
    m = gaba.zoo.from_tflite(KWS_FLOAT)
    xs = np.random.default_rng(4).standard_normal((8, 49, 10, 1)).astype(np.float32)
    got = m(xs)
    for s in range(8):
        np.testing.assert_allclose(got[s:s + 1], run_reference(f, xs[s:s + 1]), rtol=1e-5,
                                   atol=1e-7)


@pytest.mark.parametrize("path", [KWS_INT8, RESNET_INT8], ids=lambda p: p.stem)
def test_imported_bytes_within_file_and_tflm_arena(path, capfd):
    """int8 weights + arena no larger than the .tflite file + TFLite Micro's arena."""
    it = _tflm(path)
    capfd.readouterr()
    it.print_allocations()
    text = "".join(capfd.readouterr())
    arena = int(re.search(r"Arena allocation total (\d+) bytes", text).group(1))
    qm = gaba.zoo.from_tflite(path)
    assert qm.weight_bytes + qm.arena_bytes <= path.stat().st_size + arena


@pytest.mark.skipif(not MLPERF, reason="GABA_MLPERF_DIR (the MLPerf Tiny models) not set")
@pytest.mark.parametrize("name", ["kws_ref_model", "pretrainedResnet_quant", "vww_96_int8",
                                  "ad01_int8"])
def test_mlperf_int8_equals_tflite_micro(name):
    path = pathlib.Path(MLPERF) / f"{name}.tflite"
    qm, it = gaba.zoo.from_tflite(path), _tflm(path)
    shape = tuple(it.get_input_details(0)["shape"])
    xs = np.random.default_rng(5).integers(-128, 128, (100,) + shape[1:], dtype=np.int8)
    got = qm(xs, raw=True)
    for s in range(len(xs)):
        np.testing.assert_array_equal(got[s], _tflm_run(it, xs[s:s + 1])[0])


@pytest.mark.skipif(not MLPERF, reason="GABA_MLPERF_DIR (the MLPerf Tiny models) not set")
@pytest.mark.parametrize("name", ["kws_ref_model_float32", "pretrainedResnet", "vww_96_float",
                                  "ad01_fp32"])
def test_mlperf_float(name):
    path = pathlib.Path(MLPERF) / f"{name}.tflite"
    f, m = read_tflite(path), gaba.zoo.from_tflite(path)
    shape = tuple(f.tensors[f.inputs[0]].shape)
    xs = np.random.default_rng(6).standard_normal((4,) + shape[1:]).astype(np.float32)
    got = m(xs)
    for s in range(len(xs)):  # float32 sums against float64 ones: 1e-5 of the output's scale
        ref = run_reference(f, xs[s:s + 1])
        np.testing.assert_allclose(got[s:s + 1], ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())
    hybrid = any(t.dtype == np.int8 for t in f.tensors)  # LiteRT quantizes these convs' inputs
    litert = pytest.importorskip("ai_edge_litert.interpreter") if not hybrid else None
    if litert:
        it = litert.Interpreter(model_path=str(path), num_threads=1)
        it.allocate_tensors()
        i, o = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
        for s in range(len(xs)):
            it.set_tensor(i, xs[s:s + 1])
            it.invoke()
            ref = it.get_tensor(o)
            np.testing.assert_allclose(got[s:s + 1], ref, rtol=1e-5,
                                       atol=1e-5 * np.abs(ref).max())


@pytest.mark.parametrize("path", [KWS_INT8, KWS_FLOAT], ids=lambda p: p.stem)
def test_save_load_round_trip(path, tmp_path):
    m = gaba.zoo.from_tflite(path)
    int8 = isinstance(m, gaba.zoo.QuantizedModel)
    x = np.random.default_rng(7).standard_normal((4, 49, 10, 1)).astype(np.float32)
    m.save(tmp_path / "m.npz")
    back = gaba.zoo.load(tmp_path / "m.npz")
    assert type(back) is type(m) and back.name == m.name
    np.testing.assert_array_equal(back(x), m(x))
    if int8:
        xq = np.random.default_rng(8).integers(-128, 128, (4, 49, 10, 1), dtype=np.int8)
        np.testing.assert_array_equal(back(xq, raw=True), m(xq, raw=True))
        assert back.input_qparams == m.input_qparams


def test_load_refuses_a_bad_graph_record(tmp_path):
    import json
    import zipfile

    gaba.zoo.from_tflite(KWS_FLOAT).save(tmp_path / "m.npz")
    with zipfile.ZipFile(tmp_path / "m.npz") as z:
        entries = {n: z.read(n) for n in z.namelist()}
    meta = json.loads(np.load(tmp_path / "m.npz")["__gaba_meta__"].item())
    meta["graph"]["layers"][1][1] = 99  # an op code past the table
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(bad, "w") as z:
        for n, data in entries.items():
            if n != "__gaba_meta__.npy":
                z.writestr(n, data)
        with z.open("__gaba_meta__.npy", "w") as f:
            np.lib.format.write_array(f, np.array(json.dumps(meta)))
    with pytest.raises(gaba.ModelFileError, match="graph record does not build"):
        gaba.zoo.load(bad)
