"""Trained TFLite models imported into gaba against LiteRT, TensorFlow Lite Micro and ONNX Runtime.

By default the four MLPerf Tiny models (int8 and float32 files, from --dir or
$GABA_MLPERF_DIR); any .tflite paths given instead are benchmarked alone. Per
file, in one run, timed in interleaved blocks (bench_zoo.time_runs), batch 1:
gaba (gaba.zoo.from_tflite, 1 thread; int8 files in raw int8), LiteRT with
XNNPACK at 1 and 2 threads, TFLite Micro (int8 files), and ONNX Runtime on
gaba's ONNX export of the float import (float files, 1 thread). It reports
p50/p95/p99, each peer's time over gaba's, and whether gaba's int8 outputs
equal TFLite Micro's on --check random inputs. For the anomaly-detection
autoencoder it also computes the anomaly score of the bundled clip (mean
squared reconstruction error over the clip's 196 windows of 5 frames).
"""
import os
import sys

import numpy as np

from gaba.benchmarks import harness
from gaba.benchmarks.bench_zoo import progress, time_runs

MLPERF = [("kws_ref_model.tflite", "kws_ref_model_float32.tflite"),
          ("pretrainedResnet_quant.tflite", "pretrainedResnet.tflite"),
          ("vww_96_int8.tflite", "vww_96_float.tflite"),
          ("ad01_int8.tflite", "ad01_fp32.tflite")]
CLIP = os.path.join("inputs", "ad_normal_id_01_00000000_hist_librosa.bin")
COLUMNS = [("file", "file", "{}"), ("dtype", "dtype", "{}"), ("runner", "runner", "{}"),
           ("p50_us", "p50 us", "{:.1f}"), ("p95_us", "p95 us", "{:.1f}"),
           ("p99_us", "p99 us", "{:.1f}"), ("vs_gaba", "time / gaba's", "{:.2f}x")]


def _stats(times):
    s = harness.summarize(times)
    return {"p50_us": s["p50"] * 1e6, "p95_us": s["p95"] * 1e6, "p99_us": s["p99"] * 1e6,
            "runs": s["samples"]}


def _litert(path, threads):
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=path, num_threads=threads)
    it.allocate_tensors()
    return it


def _tflm(path):
    from tflite_micro.python.tflite_micro import runtime

    return runtime.Interpreter.from_file(path)


def _invoke_litert(it, x):
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


def _invoke_tflm(it, x):
    it.set_input(x, 0)
    it.invoke()
    return it.get_output(0)


def _available(*modules):
    import importlib

    try:
        for module in modules:
            importlib.import_module(module)
        return True
    except Exception:  # noqa: BLE001 - a broken optional package is an absent peer
        return False


def candidates(path, model, x, peers):
    """(runner, call) pairs timed for one file: gaba first."""
    import gaba

    int8 = isinstance(model, gaba.zoo.QuantizedModel)
    out = np.empty((1,) + tuple(next(iter(model.outputs.values()))["shape"]),
                   np.int8 if int8 else np.float32)
    runs = [("gaba", (lambda: model(x, raw=True, out=out, threads=1)) if int8
             else (lambda: model(x, out=out, threads=1)))]
    if "litert" in peers:
        for threads in (1, 2):
            it = _litert(path, threads)
            it.set_tensor(it.get_input_details()[0]["index"], x)
            runs.append((f"LiteRT {threads}t", it.invoke))
    if int8 and "tflm" in peers:
        it = _tflm(path)
        it.set_input(x, 0)
        runs.append(("TFLite Micro", it.invoke))
    if not int8 and "ort" in peers:
        from gaba.benchmarks.bench_zoo import ort_session

        sess = ort_session(model, 1)
        feed = {sess.get_inputs()[0].name: x}
        runs.append(("ONNX Runtime 1t", lambda: sess.run(None, feed)))
    return runs


def exactness(path, qm, n, seed=0):
    """How many of n random int8 inputs give gaba's raw outputs equal to TFLite Micro's."""
    it = _tflm(path)
    shape = tuple(it.get_input_details(0)["shape"])
    xs = np.random.default_rng(seed).integers(-128, 128, (n,) + shape[1:], dtype=np.int8)
    got = qm(xs, raw=True)
    return sum(np.array_equal(got[s], _invoke_tflm(it, xs[s:s + 1])[0]) for s in range(n))


def anomaly_scores(folder, q_path, f_path, peers):
    """The bundled clip's anomaly score (mean squared reconstruction error over its 196
    windows of 5 log-mel frames, 640 values each) by each runner, float32 and int8."""
    import gaba

    clip = np.fromfile(os.path.join(folder, CLIP), "<f4").reshape(200, 128)
    windows = np.stack([clip[t:t + 5].reshape(640) for t in range(196)]).astype(np.float32)
    scores = {}
    fm, qm = gaba.zoo.from_tflite(f_path, threads=1), gaba.zoo.from_tflite(q_path, threads=1)
    scores["gaba float32"] = float(np.mean((fm(windows) - windows) ** 2))
    (s_in, z_in), = qm.input_qparams.values()
    (s_out, z_out), = qm.output_qparams.values()
    xq = np.clip(np.round(windows / s_in) + z_in, -128, 127).astype(np.int8)

    def int8_score(outputs):
        return float(np.mean((s_out * (outputs.astype(np.float32) - z_out) - windows) ** 2))

    scores["gaba int8"] = int8_score(qm(xq, raw=True))
    if "tflm" in peers:
        it = _tflm(q_path)
        scores["TFLite Micro int8"] = int8_score(
            np.concatenate([_invoke_tflm(it, xq[t:t + 1]) for t in range(196)]))
    if "litert" in peers:
        it = _litert(q_path, 1)
        scores["LiteRT int8"] = int8_score(
            np.concatenate([_invoke_litert(it, xq[t:t + 1]) for t in range(196)]))
        it = _litert(f_path, 1)
        out = np.concatenate([_invoke_litert(it, windows[t:t + 1]) for t in range(196)])
        scores["LiteRT float32"] = float(np.mean((out - windows) ** 2))
    return scores


