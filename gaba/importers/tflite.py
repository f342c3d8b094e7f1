"""``gaba.zoo.from_tflite``: a TensorFlow Lite flatbuffer onto gaba's layer table.

The file's NHWC tensors become gaba's channel-major ones once, at load: conv
filters (O, H, W, I) become (O, I, H, W), a fully connected layer's columns
follow its input's order, and the model keeps the file's input and output
layout (a (1, H, W, C) input is fed as (batch, H, W, C)), converting at its
edges. See docs/import.md for the operators and what each becomes.
"""

import os

import numpy as np

from ._graph import Graph, ModelImportError, quantize_given
from .tflite_file import read_tflite

FUNC = "zoo.from_tflite()"
_ACTS = {"NONE": "none", "RELU": "relu", "RELU6": "relu6", "TANH": "tanh"}
_CONVS = {"CONV_2D", "DEPTHWISE_CONV_2D"}
_TWO_INPUTS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB", "MUL", "MEAN",
               "CONCATENATION", "PAD", "RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR"}
_ELEMENTWISE = {"LOGISTIC": "sigmoid", "TANH": "tanh", "RELU": "relu", "RELU6": "relu6",
                "HARD_SWISH": "hard_swish"}


class _Importer:
    def __init__(self, f, where):
        self.f, self.where = f, where
        self.g = Graph(FUNC)
        self.name = {}    # TFLite tensor index -> gaba tensor name
        self.layout = {}  # index -> "chw" (a (1, H, W, C) tensor held as (C, H, W)) or "plain"
        self.w_scale = {}  # int8 files: gaba layer name -> its weights' per-channel scales
        self.padded = {}  # a PAD's output -> (top, bottom, left, right), folded into the conv

    # ---- errors and tensors ----------------------------------------------------------

    def fail(self, op, what):
        raise ModelImportError(f"{FUNC}: {self.where}: operator {op.index} ({op.opcode}): {what}")

    def tensor(self, i):
        return self.f.tensors[i]

    def sample_shape(self, i, op=None):
        """The per-sample shape of activation tensor i (its batch axis must be 1)."""
        t = self.tensor(i)
        if len(t.shape) >= 2 and t.shape[0] == 1:
            return tuple(t.shape[1:])
        if len(t.shape) == 1:
            return tuple(t.shape)
        what = f"tensor {i} ({t.name!r}) has shape {t.shape}; gaba reads batch 1 at import"
        if op is None:
            raise ModelImportError(f"{FUNC}: {self.where}: {what}")
        self.fail(op, what)

    def gaba_shape(self, i):
        s = self.sample_shape(i)
        return (s[2], s[0], s[1]) if len(s) == 3 else s

    def const(self, op, i, what):
        """The float32 value of constant tensor i (dequantized when it is integer)."""
        t = self.tensor(i) if i >= 0 else None
        if t is None or t.data is None:
            self.fail(op, f"its {what} must be a constant tensor")
        if t.dtype == np.float32:
            return t.data.astype(np.float32)
        if t.quant is None:
            self.fail(op, f"its {what} is {t.dtype} with no quantization parameters")
        q = t.quant
        shape = [1] * t.data.ndim
        if q.scale.size > 1:
            shape[q.quantized_dimension] = q.scale.size
        scale = q.scale.reshape(shape).astype(np.float64)
        zp = q.zero_point.reshape(shape) if q.zero_point.size > 1 else q.zero_point
        return ((t.data.astype(np.float64) - zp) * scale).astype(np.float32)

    def act(self, op):
        a = op.options.get("fused_activation_function", "NONE")
        if a not in _ACTS:
            self.fail(op, f"fused activation {a} is not supported (supported: "
                          f"{', '.join(_ACTS)})")
        return _ACTS[a]

    def out(self, op, layout):
        """Names and records operator output 0."""
        i = op.outputs[0]
        final = i in self.f.outputs and layout == "plain"  # written under its own name
        self.name[i] = io_name(self.tensor(i).name, self.f.outputs.index(i), "output") \
            if final else f"#{i}"
        self.layout[i] = layout
        return self.name[i]

    def src(self, op, k=0):
        i = op.inputs[k]
        if i in self.padded and not (k == 0 and op.opcode in _CONVS):
            self.fail(op, f"input {k} (tensor {i}) comes from a PAD, which gaba folds into "
                          "the convolution that reads it; it cannot feed this operator")
        if i not in self.name:
            t = self.tensor(i) if 0 <= i < len(self.f.tensors) else None
            kind = "a constant" if t is not None and t.data is not None else "no earlier output"
            self.fail(op, f"input {k} (tensor {i}) is {kind}; gaba's layers take activations")
        return self.name[i]

    # ---- layout conversions ----------------------------------------------------------

    def to_chw(self, x, h, w, c, stem):
        """(H, W, C) values of x, in HWC order, as a (C, H, W) tensor."""
        g = self.g
        if c == 1 or h * w == 1:
            return g.add(g.fresh(stem), "reshape", x, g.fresh("#"), (3, c, h, w))
        y = g.add(g.fresh(stem), "reshape", x, g.fresh("#"), (2, h * w, c))
        y = g.add(g.fresh(stem), "transpose", y, g.fresh("#"))
        return g.add(g.fresh(stem), "reshape", y, g.fresh("#"), (3, c, h, w))

    def to_hwc(self, x, c, h, w, stem):
        """(C, H, W) tensor x as its values in HWC order, shaped (H * W, C)."""
        g = self.g
        y = g.add(g.fresh(stem), "reshape", x, g.fresh("#"), (2, c, h * w))
        return g.add(g.fresh(stem), "transpose", y, g.fresh("#"))

    def plain(self, op, k=0):
        """Input k as a tensor whose values are in the file's order."""
        x, i = self.src(op, k), op.inputs[k]
        if self.layout[i] != "chw":
            return x
        c, h, w = self.gaba_shape(i)
        return x if c == 1 or h * w == 1 else self.to_hwc(x, c, h, w, "nhwc")

    # ---- operators -------------------------------------------------------------------

    def option(self, op, key):
        """A stride, dilation or filter size of op's options: an int in 1..65535."""
        v = op.options.get(key, 1)
        if not isinstance(v, int) or not 1 <= v <= 65535:
            self.fail(op, f"option {key} is {v!r}; expected 1 to 65535")
        return v

    def pads(self, op, size, k, s, d):
        """(before, after) padding of one spatial axis, as TFLite's SAME/VALID."""
        eff = (k - 1) * d + 1
        padding = op.options.get("padding", "SAME")
        if padding not in ("SAME", "VALID"):
            self.fail(op, f"padding {padding!r} is not SAME or VALID")
        if padding == "VALID":
            return 0, 0
        out = -(-size // s)
        total = max((out - 1) * s + eff - size, 0)
        return total // 2, total - total // 2

    def conv(self, op, depthwise):
        if self.layout.get(op.inputs[0]) != "chw":
            self.fail(op, "its input must be a (1, H, W, C) tensor")
        c, h, w = self.gaba_shape(op.inputs[0])
        filt = self.const(op, op.inputs[1], "filter")
        if filt.ndim != 4:
            self.fail(op, f"its filter must be 4-D, got shape {filt.shape}")
        sh, sw = self.option(op, "stride_h"), self.option(op, "stride_w")
        dh, dw = self.option(op, "dilation_h_factor"), self.option(op, "dilation_w_factor")
        if depthwise:  # (1, kh, kw, C * multiplier) -> (C * multiplier, 1, kh, kw)
            co, kh, kw, groups = filt.shape[3], filt.shape[1], filt.shape[2], c
            weight = filt[0].transpose(2, 0, 1)[:, None]
            if filt.shape[0] != 1 or co % c:
                self.fail(op, f"filter {filt.shape} does not fit {c} input channels")
        else:  # (O, kh, kw, I) -> (O, I, kh, kw)
            co, kh, kw = filt.shape[0], filt.shape[1], filt.shape[2]
            if filt.shape[3] < 1 or c % filt.shape[3]:
                self.fail(op, f"filter {filt.shape} does not fit {c} input channels")
            groups = c // filt.shape[3]
            weight = filt.transpose(0, 3, 1, 2)
        pt, pb = self.pads(op, h, kh, sh, dh)
        pl, pr = self.pads(op, w, kw, sw, dw)
        et, eb, el, er = self.padded.get(op.inputs[0], (0, 0, 0, 0))  # a PAD before it
        pt, pb, pl, pr = pt + et, pb + eb, pl + el, pr + er
        bias = self.bias(op, co)
        y = self.out(op, "chw")
        self.weight_scales(op, f"{op.opcode.lower()}_{op.index}", co)
        self.g.add(f"{op.opcode.lower()}_{op.index}", "conv2d", self.src(op), y,
                   (co, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups), self.act(op),
                   weight=weight, bias=bias)

    def weight_scales(self, op, layer, n):
        """An int8 file's weight scales of a conv/dense layer, one per output channel."""
        t = self.tensor(op.inputs[1])
        if t.dtype == np.float32:
            return
        if t.dtype != np.int8 or t.quant is None or t.quant.scale.size not in (1, n):
            count = 0 if t.quant is None else t.quant.scale.size
            self.fail(op, f"its weights are {t.dtype} with {count} scales; gaba takes int8 "
                          f"weights with one scale or one per output channel ({n})")
        if np.any(t.quant.zero_point != 0) or np.any(t.data == -128):
            self.fail(op, "its int8 weights are not symmetric in [-127, 127] with zero point 0")
        self.w_scale[layer] = np.broadcast_to(t.quant.scale, (n,)).astype(np.float32)

    def bias(self, op, n):
        if len(op.inputs) < 3 or op.inputs[2] < 0:
            return np.zeros(n, np.float32)
        b = self.const(op, op.inputs[2], "bias")
        if b.shape != (n,):
            self.fail(op, f"its bias has shape {b.shape}, expected ({n},)")
        return b

    def fully_connected(self, op):
        if op.options.get("keep_num_dims", False):
            self.fail(op, "keep_num_dims is not supported")
        wt = self.const(op, op.inputs[1], "weights")
        i = op.inputs[0]
        numel = int(np.prod(self.gaba_shape(i)))
        if wt.ndim != 2 or wt.shape[1] != numel:
            self.fail(op, f"weights {wt.shape} do not fit an input of {numel} values per sample")
        if self.layout[i] == "chw":  # the columns follow (H, W, C); gaba reads (C, H, W)
            c, h, w = self.gaba_shape(i)
            wt = wt.reshape(-1, h, w, c).transpose(0, 3, 1, 2).reshape(wt.shape[0], -1)
        y = self.out(op, "plain")
        self.weight_scales(op, f"fully_connected_{op.index}", wt.shape[0])
        self.g.add(f"fully_connected_{op.index}", "dense", self.src(op), y, (wt.shape[0],),
                   self.act(op), weight=wt, bias=self.bias(op, wt.shape[0]))

    def pool(self, op):
        if self.layout.get(op.inputs[0]) != "chw":
            self.fail(op, "its input must be a (1, H, W, C) tensor")
        c, h, w = self.gaba_shape(op.inputs[0])
        kh, kw = self.option(op, "filter_height"), self.option(op, "filter_width")
        sh, sw = self.option(op, "stride_h"), self.option(op, "stride_w")
        pt, pb = self.pads(op, h, kh, sh, 1)
        pl, pr = self.pads(op, w, kw, sw, 1)
        kind = "avgpool" if op.opcode == "AVERAGE_POOL_2D" else "maxpool"
        if (kh, kw, pt, pl, pb, pr) == (h, w, 0, 0, 0, 0):  # one window: the global pool's
            pooled = self.g.add(f"{op.opcode.lower()}_{op.index}", f"global_{kind}",
                                self.src(op), self.g.fresh("#"))  # kernel, same sums
            self.then_act(op, "reshape", pooled, (3, c, 1, 1), "chw", "_shape")
            return
        self.then_act(op, kind, self.src(op), (kh, kw, sh, sw, pt, pl, pb, pr), "chw")

    def then_act(self, op, kind, x, params, layout, suffix=""):
        """A layer with no fused activation of its own, and its activation after it."""
        act, name = self.act(op), f"{op.opcode.lower()}_{op.index}{suffix}"
        y = self.out(op, layout)
        if act == "none":
            self.g.add(name, kind, x, y, params)
        else:
            mid = self.g.add(name, kind, x, self.g.fresh("#"), params)
            self.g.add(f"{name}_act", "act", mid, y, act=act)

    def elementwise(self, op):
        a, b = op.inputs[0], op.inputs[1]
        sa, sb = self.sample_shape(a, op), self.sample_shape(b, op)
        if sa != sb:
            self.fail(op, f"operands of shapes {self.tensor(a).shape} and "
                          f"{self.tensor(b).shape}: gaba's {op.opcode} takes equal shapes")
        layout = self.layout.get(a)
        if layout != self.layout.get(b):
            self.fail(op, "operands in different layouts")
        y = self.out(op, layout)
        self.g.add(f"{op.opcode.lower()}_{op.index}", op.opcode.lower(),
                   (self.src(op, 0), self.src(op, 1)), y, act=self.act(op))

    def reshape(self, op):
        o = op.outputs[0]
        shape = self.sample_shape(o, op)
        x = self.plain(op)
        name = f"{op.opcode.lower()}_{op.index}"
        if len(shape) == 3:  # (1, H, W, C) out: held as (C, H, W)
            h, w, c = shape
            flat = self.g.add(name, "reshape", x, self.g.fresh("#"), (2, h * w, c))
            y = self.to_chw(flat, h, w, c, name)
            self.name[o], self.layout[o] = y, "chw"
            return
        if len(shape) > 4:
            self.fail(op, f"output rank {len(shape) + 1} is more than gaba's 4 axes per sample")
        self.g.add(name, "reshape", x, self.out(op, "plain"), (len(shape),) + shape)

    def softmax(self, op):
        beta = op.options.get("beta", 1.0)
        if beta != 1.0:
            self.fail(op, f"beta {beta} is not supported (only 1.0)")
        if self.layout[op.inputs[0]] == "chw":  # gaba's last axis there is W, not C
            self.fail(op, "softmax over the channels of a (1, H, W, C) tensor is not supported "
                          "(over a (1, N) one it is)")
        self.g.add(f"softmax_{op.index}", "softmax", self.src(op), self.out(op, "plain"))

    def activation(self, op):
        layout = self.layout[op.inputs[0]]
        self.g.add(f"{op.opcode.lower()}_{op.index}", "act", self.src(op),
                   self.out(op, layout), act=_ELEMENTWISE[op.opcode])

    def concatenation(self, op):
        axis = op.options.get("axis", 0)
        i = op.inputs[0]
        rank = len(self.tensor(i).shape)
        if axis < 0:
            axis += rank
        layouts = {self.layout.get(k) for k in op.inputs}
        chw = layouts == {"chw"} and axis == 3
        if not (chw or (layouts == {"plain"} and rank == 2 and axis == 1)):
            self.fail(op, f"concatenation on axis {axis} of rank {rank} is not supported "
                          "(the channels of (1, H, W, C) tensors, or axis 1 of (1, N))")
        if not 2 <= len(op.inputs) <= 4:
            self.fail(op, f"{len(op.inputs)} inputs; gaba concatenates 2 to 4")
        xs = tuple(self.src(op, k) for k in range(len(op.inputs)))
        self.then_act(op, "concat", xs, (), "chw" if chw else "plain")

    def mean(self, op):
        t = self.tensor(op.inputs[1])
        if t.data is None or t.dtype.kind != "i":
            self.fail(op, "its axes must be a constant integer tensor")
        axes = t.data.astype(np.int64).ravel().tolist()
        if self.layout.get(op.inputs[0]) != "chw" or sorted(a % 4 for a in axes) != [1, 2]:
            self.fail(op, f"mean over axes {axes}: gaba takes the spatial mean (axes 1 and 2) "
                          "of a (1, H, W, C) tensor")
        c = self.gaba_shape(op.inputs[0])[0]
        keep = op.options.get("keep_dims", False)
        name = f"mean_{op.index}"
        if keep:
            mid = self.g.add(name, "global_avgpool", self.src(op), self.g.fresh("#"))
            self.g.add(f"{name}_shape", "reshape", mid, self.out(op, "chw"), (3, c, 1, 1))
        else:
            self.g.add(name, "global_avgpool", self.src(op), self.out(op, "plain"))

    def pad(self, op):
        """Zero padding of H and W, folded into the convolutions that read it (an int8
        PAD pads with the zero point, as gaba's int8 convs do)."""
        i = op.inputs[0]
        t = self.tensor(op.inputs[1])
        if self.layout.get(i) != "chw" or t.data is None or t.data.shape != (4, 2):
            self.fail(op, "gaba folds a PAD of a (1, H, W, C) tensor by a constant (4, 2) "
                          "paddings tensor")
        pads = t.data.astype(np.int64)
        if pads[0].any() or pads[3].any() or (pads < 0).any() or (pads > 65535).any():
            self.fail(op, f"paddings {pads.tolist()}: gaba folds zero padding of H and W only")
        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            self.fail(op, "PADV2's constant value is not supported")
        if i in self.padded:
            self.fail(op, "a PAD of a PAD is not supported")
        o = op.outputs[0]
        self.name[o], self.layout[o] = self.src(op), "chw"
        self.padded[o] = (int(pads[1, 0]), int(pads[1, 1]), int(pads[2, 0]), int(pads[2, 1]))

    def resize(self, op):
        """Nearest or bilinear upsampling by integer factors (gaba's upsample)."""
        o = op.options
        i, out = op.inputs[0], op.outputs[0]
        if self.layout.get(i) != "chw":
            self.fail(op, "its input must be a (1, H, W, C) tensor")
        _, h, w = self.gaba_shape(i)
        ho, wo = (self.sample_shape(out, op) + (0, 0))[:2]
        bilinear = op.opcode == "RESIZE_BILINEAR"
        if o.get("align_corners", False) or (bilinear and not o.get("half_pixel_centers", False)):
            self.fail(op, "gaba resizes with half-pixel centres (bilinear) or by repetition "
                          "(nearest), not align_corners=True or bilinear without half-pixel "
                          "centres")
        if ho % h or wo % w or ho < h or wo < w:
            self.fail(op, f"{h}x{w} -> {ho}x{wo} is not an upsampling by integer factors")
        self.g.add(f"{op.opcode.lower()}_{op.index}", "upsample", self.src(op),
                   self.out(op, "chw"), (ho // h, wo // w, 1 if bilinear else 0))

    HANDLERS = {
        "CONV_2D": lambda self, op: self.conv(op, False),
        "DEPTHWISE_CONV_2D": lambda self, op: self.conv(op, True),
        "FULLY_CONNECTED": fully_connected,
        "AVERAGE_POOL_2D": pool,
        "MAX_POOL_2D": pool,
        "ADD": elementwise,
        "SUB": elementwise,
        "MUL": elementwise,
        "RESHAPE": reshape,
        "SQUEEZE": reshape,
        "SOFTMAX": softmax,
        "CONCATENATION": concatenation,
        "MEAN": mean,
        "PAD": pad,
        "RESIZE_NEAREST_NEIGHBOR": resize,
        "RESIZE_BILINEAR": resize,
    }
    HANDLERS.update(dict.fromkeys(_ELEMENTWISE, activation))

    # ---- the whole graph -------------------------------------------------------------

    def run(self, threads):
        f = self.f
        if f.n_subgraphs != 1:
            raise ModelImportError(f"{FUNC}: {self.where}: {f.n_subgraphs} subgraphs; gaba "
                                   "imports models of one (no control flow)")
        int8 = [self.tensor(i).dtype == np.int8 for i in f.inputs + f.outputs]
        if any(int8) and not all(int8):
            raise ModelImportError(f"{FUNC}: {self.where}: inputs and outputs mix int8 and "
                                   "other types; gaba imports all-float32 or all-int8 edges")
        for k, i in enumerate(f.inputs):
            t = self.tensor(i)
            if t.dtype not in (np.float32, np.int8) or (t.dtype == np.int8 and t.quant is None):
                raise ModelImportError(f"{FUNC}: {self.where}: input {k} ({t.name!r}) is "
                                       f"{t.dtype}; gaba imports float32 and quantized int8 "
                                       "inputs")
            shape = self.sample_shape(i)
            name = io_name(t.name, k, "input")
            self.g.add_input(name, shape)
            if len(shape) == 3:
                h, w, c = shape
                self.name[i], self.layout[i] = self.to_chw(name, h, w, c, "input_nchw"), "chw"
            else:
                self.name[i], self.layout[i] = name, "plain"
        for op in f.operators:
            handler = self.HANDLERS.get(op.opcode)
            if handler is None:
                raise ModelImportError(
                    f"{FUNC}: {self.where}: operator {op.index} is {op.opcode}, which gaba "
                    f"does not import; supported: {', '.join(sorted(self.HANDLERS))}")
            need = 2 if op.opcode in _TWO_INPUTS else 1
            if len(op.outputs) != 1 or len(op.inputs) < need or min(op.inputs[:need]) < 0:
                self.fail(op, f"{len(op.inputs)} inputs and {len(op.outputs)} outputs; gaba "
                              f"maps it with {need} input(s) present and one output")
            handler(self, op)
        outputs = []
        for k, i in enumerate(f.outputs):
            if i in self.padded:
                raise ModelImportError(f"{FUNC}: {self.where}: output {k} comes from a PAD, "
                                       "which gaba folds into a following convolution")
            if i not in self.name:
                raise ModelImportError(f"{FUNC}: {self.where}: output {k} (tensor {i}) is "
                                       "not computed by any operator")
            name = io_name(self.tensor(i).name, k, "output")
            if self.layout[i] == "chw":  # back to the file's (H, W, C)
                c, h, w = self.gaba_shape(i)
                x = self.to_hwc(self.name[i], c, h, w, "output_nhwc")
                self.g.add(f"{name}_nhwc", "reshape", x, name, (3, h, w, c))
            outputs.append(name)
        self.outputs = outputs
        base = os.path.basename(self.where.strip("'\""))
        model = self.g.build(os.path.splitext(base)[0] or "tflite", "imported",
                             f"imported from {base}", outputs, threads)
        self.check_shapes(model)
        return self.quantize(model, threads) if all(int8) else model

    def quantize(self, model, threads):
        """The int8 model on the file's own parameters: every int8 tensor's scale and
        zero point and the weights' scales, no calibration."""
        params = {}
        for i, name in self.name.items():
            t = self.tensor(i)
            if t.dtype != np.int8:
                raise ModelImportError(f"{FUNC}: {self.where}: tensor {i} ({t.name!r}) is "
                                       f"{t.dtype} inside an int8 model")
            if t.quant is None or t.quant.scale.size != 1:
                raise ModelImportError(f"{FUNC}: {self.where}: tensor {i} ({t.name!r}) needs "
                                       "one scale and zero point")
            q = (float(t.quant.scale[0]), int(t.quant.zero_point[0]))
            if params.setdefault(name, q) != q:  # a PAD's output is its input's tensor here
                raise ModelImportError(f"{FUNC}: {self.where}: tensor {i} ({t.name!r}) has "
                                       f"parameters {q}, its PAD's input {params[name]}")
        for k, i in enumerate(self.f.inputs):  # the input as fed, before any layout change
            params[self.g.inputs[k][0]] = params[self.name[i]]
        for k, i in enumerate(self.f.outputs):
            params[self.outputs[k]] = params[self.name[i]]
        return quantize_given(model, params, self.w_scale, "double", threads, FUNC)

    def check_shapes(self, model):
        """Each operator's output shape as gaba inferred it against the file's."""
        shapes = {la["output"]: tuple(la["shape"]) for la in model.layers}
        for i, name in self.name.items():
            if name in shapes and i not in self.padded:
                want = self.gaba_shape(i) if self.layout[i] == "chw" else self.sample_shape(i)
                if shapes[name] != tuple(want):
                    raise ModelImportError(
                        f"{FUNC}: {self.where}: tensor {i} ({self.tensor(i).name!r}) has "
                        f"shape {self.tensor(i).shape} in the file, gaba computes {shapes[name]}")


def io_name(name, k, kind):
    """A model input/output name: the file's when it is short and plain, else kind_k."""
    ok = 0 < len(name.encode()) <= 64 and name.replace("_", "").isalnum()
    return name if ok else f"{kind}_{k}"


def from_tflite(path, *, threads=None):
    """Import a float32 ``.tflite`` model (see docs/import.md)."""
    where = repr(os.fspath(path)) if isinstance(path, (str, os.PathLike)) else "<bytes>"
    return _Importer(read_tflite(path), where).run(threads)
