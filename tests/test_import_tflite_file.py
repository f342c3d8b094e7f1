"""gaba.importers.tflite_file against the `tflite` package's generated reader (an independent
decoder of the same schema): the two MLPerf Tiny int8 models in tests/data/mlperf, the eight
of GABA_MLPERF_DIR when it is set, and small models written with the `tflite` package's own
builders. Damaged files (truncated, bit flips, crafted fields) raise TFLiteError and nothing
else; GABA_FUZZ_FILES sets the number of seeded mutations per model (default 300)."""
import glob
import os
import struct

import numpy as np
import pytest

from gaba.importers import tflite_file
from gaba.importers.tflite_file import TFLiteError, read_tflite

DATA = os.path.join(os.path.dirname(__file__), "data", "mlperf")
FILES = [os.path.join(DATA, n) for n in ("kws_ref_model.tflite",
                                         "pretrainedResnet_quant.tflite")]
MLPERF_DIR = os.environ.get("GABA_MLPERF_DIR")
N_MUTATIONS = int(os.environ.get("GABA_FUZZ_FILES", "300"))

try:
    import flatbuffers
    import tflite
except ImportError:
    tflite = None
needs_tflite = pytest.mark.skipif(tflite is None, reason="the reference reader `tflite` "
                                  "(pip install tflite) is not installed")

DTYPES = {"FLOAT32": np.float32, "FLOAT16": np.float16, "INT32": np.int32, "UINT8": np.uint8,
          "INT64": np.int64, "BOOL": np.bool_, "INT16": np.int16, "INT8": np.int8,
          "FLOAT64": np.float64, "UINT64": np.uint64, "UINT32": np.uint32,
          "UINT16": np.uint16, "COMPLEX64": np.complex64, "COMPLEX128": np.complex128}
# Which enum of the schema each enum-valued option field holds
ENUM_OF_FIELD = {
    "padding": "Padding", "fused_activation_function": "ActivationFunctionType",
    "weights_format": "FullyConnectedOptionsWeightsFormat", "type": "LSHProjectionType",
    "kernel_type": "LSTMKernelType", "combiner": "CombinerType", "mode": "MirrorPadMode",
}


def enum_names(cls_name):
    return {v: k for k, v in vars(getattr(tflite, cls_name)).items() if not k.startswith("_")}


def camel(field):
    return "".join(part[:1].upper() + part[1:] for part in field.split("_"))


def reference_fields(cls):
    """The schema fields the `tflite` package's generated class reads."""
    skip_suffix = ("AsNumpy", "Length", "IsNone", "BufferHasIdentifier")
    return {n for n in vars(cls) if n[:1].isupper() and n != "Init"
            and not n.startswith("GetRootAs") and not n.endswith(skip_suffix)}


def tuple_or_none(getter_numpy, is_none):
    return None if is_none else tuple(np.asarray(getter_numpy()).tolist())


def reference_options(op):
    """The reference's builtin options of operator `op`: (table name, {field: value})."""
    kind = op.BuiltinOptionsType()
    if kind == 0:
        return None, {}
    name = enum_names("BuiltinOptions")[kind]
    cls = getattr(tflite, name)
    table = op.BuiltinOptions()
    obj = cls()
    obj.Init(table.Bytes, table.Pos)
    out = {}
    for getter in reference_fields(cls):
        if hasattr(obj, getter + "AsNumpy"):
            value = None if getattr(obj, getter + "IsNone")() else tuple(
                getattr(obj, getter + "AsNumpy")().tolist())
        else:
            value = getattr(obj, getter)()
            value = value.decode() if isinstance(value, bytes) else value
        out[getter] = value
    return name, out


