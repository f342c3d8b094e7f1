"""Export of zoo models to ONNX (the optional extra ``onnx``): ``Model.to_onnx(path)``.

Writes the built float32 graph (batch norms folded, the same weights) as a
standard ONNX model, opset 17, with a symbolic batch axis, so ONNX Runtime or
any other runtime computes what gaba computes. Mapping: conv -> Conv (explicit
pads), dense -> Flatten + Gemm, embedding -> Gather + Transpose, pools ->
MaxPool / AveragePool (count_include_pad=0) / ReduceMean / ReduceMax, upsample
-> Resize (nearest: asymmetric + floor; bilinear: half_pixel), per-channel
broadcasts -> Unsqueeze, GRU -> GRU (gates reordered to z, r, h and
linear_before_reset=1, PyTorch's formulation), attention -> MatMul / Softmax.
The int8 QDQ export does not exist yet.
"""
import numpy as np

OPSET = 17


def export(m, path):
    """Write model `m` (a gaba.zoo.Model) to `path` as ONNX; returns the ModelProto."""
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("Model.to_onnx() needs the 'onnx' package "
                          "(pip install gaba[onnx])") from exc

    nodes, inits = [], []
    counter = [0]
    weights = m.weights

    def fresh(stem):
        counter[0] += 1
        return f"{stem}__{counter[0]}"

    def const(name, value, dtype=np.float32):
        inits.append(numpy_helper.from_array(np.asarray(value, dtype), name))
        return name

    def node(op, inputs, outputs=None, **attrs):
        outputs = outputs or [fresh(op.lower())]
        nodes.append(helper.make_node(op, inputs, outputs, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    weight_names = {}

    def W(L, key, transform=None, tag=""):
        owner = L["share"] or L["name"]
        k = f"{owner}.{key}"
        name = k + tag
        if name not in weight_names:
            arr = np.array(weights[k])
            weight_names[name] = const(name, transform(arr) if transform else arr)
        return weight_names[name]

    def act(x, a, out=None):
        if a == "none":
            return node("Identity", [x], [out] if out else None)
        if a == "relu":
            return node("Relu", [x], [out] if out else None)
        if a == "relu6":
            lo = const(fresh("zero"), 0.0)
            hi = const(fresh("six"), 6.0)
            return node("Clip", [x, lo, hi], [out] if out else None)
        ops = {"sigmoid": "Sigmoid", "tanh": "Tanh", "hard_swish": "HardSwish"}
        return node(ops[a], [x], [out] if out else None)

    shapes = {n: tuple(s["shape"]) for n, s in m.inputs.items()}
    for L in m.layers:
        op, p, out = L["op"], L["params"], L["output"]
        xs = list(L["inputs"])
        x = xs[0]
        rank = len(shapes[x]) + 1
        if op in ("conv2d", "conv1d"):
            co, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, g = p
            if op == "conv2d":
                attrs = dict(kernel_shape=[kh, kw], strides=[sh, sw], pads=[pt, pl, pb, pr],
                             dilations=[dh, dw], group=g)
            else:
                attrs = dict(kernel_shape=[kw], strides=[sw], pads=[pl, pr], dilations=[dw],
                             group=g)
            y = node("Conv", [x, W(L, "weight"), W(L, "bias")], **attrs)
            act(y, L["act"], out)
        elif op == "dense":
            f = node("Flatten", [x], axis=1)
            y = node("Gemm", [f, W(L, "weight"), W(L, "bias")], transB=1)
            act(y, L["act"], out)
        elif op == "embedding":
            g = node("Gather", [W(L, "table"), x], axis=0)
            node("Transpose", [g], [out], perm=[0, 2, 1])
        elif op == "batchnorm":
            c = shapes[x][0]
            shape = (c,) + (1,) * (rank - 2)
            s = node("Mul", [x, W(L, "scale", lambda a: a.reshape(shape), "_r")])
            y = node("Add", [s, W(L, "shift", lambda a: a.reshape(shape), "_r")])
            act(y, L["act"], out)
        elif op == "act":
            act(x, L["act"], out)
        elif op == "softmax":
            node("Softmax", [x], [out], axis=-1)
        elif op in ("maxpool", "avgpool"):
            kh, kw, sh, sw, pt, pl, pb, pr = p[:8]
            if rank == 4:
                attrs = dict(kernel_shape=[kh, kw], strides=[sh, sw], pads=[pt, pl, pb, pr])
            else:
                attrs = dict(kernel_shape=[kw], strides=[sw], pads=[pl, pr])
            if op == "avgpool":
                attrs["count_include_pad"] = 0
            node("MaxPool" if op == "maxpool" else "AveragePool", [x], [out], **attrs)
        elif op in ("global_avgpool", "global_maxpool"):
            node("ReduceMean" if op == "global_avgpool" else "ReduceMax", [x], [out],
                 axes=list(range(2, rank)), keepdims=0)
        elif op == "upsample":
            sh, sw, mode = p[:3]
            scales = const(fresh("scales"), [1, 1, sh, sw] if rank == 4 else [1, 1, sw])
            if mode == 0:
                node("Resize", [x, "", scales], [out], mode="nearest",
                     coordinate_transformation_mode="asymmetric", nearest_mode="floor")
            else:
                node("Resize", [x, "", scales], [out], mode="linear",
                     coordinate_transformation_mode="half_pixel")
        elif op == "concat":
            node("Concat", xs, [out], axis=1)
        elif op in ("add", "sub", "mul"):
            b = xs[1]
            if shapes[b] != shapes[x]:
                axes = const(fresh("axes"), list(range(len(shapes[b]) + 1, rank)), np.int64)
                b = node("Unsqueeze", [node("Flatten", [b], axis=1) if len(shapes[b]) > 1 else b,
                                       axes])
            y = node({"add": "Add", "sub": "Sub", "mul": "Mul"}[op], [x, b])
            act(y, L["act"], out)
        elif op in ("reshape", "flatten"):
            shape = const(fresh("shape"), [-1] + list(L["shape"]), np.int64)
            node("Reshape", [x, shape], [out])
        elif op == "transpose":
            node("Transpose", [x], [out], perm=[0, 2, 1])
        elif op == "gru":
            hd, seq = p[0], p[1]

            def zrh(a):  # PyTorch (r, z, n) -> ONNX (z, r, h), with a direction axis
                r, z, n = np.split(a, 3, axis=0)
                return np.concatenate([z, r, n], axis=0)[None]

            w_ih = W(L, "w_ih", zrh, "_onnx")
            w_hh = W(L, "w_hh", zrh, "_onnx")
            owner = L["share"] or L["name"]
            bname = f"{owner}.gru_b_onnx"
            if bname not in weight_names:
                b = np.concatenate([zrh(np.array(weights[f"{owner}.b_ih"]))[0],
                                    zrh(np.array(weights[f"{owner}.b_hh"]))[0]])[None]
                weight_names[bname] = const(bname, b)
            xt = node("Transpose", [x], perm=[2, 0, 1])  # (T, N, F)
            y, yh = node("GRU", [xt, w_ih, w_hh, weight_names[bname]],
                         [fresh("gru_y"), fresh("gru_h")], hidden_size=hd, linear_before_reset=1)
            if seq:
                ax = const(fresh("axes"), [1], np.int64)
                node("Transpose", [node("Squeeze", [y, ax])], [out], perm=[1, 2, 0])
            else:
                ax = const(fresh("axes"), [0], np.int64)
                node("Squeeze", [yh, ax], [out])
        elif op == "attention":
            dk = p[0]
            xt = node("Transpose", [x], perm=[0, 2, 1])  # (N, L, D)
            qkv = node("Add", [node("MatMul", [xt, W(L, "w_qkv", lambda a: a.T.copy(), "_t")]),
                               W(L, "b_qkv")])
            split = const(fresh("split"), [dk, dk, dk], np.int64)
            q, k, v = node("Split", [qkv, split], [fresh("q"), fresh("k"), fresh("v")], axis=-1)
            kt = node("Transpose", [k], perm=[0, 2, 1])
            sc = node("Mul", [node("MatMul", [q, kt]), const(fresh("scale"), 1.0 / np.sqrt(dk))])
            ctx = node("MatMul", [node("Softmax", [sc], axis=-1), v])
            y = node("Add", [node("MatMul", [ctx, W(L, "w_o", lambda a: a.T.copy(), "_t")]),
                             W(L, "b_o")])
            node("Transpose", [y], [out], perm=[0, 2, 1])
        else:  # pragma: no cover - every op of nn.h is mapped above
            raise NotImplementedError(f"to_onnx: op {op!r}")
        shapes[out] = tuple(L["shape"])

    def vi(name, spec):
        dt = TensorProto.INT32 if spec["dtype"] == "int32" else TensorProto.FLOAT
        return helper.make_tensor_value_info(name, dt, ["batch"] + list(spec["shape"]))

    graph = helper.make_graph(nodes, m.name, [vi(n, s) for n, s in m.inputs.items()],
                              [vi(n, s) for n, s in m.outputs.items()], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="gaba.zoo")
    model.ir_version = min(model.ir_version, 8)
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return model
