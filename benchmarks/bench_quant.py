"""Fake quantization and INT4 quantize/dequantize against NumPy, PyTorch and a memory copy.

Every row times, in the same run and on one thread: gaba; the same formula
written in NumPy (preallocated buffers, so NumPy pays no allocation; for LSQ
the oracle gaba.ref.quant.lsq_backward); PyTorch when installed
(``fake_quantize_per_tensor_affine`` / ``_per_channel_affine``,
``quantize_per_tensor`` to ``quint4x2`` and ``dequantize``, the
``_fake_quantize_learnable_per_tensor_affine_backward`` op); and ``np.copyto``
of the input (a plain memory copy: the speed limit for an op that reads and
writes each element once). Scale and zero point are given, as PyTorch's ops
take them. Ratios are p50 over p50.
"""
import argparse

import numpy as np

from gaba.benchmarks import harness

F32 = np.float32


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _numpy_fake_quant(x, inv, scale, zp, qmin, qmax, buf, out):
    np.multiply(x, inv, out=buf)
    np.rint(buf, out=buf)
    buf += zp
    np.clip(buf, qmin, qmax, out=buf)
    buf -= zp
    np.multiply(buf, scale, out=out)


def _numpy_quantize_int4(x, inv, zp, buf, ints):
    np.multiply(x, inv, out=buf)
    np.rint(buf, out=buf)
    buf += zp
    np.clip(buf, -8, 7, out=buf)
    np.copyto(ints, buf, casting="unsafe")
    ints &= 0x0F
    return ints[0::2] | (ints[1::2] << 4)


def _numpy_dequantize_int4(packed, scale, zp, out):
    lo = (packed & 0x0F).astype(np.int8)
    hi = (packed >> 4).astype(np.int8)
    q = np.empty(out.size, np.int8)
    q[0::2], q[1::2] = lo, hi
    q ^= 8
    q -= 8
    np.subtract(q, zp, out=out.reshape(-1), dtype=F32)
    out *= scale


def _case(name, shape, axis, op, repeats, torch):
    import gaba

    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(F32)
    bits = 4 if op in ("quantize_int4", "dequantize_int4") else 8
    scale, zp = gaba.quant_params(x, bits, True, axis=axis)
    qmin, qmax = (-8, 7) if bits == 4 else (-128, 127)
    out = np.empty_like(x)
    buf = np.empty_like(x)
    copy_dst = np.empty_like(x)
    if axis is None:
        s_np, inv_np = F32(scale), F32(1) / F32(scale)
    else:
        bshape = [1] * x.ndim
        bshape[axis] = x.shape[axis]
        s_np = np.asarray(scale, F32).reshape(bshape)
        inv_np = (F32(1) / s_np).astype(F32)
    zp_np = F32(0)

    fns = {"copy": lambda: np.copyto(copy_dst, x)}
    if op == "fake_quantize":
        fns["gaba"] = lambda: gaba.fake_quantize(x, bits, True, axis=axis, scale=scale, out=out)
        fns["numpy"] = lambda: _numpy_fake_quant(x, inv_np, s_np, zp_np, qmin, qmax, buf, out)
        if torch is not None:
            tx = torch.from_numpy(x)
            if axis is None:
                fns["torch"] = lambda: torch.fake_quantize_per_tensor_affine(tx, scale, 0, qmin,
                                                                             qmax)
            else:
                ts = torch.from_numpy(np.asarray(scale, F32))
                tz = torch.zeros(x.shape[axis], dtype=torch.int32)
                fns["torch"] = lambda: torch.fake_quantize_per_channel_affine(tx, ts, tz, axis,
                                                                              qmin, qmax)
    elif op == "quantize_int4":
        ints = np.empty(x.size, np.int8)
        flat, fbuf = x.reshape(-1), buf.reshape(-1)
        fns["gaba"] = lambda: gaba.quantize(x, 4, True, scale=scale)
        fns["numpy"] = lambda: _numpy_quantize_int4(flat, inv_np, zp_np, fbuf, ints)
        if torch is not None:
            tx = torch.from_numpy(x)
            fns["torch"] = lambda: torch.quantize_per_tensor(tx, scale, 0, torch.quint4x2)
    elif op == "lsq_backward":
        from gaba.ref import quant as ref

        grad = rng.standard_normal(shape).astype(F32)
        fns["gaba"] = lambda: gaba.fake_quantize_lsq_backward(grad, x, scale, 0.0, 8)
        fns["numpy"] = lambda: ref.lsq_backward(grad, x, np.float32(scale), 0.0, qmin, qmax)
        if torch is not None:
            tg, tx = torch.from_numpy(grad), torch.from_numpy(x)
            ts, tz = torch.tensor([scale]), torch.tensor([0.0])
            backward = torch.ops.aten._fake_quantize_learnable_per_tensor_affine_backward
            fns["torch"] = lambda: backward(tg, tx, ts, tz, qmin, qmax, 1.0)
    else:  # dequantize_int4
        q = gaba.quantize(x, 4, True, scale=scale)
        fns["gaba"] = lambda: gaba.dequantize(q, out=out)
        fns["numpy"] = lambda: _numpy_dequantize_int4(q.data, s_np, zp_np, out)
        if torch is not None:
            tq = torch.quantize_per_tensor(torch.from_numpy(x), scale, 0, torch.quint4x2)
            fns["torch"] = lambda: tq.dequantize()

    # Each peer in its own block (no interleaving), gaba first and last to see drift.
    times = {}
    for key in ["gaba"] + [k for k in fns if k != "gaba"]:
        times[key] = harness.measure(fns[key], repeats=repeats)["p50"]
    times["gaba"] = min(times["gaba"], harness.measure(fns["gaba"], repeats=repeats)["p50"])
    row = {"op": name if axis is None else f"{name} axis={axis}",
           "shape": "x".join(map(str, shape)), "elements": int(x.size),
           "gaba_us": 1e6 * times["gaba"], "numpy_us": 1e6 * times["numpy"],
           "torch_us": 1e6 * times["torch"] if "torch" in times else None,
           "copy_us": 1e6 * times["copy"]}
    row["vs_numpy"] = times["numpy"] / times["gaba"]
    row["vs_torch"] = times["torch"] / times["gaba"] if "torch" in times else None
    row["of_copy"] = times["gaba"] / times["copy"]
    return row