def compare_with_reference(data):
    """Every tensor and operator that read_tflite returns equals the reference's reading."""
    f = read_tflite(data)
    m = tflite.Model.GetRootAs(data, 0)
    ops = enum_names("BuiltinOperator")
    types = enum_names("TensorType")
    assert f.version == m.Version()
    assert f.description == (m.Description() or b"").decode()
    assert f.n_subgraphs == m.SubgraphsLength()
    g = m.Subgraphs(0)
    assert f.inputs == tuple(g.InputsAsNumpy().tolist())
    assert f.outputs == tuple(g.OutputsAsNumpy().tolist())
    assert len(f.tensors) == g.TensorsLength()
    for i, t in enumerate(f.tensors):
        r = g.Tensors(i)
        where = f"tensor {i}"
        assert t.index == i
        assert t.name == r.Name().decode(), where
        assert t.shape == (tuple_or_none(r.ShapeAsNumpy, r.ShapeIsNone()) or ()), where
        assert t.shape_signature == tuple_or_none(r.ShapeSignatureAsNumpy,
                                                  r.ShapeSignatureIsNone()), where
        assert t.dtype == DTYPES[types[r.Type()]], where
        assert t.is_variable == r.IsVariable(), where
        buf = m.Buffers(r.Buffer())
        if buf.Offset() > 1:
            raw = data[buf.Offset():buf.Offset() + buf.Size()]
        else:
            raw = b"" if buf.DataIsNone() else buf.DataAsNumpy().tobytes()
        if not raw:
            assert t.data is None, where
        else:
            assert t.data.shape == t.shape and t.data.dtype == t.dtype, where
            assert t.data.tobytes() == raw, where
            assert not t.data.flags.writeable, where
        q = r.Quantization()
        if q is None or q.ScaleLength() == 0:
            assert t.quant is None, where
        else:
            assert t.quant.scale.dtype == np.float32 and t.quant.zero_point.dtype == np.int64
            np.testing.assert_array_equal(t.quant.scale, q.ScaleAsNumpy(), err_msg=where)
            np.testing.assert_array_equal(t.quant.zero_point, q.ZeroPointAsNumpy(),
                                          err_msg=where)
            assert t.quant.quantized_dimension == q.QuantizedDimension(), where
    assert len(f.operators) == g.OperatorsLength()
    for i, op in enumerate(f.operators):
        r = g.Operators(i)
        code = m.OperatorCodes(r.OpcodeIndex())
        name = ops[max(code.DeprecatedBuiltinCode(), code.BuiltinCode())]
        if name == "CUSTOM":
            name += ":" + code.CustomCode().decode()
        assert (op.index, op.opcode, op.version) == (i, name, code.Version())
        assert op.inputs == tuple(r.InputsAsNumpy().tolist())
        assert op.outputs == tuple(r.OutputsAsNumpy().tolist())
        table, expected = reference_options(r)
        if table is None:
            continue  # defaults of the opcode's table: test_missing_options_get_defaults
        assert {camel(k) for k in op.options} == set(expected), (i, table)
        for field, value in op.options.items():
            ref = expected[camel(field)]
            if field in ENUM_OF_FIELD or field.endswith(("_type", "_dtype")):
                ref = enum_names(ENUM_OF_FIELD.get(field, "TensorType"))[ref]
            assert value == ref, (i, table, field)
    return f


# --- The schema's data -----------------------------------------------------------------------

@needs_tflite
def test_enum_tables_match_the_reference():
    ops = enum_names("BuiltinOperator")
    for code, name in ops.items():
        assert tflite_file._BUILTIN_OPERATORS[code] == name
    types = enum_names("TensorType")
    assert [n for n, _ in tflite_file._TENSOR_TYPES] == [types[i] for i in range(len(types))]
    union = enum_names("BuiltinOptions")
    assert [n for n, _ in tflite_file._OPTIONS] == [union[i] for i in range(1, len(union))]


@needs_tflite
@pytest.mark.parametrize("index", range(len(tflite_file._OPTIONS)))
def test_option_tables_have_the_reference_fields(index):
    name, fields = tflite_file._OPTIONS[index]
    ours = {camel(f) for f, _, _ in fields if f != "-"}
    assert ours == reference_fields(getattr(tflite, name))


# --- Real models -------------------------------------------------------------------------------

@needs_tflite
@pytest.mark.parametrize("path", FILES, ids=os.path.basename)
def test_mlperf_models_match_the_reference(path):
    with open(path, "rb") as fh:
        f = compare_with_reference(fh.read())
    assert f.n_subgraphs == 1 and f.tensors[f.inputs[0]].dtype == np.int8
    assert any(t.quant is not None and len(t.quant.scale) > 1 for t in f.tensors)


@needs_tflite
@pytest.mark.skipif(not MLPERF_DIR, reason="GABA_MLPERF_DIR (the folder of the eight MLPerf "
                    "Tiny .tflite files) is not set")