def figure(rows, machine):
    """Per file, a group of bars: p50 of each runner (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = list(dict.fromkeys(r["file"] for r in rows))
    runners = list(dict.fromkeys(r["runner"] for r in rows))
    fig, ax = plt.subplots(figsize=(11, 0.5 * len(files) * len(runners) / 2 + 2))
    height = 0.8 / len(runners)
    y = np.arange(len(files))
    for i, runner in enumerate(runners):
        values = [next((r["p50_us"] for r in rows if r["file"] == f and r["runner"] == runner),
                       np.nan) for f in files]
        ax.barh(y + (i - (len(runners) - 1) / 2) * height, values, height, label=runner)
    ax.set_yticks(y, files)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("p50 latency, us (log scale), batch 1")
    ax.legend(loc="lower right")
    ax.set_title(f"gaba bench mlperf: ISA {machine['isa']}, {machine['cpu']}, "
                 f"gaba {machine['gaba']}")
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = harness.ArgumentParser(prog="gaba bench mlperf", description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", help=".tflite files (default: the four MLPerf Tiny "
                        "models, int8 and float32, from --dir)")
    parser.add_argument("--dir", default=os.environ.get("GABA_MLPERF_DIR"),
                        help="the MLPerf Tiny folder (default: $GABA_MLPERF_DIR)")
    parser.add_argument("--runs", type=int, default=200, help="timed calls per runner")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls per runner first")
    parser.add_argument("--max-seconds", type=float, default=20.0,
                        help="time budget per file (at least one block is timed)")
    parser.add_argument("--check", type=int, default=100, metavar="N",
                        help="random inputs on which int8 outputs are compared with TFLite "
                        "Micro's (0: none)")
    parser.add_argument("--quick", action="store_true", help="30 runs, 20 checks")
    parser.add_argument("--json", metavar="FILE", help="write the rows as JSON")
    parser.add_argument("--plot", metavar="FILE.png", help="draw p50 per file and runner")
    args = parser.parse_args(argv)
    harness.check_outputs(parser, args)
    for flag in ("runs", "warmup", "check"):
        if getattr(args, flag) < 0 or (flag == "runs" and args.runs < 1):
            parser.error(f"--{flag} must be {'>= 1' if flag == 'runs' else '>= 0'}")
    if args.quick:
        args.runs, args.check, args.warmup = 30, min(args.check, 20), 5
    if args.paths:
        files = [os.path.abspath(p) for p in args.paths]
    elif args.dir:
        files = [os.path.join(args.dir, f) for pair in MLPERF for f in pair]
    else:
        parser.error("give .tflite paths, or --dir (or GABA_MLPERF_DIR) naming the MLPerf "
                     "Tiny folder")
    for f in files:
        if not os.path.isfile(f):
            parser.error(f"no file {f}")
    peers = {name for name, modules in (("litert", ("ai_edge_litert.interpreter",)),
                                        ("tflm", ("tflite_micro.python.tflite_micro.runtime",)),
                                        ("ort", ("onnxruntime", "onnx")))  # onnx: the export
             if _available(*modules)}
    os.environ.pop("OPENBLAS_CORETYPE", None)  # peers run their own kernels at full width
    import gaba

    rows, checks = [], {}
    for path in progress(files, "gaba bench mlperf"):
        name = os.path.basename(path)
        model = gaba.zoo.from_tflite(path, threads=1)
        int8 = isinstance(model, gaba.zoo.QuantizedModel)
        (spec,) = model.inputs.values()
        rng = np.random.default_rng(0)
        x = (rng.integers(-128, 128, (1,) + tuple(spec["shape"]), dtype=np.int8) if int8
             else rng.standard_normal((1,) + tuple(spec["shape"])).astype(np.float32))
        runs = candidates(path, model, x, peers)
        times = time_runs([fn for _, fn in runs], args.warmup, args.runs, args.max_seconds)
        base = np.median(times[0])
        for (runner, _), t in zip(runs, times):
            rows.append({"file": name, "dtype": "int8" if int8 else "float32", "runner": runner,
                         **_stats(t), "vs_gaba": float(np.median(t) / base)})
        if int8 and args.check and "tflm" in peers:
            checks[name] = {"equal": int(exactness(path, model, args.check)), "of": args.check}
    print(f"gaba bench mlperf: ISA {gaba.info()['isa']}, batch 1, gaba 1 thread; "
          f"peers: {', '.join(sorted(peers)) or 'none installed'}")
    print(harness.format_table(rows, COLUMNS))
    for name, c in checks.items():
        print(f"{name}: gaba's int8 outputs equal TFLite Micro's on {c['equal']} of {c['of']} "
              "random inputs")
    extra = {"checks": checks, "runs": args.runs, "warmup": args.warmup}
    if args.dir and not args.paths and os.path.isfile(os.path.join(args.dir, CLIP)):
        q_path, f_path = (os.path.join(args.dir, f) for f in MLPERF[3])
        extra["anomaly_scores"] = scores = anomaly_scores(args.dir, q_path, f_path, peers)
        print("anomaly score of the bundled clip (mean squared reconstruction error): "
              + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
    if args.json:
        harness.write_json(args.json, "mlperf", rows, extra)
    if args.plot:
        import matplotlib.pyplot as plt

        fig = figure(rows, harness.machine())
        fig.savefig(args.plot, dpi=110)
        plt.close(fig)
        print(f"plot written to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
