"""Export of zoo models to ONNX (the optional extra ``onnx``): ``Model.to_onnx(path)``
and ``QuantizedModel.to_onnx(path)``.

Both write a standard ONNX model, opset 17, with a symbolic batch axis, so ONNX
Runtime or any other runtime computes what gaba computes (int8: op by op to 1
LSB, the rounding of ties aside, except the int8 attention, exported as its
float op; docs/int8.md), and both translate each layer
through one op table (``_OPS``).

Float32 (``export``): the built graph, batch norms folded, the same weights.
Mapping: conv -> Conv (explicit pads), dense -> (Flatten +) Gemm, embedding ->
Gather + Transpose, pools -> MaxPool / AveragePool (count_include_pad=0) /
ReduceMean / ReduceMax, upsample -> Resize (nearest: asymmetric + floor;
bilinear: half_pixel), per-channel broadcasts -> Unsqueeze, GRU -> GRU (gates
reordered to z, r, h and linear_before_reset=1, PyTorch's formulation),
attention -> MatMul / Softmax.

int8 (``export_qdq``): the quantized graph in QDQ form. Every int8 tensor is a
QuantizeLinear output with gaba's scale and zero point and is read through a
DequantizeLinear; an int8 layer is its float op (the table's) between those;
conv/dense weights are int8 initializers with per-output-channel scales
(DequantizeLinear axis=0, zero point 0) and biases int32 with scale
in_scale * w_scale[c], the pattern runtimes fuse into QLinearConv / QGemm;
an int8 embedding gathers from its dequantized int8 table; the int8 attention
is the float attention on its dequantized weights (its internal quantization
points are not exported); float layers of mixed models are their float op on
dequantized values, as gaba runs them.
"""
import os

import numpy as np

OPSET = 17


def _onnx(func):
    try:
        import onnx
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"{func} needs the 'onnx' package: pip install onnx onnxruntime "
                          "(or pip install \".[onnx]\" in gaba's source directory)") from exc
    return onnx


def _check_path(path, func):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{func}: path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"{func}: path {path!r} is a directory; give a file name")
    if not os.path.isdir(parent):
        raise FileNotFoundError(f"{func}: the directory of path {path!r} does not exist")
    return path


class _Graph:
    """An ONNX graph under construction: nodes, initializers, fresh names."""

    def __init__(self, onnx):
        self.onnx = onnx
        self.nodes, self.inits, self.count, self.cache = [], [], 0, {}

    def fresh(self, stem):
        self.count += 1
        return f"{stem}__{self.count}"

    def const(self, name, value, dtype=np.float32):
        self.inits.append(self.onnx.numpy_helper.from_array(np.asarray(value, dtype), name))
        return name

    def node(self, op, inputs, out=None, **attrs):
        """One node with one output (named `out`, or fresh); returns its name."""
        out = out or self.fresh(op.lower())
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [out], **attrs))
        return out

    def node_n(self, op, inputs, stems, **attrs):
        outs = [self.fresh(s) for s in stems]
        self.nodes.append(self.onnx.helper.make_node(op, inputs, outs, **attrs))
        return outs

    def weights(self, owner, get):
        """W(keys, transform=None, tag="") -> the initializer holding transform(*arrays)
        of the layer's weights `keys` (one key or a tuple), `get(key)` giving an array;
        made once per (owner, keys, tag), so shared layers share it."""
        def W(keys, transform=None, tag=""):
            keys = (keys,) if isinstance(keys, str) else tuple(keys)
            name = f"{owner}.{'+'.join(keys)}{tag}"
            if name not in self.cache:
                arrays = [np.array(get(k)) for k in keys]
                self.cache[name] = self.const(name, transform(*arrays) if transform else arrays[0])
            return self.cache[name]
        return W

    def finish(self, name, inputs, outputs, path):
        """inputs/outputs: (name, "float32" or "int32", per-sample shape)."""
        helper, TP = self.onnx.helper, self.onnx.TensorProto

        def vi(n, dtype, shape):
            return helper.make_tensor_value_info(n, TP.INT32 if dtype == "int32" else TP.FLOAT,
                                                 ["batch"] + list(shape))

        graph = helper.make_graph(self.nodes, name, [vi(*i) for i in inputs],
                                  [vi(*o) for o in outputs], self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="gaba.zoo")
        model.ir_version = min(model.ir_version, 8)
        self.onnx.checker.check_model(model)
        self.onnx.save(model, path)
        return model


