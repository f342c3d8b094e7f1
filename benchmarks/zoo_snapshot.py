"""Every zoo model's outputs on fixed inputs, saved and compared bit for bit.

A change that must not move any result (a refactor, a new file layout) is
checked by saving the outputs before it and comparing after it, on the same
machine, at every ISA level it has:

    python -m gaba.benchmarks.zoo_snapshot save before.npz
    ... change, rebuild ...
    python -m gaba.benchmarks.zoo_snapshot compare before.npz

Each model runs float32 (fast kernels and the reference kernels) and int8
(quantized on a fixed calibration batch, double and float32 requantization,
fast and reference kernels), at batch 3, in a subprocess per ISA level.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

BATCH = 3
REQUANT = ("double", "fp32")


def add(out, key, y):
    for k, v in (y.items() if isinstance(y, dict) else [("", y)]):
        out[f"{key}/{k}"] = v


def outputs_at_this_level():
    """{key: array} for every model, dtype and kernel set at the current ISA level."""
    import gaba
    from gaba.benchmarks.bench_zoo import make_inputs

    out = {}
    for name in gaba.zoo.names():
        m = gaba.zoo.create(name, seed=7)
        x = make_inputs(m, BATCH, seed=11)
        calibration = make_inputs(m, 4, seed=13)
        for reference in (False, True):
            m._use_reference(reference)
            add(out, f"{name}/f32/ref={reference}", m.forward(**x))
        m._use_reference(False)
        for requant in REQUANT:
            qm = m.quantize(calibration, requant=requant)
            for reference in (False, True):
                qm._use_reference(reference)
                add(out, f"{name}/s8-{requant}/ref={reference}", qm.forward(**x))
    return out


def levels():
    import gaba

    best = gaba.info()["isa_best"]
    order = ["ref", "avx2", "avx512"]
    return order[: order.index(best) + 1]


def child(path):
    np.savez_compressed(path, **outputs_at_this_level())


def collect(tmp):
    """Runs every ISA level in its own process; returns {f"{level}:{key}": array}."""
    merged = {}
    for level in levels():
        path = os.path.join(tmp, f"{level}.npz")
        env = dict(os.environ, GABA_ISA=level)
        subprocess.run([sys.executable, "-m", "gaba.benchmarks.zoo_snapshot", "_child", path],
                       env=env, check=True)
        merged.update({f"{level}:{k}": v for k, v in np.load(path).items()})
    return merged


def main(argv=None):
    p = argparse.ArgumentParser(prog="gaba.benchmarks.zoo_snapshot", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=["save", "compare", "_child"])
    p.add_argument("path")
    a = p.parse_args(argv)
    if a.action == "_child":
        return child(a.path)
    with tempfile.TemporaryDirectory() as tmp:
        now = collect(tmp)
    if a.action == "save":
        np.savez_compressed(a.path, **now)
        print(json.dumps({"saved": a.path, "arrays": len(now), "levels": levels()}))
        return 0
    before = np.load(a.path)
    missing = sorted(set(before.files) - set(now))
    differ = [k for k in before.files if k in now and
              (before[k].dtype != now[k].dtype or before[k].shape != now[k].shape or
               before[k].tobytes() != now[k].tobytes())]
    print(json.dumps({"compared": len(before.files), "missing": missing, "differ": differ,
                      "new": sorted(set(now) - set(before.files))}, indent=1))
    return 1 if missing or differ else 0


if __name__ == "__main__":
    sys.exit(main())
