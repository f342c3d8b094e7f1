"""gaba.zoo.from_onnx: ONNX graphs (float and QDQ) on gaba's layer table.

References: the zoo model a file was exported from (to_onnx -> from_onnx gives
it back, bit for bit), PyTorch for torch.onnx.export files, and ONNX Runtime
for hand-built graphs and for the QDQ files of its own quantizer.
"""
import io
import sys

import numpy as np
import pytest

import gaba
from gaba.importers import ModelImportError
from gaba.importers.onnx import ONNXError

try:
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
except Exception as exc:  # not installed, or built for another NumPy (onnx's ml_dtypes)
    pytest.skip(f"onnx and onnxruntime are not usable here: {exc!r}", allow_module_level=True)

# models with attention: the block to_onnx writes maps back to gaba's attention op in
# float graphs; QDQ graphs lack its internal scales
ATTENTION = {"EmotionRecogNano", "NamedEntityMicro", "TextSummarizeNano"}


def _batch(m, n, seed=1):
    rng = np.random.default_rng(seed)
    out = []
    for spec in m.inputs.values():
        shape = (n,) + tuple(spec["shape"])
        if spec["dtype"] == "int32":
            out.append(rng.integers(0, spec["vocab"], shape).astype(np.int32))
        else:
            out.append(rng.standard_normal(shape).astype(np.float32))
    return tuple(out)


def _outputs(y):
    return y if isinstance(y, dict) else {"y": y}


def _export(m, tmp_path, stem="m"):
    path = tmp_path / f"{stem}.onnx"
    m.to_onnx(path)
    return path


# ---- gaba's own exports -----------------------------------------------------------------

@pytest.mark.parametrize("name", gaba.zoo.names())
def test_to_onnx_then_from_onnx_gives_the_model_back(name, tmp_path):
    m = gaba.zoo.create(name, seed=3)
    back = gaba.zoo.from_onnx(_export(m, tmp_path))
    assert list(back.inputs) == list(m.inputs) and list(back.outputs) == list(m.outputs)
    assert back.params == m.params
    assert [la["op"] for la in back.layers if la["op"] != "flatten"] == [
        la["op"] for la in m.layers if la["op"] != "flatten"]  # dense reads its input flat
    xs = _batch(m, 3)
    want, got = _outputs(m(*xs)), _outputs(back(*xs))
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=f"{name} {key}")


def _raw(qm, xs):
    return [qm.quantize_input(x, n) if x.dtype == np.float32 else x
            for x, n in zip(xs, qm.inputs)]


@pytest.mark.parametrize("name", gaba.zoo.names())
def test_int8_to_onnx_then_from_onnx_gives_the_int8_model_back(name, tmp_path):
    """With requant="fp32" on both sides the raw int8 outputs are equal. A "double"
    model comes back within 2 LSB: its Q31 multipliers were made from each weight
    scale in double, the file holds it in float32 (equal on most models)."""
    m = gaba.zoo.create(name, seed=3)
    if name in ATTENTION:
        qm = m.quantize(_batch(m, 8, seed=2))
        with pytest.raises(ModelImportError, match=r"node \d+ \(MatMul\): an attention block "
                                                   r"in a QDQ graph"):
            gaba.zoo.from_onnx(_export(qm, tmp_path))
        return
    for requant in ("fp32", "double"):
        qm = m.quantize(_batch(m, 8, seed=2), requant=requant)
        back = gaba.zoo.from_onnx(_export(qm, tmp_path, requant), requant=requant)
        assert back.requant == requant
        # (a Flatten before a dense layer becomes no layer: dense reads its input flat)
        assert back.fully_int8 == qm.fully_int8
        assert len(back.float_layers) == len(qm.float_layers)
        assert back.input_qparams == qm.input_qparams
        assert back.output_qparams == qm.output_qparams
        raw = _raw(qm, _batch(m, 3))
        want, got = _outputs(qm(*raw, raw=True)), _outputs(back(*raw, raw=True))
        for key in want:
            diff = np.abs(got[key].astype(np.int32) - want[key])
            assert diff.max() <= (0 if requant == "fp32" else 2), (name, key, requant)


