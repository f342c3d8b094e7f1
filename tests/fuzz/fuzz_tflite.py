"""atheris target for gaba.importers.tflite_file: every input must read or raise TFLiteError.

    python tests/fuzz/fuzz_tflite.py -atheris_runs=100000 [corpus_dir ...]

Without a corpus directory it seeds a fresh temporary one with the two MLPerf Tiny models of
tests/data/mlperf (54 and 98 KB). Any other exception is a finding: libFuzzer stops and writes
the input to crash-*; replay it with `python tests/fuzz/fuzz_tflite.py crash-...`.
"""
import glob
import os
import shutil
import tempfile

import atheris
from atheris_run import fuzz

with atheris.instrument_imports(include=["gaba.importers"]):
    from gaba.importers.tflite_file import TFLiteError, read_tflite

SEEDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "mlperf")


def seed_corpus():
    path = tempfile.mkdtemp(prefix="fuzz_tflite-")
    for name in glob.glob(os.path.join(SEEDS, "*.tflite")):
        shutil.copy(name, path)
    return path


def test_one_input(data):
    try:
        read_tflite(data)
    except TFLiteError:
        pass


if __name__ == "__main__":
    fuzz(test_one_input, seed_corpus)
