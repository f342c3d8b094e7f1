"""Every op of the layer library at the zoo's own shapes, float32 and int8, vs PyTorch.

One row per op and kernel kind (conv2d: general, conv_pw (pointwise), dwconv
(depthwise); an activation by its function; upsampling by mode), at the
largest layer of that kind in the zoo (by MACs, else by input size), named
model/layer; batch 1. Float32 layers run through gaba._nn.layer with the layer's own weights; int8
rows run the node of the model quantized as ``Model.quantize`` does
(requantization "double"), through ``_gaba.zoo_qnode_eval``. Each row times,
interleaved in blocks (bench_zoo.time_runs), gaba's fast kernel, gaba's
reference kernel (the *_ref.c oracle) and the same layer in PyTorch
(benchmarks/zoo_torch.py, float32: the op a user would otherwise run, int8
rows included), with torch.set_num_threads at gaba's thread count. Ratios are
medians over medians. Batch norm, which the zoo folds into its convs, is
timed alone at the output of a conv that folded one.
"""
import argparse
import contextlib
import types

import numpy as np

from gaba.benchmarks import harness
from gaba.benchmarks.bench_zoo import make_inputs, time_runs

COLUMNS = [("op", "op", "{}"), ("kind", "kind", "{}"), ("dtype", "dtype", "{}"),
           ("layer", "model/layer", "{}"), ("in_shape", "input", "{}"),
           ("mmacs", "MMACs", "{:.3f}"), ("fast_us", "fast us", "{:.1f}"),
           ("ref_us", "ref us", "{:.1f}"), ("torch_us", "torch us", "{:.1f}"),
           ("ref_ratio", "ref/fast", "{:.1f}x"), ("torch_ratio", "torch/fast", "{:.2f}x")]


def kind(op, act, params, in_shape):
    """The kernel family a layer runs: op name, refined where one op has several."""
    if op in ("conv2d", "conv1d"):
        co, kh, kw, sh, sw = params[:5]
        if params[11] == in_shape[0] == co and co > 1:
            return "dwconv"
        if kh == kw == sh == sw == 1 and not any(params[5:9]) and params[11] == 1:
            return "conv_pw"
        return "general"
    if op == "act":
        return act
    if op == "upsample":
        return ("nearest", "bilinear")[params[2]]
    return op


def _pick(cases):
    """The largest case of each (op, kind, dtype): most MACs, then largest input."""
    best = {}
    for c in cases:
        key = (c["op"], c["kind"], c["dtype"])
        if key not in best or (c["macs"], c["size"]) > (best[key]["macs"], best[key]["size"]):
            best[key] = c
    from gaba._ext import _gaba

    order = _gaba.nn_ops()
    return sorted(best.values(), key=lambda c: (order.index(c["op"]), c["kind"], c["dtype"]))


def _alone(name, op, act, params, n_in, shape=()):
    """A layer of no model (zoo_torch's view of one): the batch norm the zoo folds, an
    activation the int8 graph splits off its layer."""
    return dict(name=name, share="", op=op, act=act, params=params, shape=shape,
                inputs=[f"x{i}" for i in range(n_in)], output="y")


def _weights(m, L):
    prefix = f"{L['share'] or L['name']}."
    return {k: v for k, v in m.weights.items() if k.startswith(prefix)}


