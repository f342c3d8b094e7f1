"""ONNX export of every zoo model, run in ONNX Runtime: outputs must match gaba's
(float32: within 1e-4 of the output scale; int8 QDQ: every op within 1 LSB of
gaba's kernel on the same inputs, the whole model as accurate as gaba's).
Skipped when onnx or onnxruntime is not installed (CI installs both)."""
import sys

import numpy as np
import pytest

import gaba
from gaba import _nn, zoo, zoo_onnx
from gaba._ext import _gaba
from gaba.benchmarks.bench_zoo import make_inputs
from gaba.ref import zoo_int8 as R

try:
    import onnx
    import onnxruntime as ort
except Exception as exc:  # not installed, or built for another NumPy (onnx's ml_dtypes)
    pytest.skip(f"onnx and onnxruntime are not usable here: {exc!r}", allow_module_level=True)


@pytest.mark.parametrize("name", zoo.names())
def test_onnx_matches_gaba(name, tmp_path):
    m = zoo.create(name, seed=1)
    path = str(tmp_path / "m.onnx")
    proto = m.to_onnx(path)
    assert [i.name for i in proto.graph.input] == list(m.inputs)
    assert [o.name for o in proto.graph.output] == list(m.outputs)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    for batch in (1, 3):
        x = make_inputs(m, batch, seed=batch)
        y = m(x)
        y = y if isinstance(y, dict) else {next(iter(m.outputs)): y}
        got = sess.run(list(m.outputs), x)
        for k, v in zip(m.outputs, got):
            assert v.shape == y[k].shape
            scale = max(1.0, float(np.abs(v).max()))
            np.testing.assert_allclose(y[k], v, rtol=0, atol=1e-4 * scale, err_msg=k)


# ---- int8 (QDQ) -----------------------------------------------------------------------
# ORT's two readings of a QDQ graph: with graph optimisations (the default) it fuses
# DQ -> Conv/Gemm -> Q into QLinearConv / QGemm where its selectors allow (integer
# accumulation, float requantization); with them disabled it runs every node as the
# ONNX spec defines it (dequantize, float op, quantize).
# Without VNNI, ORT's fused QLinearConv multiplies u8 x s8 with vpmaddubsw,
# whose int16 pair sums saturate: measured up to 5x gaba's own int8 error end
# to end on an AVX2-only CPU, against at most 1x with VNNI, and at most 0.9x
# at the spec level (DequantizeLinear -> float op -> QuantizeLinear) on both.
ORT_INT8_EXACT = any(gaba.info()["cpu_features"][f] for f in ("avx512vnni", "avxvnni"))
LEVELS = {"fused": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
          "spec": ort.GraphOptimizationLevel.ORT_DISABLE_ALL}
_QDQ = {}


def qdq(name, tmp_path_factory, requant="double"):
    """(float model, int8 model, exported ModelProto, path, gaba's int8 graph, tensor names)."""
    if (name, requant) not in _QDQ:
        from gaba.zoo_onnx import _tensor_names

        m = zoo.create(name, seed=1)
        qm = m.quantize(make_inputs(m, 8, seed=0), requant=requant)
        path = str(tmp_path_factory.mktemp("qdq") / f"{name}-{requant}.onnx")
        proto = qm.to_onnx(path)
        g = _gaba.zoo_qgraph(qm._cap)
        keys = ("name", "dtype", "shape", "scale", "zp", "kind", "io_index")
        tensors = [dict(zip(keys, t)) for t in g["tensors"]]
        _QDQ.clear()  # one model at a time: the graphs hold every weight
        _QDQ[name, requant] = (m, qm, proto, path, g["nodes"], tensors, _tensor_names(tensors))
    return _QDQ[name, requant]


def session(model, level):
    so = ort.SessionOptions()
    so.graph_optimization_level = LEVELS[level]
    return ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])


def round_half_away(v):
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