def test_all_mlperf_models_match_the_reference():
    paths = sorted(glob.glob(os.path.join(MLPERF_DIR, "*.tflite")))
    assert len(paths) == 8, paths
    for path in paths:
        with open(path, "rb") as fh:
            compare_with_reference(fh.read())


def test_kws_model_as_an_importer_sees_it():
    f = read_tflite(FILES[0])
    conv = f.operators[0]
    assert conv.opcode == "CONV_2D"
    assert conv.options["padding"] == "SAME" and conv.options["fused_activation_function"] == "RELU"
    assert (conv.options["stride_w"], conv.options["stride_h"]) == (2, 2)
    w = f.tensors[conv.inputs[1]]
    assert w.dtype == np.int8 and w.data.shape == w.shape and len(w.shape) == 4
    assert w.quant.quantized_dimension == 0 and len(w.quant.scale) == w.shape[0]
    assert [op.opcode for op in f.operators][-2:] == ["FULLY_CONNECTED", "SOFTMAX"]
    assert f.tensors[f.outputs[0]].shape == (1, 12)


def test_path_and_bytes_read_the_same():
    import pathlib

    with open(FILES[1], "rb") as fh:
        data = fh.read()
    for src in (FILES[1], pathlib.Path(FILES[1]), data, bytearray(data), memoryview(data)):
        f = read_tflite(src)
        assert [t.name for t in f.tensors] == [t.name for t in read_tflite(data).tensors]
        assert all(t.data is None or not t.data.flags.writeable for t in f.tensors)
    with pytest.raises(TypeError, match="read_tflite: path_or_bytes"):
        read_tflite(12)
    with pytest.raises(FileNotFoundError):
        read_tflite(os.path.join(DATA, "no-such-file.tflite"))


# --- Models written with the reference's builders -----------------------------------------------

def _vector(b, values, dtype):
    return b.CreateNumpyVector(np.asarray(values, dtype))


def _table_vector(b, offsets):
    b.StartVector(4, len(offsets), 4)
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return b.EndVector()


def _options(b, name, fields):
    """Write options table `name` with fields {CamelName: value or list}."""
    vectors = {k: _vector(b, v, np.int32) for k, v in fields.items() if isinstance(v, list)}
    getattr(tflite, name + "Start")(b)
    for k, v in fields.items():
        getattr(tflite, f"{name}Add{k}")(b, vectors.get(k, v))
    return getattr(tflite, name + "End")(b)