def test_imported_models_save_and_load(tmp_path):
    m = gaba.zoo.create("AnomalyDetectEdge", seed=1)
    qm = m.quantize(_batch(m, 8), requant="fp32")
    for model in (gaba.zoo.from_onnx(_export(m, tmp_path, "f")),
                  gaba.zoo.from_onnx(_export(qm, tmp_path, "q"))):
        model.save(tmp_path / "saved.npz")
        back = gaba.zoo.load(tmp_path / "saved.npz")
        x = _batch(m, 2)
        want, got = _outputs(model(*x)), _outputs(back(*x))
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])


# ---- PyTorch ------------------------------------------------------------------------------

torch = pytest.importorskip("torch")


class _Net2d(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.c2 = torch.nn.Conv2d(8, 16, 3, stride=2, groups=2)
        self.fc = torch.nn.Linear(16 * 3 * 3, 10)

    def forward(self, x):
        y = torch.nn.functional.max_pool2d(torch.relu(self.bn(self.c1(x))), 2)
        y = torch.nn.functional.avg_pool2d(torch.nn.functional.relu6(self.c2(y)), 2)
        return self.fc(torch.flatten(y, 1))


class _Net1d(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv1d(4, 12, 5, padding=2, dilation=1)
        self.bn = torch.nn.BatchNorm1d(12)
        self.c2 = torch.nn.Conv1d(12, 12, 3, padding="same", dilation=2, groups=12)
        self.fc = torch.nn.Linear(12, 3)

    def forward(self, x):
        y = torch.nn.functional.hardswish(self.bn(self.c1(x)))
        y = torch.nn.functional.max_pool1d(torch.sigmoid(self.c2(y)) + y, 2)
        return torch.softmax(self.fc(y.mean(dim=2)), dim=-1)


def _torch_onnx(net, shape, **kw):
    torch.manual_seed(0)
    net = net.eval()
    with torch.no_grad():
        bn = net.bn
        bn.running_mean.uniform_(-1, 1), bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 1.5), bn.bias.uniform_(-0.5, 0.5)
    buf = io.BytesIO()
    torch.onnx.export(net, (torch.zeros(shape),), buf, dynamo=False, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "n"}}, opset_version=17, **kw)
    return net, buf.getvalue()


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("net, shape", [(_Net2d, (1, 3, 28, 28)), (_Net1d, (1, 4, 32))])
@pytest.mark.parametrize("folding", [True, False])
def test_torch_onnx_export_equals_torch(net, shape, folding):
    """With constant folding off the batch norms stay BatchNormalization nodes."""
    net, data = _torch_onnx(net(), shape, do_constant_folding=folding)
    m = gaba.zoo.from_onnx(data)
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((6,) + shape[1:], np.float32))
    with torch.no_grad():
        want = net(x).numpy()
    got = m(x.numpy())
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()


class _Gru(torch.nn.Module):
    def __init__(self, seq):
        super().__init__()
        self.gru, self.seq = torch.nn.GRU(6, 10, batch_first=True), seq
        self.fc = torch.nn.Linear(10, 3)

    def forward(self, x):
        y, h = self.gru(x)
        return y if self.seq else self.fc(h[0])


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("seq", [False, True])
def test_torch_gru_equals_torch(seq):
    """The exporter sizes the initial state from Shape(x): constants gaba evaluates."""
    torch.manual_seed(0)
    net, buf = _Gru(seq).eval(), io.BytesIO()
    torch.onnx.export(net, (torch.zeros(1, 7, 6),), buf, dynamo=False, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "n"}}, opset_version=17)
    m = gaba.zoo.from_onnx(buf.getvalue())
    assert [la["op"] for la in m.layers][:2] == ["transpose", "gru"]
    x = np.random.default_rng(0).standard_normal((5, 7, 6)).astype(np.float32)
    with torch.no_grad():
        want = net(torch.from_numpy(x)).numpy()
    assert np.abs(m(x) - want).max() <= 1e-5 * np.abs(want).max()


