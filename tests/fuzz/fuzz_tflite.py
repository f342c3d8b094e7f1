"""atheris target for gaba.importers.tflite_file: every input must read or raise TFLiteError.

    python tests/fuzz/fuzz_tflite.py -atheris_runs=100000 [corpus_dir ...]

Without a corpus directory it seeds a fresh temporary one with the two MLPerf Tiny models of
tests/data/mlperf (54 and 98 KB). Any other exception is a finding: libFuzzer stops and writes
the input to crash-*; replay it with `python tests/fuzz/fuzz_tflite.py crash-...`.
"""
import glob
import os
import shutil
import sys
import tempfile

import atheris

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


def main():
    argv = list(sys.argv)
    if not any(os.path.exists(a) for a in argv[1:] if not a.startswith("-")):
        argv.append(seed_corpus())
    if not any(a.startswith("-max_len=") for a in argv):
        argv.append("-max_len=200000")  # room to grow from the larger seed's 98 KB
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