def build(tensors=None, opcodes=None, operators=None, buffers=None, n_subgraphs=1,
          external_at=None, version=3):
    """A small model: by default a FULLY_CONNECTED (int8, per-channel weights), a GELU coded
    above 127 and a custom operator. `external_at` places buffer 1 after the flatbuffer."""
    tensors = tensors or [
        dict(name="in", shape=[1, 4], type=9, scale=[0.5], zp=[-3]),
        dict(name="w", shape=[3, 4], type=9, buffer=1, scale=[0.1, 0.2, 0.3], zp=[0, 0, 0]),
        dict(name="b", shape=[3], type=2, buffer=2),
        dict(name="fc", shape=[1, 3], type=9, scale=[0.25], zp=[1]),
        dict(name="out", shape=[1, 3], type=0, shape_signature=[-1, 3]),
    ]
    opcodes = opcodes if opcodes is not None else [(9, 9, None, 1), (127, 150, None, 2),
                                                   (32, 0, "MyOp", 1)]
    operators = operators if operators is not None else [
        dict(opcode=0, inputs=[0, 1, 2], outputs=[3], options=(
            "FullyConnectedOptions", dict(FusedActivationFunction=3, KeepNumDims=True))),
        dict(opcode=1, inputs=[3, -1], outputs=[4]),
        dict(opcode=2, inputs=[4], outputs=[4]),
    ]
    if buffers is None:
        buffers = [b"", np.arange(-6, 6, dtype=np.int8).tobytes(),
                   np.array([7, -8, 9], "<i4").tobytes()]
    b = flatbuffers.Builder(1024)
    t_offs = []
    for t in tensors:
        name = b.CreateString(t["name"])
        shape = _vector(b, t["shape"], np.int32)
        sig = _vector(b, t["shape_signature"], np.int32) if "shape_signature" in t else None
        quant = None
        if "scale" in t:
            scale = _vector(b, t["scale"], np.float32)
            zp = _vector(b, t["zp"], np.int64)
            tflite.QuantizationParametersStart(b)
            tflite.QuantizationParametersAddScale(b, scale)
            tflite.QuantizationParametersAddZeroPoint(b, zp)
            tflite.QuantizationParametersAddQuantizedDimension(b, t.get("qdim", 0))
            quant = tflite.QuantizationParametersEnd(b)
        tflite.TensorStart(b)
        tflite.TensorAddShape(b, shape)
        tflite.TensorAddType(b, t["type"])
        tflite.TensorAddBuffer(b, t.get("buffer", 0))
        tflite.TensorAddName(b, name)
        if quant is not None:
            tflite.TensorAddQuantization(b, quant)
        if sig is not None:
            tflite.TensorAddShapeSignature(b, sig)
        t_offs.append(tflite.TensorEnd(b))
    op_offs = []
    for op in operators:
        ins = _vector(b, op["inputs"], np.int32)
        outs = _vector(b, op["outputs"], np.int32)
        opts = _options(b, *op["options"]) if "options" in op else None
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, op["opcode"])
        tflite.OperatorAddInputs(b, ins)
        tflite.OperatorAddOutputs(b, outs)
        if opts is not None:
            kind = op.get("options_type", getattr(tflite.BuiltinOptions, op["options"][0]))
            tflite.OperatorAddBuiltinOptionsType(b, kind)
            tflite.OperatorAddBuiltinOptions(b, opts)
        op_offs.append(tflite.OperatorEnd(b))
    graphs = []
    for _ in range(n_subgraphs):
        tv, ov = _table_vector(b, t_offs), _table_vector(b, op_offs)
        gin, gout = _vector(b, [0], np.int32), _vector(b, [len(tensors) - 1], np.int32)
        tflite.SubGraphStart(b)
        tflite.SubGraphAddTensors(b, tv)
        tflite.SubGraphAddInputs(b, gin)
        tflite.SubGraphAddOutputs(b, gout)
        tflite.SubGraphAddOperators(b, ov)
        graphs.append(tflite.SubGraphEnd(b))
    c_offs = []
    for dep, code, custom, op_version in opcodes:
        custom = b.CreateString(custom) if custom is not None else None
        tflite.OperatorCodeStart(b)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(b, dep)
        if custom is not None:
            tflite.OperatorCodeAddCustomCode(b, custom)
        tflite.OperatorCodeAddVersion(b, op_version)
        tflite.OperatorCodeAddBuiltinCode(b, code)
        c_offs.append(tflite.OperatorCodeEnd(b))
    b_offs = []
    for i, raw in enumerate(buffers):
        external = external_at is not None and i == 1
        vec = None if external or not raw else _vector(b, np.frombuffer(raw, np.uint8), np.uint8)
        tflite.BufferStart(b)
        if vec is not None:
            tflite.BufferAddData(b, vec)
        if external:
            tflite.BufferAddOffset(b, external_at)
            tflite.BufferAddSize(b, len(raw))
        b_offs.append(tflite.BufferEnd(b))
    desc = b.CreateString("built by the test")
    cv, gv, bv = _table_vector(b, c_offs), _table_vector(b, graphs), _table_vector(b, b_offs)
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, version)
    tflite.ModelAddOperatorCodes(b, cv)
    tflite.ModelAddSubgraphs(b, gv)
    tflite.ModelAddDescription(b, desc)
    tflite.ModelAddBuffers(b, bv)
    b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())


@needs_tflite
def test_built_model_matches_the_reference():
    f = compare_with_reference(build())
    assert [op.opcode for op in f.operators] == ["FULLY_CONNECTED", "GELU", "CUSTOM:MyOp"]
    assert f.operators[0].options == {
        "fused_activation_function": "RELU6", "weights_format": "DEFAULT",
        "keep_num_dims": True, "asymmetric_quantize_inputs": False,
        "quantized_bias_type": "FLOAT32"}
    assert f.operators[1].inputs == (3, -1) and f.operators[1].version == 2
    w = f.tensors[1]
    np.testing.assert_array_equal(w.data, np.arange(-6, 6).reshape(3, 4))
    np.testing.assert_array_equal(w.quant.scale, np.float32([0.1, 0.2, 0.3]))
    assert f.tensors[2].data.dtype == np.int32 and f.tensors[2].data.tolist() == [7, -8, 9]
    assert f.tensors[4].shape_signature == (-1, 3) and f.tensors[3].shape_signature is None
    assert f.description == "built by the test" and f.inputs == (0,) and f.outputs == (4,)