@pytest.mark.parametrize("name", zoo.names())
def test_qdq_graph_and_weights(name, tmp_path_factory):
    """The file is valid ONNX with the model's edges; every int8 tensor is a
    QuantizeLinear with gaba's parameters; the int8 weights, weight scales and
    int32 biases are TFLite's quantization of the float weights (NumPy here); an
    int8 bilinear upsample is a half-pixel linear Resize between a DequantizeLinear
    and a QuantizeLinear with the same parameters."""
    m, qm, proto, path, nodes, tensors, names = qdq(name, tmp_path_factory)
    loaded = onnx.load(path)
    onnx.checker.check_model(loaded, full_check=True)
    TP = onnx.TensorProto
    assert [i.name for i in loaded.graph.input] == list(qm.inputs)
    assert [o.name for o in loaded.graph.output] == list(qm.outputs)
    for vi, spec in zip(loaded.graph.input, qm.inputs.values()):
        assert vi.type.tensor_type.elem_type == (TP.INT32 if spec["dtype"] == "int32" else TP.FLOAT)
        dims = vi.type.tensor_type.shape.dim
        assert dims[0].dim_param == "batch"
        assert [d.dim_value for d in dims[1:]] == list(spec["shape"])
    for vi in loaded.graph.output:
        assert vi.type.tensor_type.elem_type == TP.FLOAT
    init = {t.name: onnx.numpy_helper.to_array(t) for t in loaded.graph.initializer}
    q_of = {n.output[0]: n for n in loaded.graph.node if n.op_type == "QuantizeLinear"}
    written = {out for *_, out, _ in nodes}
    for i, t in enumerate(tensors):
        if t["dtype"] != "int8" or i not in written:
            continue
        qn = q_of[names[i]]
        assert init[qn.input[1]] == np.float32(t["scale"]) and init[qn.input[2]].dtype == np.int8
        assert init[qn.input[2]] == t["zp"]
    for oname in qm.outputs:  # dequantized with the raw output's parameters
        dq = next(n for n in loaded.graph.node if n.output[0] == oname)
        assert dq.op_type == "DequantizeLinear"
        s, z = qm.output_qparams[oname]
        assert init[dq.input[1]] == np.float32(s) and init[dq.input[2]] == z
    share = {L["name"]: L["share"] or L["name"] for L in m.layers}
    n_weighted = 0
    for lname, kind, op, act, params, ins, out, w in nodes:
        if kind != "int8" or "weight" not in w:
            continue
        n_weighted += 1
        fw = np.array(m.weights[f"{share[lname]}.weight"], np.float64)
        fb = np.array(m.weights[f"{share[lname]}.bias"], np.float64)
        co = fw.shape[0]
        ws = np.abs(fw.reshape(co, -1)).max(axis=1) / 127
        ref = np.clip(round_half_away(fw / ws.reshape((co,) + (1,) * (fw.ndim - 1))), -127, 127)
        got = init[f"{lname}.weight_quantized"]
        assert got.dtype == np.int8 and got.shape == fw.shape
        np.testing.assert_array_equal(got, ref.astype(np.int8), err_msg=lname)
        np.testing.assert_array_equal(got.reshape(co, -1), w["weight"], err_msg=lname)
        np.testing.assert_allclose(init[f"{lname}.weight_scale"], ws, rtol=1e-6, err_msg=lname)
        assert not init[f"{lname}.weight_zero_point"].any()
        bias_scale = np.float64(tensors[ins[0]]["scale"]) * ws
        np.testing.assert_array_equal(init[f"{lname}.bias_quantized"],
                                      round_half_away(fb / bias_scale))
        np.testing.assert_allclose(init[f"{lname}.bias_scale"], bias_scale, rtol=1e-6)
        wdq = next(n for n in loaded.graph.node if n.output[0] == f"{lname}.weight")
        assert wdq.op_type == "DequantizeLinear" and wdq.attribute[0].name == "axis"
        assert wdq.attribute[0].i == 0
    assert n_weighted > 0
    by_out = {n.output[0]: n for n in loaded.graph.node}
    ups = {v: k for k, v in zoo.OPS.items()}
    for lname, kind, op, act, params, ins, out, w in nodes:
        if kind != "int8" or ups[op] != "upsample" or params[2] != 1:
            continue
        qn = q_of[names[out]]
        rs = by_out[qn.input[0]]
        attrs = {a.name: a.s for a in rs.attribute}
        assert rs.op_type == "Resize", lname
        assert attrs["mode"] == b"linear"
        assert attrs["coordinate_transformation_mode"] == b"half_pixel"
        dq = by_out[rs.input[0]]
        assert dq.op_type == "DequantizeLinear" and dq.input[0] == names[ins[0]], lname
        for i in (1, 2):
            assert init[dq.input[i]] == init[qn.input[i]], lname


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", zoo.names())
def test_qdq_every_op_matches_gaba(name, level, tmp_path_factory):
    """Op by op: each int8 tensor ORT computes, from ORT's own inputs, is within
    1 LSB of what gaba's int8 kernel makes of those inputs, and differs on at most
    1% of values (TFLite's double rounding vs ORT's single rounding of a value
    within 2^shift of a half; average pooling and bilinear upsampling only at exact
    ties, which gaba rounds away from zero and ORT to even); float layers agree
    with gaba's float op to 1e-4."""
    m, qm, proto, path, nodes, tensors, names = qdq(name, tmp_path_factory)
    probe = onnx.ModelProto()
    probe.CopyFrom(proto)
    wanted = [names[out] for _, kind, *_, out, _ in nodes
              if kind in ("int8", "float32", "quantize")]
    for n in wanted:
        probe.graph.output.append(onnx.helper.make_empty_tensor_value_info(n))
    x = make_inputs(m, 3, seed=5)
    ran = dict(zip(wanted, session(probe.SerializeToString(), level).run(wanted, x)))
    ran.update(x)

    dq_src = {out: ins[0] for _, kind, *_, ins, out, _ in nodes if kind == "dequantize"}

    def value(i, as_float):  # ORT's tensor i (float: dequantized, as a DequantizeLinear)
        if i in dq_src:
            i = dq_src[i]
        v = ran[names[i]]
        if as_float and tensors[i]["dtype"] == "int8":
            codes = (v.astype(np.int32) - tensors[i]["zp"]).astype(np.float32)
            return np.float32(tensors[i]["scale"]) * codes
        return v

    ops = {v: k for k, v in zoo.OPS.items()}
    acts = {v: k for k, v in zoo.ACTS.items()}
    for index, (lname, kind, op, act, params, ins, out, w) in enumerate(nodes):
        if kind == "dequantize":
            continue
        got = ran[names[out]]
        if kind == "float32":
            want = _nn.layer(ops[op], [value(i, True) for i in ins], list(w.values()), params,
                             activation=acts[act])
            tol = 1e-4 * max(1.0, float(np.abs(want).max()))
            np.testing.assert_allclose(got, want, rtol=0, atol=tol, err_msg=lname)
            continue
        if kind == "quantize":
            s, z = tensors[out]["scale"], tensors[out]["zp"]
            want = np.clip(round_half_away(value(ins[0], True) / np.float32(s)) + z, -128, 127)
        else:
            in_q = [(tensors[i]["scale"], tensors[i]["zp"]) for i in ins]
            out_q = (tensors[out]["scale"], tensors[out]["zp"])
            wargs = (None,) * 4
            if ops[op] == "attention":
                # exported as the float op on its dequantized int8 weights between the
                # node's DequantizeLinear and QuantizeLinear (no internal QDQ points)
                floats = [w[k] for k in ("w_qkv", "b_qkv", "w_o", "b_o")]
                f = _nn.layer("attention", [value(i, True) for i in ins], floats, params,
                              activation=acts[act])
                want = np.clip(round_half_away(f / np.float32(out_q[0])) + out_q[1], -128, 127)
            elif ops[op] == "layer_norm":
                # exported as the float op between DequantizeLinear and QuantizeLinear:
                # gaba's int8 node (integer sums, float32 output steps) on ORT's int8 input
                want = np.stack([_gaba.zoo_qnode_eval(qm._cap, index, [s], False)
                                 for s in value(ins[0], False)]).reshape(got.shape)
            elif ops[op] == "gru":
                # exported as the float GRU on its dequantized W_ih: gaba's int8 node
                # itself (int8 projections, float recurrence) on ORT's int8 input
                want = np.stack([_gaba.zoo_qnode_eval(qm._cap, index, [s], False)
                                 for s in value(ins[0], False)]).reshape(got.shape)
            elif "weight" in w:
                real = np.float64(in_q[0][0]) * w["w_scale"].astype(np.float64) / out_q[0]
                wargs = (w["weight"], w["bias"], *gaba.quantize_multiplier(real))
            elif "table" in w:
                wargs = (w["table"], None, None, None)
            if ops[op] not in ("attention", "gru", "layer_norm"):
                want = _nn.layer(ops[op], [value(i, False) for i in ins], wargs, params,
                                 activation=acts[act], dtype="int8", in_q=in_q,
                                 out_q=out_q).reshape(got.shape)
        diff = np.abs(got.astype(np.int32) - want.astype(np.int32))
        where = (lname or "quantize", ops.get(op))
        assert diff.max() <= 1, (where, int(diff.max()))
        if ops.get(op) in ("avgpool", "global_avgpool"):
            # Only at exact ties: gaba rounds the mean half away from zero, ORT to even.
            mean = _nn.layer(ops[op], [value(ins[0], False).astype(np.float32)], (), params)
            assert (np.abs(mean[diff > 0] % 1) == 0.5).all(), where
        elif ops.get(op) == "upsample" and params[2] == 1:
            # Bilinear: the same, at exact ties of the interpolated codes (gaba's
            # integer weights are exact: multiples of 1/16 at the zoo's factor 2).
            zp = tensors[ins[0]]["zp"]
            blend = _nn.layer("upsample", [value(ins[0], False).astype(np.float32) - zp], (),
                              params)
            assert (np.abs(blend[diff > 0] % 1) == 0.5).all(), where
        elif "weight" in w:
            # Only where TFLite's double rounding (a rounding high multiply, then a
            # rounding shift by -shift bits) can move a value across a half: within
            # 2^shift of a tie of the exact acc * s_x w_s / s_y.
            shape = zoo_onnx._INT8_WEIGHTS[ops[op]](w["weight"], params).shape
            acc = _nn.layer(ops[op], [value(ins[0], False).astype(np.float32) - in_q[0][1]],
                            [w["weight"].reshape(shape).astype(np.float32),
                             w["bias"].astype(np.float32)], params)
            axis = (1, -1) + (1,) * (acc.ndim - 2)
            real = (np.float64(in_q[0][0]) * w["w_scale"] / out_q[0]).reshape(axis)
            exact = acc * real
            window = (2.0 ** wargs[3].astype(np.float64)).reshape(axis) + 1e-6
            near = np.abs(np.abs(exact % 1) - 0.5) <= window
            assert near[diff > 0].all(), where
        elif ops.get(op) == "concat":
            # gaba rescales an input through MBQM without a left shift, so its double
            # rounding is coarse; ORT rounds s_i (q - zp_i) / s_y once, exactly.
            exact = np.concatenate(
                [(np.float64(tensors[i]["scale"]) / tensors[out]["scale"]) *
                 (value(i, False).astype(np.float64) - tensors[i]["zp"]) for i in ins], axis=1)
            exact = np.clip(np.round(exact) + tensors[out]["zp"], -128, 127)
            assert np.abs(got.astype(np.int32) - exact).max() == 0, where
        else:
            assert np.mean(diff > 0) <= 0.01, (where, float(np.mean(diff > 0)))


