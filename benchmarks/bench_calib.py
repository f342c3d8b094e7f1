"""int8 output SQNR per calibration method, calibrated on data with outliers.

For each model (default: the 30 of ``gaba.zoo.names("all30")``, seed 0), a
calibration set of 64 samples of the model's usual inputs (bench_zoo's
make_inputs: standard normal float32, uniform token ids) with outliers: with
``--outliers samples`` (default) 2 samples multiplied by 10 (--scale,
--outlier-samples), a few recordings taken with the gain too high; with
``--outliers values`` 0.1% of the float input values, at random, multiplied
by 10 (--outlier-fraction), glitches of a sensor. The set is given to
``Model.quantize`` as a list of 4 batches of 16 (the iterable form), once per
method (minmax, percentile at 99.99, mse, entropy). Each int8 model is then
compared with the float32 one on 64 other, clean samples: SQNR = 10
log10(sum f^2 / sum (f - q)^2) over all outputs (``gaba.zoo.compare``). The
column "clean" is minmax calibrated on the clean version of the same 64
samples, what the outliers cost. Models whose inputs are all token ids get
no outliers (their rows say so). The summary rows give each method's mean
(the geometric mean of the SQNR power ratio, in dB) and median over the
models, and how many models each method is best on.
"""
import time

import numpy as np

from gaba.benchmarks import harness
from gaba.benchmarks.bench_zoo import make_inputs, progress

METHODS = ("minmax", "percentile", "mse", "entropy")
QUICK = ("KeywordSpotMicro", "AnomalyDetectEdge", "EmotionRecogNano")


def outlier_set(m, n, args, seed):
    """n samples of m's inputs with the outliers `args` asks for (float inputs only);
    and whether any input could take them."""
    x = make_inputs(m, n, seed=seed)
    rng = np.random.default_rng(seed)
    scaled = False
    for name, spec in m.inputs.items():
        if spec["dtype"] == "float32":
            if args.outliers == "samples":
                x[name][rng.permutation(n)[:args.outlier_samples]] *= args.scale
            else:
                x[name][rng.random(x[name].shape) < args.outlier_fraction] *= args.scale
            scaled = True
    return x, scaled


def batches(x, size):
    """The dict of inputs `x` as a list of batches of `size` samples."""
    n = len(next(iter(x.values())))
    return [{k: v[i:i + size] for k, v in x.items()} for i in range(0, n, size)]


def measure(name, args):
    from gaba import zoo

    m = zoo.create(name, seed=0)
    calib, scaled = outlier_set(m, args.calib, args, seed=1)
    clean = make_inputs(m, args.calib, seed=1)
    evaluation = make_inputs(m, args.eval, seed=2)
    row = {"model": name, "outliers": "yes" if scaled else "no (token inputs)",
           "clean": zoo.compare(m, m.quantize(clean), **evaluation)["sqnr_db"]}
    for method in METHODS:
        t = time.perf_counter()
        qm = m.quantize(batches(calib, args.batch), method=method, percentile=args.percentile)
        row[f"{method}_s"] = time.perf_counter() - t
        row[method] = zoo.compare(m, qm, **evaluation)["sqnr_db"]
    row["best"] = max(METHODS, key=lambda k: row[k])
    return row


def summary(rows):
    """Mean and median SQNR (dB) per method over the rows with a finite figure, and how
    many rows each method is best on."""
    out = []
    for label, fn in (("mean (geomean of the ratio)", np.mean), ("median", np.median)):
        r = {"model": label}
        for k in ("clean",) + METHODS:
            v = [row[k] for row in rows if np.isfinite(row[k])]
            r[k] = float(fn(v)) if v else None
        out.append(r)
    out.append({"model": "best on", **{k: sum(row["best"] == k for row in rows)
                                       for k in METHODS}})
    return out


def markdown(rows, extra):
    head = ["model", "clean minmax"] + list(METHODS) + ["best"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def cell(v):
        return "-" if v is None else f"{v:.1f}" if isinstance(v, float) else str(v)

    for r in rows:
        name = r["model"] + ("" if r.get("outliers", "yes") == "yes" else " (no outliers)")
        lines.append("| " + " | ".join([name, cell(r["clean"])] + [cell(r[k]) for k in METHODS]
                                       + [r["best"]]) + " |")
    for r in extra:
        lines.append("| " + " | ".join([f"**{r['model']}**", cell(r.get("clean"))]
                                       + [cell(r[k]) for k in METHODS] + [""]) + " |")
    return "\n".join(lines)


def main(argv=None):
    from gaba import zoo

    parser = harness.ArgumentParser(prog="gaba bench calib", description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append",
                        help="this model only (repeatable; default: the 30 of all30)")
    parser.add_argument("--quick", action="store_true",
                        help=f"3 models ({', '.join(QUICK)}), 16 samples each (tests)")
    parser.add_argument("--calib", type=int, default=64, help="calibration samples (64)")
    parser.add_argument("--eval", type=int, default=64, help="clean evaluation samples (64)")
    parser.add_argument("--batch", type=int, default=16, help="calibration batch size (16)")
    parser.add_argument("--outliers", choices=("samples", "values"), default="samples",
                        help="scale whole samples (default) or single values")
    parser.add_argument("--outlier-samples", type=int, default=2,
                        help="--outliers samples: how many samples (2)")
    parser.add_argument("--outlier-fraction", type=float, default=0.001,
                        help="--outliers values: the fraction of values (0.001)")
    parser.add_argument("--scale", type=float, default=10.0, help="their factor (10)")
    parser.add_argument("--percentile", type=float, default=99.99,
                        help="method percentile's upper percentile (99.99)")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.calib = args.eval = args.batch = 16
    for flag in ("calib", "eval", "batch"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag} must be at least 1")
    if not 0 <= args.outlier_samples <= args.calib:
        parser.error("--outlier-samples must be in 0..--calib")
    if not 0 <= args.outlier_fraction <= 1:
        parser.error("--outlier-fraction must be in [0, 1]")
    names = args.model or (list(QUICK) if args.quick else zoo.names("all30"))
    unknown = [n for n in names if n not in zoo.names()]
    if unknown:
        parser.error(f"unknown model(s): {', '.join(unknown)}; see gaba.zoo.names()")
    rows = [measure(n, args) for n in progress(names, "gaba bench calib")]
    extra = summary(rows)
    if args.json:
        harness.write_json(args.json, "calib", rows, {"summary": extra, "settings": {
            k: getattr(args, k) for k in ("calib", "eval", "batch", "outliers", "outlier_samples",
                                          "outlier_fraction", "scale", "percentile")}})
    info = harness.machine()
    what = (f"{args.outlier_samples} of them" if args.outliers == "samples" else
            f"{100 * args.outlier_fraction:g}% of the values")
    print(f"int8 output SQNR (dB) vs float32 on {args.eval} clean samples; calibrated on "
          f"{args.calib} samples, {what} x{args.scale:g}, in batches of {args.batch}; "
          f"percentile {args.percentile:g}\n")
    print(markdown(rows, extra))
    seconds = {k: sum(r[f"{k}_s"] for r in rows) for k in METHODS}
    print(f"\n{info['cpu']}, {info['isa']}; quantize() time over all models: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))
    return 0


if __name__ == "__main__":
    main()