@needs_tflite
def test_options_field_by_field():
    """Every field of the importer's main tables set to a value no other field holds."""
    conv = dict(Padding=1, StrideW=2, StrideH=3, FusedActivationFunction=4, DilationWFactor=5,
                DilationHFactor=6)
    ops = [("ReshapeOptions", dict(NewShape=[1, 12])), ("SoftmaxOptions", dict(Beta=0.75)),
           ("ResizeBilinearOptions", dict(AlignCorners=False, HalfPixelCenters=True)),
           ("Conv2DOptions", conv),
           ("DepthwiseConv2DOptions", dict(conv, DepthMultiplier=7)),
           ("Pool2DOptions", dict(Padding=1, StrideW=2, StrideH=3, FilterWidth=4,
                                  FilterHeight=5, FusedActivationFunction=1)),
           ("SqueezeOptions", dict(SqueezeDims=[0, 2])),
           ("ConcatenationOptions", dict(Axis=-1, FusedActivationFunction=3))]
    codes = [22, 25, 23, 3, 4, 1, 43, 2]
    tensors = [dict(name="x", shape=[1, 3, 4], type=0), dict(name="y", shape=[1, 12], type=0)]
    data = build(tensors, [(c, c, None, 1) for c in codes],
                 [dict(opcode=i, inputs=[0], outputs=[1], options=o) for i, o in enumerate(ops)],
                 buffers=[b""])
    f = compare_with_reference(data)
    assert f.operators[0].options == {"new_shape": (1, 12)}
    assert f.operators[1].options == {"beta": 0.75}
    assert f.operators[2].options == {"align_corners": False, "half_pixel_centers": True}
    assert f.operators[3].options == {
        "padding": "VALID", "stride_w": 2, "stride_h": 3, "fused_activation_function": "TANH",
        "dilation_w_factor": 5, "dilation_h_factor": 6, "quantized_bias_type": "FLOAT32"}
    assert f.operators[4].options["depth_multiplier"] == 7
    assert f.operators[5].options == {
        "padding": "VALID", "stride_w": 2, "stride_h": 3, "filter_width": 4,
        "filter_height": 5, "fused_activation_function": "RELU"}
    assert f.operators[6].options == {"squeeze_dims": (0, 2)}
    assert f.operators[7].options == {"axis": -1, "fused_activation_function": "RELU6"}


@needs_tflite
def test_scalar_and_empty_tensors():
    tensors = [dict(name="s", shape=[], type=0, buffer=1), dict(name="e", shape=[0, 3], type=9),
               dict(name="v", shape=[2], type=6, buffer=2)]
    data = build(tensors, [(0, 0, None, 1)], [dict(opcode=0, inputs=[0, 2], outputs=[1])],
                 buffers=[b"", np.float32(2.5).tobytes(), b"\1\0"])
    f = compare_with_reference(data)
    assert f.tensors[0].shape == () and f.tensors[0].data[()] == 2.5
    assert f.tensors[1].data is None and f.tensors[1].dtype == np.int8
    assert f.tensors[2].data.tolist() == [True, False]


@needs_tflite
def test_missing_options_get_defaults():
    tensors = [dict(name="x", shape=[2], type=0), dict(name="y", shape=[2], type=0)]
    ops = [dict(opcode=i, inputs=[0, 0], outputs=[1]) for i in range(3)]
    codes = [(0, 0, None, 1), (22, 22, None, 1), (14, 14, None, 1)]  # ADD, RESHAPE, LOGISTIC
    f = read_tflite(build(tensors, codes, ops, buffers=[b""]))
    assert f.operators[0].options == {"fused_activation_function": "NONE",
                                      "pot_scale_int16": True}
    assert f.operators[1].options == {"new_shape": None}
    assert f.operators[2].options == {}


