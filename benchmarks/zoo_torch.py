"""The zoo's graphs run in PyTorch: the benchmark's peer and an extra test oracle.

``build(m)`` turns a built gaba zoo model (``m.layers``, ``m.weights``: batch
norms already folded) into a function of torch tensors that computes the same
graph with torch.nn.functional ops, so both run the same network with the same
weights. ``build_train(m)`` is the same network for training (batch norms
unfolded, in training mode), a torch.nn.Module whose parameters start as
``m.parameters``. Both translate each layer with ``run_op``. Imports torch
lazily; callers check that it is installed.
"""
import numpy as np


def _acts():
    import torch
    import torch.nn.functional as F

    return {"none": lambda x: x, "relu": F.relu, "relu6": F.relu6, "sigmoid": torch.sigmoid,
            "tanh": torch.tanh, "hard_swish": F.hardswish}


def _bc(b, a):
    """b broadcast per channel over a (or as it is, when their shapes agree)."""
    if b.shape == a.shape:
        return b
    return b.reshape(b.shape[0], b.shape[1], *([1] * (a.dim() - 2)))


def run_op(name, op, act, p, xs, W):
    """Layer `name` (op, activation and params as gaba's layer table has them) on the
    torch tensors xs; W(key) is the layer's weight tensor "key" ("weight", "w_ih", ...)."""
    import torch
    import torch.nn.functional as F

    acts = _acts()
    if act not in acts:
        raise NotImplementedError(f"zoo_torch: no PyTorch translation of activation {act!r}")
    act = acts[act]
    x = xs[0]
    if op in ("conv2d", "conv1d"):
        co, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, g = p[:12]
        if op == "conv1d":
            x = F.pad(x, (pl, pr))
            return act(F.conv1d(x, W("weight"), W("bias"), sw, 0, dw, g))
        x = F.pad(x, (pl, pr, pt, pb))
        return act(F.conv2d(x, W("weight"), W("bias"), (sh, sw), 0, (dh, dw), g))
    if op == "dense":
        return act(F.linear(x.flatten(1), W("weight"), W("bias")))
    if op == "embedding":
        return F.embedding(x.long(), W("table")).transpose(1, 2)
    if op == "batchnorm":
        return act(x * _bc(W("scale")[None], x) + _bc(W("shift")[None], x))
    if op == "act":
        return act(x)
    if op == "softmax":
        return torch.softmax(x, -1)
    if op in ("maxpool", "avgpool"):
        kh, kw, sh, sw, pt, pl, pb, pr = p[:8]
        if pt or pl or pb or pr:
            raise NotImplementedError("padded pooling")
        if x.dim() == 3:
            f = F.max_pool1d if op == "maxpool" else F.avg_pool1d
            return f(x, kw, sw)
        f = F.max_pool2d if op == "maxpool" else F.avg_pool2d
        return f(x, (kh, kw), (sh, sw))
    if op == "global_avgpool":
        return x.flatten(2).mean(2)
    if op == "global_maxpool":
        return x.flatten(2).amax(2)
    if op == "upsample":
        sh, sw, mode = p[:3]
        if x.dim() == 3:
            return F.interpolate(x, scale_factor=sw, mode="nearest" if mode == 0 else "linear",
                                 align_corners=None if mode == 0 else False)
        return F.interpolate(x, scale_factor=(sh, sw),
                             mode="nearest" if mode == 0 else "bilinear",
                             align_corners=None if mode == 0 else False)
    if op == "concat":
        return torch.cat(xs, 1)
    if op in ("add", "sub", "mul"):
        b = _bc(xs[1], x)
        return act(x + b if op == "add" else (x - b if op == "sub" else x * b))
    if op == "reshape":  # params: rank, then the per-sample shape
        return x.reshape(x.shape[0], *p[1:1 + p[0]])
    if op == "flatten":
        return x.flatten(1)
    if op == "transpose":
        return x.transpose(1, 2)
    if op == "gru":
        hd, seq = p[0], p[1]
        out, h = torch._VF.gru(x.permute(0, 2, 1), x.new_zeros(1, x.shape[0], hd),
                               [W("w_ih"), W("w_hh"), W("b_ih"), W("b_hh")],
                               True, 1, 0.0, False, False, True)
        return out.permute(0, 2, 1) if seq else h[0]
    if op == "attention":
        dk = p[0]
        qkv = torch.einsum("jd,ndl->nlj", W("w_qkv"), x) + W("b_qkv")
        q, k, v = qkv[..., :dk], qkv[..., dk:2 * dk], qkv[..., 2 * dk:]
        a = torch.softmax(q @ k.transpose(1, 2) / dk ** 0.5, -1)
        return torch.einsum("dk,nlk->ndl", W("w_o"), a @ v) + W("b_o")[None, :, None]
    if op == "layer_norm":
        return F.layer_norm(x.movedim(1, -1), x.shape[1:2], W("weight"), W("bias"),
                            _eps(p)).movedim(-1, 1)
    raise NotImplementedError(
        f"zoo_torch: no PyTorch translation of op {op!r} (layer {name!r})")


