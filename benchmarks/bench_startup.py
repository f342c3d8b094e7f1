"""Import time of gaba against numpy, in fresh interpreters.

`import gaba` imports numpy too, so the figure that matters is the extra
cost: median(import gaba) - median(import numpy), each over --runs fresh
processes started alternately (so drift hits both alike).
"""
import argparse
import statistics
import subprocess
import sys
import time

from gaba.benchmarks import harness


def time_command(python, code):
    start = time.perf_counter()
    subprocess.run([python, "-c", code], check=True)
    return time.perf_counter() - start


def run(runs=10):
    python = sys.executable
    codes = {"python": "pass", "numpy": "import numpy", "gaba": "import gaba"}
    for code in codes.values():  # warm the page cache
        time_command(python, code)
    times = {name: [] for name in codes}
    for _ in range(runs):
        for name, code in codes.items():
            times[name].append(time_command(python, code))
    rows = [{"command": f"python -c '{code}'", "p50_ms": 1e3 * statistics.median(times[name]),
             "min_ms": 1e3 * min(times[name])} for name, code in codes.items()]
    extra_ms = 1e3 * (statistics.median(times["gaba"]) - statistics.median(times["numpy"]))
    return rows, extra_ms


def main(argv=None):
    parser = argparse.ArgumentParser(prog="gaba bench startup", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="fresh interpreters per command")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    rows, extra_ms = run(args.runs)
    print(harness.format_table(rows, [("command", "command", "{}"), ("p50_ms", "p50 ms", "{:.1f}"),
                                      ("min_ms", "min ms", "{:.1f}")]))
    print(f"\nimport gaba costs {extra_ms:.1f} ms more than import numpy (median of {args.runs})")
    if args.json:
        harness.write_json(args.json, "startup", rows, {"gaba_minus_numpy_ms": extra_ms})


if __name__ == "__main__":
    main()
