"""`gaba bench train` as a user runs it: a subprocess, its JSON checked against the schema
and against its own figures."""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import gaba
from gaba import benchmarks

pytest.importorskip("torch")
MODELS = ["AnomalyDetectEdge", "GaitAnalysisNano"]


def test_bench_train_quick_through_the_cli(tmp_path):
    where = os.path.dirname(os.path.dirname(os.path.abspath(gaba.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (where, os.environ.get("PYTHONPATH")) if p))
    out = tmp_path / "train.json"
    got = subprocess.run([sys.executable, "-m", "gaba", "bench", "train", "--quick",
                          "--models", ",".join(MODELS), "--json", str(out)],
                         capture_output=True, text=True, env=env, timeout=600,
                         cwd=tmp_path)  # not the clone's root, whose gaba/ has no extension
    assert got.returncode == 0, got.stderr
    data = json.loads(out.read_text())
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(data, json.loads(
        (Path(benchmarks.__file__).parent / "schema.json").read_text()))
    assert data["benchmark"] == "train" and data["threads"] == [1, 2]
    assert data["machine"]["isa"] in got.stdout.splitlines()[0]  # the header names the ISA
    rows = data["rows"]
    assert [(r["model"], r["threads"]) for r in rows] == [(m, t) for m in MODELS for t in (1, 2)]
    for r in rows:
        assert r["batch"] == 32 and r["runs"] == 3
        assert 0 < r["p50_ms"] <= r["p95_ms"] and 0 < r["torch_p50_ms"] <= r["torch_p95_ms"]
        assert r["torch_ratio"] == pytest.approx(r["torch_p50_ms"] / r["p50_ms"])
    for s in data["summary"]:
        ratios = [r["torch_ratio"] for r in rows if r["threads"] == s["threads"]]
        assert s["models"] == 2
        assert s["geomean_torch_ratio"] == pytest.approx(math.sqrt(ratios[0] * ratios[1]))
        assert s["worst_torch_ratio"] == min(ratios)
    assert data["accuracy"] == []


def test_bench_train_rejects_unknown_models(capsys):
    from gaba.benchmarks import bench_train

    with pytest.raises(SystemExit):
        bench_train.main(["--models", "ResNet9"])
    assert "unknown model(s): ResNet9 (did you mean 'ResNet8'?)" in capsys.readouterr().err