# ---- the op table: op -> emit(g, L, xs, in_shapes, out, W) -> output name --------------
# L: the layer (op, act, params, shape = per-sample output shape); xs: its input names;
# in_shapes: their per-sample shapes; out: the output's name (None: any); W: weights.

_OPS = {}


def _op(*names):
    def register(fn):
        for n in names:
            _OPS[n] = fn
        return fn
    return register


def _act(g, x, a, out):
    if a == "none":
        return g.node("Identity", [x], out) if out else x
    if a == "relu6":
        return g.node("Clip", [x, g.const(g.fresh("zero"), 0.0), g.const(g.fresh("six"), 6.0)], out)
    ops = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "hard_swish": "HardSwish"}
    if a not in ops:
        raise NotImplementedError(f"to_onnx(): no ONNX export of activation {a!r}")
    return g.node(ops[a], [x], out)


@_op("conv2d", "conv1d")
def _conv(g, L, xs, in_shapes, out, W):
    co, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups = L["params"][:12]
    if L["op"] == "conv2d":
        attrs = dict(kernel_shape=[kh, kw], strides=[sh, sw], pads=[pt, pl, pb, pr],
                     dilations=[dh, dw], group=groups)
    else:
        attrs = dict(kernel_shape=[kw], strides=[sw], pads=[pl, pr], dilations=[dw], group=groups)
    return _act(g, g.node("Conv", [xs[0], W("weight"), W("bias")], **attrs), L["act"], out)


@_op("dense")
def _dense(g, L, xs, in_shapes, out, W):
    # Already (N, F) after a global pool: no Flatten, so DQ -> Gemm -> Q fuses into QGemm.
    f = xs[0] if len(in_shapes[0]) == 1 else g.node("Flatten", [xs[0]], axis=1)
    return _act(g, g.node("Gemm", [f, W("weight"), W("bias")], transB=1), L["act"], out)


@_op("embedding")
def _embedding(g, L, xs, in_shapes, out, W):
    return g.node("Transpose", [g.node("Gather", [W("table"), xs[0]], axis=0)], out, perm=[0, 2, 1])


@_op("batchnorm")
def _batchnorm(g, L, xs, in_shapes, out, W):
    shape = (in_shapes[0][0],) + (1,) * (len(in_shapes[0]) - 1)
    s = g.node("Mul", [xs[0], W("scale", lambda a: a.reshape(shape), "_r")])
    return _act(g, g.node("Add", [s, W("shift", lambda a: a.reshape(shape), "_r")]), L["act"], out)


@_op("act")
def _activation(g, L, xs, in_shapes, out, W):
    return _act(g, xs[0], L["act"], out)


@_op("softmax")
def _softmax(g, L, xs, in_shapes, out, W):
    return g.node("Softmax", [xs[0]], out, axis=-1)


@_op("maxpool", "avgpool")
def _pool(g, L, xs, in_shapes, out, W):
    kh, kw, sh, sw, pt, pl, pb, pr = L["params"][:8]
    if len(in_shapes[0]) == 3:
        attrs = dict(kernel_shape=[kh, kw], strides=[sh, sw], pads=[pt, pl, pb, pr])
    else:
        attrs = dict(kernel_shape=[kw], strides=[sw], pads=[pl, pr])
    if L["op"] == "avgpool":
        return g.node("AveragePool", [xs[0]], out, count_include_pad=0, **attrs)
    return g.node("MaxPool", [xs[0]], out, **attrs)