@pytest.mark.parametrize("name", zoo.names())
def test_qdq_fp32_convs_match_ort(name, tmp_path_factory):
    """With requant="fp32" gaba's conv and dense requantize as ORT's QLinearConv /
    QGemm do (float32 scale x_s * w_s / y_s, one rounding half to even): fed ORT's
    own int8 inputs, every conv/dense output ORT computes equals gaba's kernel's
    but for at most 10 values per million (measured: 10 of 11.2 million over the
    34 models, 1 LSB each), fused (on VNNI CPUs, where ORT's int8 products are
    exact) or run as the spec defines it (dequantize, float conv, quantize)."""
    m, qm, proto, path, nodes, tensors, names = qdq(name, tmp_path_factory, "fp32")
    probe = onnx.ModelProto()
    probe.CopyFrom(proto)
    weighted = [(op, act, params, ins, out, w) for _, kind, op, act, params, ins, out, w in nodes
                if kind == "int8" and "weight" in w]
    dq_src = {out: ins[0] for _, kind, *_, ins, out, _ in nodes if kind == "dequantize"}
    wanted = list(dict.fromkeys(names[dq_src.get(i, i)] for *_, ins, out, _ in weighted
                                for i in (out, *ins)))
    for n in wanted:
        probe.graph.output.append(onnx.helper.make_empty_tensor_value_info(n))
    x = make_inputs(m, 3, seed=5)
    for level in LEVELS if ORT_INT8_EXACT else ["spec"]:
        ran = dict(zip(wanted, session(probe.SerializeToString(), level).run(wanted, x)))
        differ = total = 0
        for op, act, params, ins, out, w in weighted:
            in_q = [(tensors[i]["scale"], tensors[i]["zp"]) for i in ins]
            out_q = (tensors[out]["scale"], tensors[out]["zp"])
            scale = np.float32(in_q[0][0]) * w["w_scale"].astype(np.float32) / np.float32(out_q[0])
            mult, shift = np.array([R.fp32_multiplier(v) for v in scale], np.int32).T.copy()
            got = ran[names[out]]
            src = [ran[names[dq_src.get(i, i)]] for i in ins]
            want = _nn.layer(_gaba.nn_ops()[op], src, [w["weight"], w["bias"], mult, shift],
                             params, activation=_gaba.nn_acts()[act], dtype="int8", in_q=in_q,
                             out_q=out_q).reshape(got.shape)
            diff = np.abs(got.astype(np.int32) - want.astype(np.int32))
            assert diff.max() <= 1, (level, op, int(diff.max()))
            differ, total = differ + int((diff > 0).sum()), total + diff.size
        assert differ <= 1e-5 * total, (level, differ, total)


