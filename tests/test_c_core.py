"""Builds tests/c/test_core.c with gaba's C sources (no Python) and runs it.

Under GABA_DEBUG=1 the binary is built with AddressSanitizer + UBSan and runs
with leak detection on, so the core's memory handling is checked without the
noise of an uninstrumented interpreter. It runs without GABA_ISA (it checks
the default dispatch; its int8 attention check walks every level itself), so
a rerun per level by tests/test_isa_levels.py would repeat it: it is not a
`kernels` test.
"""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CSRC = ROOT / "csrc"
sys.path.insert(0, str(CSRC))
from build_flags import SANITIZE, base_flags, debug_build, isa_flags  # noqa: E402


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    out = tmp_path_factory.mktemp("c_core")
    sources = [p for p in CSRC.rglob("*.c") if "bindings" not in p.parts]
    sources.append(ROOT / "tests" / "c" / "test_core.c")
    includes = ["-I", str(CSRC / "include"), "-I", _openblas_include()]

    def compile_one(src):
        obj = out / (src.relative_to(ROOT).as_posix().replace("/", "_") + ".o")
        cmd = ["gcc", "-c", str(src), "-o", str(obj), *includes, *base_flags(), *isa_flags(src),
               "-D_GNU_SOURCE"]
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        return str(obj)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        objects = list(pool.map(compile_one, sources))
    exe = out / "test_core"
    link = ["gcc", *objects, "-o", str(exe), "-lm", "-lpthread", "-ldl"]
    subprocess.run(link + (SANITIZE if debug_build() else []), check=True)
    return exe


def _openblas_include():
    import scipy_openblas32

    return scipy_openblas32.get_include_dir()


def _env():
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "GABA_ISA")}
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    return env


def test_core_with_openblas(binary):
    from gaba._ext import _openblas_library

    result = subprocess.run([str(binary), _openblas_library()], capture_output=True, text=True,
                            env=_env(), timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "all checks passed" in result.stdout


def test_core_without_openblas(binary):
    result = subprocess.run([str(binary), "none"], capture_output=True, text=True, env=_env(),
                            timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