CASES = [  # (name, shape, axis, op)
    ("fake quant per-tensor", (256, 256), None, "fake_quantize"),
    ("fake quant per-tensor", (1024, 1024), None, "fake_quantize"),
    ("fake quant per-tensor", (4096, 4096), None, "fake_quantize"),
    ("fake quant per-channel", (64, 3, 3, 3), 0, "fake_quantize"),
    ("fake quant per-channel", (1024, 1024), 0, "fake_quantize"),
    ("fake quant per-channel", (1024, 1024), 1, "fake_quantize"),
    ("quantize INT4", (1024, 1024), None, "quantize_int4"),
    ("dequantize INT4", (1024, 1024), None, "dequantize_int4"),
    ("LSQ backward per-tensor", (1024, 1024), None, "lsq_backward"),
]


def rows(quick=False):
    """Measure every case; returns the rows (dicts) that main() prints.

    quick=True takes fewer samples and skips the 16M-element case.
    """
    import gaba

    torch = _torch()
    torch_before = torch.get_num_threads() if torch is not None else None
    before = gaba.get_num_threads()
    gaba.set_num_threads(1)
    if torch is not None:
        torch.set_num_threads(1)
    try:
        return [_case(name, shape, axis, op, 7 if quick else 21, torch)
                for name, shape, axis, op in CASES
                if not (quick and np.prod(shape) > (1 << 22))]
    finally:
        gaba.set_num_threads(before)
        if torch is not None:
            torch.set_num_threads(torch_before)


COLUMNS = [("op", "op", "{}"), ("shape", "shape", "{}"), ("gaba_us", "gaba us", "{:.1f}"),
           ("numpy_us", "numpy us", "{:.1f}"), ("torch_us", "torch us", "{:.1f}"),
           ("copy_us", "copy us", "{:.1f}"), ("vs_numpy", "x numpy", "{:.1f}"),
           ("vs_torch", "x torch", "{:.1f}"), ("of_copy", "gaba/copy", "{:.2f}")]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="gaba bench quant", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples, no 16M case")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    result = rows(args.quick)
    print(harness.format_table(result, COLUMNS))
    print("\none thread; 'x numpy'/'x torch' = peer p50 / gaba p50; 'gaba/copy' = gaba p50 / "
          "np.copyto p50 (1.0 = memory speed)")
    target = next((r for r in result if r["op"] == "fake quant per-tensor"
                   and r["elements"] == 1 << 20), None)
    if target:
        torch_part = (f", {target['vs_torch']:.1f}x PyTorch" if target["vs_torch"] else
                      ", PyTorch not installed")
        print(f"targets at 1M elements (>= 20x NumPy and PyTorch, <= 2x a copy): "
              f"{target['vs_numpy']:.1f}x NumPy{torch_part}, {target['of_copy']:.2f}x copy time")
    if args.json:
        harness.write_json(args.json, "quant", result)


if __name__ == "__main__":
    main()
