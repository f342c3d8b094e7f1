"""float32 GEMM (native, OpenBLAS, numpy, torch, auto) and int8 GEMM throughput.

Rows: square sizes 64..2048 and shapes from the zoo (an im2col convolution,
a batch-1 dense layer, a small dense layer), on 1 and 2 threads. Each
backend is timed in its own block (OpenBLAS's threads spin for a while
after a call and would slow an interleaved peer), median of the samples.
Columns: median microseconds per call through the public Python function
(call overhead included), GFLOP/s, % of the FMA peak measured in the same
run (gaba.peak_gflops), native/OpenBLAS throughput ratio, auto's time over
the faster of native and OpenBLAS. int8 rows give gemm_s8's GOP/s beside
the native float32 GFLOP/s at the same size.

OpenBLAS picks its kernels when it loads: when OPENBLAS_CORETYPE or
OPENBLAS_L2_SIZE is set (some machines force an AVX2 core that way), this
benchmark re-runs itself in a subprocess with both unset, so OpenBLAS is
compared at its best core type, and reports the core it then reports.
"""
import os
import subprocess
import sys
import time

import numpy as np

from gaba.benchmarks import harness
from gaba.benchmarks.bench_zoo import batch_sizes as positive_ints

FORCING = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
SQUARE = (16, 32, 64, 128, 256, 512, 1024, 2048)
ZOO = {"im2col 3x3 conv": (2304, 16, 27), "dense batch 1": (1, 64, 1000),
       "dense batch 125": (125, 64, 64)}


def _limit_numpy_threads(threads):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=threads, user_api="blas")


def _time(fn, big):
    fn()
    stats = harness.measure(fn, repeats=7 if big else 15, warmup_s=0.05 if big else 0.02)
    return stats["p50"]


def run(threads_list, sizes, zoo=True, torch_too=True):
    import gaba

    torch = None
    if torch_too:
        try:
            import torch
        except ImportError:
            torch = None
    rng = np.random.default_rng(0)
    shapes = [(f"{s}x{s}x{s}", (s, s, s)) for s in sizes]
    if zoo:
        shapes += [(f"{name} {m}x{n}x{k}", (m, n, k)) for name, (m, n, k) in ZOO.items()]
    rows, peaks = [], {}
    pool = gaba.get_num_threads()
    try:
        for threads in threads_list:
            gaba.set_num_threads(threads)
            peaks[threads] = gaba.peak_gflops(threads)
            if torch is not None:
                torch.set_num_threads(threads)
            limiter = _limit_numpy_threads(threads)
            for label, (m, n, k) in shapes:
                a = rng.standard_normal((m, k)).astype(np.float32)
                b = rng.standard_normal((k, n)).astype(np.float32)
                big = m * n * k >= 512**3
                row = {"shape": label, "m": m, "n": n, "k": k, "threads": threads}
                calls = {
                    "native": lambda: gaba.gemm(a, b, backend="native"),
                    "openblas": lambda: gaba.gemm(a, b, backend="openblas"),
                    "numpy": lambda: np.matmul(a, b),
                    "auto": lambda: gaba.gemm(a, b, backend="auto"),
                }
                if torch is not None:
                    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
                    calls["torch"] = lambda: torch.matmul(ta, tb)
                for name, fn in calls.items():
                    row[f"{name}_us"] = 1e6 * _time(fn, big)
                    if name in ("openblas", "numpy", "torch"):
                        time.sleep(0.08)  # let that library's spinning threads settle
                flops = 2.0 * m * n * k
                row["native_gflops"] = flops / row["native_us"] / 1e3
                row["openblas_gflops"] = flops / row["openblas_us"] / 1e3
                row["native_pct_peak"] = 100 * row["native_gflops"] / peaks[threads]
                row["native_over_openblas"] = row["openblas_us"] / row["native_us"]
                row["native_over_numpy"] = row["numpy_us"] / row["native_us"]
                row["auto_over_best"] = row["auto_us"] / min(row["native_us"], row["openblas_us"])
                rows.append(row)
            if limiter is not None:
                if hasattr(limiter, "unregister"):
                    limiter.unregister()
                else:
                    limiter.__exit__(None, None, None)
    finally:
        gaba.set_num_threads(pool)
    return rows, peaks


def run_int8(sizes, threads=1):
    import gaba

    rng = np.random.default_rng(1)
    pool = gaba.get_num_threads()
    rows = []
    try:
        gaba.set_num_threads(threads)
        for s in sizes:
            a8 = rng.integers(0, 256, (s, s), dtype=np.uint8)
            b8 = rng.integers(-128, 128, (s, s), dtype=np.int8)
            af = rng.standard_normal((s, s)).astype(np.float32)
            bf = rng.standard_normal((s, s)).astype(np.float32)
            big = s >= 512
            t8 = _time(lambda: gaba.gemm_s8(a8, b8), big)
            tf = _time(lambda: gaba.gemm(af, bf, backend="native"), big)
            ops = 2.0 * s**3
            rows.append({"shape": f"{s}x{s}x{s}", "threads": threads, "s8_us": 1e6 * t8,
                         "s8_gops": ops / t8 / 1e9, "f32_us": 1e6 * tf,
                         "f32_gflops": ops / tf / 1e9,
                         "s8_over_f32": tf / t8, "kernel": gaba.info()["gemm_s8_kernel"]})
    finally:
        gaba.set_num_threads(pool)
    return rows


