"""The benchmark harness: statistics against NumPy, the JSON schema, compare."""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from gaba import benchmarks
from gaba.benchmarks import compare, harness

SCHEMA = json.loads((Path(benchmarks.__file__).parent / "schema.json").read_text())


@pytest.mark.parametrize("q", [0, 1, 50, 95, 99, 100])
def test_percentile_matches_numpy(q):
    values = sorted(np.random.default_rng(q).exponential(size=101).tolist())
    assert harness.percentile(values, q) == pytest.approx(np.percentile(values, q), rel=1e-12)


def test_summarize_fields():
    s = harness.summarize([3.0, 1.0, 2.0])
    assert (s["p50"], s["min"], s["mean"], s["samples"]) == (2.0, 1.0, 2.0, 3)


def test_measure_counts_calls():
    calls = []
    stats = harness.measure(lambda: calls.append(1), repeats=5, warmup_s=0.001, min_sample_s=0.0005)
    assert stats["samples"] == 5 and len(calls) > 5
    assert 0 < stats["min"] <= stats["p50"] <= stats["p99"]


def test_json_output_validates(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    path = tmp_path / "out.json"
    harness.write_json(str(path), "demo", [{"op": "x", "p50_us": 1.5}], {"note": "extra"})
    data = json.loads(path.read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["machine"]["isa"] in ("ref", "avx2", "avx512")


def test_compare_ratios():
    machine = harness.machine()
    a = {"benchmark": "b", "schema": 1, "machine": machine,
         "rows": [{"op": "x", "n": 3, "params": 7, "p50_us": 2.0}, {"op": "y", "p50_us": 4.0},
                  {"op": "x", "n": 4, "p50_us": 8.0}]}
    b = {"benchmark": "b", "schema": 1, "machine": machine,
         "rows": [{"op": "y", "p50_us": 1.0}, {"op": "x", "n": 3, "params": 7, "p50_us": 3.0},
                  {"op": "z", "p50_us": 1.0}, {"op": "x", "n": 4, "p50_us": 2.0}]}
    rows = compare.compare(a, b)
    # sizes (n) name the case and stay as they are; only timing fields become ratios
    assert rows == [{"op": "x", "n": 3, "p50_us": 1.5}, {"op": "y", "p50_us": 0.25},
                    {"op": "x", "n": 4, "p50_us": 0.25}]
    with pytest.raises(ValueError, match="different benchmarks"):
        compare.compare(a, dict(b, benchmark="other"))


def test_cli_compare(tmp_path):
    machine = harness.machine()
    for name, t in (("a", 2.0), ("b", 1.0)):
        (tmp_path / f"{name}.json").write_text(json.dumps(
            {"benchmark": "b", "schema": 1, "machine": machine,
             "rows": [{"op": "x", "p50_us": t}]}))
    result = subprocess.run([sys.executable, "-m", "gaba", "bench", "compare",
                             str(tmp_path / "a.json"),
                             str(tmp_path / "b.json")], capture_output=True, text=True,
                            cwd=tempfile.gettempdir())
    assert result.returncode == 0, result.stderr
    assert "0.500" in result.stdout


def test_nn_bench_json(tmp_path):
    """`gaba bench nn --quick --json`: one row per op and kernel kind of the models' layers,
    float32 and int8, each with its fast and reference times and their ratio."""
    jsonschema = pytest.importorskip("jsonschema")
    from gaba import zoo
    from gaba.benchmarks import bench_nn

    out = tmp_path / "nn.json"
    models = ["EmotionRecogNano", "SegmentMicro"]
    argv = ["--quick", "--no-torch", "--json", str(out), "--model", models[0], "--model", models[1]]
    assert bench_nn.main(argv) == 0
    data = json.loads(out.read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["benchmark"] == "nn"
    rows = data["rows"]
    keys = [(r["op"], r["kind"], r["dtype"]) for r in rows]
    assert len(keys) == len(set(keys))
    ops = {L["op"] for m in models for L in zoo.create(m).layers}
    assert {r["op"] for r in rows if r["dtype"] == "float32"} == ops | {"batchnorm"}
    assert {r["op"] for r in rows if r["dtype"] == "int8"} == ops
    for r in rows:
        assert r["layer"].split("/")[0] in models and r["runs"] == 3
        assert r["fast_us"] > 0 and r["ref_us"] > 0 and r["torch_us"] is None
        assert r["ref_ratio"] == pytest.approx(r["ref_us"] / r["fast_us"])


def test_nn_bench_torch_peer(tmp_path, capsys):
    """With PyTorch: the same layer in PyTorch timed beside gaba's, and its ratio."""
    pytest.importorskip("torch")
    from gaba.benchmarks import bench_nn

    out = tmp_path / "nn.json"
    argv = ["--quick", "--model", "DenseAutoencoder_AD", "--op", "dense", "--json", str(out)]
    assert bench_nn.main(argv) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(r["op"], r["dtype"]) for r in rows] == [("dense", "float32"), ("dense", "int8")]
    for r in rows:
        assert r["torch_us"] > 0 and r["torch_ratio"] == pytest.approx(r["torch_us"] / r["fast_us"])
    assert "torch/fast" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        bench_nn.main(["--op", "conv3d"])
    assert "unknown op(s): conv3d" in capsys.readouterr().err


def _zoo_bench(tmp_path, *extra):
    from gaba.benchmarks import bench_zoo

    out = tmp_path / "zoo.json"
    argv = ["--model", "AnomalyDetectEdge", "--batch", "1", "--runs", "3", "--warmup", "1",
            "--no-torch", "--no-ort", "--json", str(out), *extra]
    assert bench_zoo.main(argv, default_set="all30") == 0
    return json.loads(out.read_text())


def test_zoo_bench_profile_json(tmp_path):
    """`gaba bench all30 --profile --json` on one model: valid JSON with the profile."""
    jsonschema = pytest.importorskip("jsonschema")
    data = _zoo_bench(tmp_path, "--profile")
    jsonschema.validate(data, SCHEMA)
    # all30 measures float32 and both int8 kinds by default
    assert sorted((r["model"], r["dtype"], r.get("requant")) for r in data["rows"]) == [
        ("AnomalyDetectEdge", "float32", None), ("AnomalyDetectEdge", "int8", "double"),
        ("AnomalyDetectEdge", "int8-fp32", "fp32")]
    assert data["int8_fp32_summary"]["1"]["models"] == 1
    layers = data["profiles"]["AnomalyDetectEdge"]
    assert layers and all(r["p50_us"] > 0 for r in layers)


@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="matplotlib's C++ font code aborts under the preloaded ASan runtime; "
                           "the plot code is pure Python and runs in the release-build test run")
def test_zoo_bench_plot(tmp_path):
    png = tmp_path / "zoo.png"
    _zoo_bench(tmp_path, "--plot", str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="matplotlib's C++ font code aborts under the preloaded ASan runtime")
def test_zoo_bench_plot_groups_and_legend(tmp_path):
    """One bar group per gaba dtype and per peer timed, a legend naming them, the machine,
    the thread count and the benchmark's own name in the title."""
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from gaba.benchmarks import bench_zoo

    measured = _zoo_bench(tmp_path)["rows"]
    # a second model, and a peer timed on the first one only
    rows = [dict(r, ort_p50_ms=2 * r["p50_ms"]) if r["dtype"] == "float32" else r
            for r in measured]
    rows += [dict(r, model="Other", p50_ms=3 * r["p50_ms"]) for r in measured]
    machine = harness.machine()
    fig = bench_zoo.figure(rows, "gaba bench all30", machine)
    try:
        latency, memory = fig.axes
        labels = ["gaba float32", "gaba int8", "gaba int8-fp32", "ONNX Runtime"]
        assert [c.get_label() for c in latency.containers] == labels
        assert [c.get_label() for c in memory.containers] == labels[:3]
        assert [t.get_text() for t in fig.legends[0].get_texts()] == labels
        assert [t.get_text() for t in latency.get_yticklabels()] == [
            "AnomalyDetectEdge (sensor)", "Other (sensor)"]
        by = {(r["model"], r["dtype"]): r for r in rows}
        for container, dtype in zip(latency.containers[:3], ["float32", "int8", "int8-fp32"]):
            widths = [bar.get_width() for bar in container]
            assert widths == [by[("AnomalyDetectEdge", dtype)]["p50_ms"],
                              by[("Other", dtype)]["p50_ms"]]
        ort = [bar.get_width() for bar in latency.containers[3]]
        assert ort[0] == by[("AnomalyDetectEdge", "float32")]["ort_p50_ms"] and np.isnan(ort[1])
        title = fig._suptitle.get_text()
        assert title.startswith("gaba bench all30: 1 thread(s)") and machine["isa"] in title
    finally:
        plt.close(fig)


def test_zoo_bench_writes_data_before_a_failing_step(tmp_path, monkeypatch):
    """The JSON and CSV are on disk before the tables and the plot, which may fail."""
    from gaba.benchmarks import bench_zoo

    def failing_plot(*args):
        raise RuntimeError("plot failed")

    monkeypatch.setattr(bench_zoo, "plot", failing_plot)
    with pytest.raises(RuntimeError, match="plot failed"):
        _zoo_bench(tmp_path, "--dtype", "float32", "--csv", str(tmp_path / "zoo.csv"),
                   "--plot", str(tmp_path / "zoo.png"))
    rows = json.loads((tmp_path / "zoo.json").read_text())["rows"]
    assert [r["model"] for r in rows] == ["AnomalyDetectEdge"]
    assert (tmp_path / "zoo.csv").read_text().startswith("model,")


@pytest.mark.parametrize("int8_ms, words", [(2.0, "int8 is SLOWER than float32 on this machine "
                                                   "(2.00x the time)"),
                                            (0.5, "int8 is faster than float32 on this machine "
                                                  "(2.00x the speed)")])
def test_int8_summary_says_slower_in_words(int8_ms, words):
    from gaba.benchmarks import bench_zoo

    rows = [{"model": "m", "category": "audio", "batch": 1, "dtype": d, "p50_ms": t,
             "sqnr_db": 30.0, "mem_kb": 10.0} for d, t in (("float32", 1.0), ("int8", int8_ms))]
    s8 = bench_zoo.int8_summary(rows, 1)
    assert bench_zoo.speed_words(s8, "int8") == words