def _eps(p):
    """A normalization's epsilon: its first param in units of 1e-9, 1e-5 when 0."""
    return p[0] * 1e-9 if p and p[0] else 1e-5


def build(m):
    """m's inference graph (``m.layers``, ``m.weights``) as a function of torch tensors
    returning the list of its outputs."""
    import torch

    w = {k: torch.from_numpy(np.array(v)) for k, v in m.weights.items()}
    layers = m.layers
    input_names = list(m.inputs)
    output_names = list(m.outputs)

    def forward(*inputs):
        env = dict(zip(input_names, inputs))
        for L in layers:
            env[L["output"]] = run_op(L["name"], L["op"], L["act"], L["params"],
                                      [env[n] for n in L["inputs"]],
                                      lambda key, L=L: w[f"{L['share'] or L['name']}.{key}"])
        return [env[n] for n in output_names]

    return forward


def _rows(m):
    """m's definition rows (batch norms as rows of their own), ops and activations by name,
    params padded to 12 as m.layers has them: (name, op, act, params, inputs, output,
    owner of the weights)."""
    from gaba._ext import _gaba

    ops, acts = _gaba.nn_ops(), _gaba.nn_acts()
    graph = getattr(m, "_graph", None)  # a configured or an imported model's own table
    table = graph if graph else _gaba.zoo_table(m.name)
    return [(r[0], ops[r[1]], acts[r[2]], tuple(r[3]) + (0,) * (12 - len(r[3])), tuple(r[4]),
             r[5], r[6] or r[0]) for r in table["layers"]]


def build_train(m):
    """m as a torch.nn.Module for training: its definition rows, every batch norm in
    training mode (batch statistics, running statistics as buffers, momentum 0.1),
    activations where gaba applies them, and one nn.Parameter per key of
    ``m.parameters`` (shared weights once) initialised from it, running statistics
    from ``m.buffers``. ``forward(*inputs)`` returns the list of m's outputs;
    ``gaba_parameters()`` / ``gaba_buffers()`` give the tensors by gaba's keys."""
    import torch
    import torch.nn.functional as F

    rows = _rows(m)
    input_names, output_names = list(m.inputs), list(m.outputs)
    attr = lambda key: key.replace(".", "/")  # module attribute names cannot hold a dot

    class TrainNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.param_keys, self.buffer_keys = list(m.parameters), list(m.buffers)
            for key, v in m.parameters.items():
                self.register_parameter(attr(key), torch.nn.Parameter(torch.tensor(v)))
            for key, v in m.buffers.items():
                self.register_buffer(attr(key), torch.tensor(v))

        def gaba_parameters(self):
            return {key: getattr(self, attr(key)) for key in self.param_keys}

        def gaba_buffers(self):
            return {key: getattr(self, attr(key)) for key in self.buffer_keys}

        def forward(self, *inputs):
            env = dict(zip(input_names, inputs))
            for name, op, act, p, ins, out, owner in rows:
                xs = [env[n] for n in ins]
                W = lambda key, owner=owner: getattr(self, attr(f"{owner}.{key}"))
                if op == "batchnorm":
                    x = F.batch_norm(xs[0], W("running_mean"), W("running_var"), W("weight"),
                                     W("bias"), self.training, 0.1, _eps(p))
                    env[out] = run_op(name, "act", act, p, [x], W)
                else:
                    env[out] = run_op(name, op, act, p, xs, W)
            return [env[n] for n in output_names]

    return TrainNet()
