"""The `gaba` command run as a user runs it: a subprocess, its output and exit status."""
import json
import os
import subprocess
import sys
import tempfile

import pytest

import gaba
from gaba import benchmarks, zoo
from gaba.benchmarks import harness


def gaba_cli(*args):
    """`python -m gaba ARGS` in a neutral directory (this environment, so gaba imports)."""
    return subprocess.run([sys.executable, "-m", "gaba", *args], capture_output=True, text=True,
                          cwd=tempfile.gettempdir(), env=dict(os.environ))


def assert_one_line_error(result, *words):
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


def test_version():
    result = gaba_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"gaba {gaba.__version__}"


def test_help_lists_benchmarks_and_compare():
    result = gaba_cli("--help")
    assert result.returncode == 0, result.stderr
    for name in list(benchmarks.BENCHMARKS) + ["compare", "info", "--version"]:
        assert name in result.stdout


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_bench_help(flag):
    result = gaba_cli("bench", flag)
    assert result.returncode == 0, result.stderr
    for name in list(benchmarks.BENCHMARKS) + ["compare"]:
        assert name in result.stdout


def test_benchmark_help_explains_every_option():
    result = gaba_cli("bench", "all30", "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: gaba bench all30" in result.stdout
    assert "untimed calls" in result.stdout  # --warmup's help


def test_unknown_benchmark_suggests():
    result = gaba_cli("bench", "all3")
    assert_one_line_error(result, "no benchmark named 'all3'", "did you mean 'all30'?")


def test_unknown_model_lists_names():
    result = gaba_cli("bench", "all30", "--model", "Resnet8")
    assert_one_line_error(result, "unknown model(s): Resnet8", "did you mean 'ResNet8'?",
                          *zoo.names())


@pytest.mark.parametrize("batch", ["x", "1,", "0", ""])
def test_bad_batch(batch):
    assert_one_line_error(gaba_cli("bench", "all30", "--batch", batch), "--batch", repr(batch))


def _result(path, benchmark, rows):
    path.write_text(json.dumps({"benchmark": benchmark, "schema": 1,
                                "machine": harness.machine(), "rows": rows}))
    return str(path)


def test_compare_missing_and_bad_files(tmp_path):
    good = _result(tmp_path / "a.json", "zoo", [{"model": "m", "batch": 1, "p50_ms": 1.0}])
    missing = str(tmp_path / "missing.json")
    assert_one_line_error(gaba_cli("bench", "compare", good, missing), "cannot read", missing)
    (tmp_path / "bad.json").write_text("{not json")
    assert_one_line_error(gaba_cli("bench", "compare", good, str(tmp_path / "bad.json")),
                          "cannot read")
    other = _result(tmp_path / "b.json", "nn", [{"op": "x", "fast_us": 1.0}])
    assert_one_line_error(gaba_cli("bench", "compare", good, other), "different benchmarks")


def test_compare_prints_timing_ratios_only(tmp_path):
    rows = lambda t: [{"model": "m", "dtype": "float32", "batch": b, "threads": 1,
                       "params": 1000, "runs": 100, "fps": b / t, "p50_ms": t * b}
                      for b in (1, 32)] + [{"model": "m", "dtype": "int8", "batch": 1,
                                            "threads": 1, "requant": "fp32", "p50_ms": 3 * t}]
    a = _result(tmp_path / "a.json", "zoo", rows(2.0))
    b = _result(tmp_path / "b.json", "zoo", rows(1.0))
    result = gaba_cli("bench", "compare", a, b)
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[2].split()
    assert header == ["model", "dtype", "batch", "threads", "requant", "p50_ms", "B/A"]
    body = [line.split() for line in result.stdout.splitlines()[4:]]
    assert body == [["m", "float32", "1", "1", "-", "0.500"],
                    ["m", "float32", "32", "1", "-", "0.500"],
                    ["m", "int8", "1", "1", "fp32", "0.500"]]


ONE_MODEL = ["bench", "all30", "--model", "AnomalyDetectEdge", "--batch", "1", "--runs", "3",
             "--warmup", "1", "--no-torch", "--no-ort", "--dtype", "float32"]
GEMM_TINY = ["bench", "gemm", "--sizes", "16,32", "--threads", "1", "--no-zoo", "--no-int8"]


def test_set_text_runs_the_text_models(tmp_path):
    out = tmp_path / "text.json"
    result = gaba_cli("bench", "zoo", "--set", "text", "--batch", "1", "--runs", "2", "--warmup",
                      "0", "--no-torch", "--no-ort", "--dtype", "float32", "--json", str(out))
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text())["rows"]
    assert [r["model"] for r in rows] == zoo.names(modality="text")


def test_progress_in_a_log_is_one_plain_line(tmp_path):
    """stderr is a pipe here, as in a log file: no carriage-return frames, and the
    progress names the benchmark that runs."""
    result = gaba_cli(*ONE_MODEL, "--model", "ResNet8")
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr
    assert result.stderr.splitlines() == ["gaba bench all30: 2 model(s) .. done"]


@pytest.mark.parametrize("command", [ONE_MODEL, GEMM_TINY])
def test_plot_without_matplotlib_fails_before_the_work(tmp_path, command):
    """A flag whose needs are missing stops the run at once, with one line."""
    out = tmp_path / "out.json"
    code = ("import sys; sys.modules['matplotlib'] = None\n"  # as if not installed
            "from gaba.cli import main\n"
            f"sys.exit(main({command + ['--json', str(out), '--plot', 'out.png']!r}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=tempfile.gettempdir(), env=dict(os.environ))
    assert_one_line_error(result, "--plot needs matplotlib")
    assert result.stdout == "" and not out.exists()


@pytest.mark.parametrize("command", [ONE_MODEL, GEMM_TINY])
def test_output_in_missing_folder_fails_before_the_work(tmp_path, command):
    missing = str(tmp_path / "no" / "out.json")
    assert_one_line_error(gaba_cli(*command, "--json", missing), "--json", "no folder")


@pytest.mark.parametrize("flag", ["--sizes", "--threads"])
def test_gemm_bad_list(flag):
    assert_one_line_error(gaba_cli("bench", "gemm", flag, "1,x"), flag,
                          "comma-separated positive integers")


@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="matplotlib's C++ font code aborts under the preloaded ASan runtime")
def test_gemm_writes_json_and_plot(tmp_path):
    pytest.importorskip("matplotlib")
    out, png = tmp_path / "gemm.json", tmp_path / "gemm.png"
    result = gaba_cli(*GEMM_TINY, "--json", str(out), "--plot", str(png))
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text())["rows"]
    assert [(r["shape"], r["threads"]) for r in rows] == [("16x16x16", 1), ("32x32x32", 1)]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_progress_on_a_terminal_names_the_benchmark():
    """On a terminal: a bar (tqdm's when installed) labelled with the benchmark that runs."""
    import fcntl
    import struct
    import termios

    leader, follower = os.openpty()
    # 24 x 80, as a terminal window has (tqdm draws nothing in a terminal of no columns)
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    try:
        result = subprocess.run([sys.executable, "-m", "gaba", *ONE_MODEL], stdout=subprocess.PIPE,
                                stderr=follower, cwd=tempfile.gettempdir(), env=dict(os.environ))
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal is closed and drained
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
    assert result.returncode == 0
    assert b"gaba bench all30" in seen and b"\r" in seen and b"bench zoo" not in seen