def in_lsb(qm, a, b):
    """(a - b) per output value in units of that output's scale, all outputs flat."""
    return np.concatenate([((a[k] - b[k]) / np.float32(qm.output_qparams[k][0])).ravel()
                           for k in qm.outputs])


def as_dict(qm, y):
    return y if isinstance(y, dict) else {next(iter(qm.outputs)): y}


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", zoo.names())
def test_qdq_end_to_end(name, level, tmp_path_factory):
    """The whole model. Batch 1 and 3: ORT's outputs are gaba's raw int8 outputs'
    grid (DequantizeLinear with the output parameters). Batch 16: ORT and gaba
    disagree by no more than 1.5x gaba's own int8 error against float32 (RMS, in
    output LSBs): two int8 runs of one model that differ only in how they round
    ties and double rounding are two samples of the same quantization noise, whose
    difference is at most sqrt(2) times it; a wrong scale, zero point or weight is
    many times it. Bit-level agreement end to end is not required: the per-op
    1-LSB differences of test_qdq_every_op_matches_gaba propagate (docs/int8.md)."""
    m, qm, proto, path, nodes, tensors, names = qdq(name, tmp_path_factory)
    sess = session(path, level)
    for batch in (1, 3):
        x = make_inputs(m, batch, seed=batch)
        raw = as_dict(qm, qm(*[qm.quantize_input(x[n], n) if n in qm.input_qparams else x[n]
                               for n in qm.inputs], raw=True))
        got = dict(zip(qm.outputs, sess.run(list(qm.outputs), x)))
        for k, v in got.items():
            assert v.shape == raw[k].shape and v.dtype == np.float32
            s, z = qm.output_qparams[k]
            q = v / np.float32(s) + z
            np.testing.assert_allclose(q, np.round(q), rtol=0, atol=1e-3, err_msg=k)
            assert q.min() >= -128.001 and q.max() <= 127.001
            np.testing.assert_array_equal(qm.dequantize_output(raw[k], k), as_dict(qm, qm(x))[k])
    if level == "fused" and not ORT_INT8_EXACT:
        pytest.skip("ORT's fused int8 convolutions saturate on CPUs without VNNI "
                    "(u8 x s8 pair sums in int16, vpmaddubsw); the spec level is checked")
    x = make_inputs(m, 16, seed=16)
    y, f = as_dict(qm, qm(x)), as_dict(qm, m(x))
    got = dict(zip(qm.outputs, sess.run(list(qm.outputs), x)))
    rms = lambda d: float(np.sqrt(np.mean(d.astype(np.float64) ** 2)))
    assert rms(in_lsb(qm, got, y)) <= 1.5 * rms(in_lsb(qm, y, f))