def cases(names):
    """Every float32 layer and int8 node of the zoo's models `names` as a case to time;
    "peer" is the layer and its weights as zoo_torch runs it (None: no float twin)."""
    from gaba import zoo
    from gaba._ext import _gaba

    out = []
    for name in names:
        m = zoo.create(name, seed=0)
        shapes = {k: (tuple(v["shape"]), np.dtype(v["dtype"])) for k, v in m.inputs.items()}
        for L in m.layers:
            shapes[L["output"]] = (tuple(L["shape"]), np.dtype(np.float32))
        for L in m.layers:
            ins = [shapes[n] for n in L["inputs"]]
            w = _weights(m, L)
            base = dict(layer=f"{name}/{L['name']}", dtype="float32", in_shapes=ins,
                        size=int(np.prod(ins[0][0])))
            out.append(dict(base, op=L["op"], act=L["act"], params=L["params"], macs=L["macs"],
                            weights=list(w.values()), peer=(L, w),
                            kind=kind(L["op"], L["act"], L["params"], ins[0][0])))
            if L["folded_bn"]:
                c = L["shape"][0]
                bn = {"bn.scale": np.ones(c, np.float32), "bn.shift": np.zeros(c, np.float32)}
                out.append(dict(base, op="batchnorm", kind="batchnorm", act="none", params=[0],
                                in_shapes=[shapes[L["output"]]], macs=0,
                                size=int(np.prod(L["shape"])), weights=list(bn.values()),
                                peer=(_alone("bn", "batchnorm", "none", [0], 1), bn)))
        qm = m.quantize(make_inputs(m, 8, seed=1))
        g = _gaba.zoo_qgraph(qm._cap)
        layers = {L["name"]: L for L in m.layers}
        for index, (lname, nkind, op, act, params, nins, nout, w) in enumerate(g["nodes"]):
            if nkind != "int8":
                continue
            op, act = _gaba.nn_ops()[op], _gaba.nn_acts()[act]
            tensors = [g["tensors"][i] for i in (*nins, nout)]
            ins = [(tuple(t[2]), np.dtype(t[1])) for t in tensors[:-1]]
            L = layers.get(lname)
            if L is not None and L["op"] == op:
                peer, macs = (L, _weights(m, L)), L["macs"]
            else:  # an activation split off its layer
                peer, macs = (_alone(lname, op, act, params, len(ins)), {}), 0
            out.append(dict(layer=f"{name}/{lname}", qm=qm, index=index, op=op, act=act,
                            dtype="int8", in_shapes=ins, params=params, macs=macs,
                            weights=list(w.values()), in_q=[tuple(t[3:5]) for t in tensors[:-1]],
                            out_q=tuple(tensors[-1][3:5]), peer=peer,
                            kind=kind(op, act, params, ins[0][0]), size=int(np.prod(ins[0][0]))))
    return out


def _torch_fn(torch, case, xs):
    """The case's layer in PyTorch on xs (float32), or None where zoo_torch has no translation."""
    from gaba.benchmarks import zoo_torch

    L, weights = case["peer"]
    fwd = zoo_torch.build(types.SimpleNamespace(layers=[L], inputs=list(L["inputs"]),
                                                outputs=[L["output"]], weights=weights))
    txs = [torch.from_numpy(x.astype(np.float32) if x.dtype == np.int8 else x) for x in xs]
    txs = [t[None] for t in txs] if case["dtype"] == "int8" else txs  # qnode inputs: no batch
    try:
        with torch.inference_mode():
            fwd(*txs)
    except NotImplementedError:  # padded pooling
        return None
    return lambda: fwd(*txs)


def _inputs(case, rng):
    """A case's inputs: one sample, with a batch axis for float32 layers (_nn), without
    for int8 nodes (zoo_qnode_eval); int32 ids below the embedding's vocabulary."""
    xs = []
    for shape, dtype in case["in_shapes"]:
        shape = (1,) + shape if case["dtype"] == "float32" else shape
        if dtype == np.int8:
            xs.append(rng.integers(-128, 128, shape).astype(np.int8))
        elif dtype == np.int32:
            xs.append(rng.integers(0, case["params"][1], shape).astype(np.int32))
        else:
            xs.append(rng.standard_normal(shape).astype(np.float32))
    return xs