@_op("global_avgpool", "global_maxpool")
def _global_pool(g, L, xs, in_shapes, out, W):
    op = "ReduceMean" if L["op"] == "global_avgpool" else "ReduceMax"
    return g.node(op, [xs[0]], out, axes=list(range(2, len(in_shapes[0]) + 1)), keepdims=0)


@_op("upsample")
def _upsample(g, L, xs, in_shapes, out, W):
    sh, sw, mode = L["params"][:3]
    scales = g.const(g.fresh("scales"), [1, 1, sh, sw] if len(in_shapes[0]) == 3 else [1, 1, sw])
    if mode == 0:
        return g.node("Resize", [xs[0], "", scales], out, mode="nearest",
                      coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    return g.node("Resize", [xs[0], "", scales], out, mode="linear",
                  coordinate_transformation_mode="half_pixel")


@_op("concat")
def _concat(g, L, xs, in_shapes, out, W):
    return g.node("Concat", xs, out, axis=1)


@_op("add", "sub", "mul")
def _binary(g, L, xs, in_shapes, out, W):
    a, b = xs[:2]
    if in_shapes[1] != in_shapes[0]:  # (C) broadcast per channel
        rank = len(in_shapes[0]) + 1
        axes = g.const(g.fresh("axes"), list(range(len(in_shapes[1]) + 1, rank)), np.int64)
        flat = g.node("Flatten", [b], axis=1) if len(in_shapes[1]) > 1 else b
        b = g.node("Unsqueeze", [flat, axes])
    y = g.node({"add": "Add", "sub": "Sub", "mul": "Mul"}[L["op"]], [a, b])
    return _act(g, y, L["act"], out)


@_op("reshape", "flatten")
def _reshape(g, L, xs, in_shapes, out, W):
    shape = g.const(g.fresh("shape"), [-1] + list(L["shape"]), np.int64)
    return g.node("Reshape", [xs[0], shape], out)


@_op("transpose")
def _transpose(g, L, xs, in_shapes, out, W):
    return g.node("Transpose", [xs[0]], out, perm=[0, 2, 1])


def _zrh(a):
    """PyTorch's gate order (r, z, n) -> ONNX's (z, r, h), with a direction axis."""
    r, z, n = np.split(a, 3, axis=0)
    return np.concatenate([z, r, n], axis=0)[None]


@_op("gru")
def _gru(g, L, xs, in_shapes, out, W):
    hd, seq = L["params"][:2]
    b = W(("b_ih", "b_hh"), lambda bi, bh: np.concatenate([_zrh(bi)[0], _zrh(bh)[0]])[None],
          "_onnx")
    xt = g.node("Transpose", [xs[0]], perm=[2, 0, 1])  # (T, N, F)
    y, yh = g.node_n("GRU", [xt, W("w_ih", _zrh, "_onnx"), W("w_hh", _zrh, "_onnx"), b],
                     ["gru_y", "gru_h"], hidden_size=hd, linear_before_reset=1)
    if seq:
        sq = g.node("Squeeze", [y, g.const(g.fresh("axes"), [1], np.int64)])
        return g.node("Transpose", [sq], out, perm=[1, 2, 0])
    return g.node("Squeeze", [yh, g.const(g.fresh("axes"), [0], np.int64)], out)


@_op("attention")
def _attention(g, L, xs, in_shapes, out, W):
    dk = L["params"][0]
    xt = g.node("Transpose", [xs[0]], perm=[0, 2, 1])  # (N, L, D)
    qkv = g.node("Add", [g.node("MatMul", [xt, W("w_qkv", lambda a: a.T.copy(), "_t")]),
                         W("b_qkv")])
    split = g.const(g.fresh("split"), [dk, dk, dk], np.int64)
    q, k, v = g.node_n("Split", [qkv, split], ["q", "k", "v"], axis=-1)
    kt = g.node("Transpose", [k], perm=[0, 2, 1])
    sc = g.node("Mul", [g.node("MatMul", [q, kt]), g.const(g.fresh("scale"), 1.0 / np.sqrt(dk))])
    ctx = g.node("MatMul", [g.node("Softmax", [sc], axis=-1), v])
    y = g.node("Add", [g.node("MatMul", [ctx, W("w_o", lambda a: a.T.copy(), "_t")]), W("b_o")])
    return g.node("Transpose", [y], out, perm=[0, 2, 1])



@_op("layer_norm")
def _layer_norm(g, L, xs, in_shapes, out, W):
    # ONNX normalizes over the trailing axes: channels moved last and back
    rank = len(in_shapes[0]) + 1
    last = [0] + list(range(2, rank)) + [1]
    back = [0, rank - 1] + list(range(1, rank - 1))
    eps = L["params"][0] * 1e-9 if L["params"][0] else 1e-5
    y = g.node("LayerNormalization", [g.node("Transpose", [xs[0]], perm=last), W("weight"),
                                      W("bias")], axis=-1, epsilon=eps)
    return g.node("Transpose", [y], out, perm=back)

def _emit(g, L, xs, in_shapes, out, W):
    if L["op"] not in _OPS:
        raise NotImplementedError(
            f"to_onnx(): no ONNX export of op {L['op']!r} (layer {L['name']!r})")
    return _OPS[L["op"]](g, L, xs, in_shapes, out, W)


# ---- float32 ------------------------------------------------------------------------------

def export(m, path):
    """Write model `m` (a gaba.zoo.Model) to `path` as ONNX; returns the ModelProto."""
    g = _Graph(_onnx("Model.to_onnx()"))
    path = _check_path(path, "Model.to_onnx()")
    weights = m.weights
    shapes = {n: tuple(s["shape"]) for n, s in m.inputs.items()}
    for L in m.layers:
        owner = L["share"] or L["name"]
        W = g.weights(owner, lambda key, owner=owner: weights[f"{owner}.{key}"])
        xs = list(L["inputs"])
        _emit(g, L, xs, [shapes[x] for x in xs], L["output"], W)
        shapes[L["output"]] = tuple(L["shape"])
    return g.finish(m.name, [(n, s["dtype"], s["shape"]) for n, s in m.inputs.items()],
                    [(n, "float32", s["shape"]) for n, s in m.outputs.items()], path)


# ---- int8 (QDQ) ---------------------------------------------------------------------------

# int8 ops with int8 per-output-channel weights and int32 biases: op -> the float op's
# weight shape from gaba's (c_out, K) layout and the op's params.
_INT8_WEIGHTS = {
    "conv2d": lambda w, p: w.reshape(p[0], -1, p[1], p[2]),
    "conv1d": lambda w, p: w.reshape(p[0], -1, p[2]),
    "dense": lambda w, p: w,
}


def _tensor_names(tensors):
    """Unique ONNX names: model inputs and outputs keep theirs, other tensors their
    layer's where free, else with their dtype (the int8 and float versions of one
    tensor share gaba's name)."""
    names, taken = [None] * len(tensors), set()
    for i, t in enumerate(tensors):
        if t["kind"] in (1, 2):
            names[i] = t["name"]
            taken.add(t["name"])
    for i, t in enumerate(tensors):
        if names[i] is None:
            for cand in (t["name"], f"{t['name']}.{t['dtype']}", f"{t['name']}.{t['dtype']}.{i}"):
                if cand not in taken:
                    break
            names[i] = cand
            taken.add(cand)
    return names


def export_qdq(qm, path):
    """Write `qm` (a gaba.zoo.QuantizedModel) to `path` as an ONNX QDQ model; returns
    the ModelProto."""
    from ._ext import _gaba

    g = _Graph(_onnx("QuantizedModel.to_onnx()"))
    path = _check_path(path, "QuantizedModel.to_onnx()")
    raw = _gaba.zoo_qgraph(qm._cap)
    keys = ("name", "dtype", "shape", "scale", "zp", "kind", "io_index")
    tensors = [dict(zip(keys, t)) for t in raw["tensors"]]
    names = _tensor_names(tensors)
    ops, acts = _gaba.nn_ops(), _gaba.nn_acts()  # names by code

    def qparams(t):
        """The (scale, zero point) initializers of int8 tensor t."""
        key = ("qparams", t)
        if key not in g.cache:
            g.cache[key] = (g.const(f"{names[t]}.scale", tensors[t]["scale"]),
                            g.const(f"{names[t]}.zero_point", tensors[t]["zp"], np.int8))
        return g.cache[key]

    def dequantized(t):
        key = ("dq", t)
        if key not in g.cache:
            g.cache[key] = g.node("DequantizeLinear", [names[t], *qparams(t)],
                                  f"{names[t]}.dequantized")
        return g.cache[key]

    def int8_weights(owner, op, params, w, in_scale):
        """W for an int8 layer: the DequantizeLinear outputs of its int8 weight and int32 bias."""
        co = len(w["w_scale"])
        wq = g.const(f"{owner}.weight_quantized", _INT8_WEIGHTS[op](w["weight"], params), np.int8)
        bq = g.const(f"{owner}.bias_quantized", w["bias"], np.int32)
        w_zp = g.const(f"{owner}.weight_zero_point", np.zeros(co), np.int8)
        wdq = g.node("DequantizeLinear", [wq, g.const(f"{owner}.weight_scale", w["w_scale"]), w_zp],
                     f"{owner}.weight", axis=0)
        b_scale = (np.float64(in_scale) * w["w_scale"].astype(np.float64)).astype(np.float32)
        b_zp = g.const(f"{owner}.bias_zero_point", np.zeros(co), np.int32)
        bdq = g.node("DequantizeLinear", [bq, g.const(f"{owner}.bias_scale", b_scale), b_zp],
                     f"{owner}.bias", axis=0)
        return lambda key, transform=None, tag="": {"weight": wdq, "bias": bdq}[key]

    def int8_table(owner, table, out):
        """W for an int8 embedding: its int8 table dequantized with the output's parameters
        (the gather then moves values that quantize back exactly)."""
        tq = g.const(f"{owner}.table_quantized", table, np.int8)
        tdq = g.node("DequantizeLinear", [tq, *qparams(out)], f"{owner}.table")
        return lambda key, transform=None, tag="": {"table": tdq}[key]

    def read(t):  # int8 tensors are read dequantized, token ids as they are
        return dequantized(t) if tensors[t]["dtype"] == "int8" else names[t]

    for name, kind, op, act, params, ins, out, w in raw["nodes"]:
        if kind == "quantize":
            g.node("QuantizeLinear", [names[ins[0]], *qparams(out)], names[out])
            continue
        if kind == "dequantize":
            g.node("DequantizeLinear", [names[ins[0]], *qparams(ins[0])], names[out])
            continue
        L = {"name": name, "op": ops[op], "act": acts[act], "params": list(params),
             "shape": tensors[out]["shape"]}
        in_shapes = [tensors[i]["shape"] for i in ins]
        if kind == "float32":
            W = g.weights(name, w.__getitem__)
            _emit(g, L, [names[i] for i in ins], in_shapes, names[out], W)
            continue
        if L["op"] in _INT8_WEIGHTS:
            W = int8_weights(name, L["op"], params, w, tensors[ins[0]]["scale"])
        elif L["op"] == "embedding":
            W = int8_table(name, w["table"], out)
        elif L["op"] in ("attention", "gru"):
            # the float op on the dequantized int8 weights (the attention's internal
            # q/k/v/scores/probs/ctx points are not exported)
            W = g.weights(name, w.__getitem__)
        elif L["op"] == "layer_norm":  # the float op with gamma and beta as the node holds them
            W = g.weights(name, {"weight": w["gamma"], "bias": w["beta"]}.__getitem__)
        else:
            W = None
        y = _emit(g, L, [read(i) for i in ins], in_shapes, None, W)
        g.node("QuantizeLinear", [y, *qparams(out)], names[out])

    inputs = [(n, s["dtype"], s["shape"]) for n, s in qm.inputs.items()]
    outputs = [(n, "float32", s["shape"]) for n, s in qm.outputs.items()]
    return g.finish(qm.name, inputs, outputs, path)
