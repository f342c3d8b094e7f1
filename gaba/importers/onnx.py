"""``gaba.zoo.from_onnx``: an ONNX graph onto gaba's layer table.

ONNX tensors are NCHW / NCL: without the batch axis they are gaba's per-sample
(C, H, W) / (C, L), so no layout changes. Reshapes and 2-D transposes are kept
as views of the tensor they read and become layers only where a layer needs
their values in the new shape (a dense layer reads any shape flat, so
Flatten -> Gemm is one layer). A QDQ graph (QuantizeLinear / DequantizeLinear
around the float ops, as ONNX Runtime's quantizer and ``QuantizedModel.to_onnx``
write it) becomes the float graph between the pairs, quantized on the file's
own scales and zero points. See docs/import.md for the operators.
"""

import os

import numpy as np

from .. import _gaba
from ..zoo import _REQUANT
from ._graph import Graph, ModelImportError, quantize_given

FUNC = "zoo.from_onnx()"
MIN_OPSET = 13
_ACTS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "HardSwish": "hard_swish"}
_FUSE_INTO = {"conv2d", "conv1d", "dense", "batchnorm", "add", "sub", "mul"}
_BINARY = {"Add": "add", "Sub": "sub", "Mul": "mul"}
# ops evaluated when their inputs are constants (shape arithmetic, as exporters write it)
_FOLD = {"Cast", "Concat", "Gather", "Unsqueeze", "Squeeze", "Reshape", "Slice",
         "ConstantOfShape", "Add", "Sub", "Mul", "Div"}
_FOLD_MAX = 1 << 24  # values of a folded constant
# int8 layers whose output keeps their input's scale and zero point (qnn: passes_params)
_PASSES = {"maxpool", "avgpool", "global_avgpool", "global_maxpool", "reshape", "flatten",
           "transpose", "upsample"}


class ONNXError(ValueError):
    """A file or byte string that is not a valid ONNX model (damaged, truncated, failing
    ONNX's checker or its shape inference); the message names the file."""


class _V:
    """An activation as ONNX sees it: gaba tensor `name` (per-sample shape `gshape`)
    viewed with ONNX per-sample shape `shape`, transposed first when `t` (2-D)."""

    __slots__ = ("name", "gshape", "shape", "t")

    def __init__(self, name, gshape, shape=None, t=False):
        self.name, self.gshape, self.t = name, tuple(gshape), t
        self.shape = tuple(gshape) if shape is None else tuple(shape)


