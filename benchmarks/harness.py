"""Timing, statistics and reporting shared by every benchmark.

Method: warm up, then take `repeats` samples; a sample times a batch of
calls lasting at least `min_sample_s` (so timer resolution and loop overhead
vanish for microsecond calls) and records the per-call time. Reports give
p50/p95/p99 of the samples. The machine is shared and noisy, so comparisons
are ratios against a peer measured in the same run, never lone times.
"""
import argparse
import json
import math
import os
import platform
import sys
import time


def percentile(sorted_values, q):
    """Linear-interpolated percentile (q in 0..100) of an already sorted list."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summarize(samples):
    """p50/p95/p99/mean/min in seconds per call, from per-call samples."""
    s = sorted(samples)
    return {
        "p50": percentile(s, 50),
        "p95": percentile(s, 95),
        "p99": percentile(s, 99),
        "mean": sum(s) / len(s),
        "min": s[0],
        "samples": len(s),
    }


def measure(fn, repeats=21, warmup_s=0.02, min_sample_s=0.002, max_calls=1 << 20):
    """Time `fn()`; returns summarize() of `repeats` per-call samples."""
    timer = time.perf_counter
    end = timer() + warmup_s
    calls = 0
    while True:
        fn()
        calls += 1
        if timer() >= end:
            break
    # Calls per sample, so that one sample lasts about min_sample_s.
    per_call = warmup_s / calls
    batch = max(1, min(max_calls, int(min_sample_s / max(per_call, 1e-9))))
    samples = []
    for _ in range(repeats):
        start = timer()
        for _ in range(batch):
            fn()
        samples.append((timer() - start) / batch)
    return summarize(samples)


def machine():
    """What the numbers were measured on: CPU, ISA, threads, versions."""
    import numpy

    import gaba

    info = gaba.info()
    return {
        "cpu": info["cpu_brand"],
        "cpu_features": [k for k, v in info["cpu_features"].items() if v],
        "isa": info["isa"],
        "threads": info["threads"],
        "openblas_corename": info["openblas_corename"],
        "gaba": info["version"],
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "environment": info["environment"],
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def format_table(rows, columns):
    """A plain-text table; `columns` is a list of (key, header, format)."""
    header = [h for _, h, _ in columns]
    body = [[(fmt.format(row[k]) if row.get(k) is not None else "-") for k, _, fmt in columns]
            for row in rows]
    widths = [max(len(x) for x in col) for col in zip(header, *body)]
    line = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in body])


def check_outputs(parser, args):
    """Fails before any work when a requested output cannot be made: --plot without
    matplotlib, or a --json, --csv or --plot file in a folder that does not exist."""
    if getattr(args, "plot", None):
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--plot needs matplotlib (pip install matplotlib)")
    for flag in ("json", "csv", "plot"):
        path = getattr(args, flag, None)
        folder = os.path.dirname(os.path.abspath(path)) if path and path != "-" else None
        if folder and not os.path.isdir(folder):
            parser.error(f"--{flag} {path}: no folder {folder}")


def write_json(path, name, rows, extra=None):
    """Writes {"benchmark", "machine", "rows", ...} to `path` ("-" = stdout)."""
    payload = {"benchmark": name, "schema": 1, "machine": machine(), "rows": rows}
    payload.update(extra or {})
    text = json.dumps(payload, indent=2, default=float)
    if path == "-":
        sys.stdout.write(text + "\n")
    else:
        with open(path, "w") as f:
            f.write(text + "\n")


def save_figure(fig, path):
    """Writes a matplotlib figure to `path`, closes it and says where it went."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"plot written to {path}")


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, whose errors are one line (exit status 2) instead of usage + error."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")