def test_qdq_errors(tmp_path, monkeypatch):
    m = zoo.create("AnomalyDetectEdge", seed=1)
    qm = m.quantize(make_inputs(m, 8, seed=0))
    with pytest.raises(FileNotFoundError, match="directory"):
        qm.to_onnx(str(tmp_path / "missing" / "m.onnx"))
    with pytest.raises(IsADirectoryError, match="directory"):
        qm.to_onnx(tmp_path)
    with pytest.raises(TypeError, match="path"):
        qm.to_onnx(3)
    monkeypatch.setitem(sys.modules, "onnx", None)
    for model in (m, qm):
        with pytest.raises(ImportError, match=r"pip install onnx onnxruntime \(or pip install "
                           r"\"\.\[onnx\]\" in gaba's source directory\)"):
            model.to_onnx(str(tmp_path / "m.onnx"))


def test_every_op_and_activation_has_an_export():
    """Every op and activation of the C op table has an ONNX translation; one without
    fails naming it."""
    class Stub:  # the graph builder's calls, recorded as names
        def node(self, op, *args, **kwargs):
            return op

        def const(self, *args):
            return "const"

        def fresh(self, name):
            return name

    assert set(zoo.OPS) <= set(zoo_onnx._OPS)
    assert [zoo_onnx._act(Stub(), "x", a, "y") for a in zoo.ACTS] == [
        "Identity", "Relu", "Clip", "Sigmoid", "Tanh", "HardSwish"]
    with pytest.raises(NotImplementedError, match="op 'layernorm' \\(layer 'ln'\\)"):
        zoo_onnx._emit(Stub(), {"op": "layernorm", "name": "ln"}, ["x"], [(4,)], None, None)
    with pytest.raises(NotImplementedError, match="activation 'gelu'"):
        zoo_onnx._act(Stub(), "x", "gelu", None)