# ---- ONNX Runtime's quantizer --------------------------------------------------------------

def _ort_qdq(tmp_path, activation_type):
    quant = pytest.importorskip("onnxruntime.quantization")
    _, data = _torch_onnx(_Net2d(), (1, 3, 28, 28))
    (tmp_path / "f.onnx").write_bytes(data)

    class Reader(quant.CalibrationDataReader):
        def __init__(self):
            rng = np.random.default_rng(0)
            self.it = iter([{"x": rng.standard_normal((1, 3, 28, 28), np.float32)}
                            for _ in range(16)])

        def get_next(self):
            return next(self.it, None)

    path = tmp_path / "q.onnx"
    quant.quantize_static(str(tmp_path / "f.onnx"), str(path), Reader(),
                          quant_format=quant.QuantFormat.QDQ, per_channel=True,
                          activation_type=activation_type, weight_type=quant.QuantType.QInt8)
    return path


def _ort(path, x):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": x})[0]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("activations", ["QInt8", "QUInt8"])
def test_onnxruntime_qdq_model_against_onnxruntime(activations, tmp_path):
    """ONNX Runtime runs the QDQ graph as QLinearConv (one rounding in float, as
    requant="fp32"), QLinearAveragePool (rounded in float, where gaba rounds the int8
    average as TFLite does) and QGemm: the first conv's codes agree but for input
    rounding ties, the logits within 2 LSB."""
    quant = pytest.importorskip("onnxruntime.quantization")
    path = _ort_qdq(tmp_path, getattr(quant.QuantType, activations))
    qm = gaba.zoo.from_onnx(path)
    assert isinstance(qm, gaba.zoo.QuantizedModel) and qm.fully_int8 and qm.requant == "fp32"
    x = np.random.default_rng(5).standard_normal((32, 3, 28, 28), np.float32)
    lsb = np.abs(qm(x) - _ort(path, x)) / qm.output_qparams["y"][0]
    assert lsb.max() <= 2.001
    # the graph up to the first conv's output, dequantized
    g = onnx.load(str(path)).graph
    first = next(n for n in g.node if n.op_type == "Conv").output[0]
    q = next(n for n in g.node if n.op_type == "QuantizeLinear" and n.input[0] == first)
    dq = next(n for n in g.node if n.op_type == "DequantizeLinear" and n.input[0] == q.output[0])
    onnx.utils.extract_model(str(path), str(tmp_path / "cut.onnx"), ["x"], [dq.output[0]])
    cut = gaba.zoo.from_onnx(tmp_path / "cut.onnx")
    lsb = np.abs(cut(x) - _ort(tmp_path / "cut.onnx", x)) / next(iter(
        cut.output_qparams.values()))[0]
    assert lsb.max() <= 1.001 and np.mean(lsb > 0.5) < 1e-3


# ---- hand-built graphs ----------------------------------------------------------------------

def _model(nodes, inputs, outputs, inits=(), opset=17):
    graph = helper.make_graph(nodes, "g", inputs, outputs,
                              [numpy_helper.from_array(np.asarray(v), k) for k, v in inits])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                             ir_version=8).SerializeToString()


def _vi(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, ["n"] + list(shape))


@pytest.mark.parametrize("mode, attrs", [
    ("nearest", dict(coordinate_transformation_mode="asymmetric", nearest_mode="floor")),
    ("nearest", dict(coordinate_transformation_mode="half_pixel")),
    ("linear", dict(coordinate_transformation_mode="half_pixel")),
])
def test_resize_and_batchnorm_against_onnxruntime(mode, attrs):
    rng = np.random.default_rng(0)
    c = 3
    nodes = [
        helper.make_node("Resize", ["x", "", "scales"], ["r"], mode=mode, **attrs),
        helper.make_node("BatchNormalization", ["r", "g", "b", "mu", "var"], ["y"],
                         epsilon=1e-3),
    ]
    inits = [("scales", np.array([1, 1, 2, 3], np.float32))] + [
        (k, rng.uniform(0.5, 1.5, c).astype(np.float32)) for k in ("g", "b", "mu", "var")]
    data = _model(nodes, [_vi("x", (c, 4, 5))], [_vi("y", (c, 8, 15))], inits)
    m = gaba.zoo.from_onnx(data)
    assert [la["op"] for la in m.layers] == ["upsample", "batchnorm"]
    x = rng.standard_normal((2, c, 4, 5), np.float32)
    want = ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.testing.assert_allclose(m(x), want, rtol=1e-6, atol=1e-6)


