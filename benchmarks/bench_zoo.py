"""The model zoo, measured: every model really runs (10 warm-up, 100 timed runs).

Per model and batch size: p50/p95/p99 latency of one forward call, throughput
(samples/s at p50), params, MACs, weight and arena bytes. One thread by
default (--threads). When PyTorch is installed, the same graphs with the same
weights (benchmarks/zoo_torch.py) are timed in the same run, one thread, and
the ratio torch/gaba is printed; likewise ONNX Runtime (the graph exported by
Model.to_onnx, one intra-op thread, no spinning) when onnx and onnxruntime are
installed. Each model runs in float32 and, quantized to int8 (Model.quantize
on a calibration batch of 8 random samples), in int8 twice: "int8" with
TFLite's double-rounding requantization (the default of Model.quantize) and
"int8-fp32" with requant="fp32". Rows carry a `dtype` field, and a summary
line per int8 kind gives the int8 vs float32 speed ratio per batch size and
the int8 weights+arena of the audio and sensor models against the 100 KB
target. The peers run the float32 graphs only. All candidates of a model are
timed in interleaved blocks of warm calls (time_runs).
"""
import argparse
import contextlib
import csv
import sys
import time

import numpy as np

from gaba.benchmarks import did_you_mean, harness

COLUMNS = [("model", "model", "{}"), ("category", "category", "{}"), ("dtype", "dtype", "{}"),
           ("batch", "batch", "{}"),
           ("p50_ms", "p50 ms", "{:.3f}"), ("p95_ms", "p95 ms", "{:.3f}"),
           ("p99_ms", "p99 ms", "{:.3f}"), ("fps", "fps", "{:,.0f}"),
           ("params", "params", "{:,}"), ("mmacs", "MMACs", "{:.2f}"),
           ("mem_kb", "weights+arena KB", "{:.1f}"), ("sqnr_db", "SQNR dB", "{:.1f}"),
           ("runs", "runs", "{}"),
           ("torch_p50_ms", "torch p50 ms", "{:.3f}"), ("torch_ratio", "torch/gaba", "{:.2f}x"),
           ("ort_p50_ms", "ORT p50 ms", "{:.3f}"), ("ort_ratio", "ORT/gaba", "{:.2f}x")]


def progress(items, desc):
    """Yields `items` while showing progress on stderr: tqdm's bar (or a plain one when tqdm
    is not installed) on a terminal; elsewhere (a log, a pipe) one line, a dot per item."""
    total = len(items)
    if not sys.stderr.isatty():
        sys.stderr.write(f"{desc}: {total} model(s) ")
        for item in items:
            yield item
            sys.stderr.write(".")
            sys.stderr.flush()
        sys.stderr.write(" done\n")
        return
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None:
        yield from tqdm(items, total=total, desc=desc, file=sys.stderr, leave=False)
        return
    for i, item in enumerate(items):
        done = 30 * i // max(total, 1)
        sys.stderr.write(f"\r{desc} [{'#' * done}{'.' * (30 - done)}] {i}/{total} {item:<24}")
        sys.stderr.flush()
        yield item
    sys.stderr.write("\r" + " " * (len(desc) + 70) + "\r")


