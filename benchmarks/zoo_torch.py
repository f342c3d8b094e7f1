"""The zoo's graphs run in PyTorch: the benchmark's peer and an extra test oracle.

``build(m)`` turns a built gaba zoo model (``m.layers``, ``m.weights``: batch
norms already folded) into a function of torch tensors that computes the same
graph with torch.nn.functional ops, so both run the same network with the same
weights. Imports torch lazily; callers check that it is installed.
"""
import numpy as np


def build(m):
    import torch
    import torch.nn.functional as F

    acts = {"none": lambda x: x, "relu": F.relu, "relu6": F.relu6, "sigmoid": torch.sigmoid,
            "tanh": torch.tanh, "hard_swish": F.hardswish}
    w = {k: torch.from_numpy(np.array(v)) for k, v in m.weights.items()}
    layers = m.layers
    input_names = list(m.inputs)
    output_names = list(m.outputs)

    def W(layer, key):
        return w[f"{layer['share'] or layer['name']}.{key}"]

    def bc(b, a):  # per-channel broadcast of b over a
        if b.shape == a.shape:
            return b
        return b.reshape(b.shape[0], b.shape[1], *([1] * (a.dim() - 2)))

    def run_layer(L, xs):
        op, p = L["op"], L["params"]
        if L["act"] not in acts:
            raise NotImplementedError(
                f"zoo_torch: no PyTorch translation of activation {L['act']!r}")
        act = acts[L["act"]]
        x = xs[0]
        if op in ("conv2d", "conv1d"):
            co, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, g = p
            if op == "conv1d":
                x = F.pad(x, (pl, pr))
                return act(F.conv1d(x, W(L, "weight"), W(L, "bias"), sw, 0, dw, g))
            x = F.pad(x, (pl, pr, pt, pb))
            return act(F.conv2d(x, W(L, "weight"), W(L, "bias"), (sh, sw), 0, (dh, dw), g))
        if op == "dense":
            return act(F.linear(x.flatten(1), W(L, "weight"), W(L, "bias")))
        if op == "embedding":
            return F.embedding(x.long(), W(L, "table")).transpose(1, 2)
        if op == "batchnorm":
            return act(x * bc(W(L, "scale")[None], x) + bc(W(L, "shift")[None], x))
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
            b = bc(xs[1], x)
            return act(x + b if op == "add" else (x - b if op == "sub" else x * b))
        if op in ("reshape", "flatten"):
            return x.reshape(x.shape[0], *L["shape"])
        if op == "transpose":
            return x.transpose(1, 2)
        if op == "gru":
            hd, seq = p[0], p[1]
            out, h = torch._VF.gru(x.permute(0, 2, 1), x.new_zeros(1, x.shape[0], hd),
                                   [W(L, "w_ih"), W(L, "w_hh"), W(L, "b_ih"), W(L, "b_hh")],
                                   True, 1, 0.0, False, False, True)
            return out.permute(0, 2, 1) if seq else h[0]
        if op == "attention":
            dk = p[0]
            qkv = torch.einsum("jd,ndl->nlj", W(L, "w_qkv"), x) + W(L, "b_qkv")
            q, k, v = qkv[..., :dk], qkv[..., dk:2 * dk], qkv[..., 2 * dk:]
            a = torch.softmax(q @ k.transpose(1, 2) / dk ** 0.5, -1)
            return torch.einsum("dk,nlk->ndl", W(L, "w_o"), a @ v) + W(L, "b_o")[None, :, None]
        if op == "layer_norm":
            eps = p[0] * 1e-9 if p[0] else 1e-5
            return F.layer_norm(x.movedim(1, -1), x.shape[1:2], W(L, "weight"), W(L, "bias"),
                                eps).movedim(-1, 1)
        raise NotImplementedError(
            f"zoo_torch: no PyTorch translation of op {op!r} (layer {L['name']!r})")

    def forward(*inputs):
        env = dict(zip(input_names, inputs))
        for L in layers:
            env[L["output"]] = run_layer(L, [env[n] for n in L["inputs"]])
        return [env[n] for n in output_names]

    return forward