@needs_tflite
def test_external_buffer():
    raw = np.arange(-6, 6, dtype=np.int8).tobytes()
    probe = build(external_at=2**40)
    at = len(probe) + 5
    data = build(external_at=at)
    assert len(data) == len(probe)
    data += b"\0" * 5 + raw
    f = compare_with_reference(data)
    assert f.tensors[1].data.tobytes() == raw
    with pytest.raises(TFLiteError, match="tensor 1 .'w'.: buffer 1 at bytes"):
        read_tflite(data[:-1])


BAD_BUILDS = [
    # (what to change in build(), the error's text)
    (dict(buffers=[b"", b"\1" * 11, np.zeros(3, "<i4").tobytes()]),
     r"tensor 1 \('w'\): buffer 1 holds 11 bytes, shape \(3, 4\) int8 needs 12"),
    (dict(tensors=[dict(name="x", shape=[2, -1], type=0)], operators=[]),
     r"tensor 0 \('x'\): shape \(2, -1\) has a negative dimension"),
    (dict(tensors=[dict(name="x", shape=[2], type=42)], operators=[]),
     r"tensor 0 \('x'\): type code 42 is not a TensorType"),
    (dict(tensors=[dict(name="s", shape=[2], type=5)], operators=[]),
     r"tensor 0 \('s'\): type STRING is not supported"),
    (dict(tensors=[dict(name="x", shape=[2], type=0, buffer=9)], operators=[]),
     r"tensor 0 \('x'\): buffer 9 is out of range \(the model has 3\)"),
    (dict(tensors=[dict(name="q", shape=[2, 3], type=9, scale=[1.0, 2.0], zp=[0, 0],
                        qdim=1)], operators=[]),
     r"tensor 0 \('q'\): 2 quantization scales along dimension 1 of shape \(2, 3\)"),
    (dict(tensors=[dict(name="q", shape=[2], type=9, scale=[1.0, 2.0], zp=[0])],
          operators=[]),
     r"tensor 0 \('q'\): 2 quantization scales but 1 zero points"),
    (dict(operators=[dict(opcode=7, inputs=[0], outputs=[1])]),
     r"operator 0: opcode index 7 is out of range \(the model has 3 operator codes\)"),
    (dict(operators=[dict(opcode=0, inputs=[0, 9], outputs=[1])]),
     r"operator 0 \(FULLY_CONNECTED\): inputs names tensor 9, the subgraph has 5"),
    (dict(operators=[dict(opcode=0, inputs=[0], outputs=[-1])]),
     r"operator 0 \(FULLY_CONNECTED\): outputs names tensor -1"),
    (dict(opcodes=[(127, 999, None, 1)]),
     r"operator code 0: builtin code 999 is not a BuiltinOperator"),
    (dict(operators=[dict(opcode=0, inputs=[0], outputs=[1],
                          options=("SoftmaxOptions", dict(Beta=1.0)))]),
     r"operator 0 \(FULLY_CONNECTED\): holds SoftmaxOptions, FULLY_CONNECTED takes "
     r"FullyConnectedOptions"),
    (dict(operators=[dict(opcode=0, inputs=[0], outputs=[1], options_type=200,
                          options=("SoftmaxOptions", dict(Beta=1.0)))]),
     r"operator 0 \(FULLY_CONNECTED\): builtin options type 200 is not in the BuiltinOptions"),
    (dict(operators=[dict(opcode=0, inputs=[0], outputs=[1], options=(
        "FullyConnectedOptions", dict(FusedActivationFunction=17)))]),
     r"operator 0 \(FULLY_CONNECTED\): FullyConnectedOptions.fused_activation_function is 17, "
     r"outside the enum ActivationFunctionType \(0..5\)"),
    (dict(n_subgraphs=0), r"model: no subgraph"),
    (dict(version=2), r"model: schema version 2, this reader decodes version 3"),
]


@needs_tflite
@pytest.mark.parametrize("change, message", BAD_BUILDS, ids=lambda x: str(x)[:40])
def test_bad_fields_are_named(change, message):
    with pytest.raises(TFLiteError, match="read_tflite: " + message):
        read_tflite(build(**change))


# --- Damaged bytes -----------------------------------------------------------------------------

def _file(i):
    with open(FILES[i], "rb") as fh:
        return fh.read()