def measure(case, warmup, runs, max_seconds, torch):
    """One row: the case's fast, reference and PyTorch times (p50, microseconds)."""
    from gaba import _nn
    from gaba._ext import _gaba

    rng = np.random.default_rng(0)
    xs = _inputs(case, rng)
    if case["op"] == "embedding" and case["dtype"] == "int8":  # int32 ids: not a qnode input
        fns = [lambda r=r: _nn.layer("embedding", [xs[0][None]], case["weights"], case["params"],
                                     dtype="int8", in_q=case["in_q"], out_q=case["out_q"],
                                     reference=r) for r in (False, True)]
    elif case["dtype"] == "int8":
        cap, index = case["qm"]._cap, case["index"]
        fns = [lambda: _gaba.zoo_qnode_eval(cap, index, xs, False),
               lambda: _gaba.zoo_qnode_eval(cap, index, xs, True)]
    else:
        fns = [lambda r=r: _nn.layer(case["op"], xs, case["weights"], case["params"],
                                     activation=case["act"], reference=r) for r in (False, True)]
    tfn = _torch_fn(torch, case, xs) if torch is not None else None
    with torch.inference_mode() if torch is not None else contextlib.nullcontext():
        times = time_runs(fns + ([tfn] if tfn else []), warmup, runs, max_seconds)
    p50 = [1e6 * harness.percentile(sorted(t), 50) for t in times]
    shape = "x".join(map(str, case["in_shapes"][0][0]))
    row = {"op": case["op"], "kind": case["kind"], "dtype": case["dtype"],
           "layer": case["layer"], "in_shape": shape, "mmacs": case["macs"] / 1e6,
           "fast_us": p50[0], "ref_us": p50[1], "torch_us": p50[2] if tfn else None,
           "ref_ratio": p50[1] / p50[0], "torch_ratio": p50[2] / p50[0] if tfn else None,
           "runs": len(times[0])}
    return row


def main(argv=None):
    import gaba
    from gaba import zoo
    from gaba._ext import _gaba

    parser = argparse.ArgumentParser(prog="gaba bench nn", description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append",
                        help="take the shapes from this model only (repeatable; default: all)")
    parser.add_argument("--op", action="append", help="only this op (repeatable)")
    parser.add_argument("--dtype", choices=["float32", "int8"], action="append",
                        help="only this dtype (default: both)")
    parser.add_argument("--threads", type=int, default=1, help="threads (default 1)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--runs", type=int, default=100, help="timed calls per kernel")
    parser.add_argument("--max-seconds", type=float, default=1.0,
                        help="stop timing a row after this long (>= 25 calls)")
    parser.add_argument("--quick", action="store_true", help="3 timed calls a kernel (tests)")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch peer")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    names = args.model or zoo.names()
    unknown = [n for n in names if n not in zoo.names()]
    if unknown:
        parser.error(f"unknown model(s): {', '.join(unknown)}")
    unknown = [o for o in args.op or () if o not in _gaba.nn_ops()]
    if unknown:
        parser.error(f"unknown op(s): {', '.join(unknown)}; known: {', '.join(_gaba.nn_ops())}")
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            pass
    before = gaba.get_num_threads()
    gaba.set_num_threads(args.threads)
    if torch is not None:
        torch_before = torch.get_num_threads()
        torch.set_num_threads(gaba.get_num_threads())
    warmup, runs = (1, 3) if args.quick else (args.warmup, args.runs)
    try:
        picked = [c for c in _pick(cases(names)) if (not args.op or c["op"] in args.op)
                  and (not args.dtype or c["dtype"] in args.dtype)]
        rows = [measure(c, warmup, runs, args.max_seconds, torch) for c in picked]
    finally:
        gaba.set_num_threads(before)
        if torch is not None:
            torch.set_num_threads(torch_before)
    print(harness.format_table(rows, COLUMNS))
    print(f"\nbatch 1, {args.threads} thread(s); p50 of interleaved calls; 'ref/fast' = the "
          "reference kernel's p50 / the fast one's; 'torch/fast' = PyTorch's float32 layer / "
          "gaba's fast kernel (> 1: gaba faster)")
    if args.json:
        harness.write_json(args.json, "nn", rows, {"threads": args.threads})
    return 0


if __name__ == "__main__":
    main()
