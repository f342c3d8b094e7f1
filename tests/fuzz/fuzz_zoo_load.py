"""atheris target for gaba.zoo.load: every input must load or raise gaba.ModelFileError.

    python tests/fuzz/fuzz_zoo_load.py -atheris_runs=100000 [corpus_dir ...]

Without a corpus directory it seeds a fresh temporary one with three small saved models (dense,
conv and embedding weights), stored and deflated, so that the mutations start from files
that load. Any other exception is a finding: libFuzzer stops and writes the input to
crash-*; replay it with `python tests/fuzz/fuzz_zoo_load.py crash-...`.
"""
import io
import os
import tempfile

import atheris
from atheris_run import fuzz

# what reading a model file runs: zipfile, numpy's .npy header parser, json and gaba.zoo
with atheris.instrument_imports(include=["zipfile", "numpy.lib", "json", "gaba"]):
    import json  # noqa: F401
    import zipfile

    import gaba
    from gaba import zoo

SEEDS = ("AnomalyDetectEdge", "KeywordSpotMicro", "IntentClassifyNano")  # 41-79 KB of weights


def seed_corpus():
    path = tempfile.mkdtemp(prefix="fuzz_zoo_load-")
    for name in SEEDS:
        buf = io.BytesIO()
        zoo.create(name, seed=1).save(buf)
        with open(os.path.join(path, name), "wb") as f:
            f.write(buf.getvalue())
        with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, \
                zipfile.ZipFile(os.path.join(path, name + "-deflated"), "w",
                                zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                dst.writestr(info.filename, src.read(info))
    return path


def test_one_input(data):
    try:
        zoo.load(io.BytesIO(data))
    except gaba.ModelFileError:
        pass


if __name__ == "__main__":
    fuzz(test_one_input, seed_corpus)