@pytest.mark.parametrize("i", range(len(FILES)))
def test_every_truncation_raises(i):
    data = _file(i)
    rng = np.random.default_rng(i)
    lengths = set(range(0, 80)) | set(rng.integers(80, len(data), 300).tolist())
    lengths |= set(range(len(data) - 80, len(data)))
    for n in sorted(lengths):
        with pytest.raises(TFLiteError, match="read_tflite: "):
            read_tflite(data[:n])


def test_wrong_identifier():
    data = bytearray(_file(0))
    data[4:8] = b"TFL2"
    with pytest.raises(TFLiteError, match=r"file identifier b'TFL2' at bytes 4..8"):
        read_tflite(bytes(data))
    with pytest.raises(TFLiteError, match="too short"):
        read_tflite(b"\x10\0\0\0TFL")


def _mutate(data, rng):
    """A copy with bits flipped, or a word overwritten with a plausible offset or size."""
    out = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        pos = int(rng.integers(0, len(out) - 4))
        if rng.random() < 0.5:
            out[pos] ^= 1 << int(rng.integers(0, 8))
        else:
            value = int(rng.choice([0, 1, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, len(data),
                                    int(rng.integers(0, len(data)))]))
            struct.pack_into("<I", out, pos, value)
    return bytes(out)


@pytest.mark.parametrize("i", range(len(FILES)))
def test_mutations_raise_tfliteerror_or_read(i):
    data = _file(i)
    rng = np.random.default_rng(1000 + i)
    raised = 0
    for k in range(N_MUTATIONS):
        try:
            read_tflite(_mutate(data, rng))
        except TFLiteError:
            raised += 1
        except Exception as e:  # pragma: no cover - the failure this test looks for
            pytest.fail(f"mutation {k} of {os.path.basename(FILES[i])} raised "
                        f"{type(e).__name__}: {e}")
    assert raised > N_MUTATIONS // 20  # the mutations do reach the checks


@needs_tflite
def test_crafted_offsets_and_lengths():
    """Fields of the KWS model, located with the reference reader, pointed out of range."""
    data = _file(0)
    m = tflite.Model.GetRootAs(data, 0)
    t = m.Subgraphs(0).Tensors(1)
    tab = t._tab

    def patched(fmt, pos, value):
        out = bytearray(data)
        struct.pack_into(fmt, out, pos, value)
        return bytes(out)

    shape_len_at = tab.Vector(tab.Offset(4)) - 4
    cases = [
        (patched("<i", tab.Pos, -(2**30)), r"tensor 1: vtable at bytes"),
        (patched("<I", shape_len_at, 2**30), r"tensor 1: shape: a vector of 1073741824 "
                                             r"elements of 4 bytes at byte \d+ runs past"),
        (patched("<I", tab.Pos + tab.Offset(10), 2**31), r"tensor 1: name at bytes"),
        (patched("<H", tab.Pos - tab.Get(flatbuffers.number_types.SOffsetTFlags, tab.Pos)
                 + 2, 3), r"tensor 1: table at byte \d+ has an invalid size 3"),
        (patched("<I", 0, len(data)), r"model: table at bytes"),
    ]
    for bad, message in cases:
        with pytest.raises(TFLiteError, match="read_tflite: " + message):
            read_tflite(bad)


@needs_tflite
def test_shared_vectors_cannot_blow_up():
    """5,000 tensors naming one shape vector of 20,000 dimensions: 10^8 dimensions to decode
    from a 200 KB file, refused once the decoded vectors pass twice the file's size."""
    b = flatbuffers.Builder(1 << 18)
    shape = _vector(b, np.ones(20000), np.int32)
    tensors = []
    for _ in range(5000):
        tflite.TensorStart(b)
        tflite.TensorAddShape(b, shape)
        tensors.append(tflite.TensorEnd(b))
    tv = _table_vector(b, tensors)
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, tv)
    gv = _table_vector(b, [tflite.SubGraphEnd(b)])
    tflite.BufferStart(b)
    bv = _table_vector(b, [tflite.BufferEnd(b)])
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, 3)
    tflite.ModelAddSubgraphs(b, gv)
    tflite.ModelAddBuffers(b, bv)
    b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
    with pytest.raises(TFLiteError, match=r"tensor \d+: shape: the vectors read so far exceed "
                                          r"twice the file's \d+ bytes plus 64 KB"):
        read_tflite(bytes(b.Output()))