COLUMNS = [("shape", "shape", "{}"), ("threads", "T", "{}"), ("native_us", "native us", "{:.1f}"),
           ("openblas_us", "OpenBLAS us", "{:.1f}"), ("numpy_us", "numpy us", "{:.1f}"),
           ("torch_us", "torch us", "{:.1f}"), ("auto_us", "auto us", "{:.1f}"),
           ("native_gflops", "native GF/s", "{:.1f}"), ("native_pct_peak", "% peak", "{:.0f}"),
           ("native_over_openblas", "native/OB", "{:.2f}x"),
           ("native_over_numpy", "native/np", "{:.2f}x"), ("auto_over_best", "auto/best", "{:.2f}")]
INT8_COLUMNS = [("shape", "shape", "{}"), ("threads", "T", "{}"), ("kernel", "int8 kernel", "{}"),
                ("s8_us", "int8 us", "{:.1f}"), ("s8_gops", "int8 GOP/s", "{:.1f}"),
                ("f32_us", "f32 us", "{:.1f}"), ("f32_gflops", "f32 GF/s", "{:.1f}"),
                ("s8_over_f32", "int8/f32", "{:.2f}x")]


def plot(rows, peaks, path):
    """GFLOP/s against n for the square shapes, one panel per thread count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    square = [r for r in rows if r["m"] == r["n"] == r["k"] and "x" in r["shape"]
              and " " not in r["shape"]]
    threads = sorted({r["threads"] for r in square})
    fig, axes = plt.subplots(1, len(threads), figsize=(5.5 * len(threads), 4), squeeze=False,
                             sharey=True)
    for ax, t in zip(axes[0], threads):
        pts = sorted((r for r in square if r["threads"] == t), key=lambda r: r["m"])
        n = [r["m"] for r in pts]
        for backend, style in (("native", "o-"), ("openblas", "s-"), ("numpy", "^--"),
                               ("torch", "x:"), ("auto", ".-")):
            if all(f"{backend}_us" in r for r in pts):
                ax.plot(n, [2.0 * r["m"] ** 3 / r[f"{backend}_us"] / 1e3 for r in pts], style,
                        label=backend)
        ax.axhline(peaks[t], color="gray", ls="--", lw=1, label="measured FMA peak")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("n (n x n x n)")
        ax.set_title(f"{t} thread(s)")
    axes[0][0].set_ylabel("GFLOP/s")
    axes[0][-1].legend()
    fig.suptitle("gaba bench gemm: float32, measured in one run")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"plot written to {path}")


def main(argv=None):
    parser = harness.ArgumentParser(prog="gaba bench gemm", description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--threads", default=[1, 2], type=positive_ints,
                        help="thread counts, comma-separated (default 1,2)")
    parser.add_argument("--sizes", default=list(SQUARE), type=positive_ints,
                        help="square sizes, comma-separated")
    parser.add_argument("--no-zoo", action="store_true", help="skip the zoo shapes")
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 rows")
    parser.add_argument("--plot", metavar="FILE.png",
                        help="draw GFLOP/s against size per backend, with the measured peak "
                        "(needs matplotlib)")
    args = parser.parse_args(argv)
    harness.check_outputs(parser, args)

    forced = {key: os.environ[key] for key in FORCING if key in os.environ}
    if forced:
        # OpenBLAS fixed its core when it loaded: only a fresh process with
        # the variables unset measures it at its best.
        env = {k: v for k, v in os.environ.items() if k not in FORCING}
        print("re-running without " + ", ".join(f"{k}={v}" for k, v in forced.items())
              + " so OpenBLAS picks its best core", flush=True)
        # sys.executable, not its realpath: a virtual environment's python
        # is a symlink, and resolving it would leave the environment.
        cmd = [sys.executable, "-m", "gaba.benchmarks.bench_gemm"] + list(argv or sys.argv[1:])
        return subprocess.run(cmd, env=env).returncode

    import gaba

    threads, sizes = args.threads, args.sizes
    rows, peaks = run(threads, sizes, zoo=not args.no_zoo)
    info = gaba.info()
    print(f"OpenBLAS core: {info['openblas_corename']}; ISA {info['isa']}; "
          f"native tile {info['gemm_native_blocks']}; measured FMA peak "
          + ", ".join(f"{t}T {p:.0f} GFLOP/s" for t, p in peaks.items()))
    print(harness.format_table(rows, COLUMNS))
    int8_rows = []
    if not args.no_int8:
        int8_rows = run_int8([s for s in (256, 512, 1024) if s <= max(sizes)] or [256], threads[0])
        print()
        print(harness.format_table(int8_rows, INT8_COLUMNS))
    if args.json:  # before the plot, so a failing plot loses no results
        harness.write_json(args.json, "gemm", rows,
                           {"peak_gflops": {str(t): p for t, p in peaks.items()},
                            "int8_rows": int8_rows, "openblas_corename": info["openblas_corename"],
                            "forcing_env_unset": list(FORCING)})
    if args.plot:
        plot(rows, peaks, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