class _Importer:
    def __init__(self, onnx, proto, where):
        self.onnx, self.proto, self.where = onnx, proto, where
        self.g = Graph(FUNC)
        self.v = {}         # ONNX name -> _V
        self.const = {}     # ONNX name -> numpy array
        self.shapes = {}    # ONNX name -> full inferred shape (dims: int or None)
        self.producer = {}  # gaba tensor -> index of the layer row writing it
        self.readers = {}   # ONNX name -> number of nodes reading it
        self.qp = {}        # gaba tensor -> (scale, zero point) from a QuantizeLinear
        self.quantized = set()  # QuantizeLinear outputs
        self.wq = {}        # DequantizeLinear of a constant int8 tensor: name -> (scales, axis)
        self.w_scale = {}   # gaba layer -> per-output-channel weight scales
        self.views = {}     # (gaba tensor, shape, t) -> materialized gaba tensor
        self.owners = {}    # (op, params, weight input, bias) -> the layer holding them
        self.shared = set()  # layers whose weights a later layer shares
        self.gru = {}       # GRU outputs, materialized when read: name -> (stage, info)
        self.token_inputs = {}  # gaba input name -> its index in g.inputs

    # ---- errors, attributes, values ------------------------------------------------

    def fail(self, node, what):
        k = self.index[id(node)]
        name = f" {node.name!r}" if node.name else ""
        raise ModelImportError(f"{FUNC}: {self.where}: node {k}{name} ({node.op_type}): {what}")

    def attrs(self, node, defaults):
        """node's attributes over `defaults`; an attribute not among them fails."""
        out = dict(defaults)
        for a in node.attribute:
            if a.name not in defaults:
                self.fail(node, f"attribute {a.name!r} is not supported (supported: "
                                f"{', '.join(defaults) or 'none'})")
            out[a.name] = self.onnx.helper.get_attribute_value(a)
            if isinstance(out[a.name], bytes):
                out[a.name] = out[a.name].decode("utf-8", "replace")
        return out

    def has(self, node, k):
        return k < len(node.input) and node.input[k] != ""

    def cst(self, node, k, what):
        if not self.has(node, k) or node.input[k] not in self.const:
            self.fail(node, f"its {what} (input {k}) must be a constant")
        return self.const[node.input[k]]

    def ints(self, node, k, what):
        c = self.cst(node, k, what)
        if c.dtype.kind not in "iu":
            self.fail(node, f"its {what} must be integers, got {c.dtype}")
        return [int(x) for x in c.ravel()]

    def val(self, node, k=0):
        name = node.input[k] if self.has(node, k) else ""
        if name not in self.v:
            kind = "a constant" if name in self.const else "not an activation gaba computes"
            self.fail(node, f"input {k} ({name!r}) is {kind}; gaba's layers take activations")
        return self.v[name]

    def out_shape(self, node, k=0):
        """Output k's per-sample shape as ONNX's shape inference gives it."""
        dims = self.shapes.get(node.output[k])
        if dims is None or len(dims) < 2 or any(d is None or d < 1 for d in dims[1:]):
            self.fail(node, f"the shape of output {node.output[k]!r} is not known (gaba needs "
                            "shapes fixed but for the batch axis)")
        return tuple(dims[1:])

    # ---- layers and views ----------------------------------------------------------

    def layer(self, node, op, x, params=(), act="none", out=None, suffix="", **weights):
        """A layer for node; its output becomes ONNX output 0 (shape `out` or inferred)."""
        shape = self.out_shape(node) if out is None else out
        name = f"{node.op_type.lower()}_{self.index[id(node)]}{suffix}"
        y = self.g.fresh("t")
        self.producer[y] = len(self.g.layers)
        self.g.add(name, op, x, y, params, act, **weights)
        self.v[node.output[0]] = _V(y, shape)
        return y

    def weighted(self, node, op, x, params, **weights):
        """A conv / dense layer of node; one whose weight and bias inputs an earlier
        layer of the same op and params read shares that layer's (a Siamese branch)."""
        key = (op, tuple(params), node.input[1], weights["bias"].tobytes())
        owner = self.owners.get(key)
        if owner is None:
            self.layer(node, op, x, params, **weights)
            self.owners.setdefault(key, self.g.layers[-1][0])
            return
        self.layer(node, op, x, params)
        name, op_, act, params_, ins, out, _ = self.g.layers[-1]
        self.g.layers[-1] = (name, op_, act, params_, ins, out, owner)
        self.shared.add(owner)

    def plain(self, v, stem="view"):
        """A gaba tensor holding v's values in v's ONNX shape."""
        key = (v.name, v.shape, v.t)
        if not v.t and v.shape == v.gshape:
            return v.name
        if key not in self.views:
            x, g = v.name, self.g
            if v.t:
                x = g.add(g.fresh(stem), "transpose", x, g.fresh("t"))
            if v.shape != (v.gshape[::-1] if v.t else v.gshape):
                if len(v.shape) > 4:
                    raise ModelImportError(f"{FUNC}: {self.where}: a view of shape {v.shape} "
                                           "has more than gaba's 4 axes per sample")
                x = g.add(g.fresh(stem), "reshape", x, g.fresh("t"), (len(v.shape),) + v.shape)
            self.views[key] = x
        return self.views[key]

    def alias(self, node, v, shape=None, t=None):
        self.v[node.output[0]] = _V(v.name, v.gshape, v.shape if shape is None else shape,
                                    v.t if t is None else t)

    # ---- convolutions, dense -------------------------------------------------------

    def spatial(self, node, a, n, size, kernel, dil):
        """(strides, pads as (before..., after...)) of an n-D window op."""
        strides = list(a["strides"] or [1] * n)
        pads = list(a["pads"] or [0] * 2 * n)
        if len(strides) != n or len(pads) != 2 * n or min(strides + [1]) < 1 or min(pads + [0]) < 0:
            self.fail(node, f"strides {strides} / pads {pads} do not fit {n} spatial axes")
        mode = a["auto_pad"]
        if mode == "VALID":
            pads = [0] * 2 * n
        elif mode in ("SAME_UPPER", "SAME_LOWER"):
            for i in range(n):
                out = -(-size[i] // strides[i])
                total = max((out - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - size[i], 0)
                small, big = total // 2, total - total // 2
                pads[i], pads[n + i] = (small, big) if mode == "SAME_UPPER" else (big, small)
        elif mode != "NOTSET":
            self.fail(node, f"auto_pad {mode!r} is not supported")
        return strides, pads

    def weight_scales(self, node, k, layer, n, axis):
        """A QDQ file's per-output-channel scales of node's weight input k (output
        channels on `axis` of the constant as stored)."""
        if node.input[k] not in self.wq:
            return
        scale, q_axis, q, zp = self.wq[node.input[k]]
        if np.any(zp != 0):
            self.fail(node, "its int8 weights need zero point 0 (symmetric)")
        if scale.size == 1:
            scale = np.full(n, scale.ravel()[0], np.float32)
        elif scale.size != n or q_axis != axis:
            self.fail(node, f"its weights have {scale.size} scales on axis {q_axis}; gaba takes "
                            f"one, or one per output channel ({n}) on axis {axis}")
        if np.any(q == -128):
            self.fail(node, "its int8 weights are not symmetric in [-127, 127]")
        self.w_scale[layer] = scale.astype(np.float32).ravel()

    def bias(self, node, k, n):
        if not self.has(node, k):
            return np.zeros(n, np.float32)
        b = self.cst(node, k, "bias").astype(np.float32)
        if b.size == 1 or b.shape in ((n,), (1, n)):
            return np.broadcast_to(b.ravel(), (n,)).copy()
        self.fail(node, f"its bias has shape {b.shape}, expected ({n},)")

    def conv(self, node):
        a = self.attrs(node, {"auto_pad": "NOTSET", "dilations": None, "group": 1,
                              "kernel_shape": None, "pads": None, "strides": None})
        x = self.val(node)
        w = self.cst(node, 1, "weight").astype(np.float32)
        n = len(x.shape) - 1
        if n not in (1, 2) or w.ndim != n + 2:
            self.fail(node, f"a {n}-D convolution with a {w.ndim}-D weight; gaba takes 1-D and "
                            "2-D ones")
        c, g = x.shape[0], a["group"]
        if g < 1 or c % g or w.shape[0] % g or w.shape[1] * g != c:
            self.fail(node, f"weight {w.shape} and group {g} do not fit {c} input channels")
        kernel = list(w.shape[2:])
        if a["kernel_shape"] is not None and list(a["kernel_shape"]) != kernel:
            self.fail(node, f"kernel_shape {a['kernel_shape']} differs from the weight's {kernel}")
        dil = list(a["dilations"] or [1] * n)
        if len(dil) != n or min(dil) < 1:
            self.fail(node, f"dilations {dil} do not fit {n} spatial axes")
        s, p = self.spatial(node, a, n, x.shape[1:], kernel, dil)
        co = w.shape[0]
        if n == 2:
            params = (co, kernel[0], kernel[1], s[0], s[1], p[0], p[1], p[2], p[3], dil[0],
                      dil[1], g)
        else:
            params = (co, 1, kernel[0], 1, s[0], 0, p[0], 0, p[1], 1, dil[0], g)
        name = f"conv_{self.index[id(node)]}"
        self.weight_scales(node, 1, name, co, 0)
        self.weighted(node, f"conv{n}d", self.plain(x), params, weight=w,
                      bias=self.bias(node, 2, co))

    def dense(self, node, w, bias, weight_axis):
        """A dense layer of node: w (n_out, F) read from input 0's values flat."""
        x = self.val(node)
        numel = int(np.prod(x.shape))
        if x.t or len(x.shape) != 1:
            self.fail(node, f"a per-sample input of shape {x.shape}: gaba's dense takes (N, F) "
                            "inputs (a MatMul over positions, as in an attention block, is not "
                            "supported)")
        if w.ndim != 2 or w.shape[1] != numel:
            self.fail(node, f"weight {w.shape} does not fit an input of {numel} features")
        name = f"{node.op_type.lower()}_{self.index[id(node)]}"
        self.weight_scales(node, 1, name, w.shape[0], weight_axis)
        # a dense layer reads its input flat: a reshape before it needs no layer
        self.weighted(node, "dense", x.name, (w.shape[0],), weight=w, bias=bias)

    def gemm(self, node):
        a = self.attrs(node, {"alpha": 1.0, "beta": 1.0, "transA": 0, "transB": 0})
        if a["alpha"] != 1.0 or a["beta"] != 1.0 or a["transA"]:
            self.fail(node, f"alpha {a['alpha']}, beta {a['beta']}, transA {a['transA']}: gaba "
                            "maps alpha = beta = 1, transA = 0")
        w = self.cst(node, 1, "weight").astype(np.float32)
        if w.ndim != 2:
            self.fail(node, f"its weight has shape {w.shape}, expected 2-D")
        w = w if a["transB"] else w.T
        self.dense(node, np.ascontiguousarray(w), self.bias(node, 2, w.shape[0]),
                   0 if a["transB"] else 1)

    def matmul(self, node):
        self.attrs(node, {})
        if node.input[0] in self.v and self.v[node.input[0]].t and self.attention(node):
            return
        if node.input[1] not in self.const:
            self.fail(node, "MatMul of two activations (as in an attention block) is not "
                            "supported; gaba maps MatMul by a constant weight")
        w = self.cst(node, 1, "weight").astype(np.float32)
        if w.ndim != 2:
            self.fail(node, f"its weight has shape {w.shape}, expected 2-D")
        bias = np.zeros(w.shape[1], np.float32)
        add = self.fusable(node, "Add")
        if add is not None:  # MatMul + Add of a constant bias: one dense layer
            other = add.input[1] if add.input[0] == node.output[0] else add.input[0]
            b = self.const.get(other)
            if b is not None and b.size == w.shape[1] and b.ndim <= 2:
                bias = b.astype(np.float32).ravel()
                self.skip.add(id(add))
                self.dense(node, np.ascontiguousarray(w.T), bias, 1)
                self.v[add.output[0]] = self.v[node.output[0]]
                return
        self.dense(node, np.ascontiguousarray(w.T), bias, 1)

    def attention(self, node):
        """The single-head self-attention block as to_onnx writes it, from its first
        MatMul: x^T W_qkv^T + b_qkv, Split into q, k, v, softmax(q k^T * scale) v, then
        W_o^T and b_o. True when node starts one (its nodes are then taken), else False."""
        def const(name, shape):
            c = self.const.get(name)
            return c.astype(np.float32) if c is not None and c.shape == shape else None

        def reader(name, op_type, k=None):
            n = self.next_reader.get(name)
            ok = n is not None and n.op_type == op_type and self.readers.get(name) == 1 and \
                name not in self.outputs and (k is None or n.input[k] == name)
            return n if ok else None

        x = self.v[node.input[0]]
        w = self.const.get(node.input[1])
        if w is None or w.ndim != 2 or w.shape[1] % 3 or len(x.gshape) != 2:
            return False
        d, dk = w.shape[0], w.shape[1] // 3
        add = reader(node.output[0], "Add", 0)
        split = add and reader(add.output[0], "Split")
        if split is None or len(split.output) != 3 or const(add.input[1], (3 * dk,)) is None:
            return False
        q, k, v = split.output
        kt = reader(k, "Transpose")
        scores = kt and reader(q, "MatMul", 0)
        if scores is None or scores.input[1] != kt.output[0] or self.readers.get(
                kt.output[0]) != 1:
            return False
        mul = reader(scores.output[0], "Mul", 0)
        softmax = mul and reader(mul.output[0], "Softmax")
        ctx = softmax and reader(softmax.output[0], "MatMul", 0)
        out = ctx and reader(ctx.output[0], "MatMul", 0)
        bias = out and reader(out.output[0], "Add", 0)
        scale = mul and self.const.get(mul.input[1])
        if bias is None or ctx.input[1] != v or self.readers.get(v) != 1 or scale is None \
                or scale.size != 1 or const(out.input[1], (dk, d)) is None \
                or const(bias.input[1], (d,)) is None:
            return False
        block = [node, add, split, kt, scores, mul, softmax, ctx, out, bias]
        if any(n.attribute for n in (node, add, scores, mul, ctx, out, bias)) or \
                [a.i for a in softmax.attribute] not in ([], [-1], [2]) or \
                [list(a.ints) for a in kt.attribute] != [[0, 2, 1]] or \
                abs(float(scale.ravel()[0]) * np.sqrt(dk) - 1) > 1e-6 or \
                (self.has(split, 1) and self.ints(split, 1, "split") != [dk] * 3) or \
                [(a.name, a.i) for a in split.attribute] not in ([("axis", -1)], [("axis", 2)]):
            return False
        if self.qdq:
            self.fail(node, "an attention block in a QDQ graph: gaba's int8 attention needs "
                            "the scales of q, k, v, the scores and the context, which the "
                            "file does not hold")
        self.skip.update(id(n) for n in block[1:])
        y = self.layer(node, "attention", x.name, (dk,), out=x.gshape,
                       w_qkv=np.ascontiguousarray(w.T), b_qkv=self.const[add.input[1]],
                       w_o=np.ascontiguousarray(self.const[out.input[1]].T),
                       b_o=self.const[bias.input[1]])
        self.v[bias.output[0]] = _V(y, x.gshape, x.shape, True)
        return True

    def fusable(self, node, op_type):
        """The node after `node` of type op_type that alone reads its output, or None."""
        out = node.output[0]
        nxt = self.next_reader.get(out)
        if nxt is None or nxt.op_type != op_type or self.readers.get(out) != 1 \
                or out in self.outputs:
            return None
        return nxt

    # ---- elementwise ----------------------------------------------------------------

    def activation(self, node, act):
        x = self.val(node)
        row = self.producer.get(x.name)
        if row is not None and not x.t and x.shape == x.gshape and self.fuse_ok(node, x, act):
            name, op, old, params, ins, out, share = self.g.layers[row]
            self.g.layers[row] = (name, op, _gaba_act(act), params, ins, out, share)
            self.v[node.output[0]] = x
            return
        self.layer(node, "act", self.plain(x), act=act, out=x.shape)

    def fuse_ok(self, node, x, act):
        """Whether node's activation can be the layer writing x's (float: as gaba's own
        models fuse it; QDQ: only when x has no QuantizeLinear of its own and the act
        keeps an int8 kernel's single rounding, relu / relu6)."""
        name, op, old, *_ = self.g.layers[self.producer[x.name]]
        if self.ops[op] not in _FUSE_INTO or old != 0 or self.readers.get(node.input[0]) != 1 \
                or node.input[0] in self.outputs:
            return False
        return not self.qdq or (x.name not in self.qp and act in ("relu", "relu6"))

    def relu(self, node):
        self.attrs(node, {})
        self.activation(node, _ACTS[node.op_type])

    def clip(self, node):
        self.attrs(node, {})
        lo = self.const.get(node.input[1]) if self.has(node, 1) else None
        hi = self.const.get(node.input[2]) if self.has(node, 2) else None
        if lo is None or hi is None or lo.size != 1 or hi.size != 1 \
                or (float(lo.ravel()[0]), float(hi.ravel()[0])) != (0.0, 6.0):
            self.fail(node, "gaba maps Clip with constant bounds 0 and 6 (relu6)")
        self.activation(node, "relu6")

    def binary(self, node):
        self.attrs(node, {})
        if node.input[0] in self.const or node.input[1] in self.const:
            self.fail(node, "a constant operand is not supported; gaba's "
                            f"{node.op_type} takes two activations")
        a, b = self.val(node, 0), self.val(node, 1)
        op = _BINARY[node.op_type]
        if op != "sub" and _broadcasts(a.shape, b.shape) and not _broadcasts(b.shape, a.shape):
            a, b = b, a  # the broadcast operand second
        if a.shape == b.shape:
            xb = self.plain(b)
        else:
            xb = self.per_channel(a, b)
            if xb is None:
                self.fail(node, f"operands of per-sample shapes {a.shape} and {b.shape}: gaba "
                                "takes equal shapes or a (C) / (C, 1, ...) second operand")
        self.layer(node, op, (self.plain(a), xb), out=a.shape)

    def per_channel(self, a, b):
        """b as a gaba tensor gaba broadcasts over a's channels, or None."""
        if not _broadcasts(b.shape, a.shape):
            return None
        if not b.t and b.gshape[:1] == b.shape[:1] and all(d == 1 for d in b.gshape[1:]):
            return b.name
        return self.plain(b)

    # ---- pools ---------------------------------------------------------------------

    def pool(self, node):
        avg = node.op_type == "AveragePool"
        keys = {"auto_pad": "NOTSET", "ceil_mode": 0, "dilations": None, "kernel_shape": None,
                "pads": None, "strides": None}
        keys.update({"count_include_pad": 0} if avg else {"storage_order": 0})
        a = self.attrs(node, keys)
        if len(node.output) > 1 and node.output[1]:
            self.fail(node, "the Indices output is not supported")
        x = self.val(node)
        n = len(x.shape) - 1
        kernel = list(a["kernel_shape"] or [])
        if n not in (1, 2) or len(kernel) != n or min(kernel) < 1:
            self.fail(node, f"kernel {kernel} on a per-sample shape {x.shape}: gaba pools "
                            "1-D and 2-D")
        if a["ceil_mode"] or a.get("storage_order") or any(d != 1 for d in a["dilations"] or []):
            self.fail(node, "ceil_mode, storage_order and dilations are not supported")
        s, p = self.spatial(node, a, n, x.shape[1:], kernel, [1] * n)
        if avg and a["count_include_pad"] and any(p):
            self.fail(node, "count_include_pad=1 with padding is not supported (gaba's average "
                            "counts only the cells it reads)")
        if n == 2:
            params = (kernel[0], kernel[1], s[0], s[1], p[0], p[1], p[2], p[3])
        else:
            params = (1, kernel[0], 1, s[0], 0, p[0], 0, p[1])
        self.layer(node, "avgpool" if avg else "maxpool", self.plain(x), params)

    def global_pool(self, node, op, keep):
        x = self.val(node)
        if len(x.shape) < 2:
            self.fail(node, f"a global pool of a per-sample shape {x.shape}")
        c = x.shape[0]
        self.layer(node, op, self.plain(x), out=(c,))
        if keep:  # (C, 1, ...) in ONNX: a view of the pooled (C)
            self.v[node.output[0]].shape = (c,) + (1,) * (len(x.shape) - 1)

    def global_pool_node(self, node):
        self.attrs(node, {})
        op = "global_avgpool" if node.op_type == "GlobalAveragePool" else "global_maxpool"
        self.global_pool(node, op, True)

    def reduce(self, node):
        a = self.attrs(node, {"axes": None, "keepdims": 1, "noop_with_empty_axes": 0})
        x = self.val(node)
        axes = a["axes"] if a["axes"] is not None else (
            self.ints(node, 1, "axes") if self.has(node, 1) else None)
        rank = len(x.shape) + 1
        if axes is None or sorted(d % rank for d in axes) != list(range(2, rank)):
            self.fail(node, f"reduction over axes {axes}: gaba takes the global pool over "
                            "every axis after the channels")
        op = "global_avgpool" if node.op_type == "ReduceMean" else "global_maxpool"
        self.global_pool(node, op, bool(a["keepdims"]))

    # ---- shapes --------------------------------------------------------------------

    def reshape_like(self, node, shape):
        x = self.val(node)
        if int(np.prod(shape)) != int(np.prod(x.shape)):
            self.fail(node, f"a reshape of {x.shape} to {shape}")
        self.alias(node, x, shape)

    def reshape(self, node):
        a = self.attrs(node, {"allowzero": 0})
        target = self.ints(node, 1, "shape")
        if a["allowzero"] and 0 in target:
            self.fail(node, "allowzero with a 0 in the shape is not supported")
        self.reshape_like(node, self.out_shape(node))

    def flatten(self, node):
        a = self.attrs(node, {"axis": 1})
        if a["axis"] != 1:
            self.fail(node, f"axis {a['axis']}: gaba flattens after the batch axis (axis 1)")
        x = self.val(node)
        self.reshape_like(node, (int(np.prod(x.shape)),))

    def squeeze(self, node):
        a = self.attrs(node, {"axes": None})
        axes = a["axes"] if a["axes"] is not None else (
            self.ints(node, 1, "axes") if self.has(node, 1) else None)
        if node.input[0] in self.gru:
            return self.gru_squeeze(node, axes)
        x = self.val(node)
        rank = len(x.shape) + 1
        if axes is None or any(d % rank == 0 for d in axes):
            self.fail(node, f"axes {axes}: gaba squeezes named axes other than the batch axis")
        self.reshape_like(node, self.out_shape(node))

    def unsqueeze(self, node):
        a = self.attrs(node, {"axes": None})
        axes = a["axes"] if a["axes"] is not None else self.ints(node, 1, "axes")
        x = self.val(node)
        rank = len(x.shape) + 1 + len(axes)
        if any(d % rank == 0 for d in axes):
            self.fail(node, f"axes {axes}: the batch axis stays first")
        self.reshape_like(node, self.out_shape(node))

    def transpose(self, node):
        a = self.attrs(node, {"perm": None})
        perm = list(a["perm"] or [])
        if node.input[0] in self.gru:
            return self.gru_transpose(node, perm)
        x = self.val(node)
        if perm == list(range(len(x.shape) + 1)):
            return self.alias(node, x)
        if perm == [0, 2, 1]:  # a 2-D transpose per sample: a view until read
            if x.t and x.shape == x.gshape[::-1]:  # transposed back
                return self.alias(node, _V(x.name, x.gshape))
            if x.t or x.shape != x.gshape:
                x = _V(self.plain(x), x.shape)
            return self.alias(node, x, x.shape[::-1], True)
        if perm in ([2, 0, 1], [1, 0, 2]) and len(x.shape) == 2:  # time-major, for a GRU
            if perm == [1, 0, 2]:  # (N, T, F) -> (T, N, F)
                x = _V(x.name, x.gshape, x.shape[::-1], not x.t)
            self.gru[node.output[0]] = ("time", self.plain(x), x.shape)
            return
        self.fail(node, f"perm {perm}: gaba transposes the two axes of a 2-D sample "
                        "(perm [0, 2, 1])")

    def concat(self, node):
        a = self.attrs(node, {"axis": None})
        xs = [self.val(node, k) for k in range(len(node.input))]
        rank = len(xs[0].shape) + 1
        if a["axis"] is None or a["axis"] % rank != 1 or not 2 <= len(xs) <= 4:
            self.fail(node, f"{len(xs)} inputs on axis {a['axis']}: gaba concatenates 2 to 4 "
                            "tensors on the channel axis (1)")
        self.layer(node, "concat", tuple(self.plain(x) for x in xs))

    # ---- other ops -----------------------------------------------------------------

    def softmax(self, node):
        a = self.attrs(node, {"axis": -1})
        x = self.val(node)
        if a["axis"] % (len(x.shape) + 1) != len(x.shape):
            self.fail(node, f"axis {a['axis']}: gaba's softmax is over the last axis")
        self.layer(node, "softmax", self.plain(x), out=x.shape)

    def batchnorm(self, node):
        a = self.attrs(node, {"epsilon": 1e-5, "momentum": 0.9, "training_mode": 0})
        if a["training_mode"] or len(node.output) > 1:
            self.fail(node, "training mode is not supported")
        x = self.val(node)
        c = x.shape[0]
        gamma, beta, mean, var = (self.cst(node, k, what).astype(np.float32).ravel() for k, what in
                                  ((1, "scale"), (2, "bias"), (3, "mean"), (4, "var")))
        if any(v.size != c for v in (gamma, beta, mean, var)):
            self.fail(node, f"its statistics do not have {c} channels")
        row = self.producer.get(x.name)
        name, op, act, params, ins, out, share = self.g.layers[row] if row is not None else \
            (None,) * 7
        if row is not None and not x.t and x.shape == x.gshape and act == 0 \
                and self.ops[op] in ("conv2d", "conv1d", "dense") \
                and self.readers.get(node.input[0]) == 1 and node.input[0] not in self.outputs \
                and x.name not in self.qp and share is None and name not in self.shared:
            # gaba folds a batch norm into the conv / dense before it: as it does
            self.owners = {k: v for k, v in self.owners.items() if v != name}
            w, b = self.g.weights[f"{name}.weight"], self.g.weights[f"{name}.bias"]
            _gaba.nn_batchnorm_fold(w.reshape(w.shape[0], -1), b, gamma, beta, mean, var,
                                    float(a["epsilon"]))
            self.v[node.output[0]] = x
            return
        scale = gamma / np.sqrt(var.astype(np.float64) + a["epsilon"])
        self.layer(node, "batchnorm", self.plain(x), (round(a["epsilon"] * 1e9),),
                   out=x.shape, scale=scale, shift=beta - mean * scale)

    def resize(self, node):
        a = self.attrs(node, {"mode": "nearest", "coordinate_transformation_mode": "half_pixel",
                              "nearest_mode": "round_prefer_floor", "cubic_coeff_a": -0.75,
                              "exclude_outside": 0, "extrapolation_value": 0.0,
                              "antialias": 0, "axes": None, "keep_aspect_ratio_policy":
                              "stretch"})
        x = self.val(node)
        out = self.out_shape(node)
        n = len(x.shape) - 1
        scales = [o // i for o, i in zip(out[1:], x.shape[1:])]
        if n not in (1, 2) or out[0] != x.shape[0] or any(
                s < 1 or s * i != o for s, i, o in zip(scales, x.shape[1:], out[1:])):
            self.fail(node, f"{x.shape} -> {out}: gaba upsamples 1-D and 2-D tensors by "
                            "integer scales")
        mode, ctm = a["mode"], a["coordinate_transformation_mode"]
        nearest_ok = (ctm == "asymmetric" and a["nearest_mode"] == "floor") or (
            ctm in ("half_pixel", "pytorch_half_pixel")
            and a["nearest_mode"] in ("round_prefer_floor", "round_prefer_ceil"))
        if mode == "nearest" and nearest_ok:
            code = 0
        elif mode == "linear" and ctm in ("half_pixel", "pytorch_half_pixel"):
            code = 1
        else:
            self.fail(node, f"mode {mode!r} with {ctm!r} / {a['nearest_mode']!r}: gaba "
                            "upsamples nearest (asymmetric + floor, or half_pixel) and linear "
                            "(half_pixel)")
        if a["antialias"] or a["axes"] is not None:
            self.fail(node, "antialias and axes are not supported")
        sh, sw = (scales[0], scales[1]) if n == 2 else (1, scales[0])
        self.layer(node, "upsample", self.plain(x), (sh, sw, code))

    def layer_norm(self, node):
        a = self.attrs(node, {"axis": -1, "epsilon": 1e-5, "stash_type": 1})
        if len([o for o in node.output if o]) > 1:
            self.fail(node, "the Mean and InvStdDev outputs are not supported")
        x = self.val(node)
        if a["axis"] % (len(x.shape) + 1) != len(x.shape):
            self.fail(node, f"axis {a['axis']}: gaba normalizes over the last axis")
        # over the last axis of x: gaba's layer norm over the channels of the tensor whose
        # transpose x is, or of a (C) sample
        if x.t and x.shape == x.gshape[::-1]:
            src, gshape = x.name, x.gshape
        elif len(x.shape) == 1:
            src, gshape = self.plain(x), x.shape
        else:
            self.fail(node, "gaba normalizes the channels of a (C, L) sample: the input must "
                            "be its transpose (N, L, C) or (N, C)")
        c = gshape[0]
        w = self.cst(node, 1, "scale").astype(np.float32).ravel()
        b = self.bias(node, 2, c) if self.has(node, 2) else np.zeros(c, np.float32)
        if w.size != c:
            self.fail(node, f"its scale has {w.size} values for {c} channels")
        self.layer(node, "layer_norm", src, (round(a["epsilon"] * 1e9),), out=gshape,
                   weight=w, bias=b)
        self.v[node.output[0]] = _V(self.v[node.output[0]].name, gshape, x.shape, x.t)

    def gather(self, node):
        a = self.attrs(node, {"axis": 0})
        if node.input[0] in self.gru:  # Y_h[0]: the last state
            index = self.cst(node, 1, "index")
            if a["axis"] != 0 or index.shape != () or int(index) != 0:
                self.fail(node, "gaba reads a GRU's Y_h as Y_h[0] (Gather of index 0)")
            return self.gru_squeeze(node, [0])
        table = self.cst(node, 0, "table").astype(np.float32)
        ids = node.input[1]
        if a["axis"] != 0 or table.ndim != 2 or ids not in self.token_inputs:
            self.fail(node, "gaba maps Gather of a constant (vocab, dim) table on axis 0 by a "
                            "model input of token ids (an embedding)")
        k = self.token_inputs[ids]
        name, dtype, shape, vocab = self.g.inputs[k]
        if vocab not in (0, table.shape[0]) or len(shape) != 1:
            self.fail(node, f"token input {ids!r} of shape {shape} indexes tables of "
                            f"{vocab} and {table.shape[0]} rows")
        self.g.inputs[k] = (name, dtype, shape, table.shape[0])
        dim, length = table.shape[1], shape[0]
        self.layer(node, "embedding", name, (dim, table.shape[0]), out=(dim, length),
                   table=table)
        self.v[node.output[0]] = _V(self.v[node.output[0]].name, (dim, length), (length, dim),
                                    True)

    def identity(self, node):
        self.attrs(node, {"seed": 0, "ratio": None, "training_mode": None}
                   if node.op_type == "Dropout" else {})
        if node.op_type == "Dropout" and (self.has(node, 2) or len(
                [o for o in node.output if o]) > 1):
            self.fail(node, "training mode and the mask output are not supported")
        if node.input[0] in self.const:
            self.const[node.output[0]] = self.const[node.input[0]]
        else:
            self.alias(node, self.val(node))

    def shape(self, node):
        a = self.attrs(node, {"start": 0, "end": None})
        x = self.val(node)
        # the batch axis reads as 1: such values size a GRU's zero initial state or a
        # reshape, whose shapes gaba takes from shape inference, per sample
        dims = np.array((1,) + x.shape, np.int64)
        self.const[node.output[0]] = dims[a["start"]:a["end"]]

    def fold(self, node):
        """A node of constants only, evaluated now (ONNX's reference implementation)."""
        from onnx.reference import ReferenceEvaluator

        ins = [self.const[i] for i in node.input if i]
        if node.op_type == "ConstantOfShape" and (ins[0].ndim != 1 or np.prod(
                ins[0].astype(np.float64)) > _FOLD_MAX or np.any(ins[0] < 0)):
            self.fail(node, f"a constant of shape {ins[0].tolist()[:8]}")
        if node.op_type == "Gather" and ins[1].size * np.prod(ins[0].shape[1:]) > _FOLD_MAX:
            self.fail(node, "a gathered constant of more than 2**24 values")
        try:
            opset = [o for o in self.proto.opset_import if o.domain in ("", "ai.onnx")]
            got = ReferenceEvaluator(node, opsets={"": opset[0].version}).run(
                None, {i: self.const[i] for i in node.input if i})
        except Exception as e:  # (ONNX's reference ops raise what numpy raises)
            self.fail(node, f"its constant inputs do not evaluate ({type(e).__name__}: {e})")
        for name, value in zip(node.output, got):
            if name:
                self.const[name] = np.asarray(value)

    def constant(self, node):
        if len(node.attribute) != 1 or node.attribute[0].name != "value":
            self.fail(node, "gaba reads Constant nodes holding a tensor ('value')")
        self.const[node.output[0]] = self.array(node.attribute[0].t)

    # ---- GRU -----------------------------------------------------------------------

    def gru_node(self, node):
        a = self.attrs(node, {"hidden_size": None, "linear_before_reset": 0,
                              "direction": "forward", "activations": None, "clip": None,
                              "layout": 0, "activation_alpha": None, "activation_beta": None})
        src = self.gru.get(node.input[0])
        if src is None or src[0] != "time":
            self.fail(node, "its input must be a (N, F, T) or (N, T, F) tensor transposed to "
                            "(T, N, F)")
        if a["linear_before_reset"] != 1 or a["direction"] != "forward" or a["clip"] is not None \
                or a["layout"] != 0 or a["activations"] not in (None, ["Sigmoid", "Tanh"]) \
                or a["activation_alpha"] or a["activation_beta"]:
            self.fail(node, "gaba maps a forward GRU with linear_before_reset=1 (PyTorch's), "
                            "default activations, no clip, layout 0")
        if self.has(node, 4):
            self.fail(node, "sequence_lens is not supported")
        if self.has(node, 5) and np.any(self.cst(node, 5, "initial_h")):
            self.fail(node, "a nonzero initial_h is not supported")
        hd = a["hidden_size"]
        feat = src[2][0]
        w, r = self.cst(node, 1, "W"), self.cst(node, 2, "R")
        b = self.cst(node, 3, "B") if self.has(node, 3) else np.zeros((1, 6 * hd), np.float32)
        if hd is None or w.shape != (1, 3 * hd, feat) or r.shape != (1, 3 * hd, hd) \
                or b.shape != (1, 6 * hd):
            self.fail(node, f"W {w.shape}, R {r.shape}, B {b.shape} do not fit hidden_size "
                            f"{hd} and {feat} features")

        def rzn(m):  # ONNX's gate order (z, r, h) -> PyTorch's (r, z, n)
            z, r_, h = np.split(np.asarray(m, np.float32), 3, axis=0)
            return np.concatenate([r_, z, h])

        weights = dict(w_ih=rzn(w[0]), w_hh=rzn(r[0]), b_ih=rzn(b[0, :3 * hd]),
                       b_hh=rzn(b[0, 3 * hd:]))
        info = (node, src[1], hd, src[2][1], weights)
        for k, stage in enumerate(("y", "y_h")):
            if self.has_out(node, k):
                self.gru[node.output[k]] = (stage, info)

    def has_out(self, node, k):
        return k < len(node.output) and node.output[k] != ""

    def gru_layer(self, node, info, seq):
        """The gaba GRU of GRU node info[0] returning the sequence or the last state,
        as the output of node."""
        gnode, x, hd, steps, weights = info
        out = (hd, steps) if seq else (hd,)
        name = f"gru_{self.index[id(gnode)]}{'_seq' if seq else ''}"
        y = self.g.fresh("t")
        self.producer[y] = len(self.g.layers)
        self.g.add(name, "gru", x, y, (hd, int(seq)), **weights)
        return _V(y, out)

    def gru_squeeze(self, node, axes):
        stage, info = self.gru[node.input[0]]
        if stage == "y" and axes == [1]:
            self.gru[node.output[0]] = ("seq", info)
        elif stage == "y_h" and axes == [0]:
            self.v[node.output[0]] = self.gru_layer(node, info, False)
        else:
            self.fail(node, f"gaba reads a GRU's Y squeezed on axis 1 and Y_h on axis 0, not "
                            f"{stage} on {axes}")

    def gru_transpose(self, node, perm):
        stage = self.gru[node.input[0]][0]
        if stage != "seq" or perm not in ([1, 2, 0], [1, 0, 2]):
            self.fail(node, "gaba reads a GRU's squeezed Y (T, N, H) transposed to (N, H, T) "
                          "or (N, T, H)")
        v = self.gru_layer(node, self.gru[node.input[0]][1], True)
        self.v[node.output[0]] = v if perm == [1, 2, 0] else _V(v.name, v.gshape,
                                                               v.shape[::-1], True)

    # ---- QDQ -----------------------------------------------------------------------

    def qparams(self, node, k_scale=1, k_zp=2):
        """A per-tensor (scale, int8 zero point) of a Q / DQ node; uint8 maps to int8."""
        s = self.cst(node, k_scale, "scale")
        z = self.cst(node, k_zp, "zero point") if self.has(node, k_zp) else np.zeros((), np.uint8)
        if s.size != 1 or z.size != 1 or z.dtype not in (np.int8, np.uint8) \
                or not np.isfinite(s).all() or float(s.ravel()[0]) <= 0:
            self.fail(node, f"scale {s.shape} / zero point {z.dtype} {z.shape}: gaba takes "
                            "one positive scale and one int8 or uint8 zero point per activation")
        zp = int(z.ravel()[0]) - (128 if z.dtype == np.uint8 else 0)
        return float(np.float32(s.ravel()[0])), zp

    def quantize_linear(self, node):
        self.attrs(node, {"axis": 1, "saturate": 1})
        x = self.val(node)
        p = self.qparams(node)
        if self.qp.setdefault(x.name, p) != p:
            self.fail(node, f"a tensor quantized with {p} and {self.qp[x.name]}; gaba keeps one "
                            "scale and zero point per tensor")
        self.alias(node, x)
        self.quantized.add(node.output[0])

    def dequantize_linear(self, node):
        a = self.attrs(node, {"axis": 1, "block_size": 0})
        src = node.input[0]
        if src in self.const:  # a quantized constant: its float value
            q = self.const[src]
            s = self.cst(node, 1, "scale").astype(np.float64)
            z = self.cst(node, 2, "zero point") if self.has(node, 2) else np.zeros((), q.dtype)
            axis = a["axis"] % max(q.ndim, 1)
            shape = [1] * q.ndim
            if s.size > 1:
                if q.ndim == 0 or s.size != q.shape[axis] or z.size not in (1, s.size):
                    self.fail(node, f"{s.size} scales on axis {a['axis']} of a {q.shape} tensor")
                shape[axis] = s.size
            zz = z.astype(np.float64).reshape(shape) if z.size > 1 else float(z.ravel()[0])
            self.const[node.output[0]] = ((q.astype(np.float64) - zz) * s.reshape(shape)
                                          ).astype(np.float32)
            if q.dtype == np.int8:
                self.wq[node.output[0]] = (s.astype(np.float32), axis, q, z)
            return
        if src not in self.quantized:
            self.fail(node, "its input must be a QuantizeLinear output or a constant")
        x = self.val(node)
        if self.qparams(node) != self.qp[x.name]:
            self.fail(node, f"dequantizes with {self.qparams(node)}, its QuantizeLinear "
                            f"quantized with {self.qp[x.name]}")
        self.alias(node, x)

    # ---- the whole graph -----------------------------------------------------------

    HANDLERS = {
        "Conv": conv, "Gemm": gemm, "MatMul": matmul, "Clip": clip,
        "Add": binary, "Sub": binary, "Mul": binary,
        "MaxPool": pool, "AveragePool": pool,
        "GlobalAveragePool": global_pool_node, "GlobalMaxPool": global_pool_node,
        "ReduceMean": reduce, "ReduceMax": reduce,
        "Reshape": reshape, "Flatten": flatten, "Squeeze": squeeze, "Unsqueeze": unsqueeze,
        "Transpose": transpose, "Concat": concat, "Softmax": softmax,
        "BatchNormalization": batchnorm, "Resize": resize, "GRU": gru_node,
        "LayerNormalization": layer_norm, "Gather": gather,
        "Identity": identity, "Dropout": identity, "Constant": constant, "Shape": shape,
        "QuantizeLinear": quantize_linear, "DequantizeLinear": dequantize_linear,
    }
    HANDLERS.update(dict.fromkeys(_ACTS, relu))

    def array(self, tensor):
        if tensor.data_location == self.onnx.TensorProto.EXTERNAL:
            raise ModelImportError(f"{FUNC}: {self.where}: tensor {tensor.name!r} is stored in "
                                   "an external file; gaba reads self-contained models")
        try:
            return np.array(self.onnx.numpy_helper.to_array(tensor))
        except Exception as e:  # the onnx package's errors on a malformed tensor
            raise ONNXError(f"{FUNC}: {self.where}: tensor {tensor.name!r} is damaged "
                            f"({type(e).__name__}: {e})") from e

    def run(self, threads, requant):
        graph = self.proto.graph
        opset = {o.domain: o.version for o in self.proto.opset_import}
        if opset.get("", opset.get("ai.onnx", 0)) < MIN_OPSET:
            raise ModelImportError(f"{FUNC}: {self.where}: opset {opset.get('', 0)}; gaba "
                                   f"imports opset {MIN_OPSET} and later")
        self.ops = _gaba.nn_ops()
        nodes = list(graph.node)  # (protobuf makes a new wrapper on each access: ids held here)
        self.index = {id(n): k for k, n in enumerate(nodes)}
        self.outputs = {o.name for o in graph.output}
        self.qdq = any(n.op_type == "QuantizeLinear" for n in nodes)
        self.skip, self.next_reader = set(), {}
        for node in nodes:
            for name in node.input:
                self.readers[name] = self.readers.get(name, 0) + 1
                self.next_reader.setdefault(name, node)
        for vi in list(graph.value_info) + list(graph.input) + list(graph.output):
            t = vi.type.tensor_type
            if t.HasField("shape"):
                self.shapes[vi.name] = [d.dim_value if d.HasField("dim_value") else None
                                        for d in t.shape.dim]
        for t in graph.initializer:
            self.const[t.name] = self.array(t)
        self.add_inputs(graph)
        for node in nodes:
            if id(node) in self.skip:
                continue
            if node.op_type in _FOLD and node.domain in ("", "ai.onnx") and node.input and all(
                    i in self.const for i in node.input if i):
                self.fold(node)
                continue
            handler = self.HANDLERS.get(node.op_type) if node.domain in ("", "ai.onnx") else None
            if handler is None:
                op = f"{node.domain}.{node.op_type}" if node.domain else node.op_type
                name = f" ({node.name!r})" if node.name else ""
                raise ModelImportError(
                    f"{FUNC}: {self.where}: node {self.index[id(node)]}{name} is {op}, which "
                    f"gaba does not import; supported: {', '.join(sorted(self.HANDLERS))}")
            handler(self, node)
        outputs = self.name_outputs(graph)
        for name, k in self.token_inputs.items():
            if not self.g.inputs[k][3]:
                raise ModelImportError(f"{FUNC}: {self.where}: token input {name!r} is not "
                                       "read by a Gather (embedding)")
        model = self.g.build(graph.name if _plain(graph.name) else "onnx", "imported",
                             f"imported from {os.path.basename(self.where.strip(chr(39)))}",
                             outputs, threads)
        self.check_shapes(model)
        return self.quantize(model, threads, requant) if self.qdq else model

    def add_inputs(self, graph):
        for k, vi in enumerate(i for i in graph.input if i.name not in self.const):
            t = vi.type.tensor_type
            dims = self.shapes.get(vi.name)
            if dims is None or len(dims) < 2 or any(d is None or d < 1 for d in dims[1:]):
                raise ModelImportError(f"{FUNC}: {self.where}: input {k} ({vi.name!r}) has "
                                       f"shape {dims}; gaba needs (batch, fixed dims...)")
            shape = tuple(dims[1:])
            if len(shape) > 4:
                raise ModelImportError(f"{FUNC}: {self.where}: input {vi.name!r} has more than "
                                       "gaba's 4 axes per sample")
            name = _io_name(vi.name, k, "input")
            TP = self.onnx.TensorProto
            if t.elem_type in (TP.INT32, TP.INT64):
                self.token_inputs[vi.name] = len(self.g.inputs)
                self.g.inputs.append((name, "int32", shape, 0))
            elif t.elem_type == TP.FLOAT:
                self.g.add_input(name, shape)
                self.v[vi.name] = _V(name, shape)
            else:
                raise ModelImportError(f"{FUNC}: {self.where}: input {vi.name!r} has ONNX type "
                                       f"{t.elem_type}; gaba imports float32 inputs and int32 "
                                       "/ int64 token ids")

    def name_outputs(self, graph):
        """Each graph output as a gaba tensor named as the file's output."""
        names, renames = [], {}
        inputs = {row[0] for row in self.g.inputs}
        for k, o in enumerate(graph.output):
            if o.name not in self.v:
                raise ModelImportError(f"{FUNC}: {self.where}: output {k} ({o.name!r}) is not "
                                       "an activation gaba computes")
            x = self.plain(self.v[o.name], "output")
            name = _io_name(o.name, k, "output")
            if x in inputs or x in renames or x in names:  # a copy under its own name
                x = self.g.add(f"{name}_copy", "reshape", x, self.g.fresh("t"),
                               (len(self.v[o.name].shape),) + self.v[o.name].shape)
            renames[x] = name
            names.append(name)
        layers = self.g.layers
        for i, (lname, op, act, params, ins, out, share) in enumerate(layers):
            layers[i] = (lname, op, act, params, tuple(renames.get(x, x) for x in ins),
                         renames.get(out, out), share)
        self.qp = {renames.get(k, k): v for k, v in self.qp.items()}
        self.renames = renames
        return names

    def check_shapes(self, model):
        """Each tensor's shape as gaba computed it against the file's."""
        shapes = {la["output"]: tuple(la["shape"]) for la in model.layers}
        for onnx_name, v in self.v.items():
            name = self.renames.get(v.name, v.name)
            if name in shapes and shapes[name] != v.gshape:
                raise ModelImportError(f"{FUNC}: {self.where}: tensor {onnx_name!r} has "
                                       f"per-sample shape {v.gshape} in the file, gaba computes "
                                       f"{shapes[name]}")

    def quantize(self, model, threads, requant):
        """The int8 model on the file's scales and zero points (as from_tflite's)."""
        ops = {la["output"]: la for la in model.layers}
        params = {}
        for name in list(model.inputs) + [la["output"] for la in model.layers]:
            la = ops.get(name)
            if name in model.inputs and model.inputs[name]["dtype"] == "int32":
                continue
            p = self.qp.get(name)
            passes = la is not None and (la["op"] in _PASSES or (
                la["op"] == "act" and la["act"] in ("relu", "relu6")))
            src = self.qp.get(la["inputs"][0]) if passes else None
            if passes and p is not None and src is not None and p != src:
                raise ModelImportError(f"{FUNC}: {self.where}: layer {la['name']!r} ({la['op']}) "
                                       f"is quantized {src} in and {p} out; gaba's int8 "
                                       f"{la['op']} keeps its input's parameters")
            if la and la["op"] == "softmax" and p not in (None, (1 / 256, -128)):
                raise ModelImportError(f"{FUNC}: {self.where}: softmax {la['name']!r} is "
                                       f"quantized {p}; gaba's int8 softmax writes (1/256, -128)")
            if p is None and not (passes or la and la["op"] in ("softmax", "embedding")):
                what = f"layer {la['name']!r} ({la['op']})" if la else "input"
                raise ModelImportError(f"{FUNC}: {self.where}: the output of {what}, {name!r}, "
                                       "has no QuantizeLinear; gaba's int8 model needs a scale "
                                       "and zero point for every activation")
            if p is not None:
                params[name] = p
        if requant not in _REQUANT:
            raise ValueError(f"{FUNC}: requant must be 'double' or 'fp32', got {requant!r}")
        return quantize_given(model, params, self.w_scale, requant, threads, FUNC)


def _broadcasts(b, a):
    """Whether per-sample shape b is (C) or (C, 1, ...) against a's (C, ...)."""
    return b != a and b[:1] == a[:1] and len(b) <= len(a) and all(d == 1 for d in b[1:])


def _gaba_act(act):
    return _gaba.nn_acts().index(act)


def _plain(name):
    """Whether a name of the file (bytes where it is not UTF-8) is fit for a model's."""
    return (isinstance(name, str) and 0 < len(name.encode()) <= 64
            and name.replace("_", "").isalnum())


def _io_name(name, k, kind):
    """A model input/output name: the file's when it is short and plain, else kind_k."""
    return name if _plain(name) else f"{kind}_{k}"


def _load(onnx, src):
    """(ModelProto with inferred shapes, where) of a path or bytes."""
    if isinstance(src, (bytes, bytearray, memoryview)):
        data, where = bytes(src), "<bytes>"
    elif isinstance(src, (str, os.PathLike)):
        where = repr(os.fspath(src))
        with open(src, "rb") as f:
            data = f.read()
    else:
        raise TypeError(f"{FUNC}: path must be a str, os.PathLike or bytes, got "
                        f"{type(src).__name__}")
    try:  # the onnx package's protobuf, checker and shape inference errors: a damaged file
        proto = onnx.load_model_from_string(data)
        onnx.checker.check_model(proto)
        proto = onnx.shape_inference.infer_shapes(proto, strict_mode=True)
    except Exception as e:
        raise ONNXError(f"{FUNC}: {where} is not a valid ONNX model "
                        f"({type(e).__name__}: {str(e)[:300]})") from e
    return proto, where


def from_onnx(path, *, threads=None, requant="fp32"):
    """Import an ONNX model (see gaba.zoo.from_onnx and docs/import.md)."""
    try:
        import onnx
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"{FUNC} needs the 'onnx' package: pip install onnx") from exc
    if requant not in _REQUANT:
        raise ValueError(f"{FUNC}: requant must be 'double' or 'fp32', got {requant!r}")
    proto, where = _load(onnx, path)
    return _Importer(onnx, proto, where).run(threads, requant)