def _conv_then(op_type, out=("c", "h", "w"), **attrs):
    w = np.ones((4, 2, 3, 3), np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node(op_type, ["c"], ["y"], **attrs)]
    return _model(nodes, [_vi("x", (2, 6, 6))], [_vi("y", out)], [("w", w)])


def test_unsupported_operator_is_named_with_its_index():
    with pytest.raises(ModelImportError, match=r"node 1 \('erf_node'\) is Erf, which gaba does "
                                               r"not import; supported: .*Conv.*GRU"):
        nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
                 helper.make_node("Erf", ["c"], ["y"], name="erf_node")]
        gaba.zoo.from_onnx(_model(nodes, [_vi("x", (2, 6, 6))], [_vi("y", (4, 6, 6))],
                                  [("w", np.ones((4, 2, 3, 3), np.float32))]))


@pytest.mark.parametrize("data, match", [
    (lambda: _conv_then("MaxPool", kernel_shape=[2, 2], ceil_mode=1), r"node 1 .*ceil_mode"),
    (lambda: _conv_then("LeakyRelu", alpha=0.1), r"node 1 is LeakyRelu"),
    (lambda: _conv_then("Softmax", axis=1), r"node 1 \(Softmax\): axis 1"),
    (lambda: _conv_then("Flatten", ("f",), axis=2), r"node 1 \(Flatten\): axis 2"),
    (lambda: _conv_then("ReduceMean", axes=[1]), r"node 1 \(ReduceMean\): reduction over"),
])
def test_unsupported_attributes_are_named(data, match):
    with pytest.raises(ModelImportError, match=match):
        gaba.zoo.from_onnx(data())


def test_old_opsets_and_bad_arguments_are_refused(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["y"])]
    old = _model(nodes, [_vi("x", (4,))], [_vi("y", (4,))], opset=11)
    with pytest.raises(ModelImportError, match="opset 11; gaba imports opset 13"):
        gaba.zoo.from_onnx(old)
    with pytest.raises(TypeError, match=r"zoo.from_onnx\(\): path must be"):
        gaba.zoo.from_onnx(3)
    with pytest.raises(FileNotFoundError):
        gaba.zoo.from_onnx(tmp_path / "none.onnx")
    with pytest.raises(ValueError, match="requant must be"):
        gaba.zoo.from_onnx(old, requant="fp16")


def test_without_the_onnx_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match="pip install onnx"):
        gaba.zoo.from_onnx(b"")


@pytest.mark.parametrize("int8", [False, True])
def test_damaged_bytes_raise_value_error_only(int8, tmp_path):
    """Cut short or with bytes flipped, a file either still imports (protobuf is
    lenient) and runs, or raises a ValueError (ONNXError, ModelImportError)."""
    m = gaba.zoo.create("AnomalyDetectEdge")
    src = m.quantize(_batch(m, 8)) if int8 else m
    data = _export(src, tmp_path).read_bytes()
    rng = np.random.default_rng(0)
    cuts = [data[:int(k)] for k in rng.integers(0, len(data), 60)]
    flips = []
    for _ in range(120):
        b = bytearray(data)
        for i in rng.integers(0, len(b), rng.integers(1, 4)):
            b[i] ^= 1 << int(rng.integers(8))
        flips.append(bytes(b))
    refused = 0
    for blob in cuts + flips + [b"", b"\x00" * 64, b"not an onnx file"]:
        try:
            got = gaba.zoo.from_onnx(blob, threads=1)
        except ValueError:
            refused += 1
            continue
        got({n: np.zeros((1,) + tuple(s["shape"]), np.float32) for n, s in got.inputs.items()})
    assert refused >= 60  # every cut but the whole file, at least
    with pytest.raises(ONNXError, match="<bytes> is not a valid ONNX model"):
        gaba.zoo.from_onnx(b"not an onnx file")


