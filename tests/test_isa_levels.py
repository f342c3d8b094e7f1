"""Reruns every kernel test (marked `kernels`) once per ISA level this CPU
has, with GABA_ISA forcing the level, as BLIS and crc32c test each of their
kernel sets. The default run covers the best level; this covers the others.
"""
import os
import subprocess
import sys

import pytest

import gaba

ORDER = ["ref", "avx2", "avx512"]
# The level of this run is covered by the run itself.
LEVELS = [x for x in ORDER[: ORDER.index(gaba.info()["isa_best"]) + 1] if x != gaba.info()["isa"]]


@pytest.mark.parametrize("level", LEVELS)
def test_kernels_at_level(level):
    tests = os.path.dirname(os.path.abspath(__file__))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-m", "kernels", "-p", "no:cacheprovider", tests],
        capture_output=True, text=True, env=dict(os.environ, GABA_ISA=level))
    assert f"GABA_ISA={level}" in result.stdout
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
