"""`gaba bench mlperf` run as a user runs it, on the test data's TFLite files."""
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import pytest

DATA = pathlib.Path(__file__).parent / "data" / "mlperf"


def bench(*args):
    env = {k: v for k, v in os.environ.items() if k != "GABA_MLPERF_DIR"}
    return subprocess.run([sys.executable, "-m", "gaba", "bench", "mlperf", *args],
                          capture_output=True, text=True, cwd=tempfile.gettempdir(), env=env)


def test_times_and_checks_given_files(tmp_path):
    pytest.importorskip("tflite_micro.python.tflite_micro.runtime",
                        reason="tflite-micro (the int8 oracle) is not installed")
    out = tmp_path / "m.json"
    got = bench(str(DATA / "kws_ref_model.tflite"), str(DATA / "kws_ref_model_float32.tflite"),
                "--quick", "--check", "3", "--runs", "5", "--json", str(out))
    assert got.returncode == 0, got.stdout + got.stderr
    assert "kws_ref_model.tflite: gaba's int8 outputs equal TFLite Micro's on 3 of 3" in got.stdout
    data = json.loads(out.read_text())
    jsonschema = pytest.importorskip("jsonschema")
    from gaba import benchmarks

    schema = pathlib.Path(benchmarks.__file__).parent / "schema.json"
    jsonschema.validate(data, json.loads(schema.read_text()))
    assert data["benchmark"] == "mlperf" and data["checks"]["kws_ref_model.tflite"]["equal"] == 3
    runners = {(r["file"], r["runner"]) for r in data["rows"]}
    assert ("kws_ref_model.tflite", "gaba") in runners
    assert ("kws_ref_model.tflite", "TFLite Micro") in runners
    assert ("kws_ref_model_float32.tflite", "gaba") in runners
    gaba_row = next(r for r in data["rows"] if r["runner"] == "gaba")
    assert gaba_row["vs_gaba"] == 1.0 and 0 < gaba_row["p50_us"] <= gaba_row["p99_us"]


@pytest.mark.parametrize("args, words", [
    ((), "give .tflite paths, or --dir"),
    (("no_such.tflite",), "no file"),
    (("--runs", "0", str(DATA / "kws_ref_model.tflite")), "--runs must be >= 1"),
])
def test_errors_are_one_line(args, words):
    got = bench(*args)
    assert got.returncode == 2 and "Traceback" not in got.stderr
    assert words in got.stderr and len(got.stderr.strip().splitlines()) == 1