def _qdq_conv(zp_dtype, zp_in, zp_out, after=None, after_zp=None):
    """x -> Q/DQ -> Conv (int8 per-channel weights, int32 bias) -> Q/DQ [-> after -> Q/DQ]."""
    rng = np.random.default_rng(0)
    wq = rng.integers(-127, 128, (4, 2, 3, 3)).astype(np.int8)
    ws = rng.uniform(0.01, 0.02, 4).astype(np.float32)
    s_in, s_out = np.float32(0.03), np.float32(0.05)
    inits = [("wq", wq), ("ws", ws), ("wz", np.zeros(4, np.int8)),
             ("bq", rng.integers(-500, 500, 4).astype(np.int32)), ("bs", s_in * ws),
             ("bz", np.zeros(4, np.int32)), ("s_in", s_in), ("z_in", np.array(zp_in, zp_dtype)),
             ("s_out", s_out), ("z_out", np.array(zp_out, zp_dtype))]
    nodes = [helper.make_node("QuantizeLinear", ["x", "s_in", "z_in"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "s_in", "z_in"], ["xd"]),
             helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["w"], axis=0),
             helper.make_node("DequantizeLinear", ["bq", "bs", "bz"], ["b"], axis=0),
             helper.make_node("Conv", ["xd", "w", "b"], ["c"], pads=[1, 1, 1, 1])]
    if after == "Sigmoid":  # the conv's output read unquantized
        nodes += [helper.make_node("Sigmoid", ["c"], ["c2"])]
        c = "c2"
    else:
        c = "c"
    nodes += [helper.make_node("QuantizeLinear", [c, "s_out", "z_out"], ["cq"]),
              helper.make_node("DequantizeLinear", ["cq", "s_out", "z_out"], ["y0"])]
    last = "y0"
    if after == "Relu":
        inits += [("z_r", np.array(after_zp, zp_dtype))]
        nodes += [helper.make_node("Relu", ["y0"], ["r"]),
                  helper.make_node("QuantizeLinear", ["r", "s_out", "z_r"], ["rq"]),
                  helper.make_node("DequantizeLinear", ["rq", "s_out", "z_r"], ["r0"])]
        last = "r0"
    nodes += [helper.make_node("Identity", [last], ["y"])]
    return _model(nodes, [_vi("x", (2, 6, 6))], [_vi("y", (4, 6, 6))], inits)


def test_qdq_uint8_activations_map_exactly_to_int8():
    x = np.random.default_rng(1).standard_normal((3, 2, 6, 6)).astype(np.float32) * 2
    u8 = gaba.zoo.from_onnx(_qdq_conv(np.uint8, 140, 100))
    i8 = gaba.zoo.from_onnx(_qdq_conv(np.int8, 12, -28))
    assert u8.input_qparams == i8.input_qparams == {"x": (np.float32(0.03), 12)}
    np.testing.assert_array_equal(u8(x), i8(x))
    want = ort.InferenceSession(_qdq_conv(np.uint8, 140, 100),
                                providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    assert np.abs(u8(x) - want).max() <= 0.05 * 1.001  # 1 LSB (input rounding ties)


def test_qdq_parameters_gaba_cannot_keep_are_refused():
    with pytest.raises(ModelImportError, match=r"layer 'relu_\d+' \(act\) is quantized .* "
                                               r"keeps its input's parameters"):
        gaba.zoo.from_onnx(_qdq_conv(np.int8, 0, -10, "Relu", -128))
    with pytest.raises(ModelImportError, match=r"the output of layer 'conv_\d+' \(conv2d\), "
                                               r".* has no QuantizeLinear"):
        gaba.zoo.from_onnx(_qdq_conv(np.int8, 0, 0, "Sigmoid"))