def make_inputs(m, batch, seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for name, spec in m.inputs.items():
        shape = (batch,) + tuple(spec["shape"])
        if spec["dtype"] == "int32":
            out[name] = rng.integers(0, spec["vocab"], shape).astype(np.int32)
        else:
            out[name] = rng.standard_normal(shape).astype(np.float32)
    return out


BLOCK = 25  # timed calls of one candidate in a row


def time_runs(fns, warmup, runs, max_seconds):
    """Per-call times in seconds of each of `fns`: `warmup` untimed calls each,
    then up to `runs` timed calls each (fewer when they would exceed
    max_seconds, at least BLOCK; the count is reported), taken in blocks of
    BLOCK calls that visit the candidates in turn, each block after one untimed
    call. Within a block a candidate runs warm, as in a loop; across blocks
    every candidate sees the same drift of the machine (clock, neighbours'
    load), so their ratios hold on a noisy machine."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    times = [[] for _ in fns]
    deadline = time.perf_counter() + max_seconds
    while len(times[0]) < runs:
        n = min(BLOCK, runs - len(times[0]))
        for i, fn in enumerate(fns):
            fn()
            for _ in range(n):
                t0 = time.perf_counter()
                fn()
                times[i].append(time.perf_counter() - t0)
        if time.perf_counter() > deadline and len(times[0]) >= BLOCK:
            break
    return times


def ort_session(m, threads):
    import os
    import tempfile

    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.onnx")
        m.to_onnx(path)
        return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


# The int8 kinds and their Model.quantize requantization.
INT8_KINDS = {"int8": "double", "int8-fp32": "fp32"}


def bench_model(name, batches, threads, warmup, runs, max_seconds, with_torch, with_ort=False,
                dtypes=("float32", "int8", "int8-fp32")):
    from gaba import zoo

    m = zoo.create(name, seed=0, threads=threads)
    sess = ort_session(m, threads) if with_ort and "float32" in dtypes else None
    qms = {d: m.quantize(make_inputs(m, 8, seed=1), threads=threads, requant=INT8_KINDS[d])
           for d in dtypes if d in INT8_KINDS}
    torch_fn = None
    if with_torch and "float32" in dtypes:
        import torch

        from gaba.benchmarks import zoo_torch

        torch_fn = zoo_torch.build(m)
    rows = []
    for batch in batches:
        x = make_inputs(m, batch)
        outs = {k: np.empty((batch,) + tuple(s["shape"]), np.float32) for k, s in m.outputs.items()}
        out = outs if len(outs) > 1 else next(iter(outs.values()))
        calls = {d: (lambda model=qms.get(d, m): model.forward(x, out=out, threads=threads))
                 for d in dtypes}
        if torch_fn is not None:
            tx = [torch.from_numpy(v) for v in x.values()]
            calls["torch"] = lambda: torch_fn(*tx)
        if sess is not None:
            names = list(m.outputs)
            calls["ort"] = lambda: sess.run(names, x)
        with torch.inference_mode() if torch_fn is not None else contextlib.nullcontext():
            times = time_runs(list(calls.values()), warmup, runs, max_seconds * len(calls))
        stats = {k: harness.summarize(t) for k, t in zip(calls, times)}
        for dtype in dtypes:
            model, s = qms.get(dtype, m), stats[dtype]
            row = {"model": name, "category": m.category, "dtype": dtype, "batch": batch,
                   "threads": threads, "p50_ms": 1e3 * s["p50"], "p95_ms": 1e3 * s["p95"],
                   "p99_ms": 1e3 * s["p99"], "fps": batch / s["p50"], "params": m.params,
                   "macs": m.macs, "mmacs": m.macs / 1e6, "weight_bytes": model.weight_bytes,
                   "arena_bytes": model.arena_bytes,
                   "mem_kb": (model.weight_bytes + model.arena_bytes) / 1024,
                   "runs": s["samples"]}
            if dtype in INT8_KINDS:
                r = zoo.compare(m, model, x)
                row["sqnr_db"] = r["sqnr_db"]
                row["top1"] = r["top1"]
                row["fully_int8"] = model.fully_int8
                row["requant"] = model.requant
            for peer in ("torch", "ort") if dtype == "float32" else ():
                if peer in stats:
                    row[f"{peer}_p50_ms"] = 1e3 * stats[peer]["p50"]
                    row[f"{peer}_ratio"] = stats[peer]["p50"] / s["p50"]
            rows.append(row)
    return rows


def int8_summary(rows, batch, dtype="int8"):
    """An int8 kind (INT8_KINDS) vs float32 at one batch size: float p50 / int8 p50
    per model (mean and geomean), worst SQNR, and int8 weights+arena of audio/sensor
    models vs 100 KB."""
    f = {r["model"]: r for r in rows if r["batch"] == batch and r["dtype"] == "float32"}
    q = {r["model"]: r for r in rows if r["batch"] == batch and r["dtype"] == dtype}
    both = [n for n in f if n in q and f[n]["category"] != "reference"] or [n for n in f if n in q]
    if not both:
        return None
    ratios = [f[n]["p50_ms"] / q[n]["p50_ms"] for n in both]
    small = [q[n] for n in both if q[n]["category"] in ("audio", "sensor")]
    worst = min((q[n] for n in both), key=lambda r: r["sqnr_db"])
    return {"batch": batch, "models": len(both), "mean_speedup": float(np.mean(ratios)),
            "geomean_speedup": float(np.exp(np.mean(np.log(ratios)))),
            "worst_sqnr_db": worst["sqnr_db"], "worst_sqnr_model": worst["model"],
            "audio_sensor_models": len(small),
            "audio_sensor_le_100kb": sum(r["mem_kb"] <= 100.0 for r in small),
            "audio_sensor_max_kb": max((r["mem_kb"] for r in small), default=0.0)}


def geomean(rows, key):
    if not rows or not all(key in r for r in rows):
        return None
    return float(np.exp(np.mean(np.log([r[key] for r in rows]))))


def summary(rows, batch, dtype="float32"):
    """Per category and in total: mean p50, mean fps, mean params, mean weights+arena."""
    out = []
    sel = [r for r in rows if r["batch"] == batch and r.get("dtype", "float32") == dtype]
    cats = list(dict.fromkeys(r["category"] for r in sel))
    for cat in cats + ["total"]:
        rs = [r for r in sel
              if cat == "total" and r["category"] != "reference" or r["category"] == cat]
        if not rs or (cat == "total" and len(cats) == 1):
            continue
        worst = max(rs, key=lambda r: r["p50_ms"])
        out.append({"category": cat if cat != "total" else "total (excl. reference)",
                    "models": len(rs),
                    "avg_ms": float(np.mean([r["p50_ms"] for r in rs])),
                    "avg_fps": float(np.mean([r["fps"] for r in rs])),
                    "avg_params_k": float(np.mean([r["params"] for r in rs])) / 1e3,
                    "avg_mem_kb": float(np.mean([r["mem_kb"] for r in rs])),
                    "worst": f"{worst['model']} {worst['p50_ms']:.3f} ms",
                    "under_2ms": sum(r["p50_ms"] < 2.0 for r in rs),
                    "torch_ratio": geomean(rs, "torch_ratio"),
                    "ort_ratio": geomean(rs, "ort_ratio")})
    return out


SUMMARY_COLUMNS = [("category", "category", "{}"), ("models", "models", "{}"),
                   ("avg_ms", "avg p50 ms", "{:.3f}"), ("avg_fps", "avg fps", "{:,.0f}"),
                   ("avg_params_k", "avg params", "{:.1f}K"),
                   ("avg_mem_kb", "avg weights+arena", "{:.0f} KB"),
                   ("under_2ms", "< 2 ms", "{}"), ("worst", "slowest", "{}"),
                   ("torch_ratio", "torch/gaba (geomean)", "{:.2f}x"),
                   ("ort_ratio", "ORT/gaba (geomean)", "{:.2f}x")]


def plot_series(rows, batch):
    """(label, row key, dtype of the rows) of every bar kind at `batch`: gaba per dtype, then
    the peers timed (on the float32 graphs)."""
    sel = [r for r in rows if r["batch"] == batch]
    dtypes = list(dict.fromkeys(r["dtype"] for r in sel))
    series = [(f"gaba {d}", "p50_ms", d) for d in dtypes]
    for label, key in (("ONNX Runtime", "ort_p50_ms"), ("PyTorch", "torch_p50_ms")):
        if any(key in r for r in sel):
            series.append((label, key, "float32"))
    return series


def figure(rows, title, machine):
    """The plot of `rows` at their smallest batch: per model, a group of bars, one per gaba
    dtype and per peer (p50 latency, log scale), and gaba's weights + arena per dtype."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    batch = min(r["batch"] for r in rows)
    cats = ["vision", "audio", "sensor", "reference"]
    by = {(r["model"], r["dtype"]): r for r in rows if r["batch"] == batch}
    first = {}
    for (model, _), r in by.items():
        first.setdefault(model, r)
    models = sorted(first, key=lambda n: (cats.index(first[n]["category"])
                                          if first[n]["category"] in cats else len(cats),
                                          first[n]["p50_ms"]))
    series = plot_series(rows, batch)
    gaba_series = [s for s in series if s[1] == "p50_ms"]
    height = 0.8 / len(series)
    height_in = 0.12 * len(models) * len(series) + 2.4
    fig, axes = plt.subplots(1, 2, figsize=(13, height_in), sharey=True)
    y = np.arange(len(models))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, shown, key in ((axes[0], series, None), (axes[1], gaba_series, "mem_kb")):
        for i, (label, value_key, dtype) in enumerate(shown):
            values = [by.get((n, dtype), {}).get(key or value_key, np.nan) for n in models]
            ax.barh(y + (i - (len(shown) - 1) / 2) * height, values, height,
                    label=label, color=colors[series.index((label, value_key, dtype))])
    axes[0].set_yticks(y, [f"{n} ({first[n]['category']})" for n in models])
    axes[0].invert_yaxis()
    axes[0].set_xscale("log")
    axes[0].xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # they overlap
    axes[0].set_xlabel(f"p50 latency, ms (log scale), batch {batch}")
    axes[1].set_xlabel("gaba weights + arena, KB")
    threads = rows[0]["threads"]
    fig.suptitle(f"{title}: {threads} thread(s), ISA {machine['isa']}, {machine['cpu']}, "
                 f"gaba {machine['gaba']}")
    top = 1 - 0.8 / height_in  # room for the title and, under it, the legend
    fig.legend(*axes[0].get_legend_handles_labels(), loc="upper center", ncol=len(series),
               bbox_to_anchor=(0.5, top + 0.4 / height_in), frameon=False)
    fig.tight_layout(rect=(0, 0, 1, top))
    return fig


def plot(rows, path, title):
    """Writes figure(rows, title, this machine) to `path`."""
    import matplotlib.pyplot as plt

    fig = figure(rows, title, harness.machine())
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"plot written to {path}")


def write_results(args, rows, batches, profiles):
    """The --json and --csv files."""
    if args.json:
        extra = {"summary": {b: summary(rows, b) for b in batches},
                 "int8_summary": {b: int8_summary(rows, b) for b in batches},
                 "int8_fp32_summary": {b: int8_summary(rows, b, "int8-fp32") for b in batches},
                 "threads": args.threads, "warmup": args.warmup, "runs": args.runs}
        if profiles:
            extra["profiles"] = profiles
        harness.write_json(args.json, "zoo", rows, extra)
    if args.csv:
        keys = list(rows[0].keys()) if rows else []
        for r in rows:
            keys += [k for k in r if k not in keys]
        with open(args.csv, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=keys)
            w.writeheader()
            w.writerows(rows)


def speed_words(s8, dtype):
    """int8_summary's speed in words: whether `dtype` is faster or slower than float32."""
    g = s8["geomean_speedup"]
    if g < 1:
        return f"{dtype} is SLOWER than float32 on this machine ({1 / g:.2f}x the time)"
    return f"{dtype} is faster than float32 on this machine ({g:.2f}x the speed)"


def batch_sizes(text):
    """--batch's type: "1,32" -> [1, 32]."""
    try:
        sizes = [int(b) for b in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 1,32, got {text!r}")
    return sizes


def main(argv=None, default_set="zoo"):
    import gaba
    from gaba import zoo

    parser = harness.ArgumentParser(prog=f"gaba bench {default_set}",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=["zoo", "all30", "vision", "audio", "sensor", "reference",
                                          "text"], default=default_set,
                        help="which models: all, the 30, a category, or text (the models "
                        "whose modality is text) (default: %(default)s)")
    parser.add_argument("--model", action="append", help="only this model (repeatable)")
    parser.add_argument("--batch", default=[1, 32], type=batch_sizes,
                        help="comma-separated batch sizes (default 1,32)")
    parser.add_argument("--threads", type=int, default=1, help="threads (default 1)")
    parser.add_argument("--warmup", type=int, default=10,
                        help="untimed calls per model and batch before timing (default 10)")
    parser.add_argument("--runs", type=int, default=100, help="timed runs per model and batch")
    parser.add_argument("--max-seconds", type=float, default=5.0,
                        help="stop timing a configuration after this long (>= 10 runs; "
                             "the runs column says how many were taken)")
    parser.add_argument("--dtype", default="float32,int8,int8-fp32",
                        help="comma-separated: float32, int8 (TFLite's double-rounding "
                             "requantization), int8-fp32 (requant='fp32') (default: all three)")
    parser.add_argument("--int8", action="store_true",
                        help="int8 only (same as --dtype int8,int8-fp32)")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch peer")
    parser.add_argument("--no-ort", action="store_true", help="skip the ONNX Runtime peer")
    parser.add_argument("--json", metavar="FILE", help="write the rows as JSON")
    parser.add_argument("--csv", metavar="FILE", help="write the rows as CSV")
    parser.add_argument("--profile", action="store_true",
                        help="also time every layer of each model (batch 1) and print the tables")
    parser.add_argument("--plot", metavar="FILE.png",
                        help="draw p50 latency per model (a bar per gaba dtype and per peer) "
                        "and gaba's memory (needs matplotlib)")
    args = parser.parse_args(argv)

    names = args.model or (zoo.names(modality="text") if args.set == "text"
                           else zoo.names(None if args.set == "zoo" else args.set))
    unknown = [n for n in names if n not in zoo.names()]
    if unknown:
        hints = "".join(did_you_mean(n, zoo.names()) for n in unknown)
        parser.error(f"unknown model(s): {', '.join(unknown)}{hints}; "
                     f"known: {', '.join(zoo.names())}")
    batches = args.batch
    dtypes = (list(INT8_KINDS) if args.int8
              else [d.strip() for d in args.dtype.split(",") if d.strip()])
    if not dtypes or any(d not in ("float32", *INT8_KINDS) for d in dtypes):
        parser.error(f"--dtype: expected float32, int8 and/or int8-fp32, got {args.dtype!r}")
    harness.check_outputs(parser, args)
    with_torch = False
    if not args.no_torch:
        try:
            import torch

            torch.set_num_threads(args.threads)
            with_torch = True
        except ImportError:
            pass
    with_ort = False
    if not args.no_ort:
        try:
            import onnx  # noqa: F401
            import onnxruntime  # noqa: F401

            with_ort = True
        except Exception:  # not installed, or built for another NumPy (onnx's ml_dtypes)
            pass
    before = gaba.get_num_threads()
    gaba.set_num_threads(args.threads)  # also OpenBLAS's count, for GEMMs inside the layers
    rows = []
    profiles = {}
    try:
        for name in progress(names, parser.prog):
            rows += bench_model(name, batches, args.threads, args.warmup, args.runs,
                                args.max_seconds, with_torch, with_ort, tuple(dtypes))
        for name in names if args.profile else ():
            model = zoo.create(name)
            profiles[name] = list(model.profile(**make_inputs(model, 1), runs=args.runs,
                                                warmup=args.warmup))
    finally:
        gaba.set_num_threads(before)
    write_results(args, rows, batches, profiles)  # first: nothing after this can lose them
    cols = [c for c in COLUMNS if (with_torch or not c[0].startswith("torch"))
            and (with_ort or not c[0].startswith("ort"))]
    int8_cols = [("sqnr_db", "SQNR dB", "{:.1f}")]
    for dtype in dtypes:
        dcols = [c for c in cols if dtype in INT8_KINDS or c not in int8_cols]
        if dtype in INT8_KINDS:
            dcols = [c for c in dcols if not c[0].startswith(("torch", "ort"))]
        for batch in batches:
            missing = [p for p, ok in (("PyTorch", with_torch), ("ONNX Runtime", with_ort))
                       if not ok and dtype == "float32"]
            print(f"\n{dtype}, batch {batch}, {args.threads} thread(s)"
                  f"{' (not installed, no column: ' + ', '.join(missing) + ')' if missing else ''}")
            print(harness.format_table([r for r in rows if r["batch"] == batch
                                        and r["dtype"] == dtype], dcols))
            print(f"\nsummary, {dtype}, batch {batch}:")
            print(harness.format_table(summary(rows, batch, dtype),
                                       [c for c in SUMMARY_COLUMNS
                                        if (with_torch and dtype == "float32"
                                            or c[0] != "torch_ratio")
                                        and (with_ort and dtype == "float32"
                                             or c[0] != "ort_ratio")]))
    for dtype, batch in [(d, b) for d in INT8_KINDS for b in batches]:
        s8 = int8_summary(rows, batch, dtype)
        if s8:
            print(f"\n{dtype} vs float32, batch {batch}, {args.threads} thread(s): "
                  f"{speed_words(s8, dtype)}; float32 p50 / {dtype} p50 "
                  f"{s8['mean_speedup']:.2f}x mean, {s8['geomean_speedup']:.2f}x geomean "
                  f"over {s8['models']} models; worst SQNR "
                  f"{s8['worst_sqnr_db']:.1f} dB ({s8['worst_sqnr_model']}); int8 weights+arena "
                  f"<= 100 KB: {s8['audio_sensor_le_100kb']}/{s8['audio_sensor_models']} "
                  "audio+sensor "
                  f"models (largest {s8['audio_sensor_max_kb']:.1f} KB)")
    if args.plot:
        plot(rows, args.plot, parser.prog)
    return 0


if __name__ == "__main__":
    sys.exit(main())
