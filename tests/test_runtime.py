"""The core runtime seen from Python: info(), threads, GABA_ISA, the CLI."""
import json
import os
import subprocess
import sys

import tempfile

import pytest

import gaba

# Subprocesses start outside the source tree, whose gaba/ may hold no build.
NEUTRAL_DIR = tempfile.gettempdir()


def run_python(code, **env):
    """Runs `code` in a fresh interpreter with extra environment variables."""
    full_env = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=full_env, cwd=NEUTRAL_DIR)


def cpuinfo_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


def test_info_fields():
    info = gaba.info()
    for key in ("version", "cpu_brand", "cpu_features", "isa", "isa_best", "threads",
                "openblas_config", "openblas_corename", "openblas_threads", "compiler",
                "build_flags", "extension", "extension_bytes", "environment"):
        assert key in info, key
    assert info["version"] == gaba.__version__
    assert info["isa"] in ("ref", "avx2", "avx512")
    assert info["openblas_config"].startswith("OpenBLAS")
    assert info["openblas_threads"] == info["threads"] == gaba.get_num_threads()
    assert "version" in str(info) and "cpu_features" in repr(info)


def test_cpu_features_match_the_kernel():
    """cpuid + xgetbv agree with what Linux reports in /proc/cpuinfo."""
    flags = cpuinfo_flags()
    if flags is None:
        pytest.skip("no /proc/cpuinfo on this system")
    names = {"avx2": "avx2", "fma": "fma", "avx512f": "avx512f", "avx512bw": "avx512bw",
             "avx512vl": "avx512vl", "avx512dq": "avx512dq", "avx512vnni": "avx512_vnni",
             "avxvnni": "avx_vnni", "avx512bf16": "avx512_bf16",
             "avx512vbmi": "avx512vbmi"}
    features = gaba.info()["cpu_features"]
    for ours, linux in names.items():
        assert features[ours] == (linux in flags), ours


def test_best_isa_follows_features():
    info = gaba.info()
    f = info["cpu_features"]
    if all(f[x] for x in ("avx512f", "avx512bw", "avx512vl", "avx512dq", "avx2", "fma")):
        assert info["isa_best"] == "avx512"
    elif f["avx2"] and f["fma"]:
        assert info["isa_best"] == "avx2"
    else:
        assert info["isa_best"] == "ref"


@pytest.mark.skipif("-fsanitize" in gaba.info()["build_flags"],
                    reason="the 2 MB budget is the release build's; "
                    "GABA_DEBUG builds carry debug info")
def test_extension_is_small():
    assert gaba.info()["extension_bytes"] < 2 * 1024 * 1024


def test_set_num_threads_governs_openblas():
    gaba.set_num_threads(1)
    assert gaba.get_num_threads() == 1
    assert gaba.info()["openblas_threads"] == 1
    gaba.set_num_threads(2)
    assert gaba.get_num_threads() == 2
    assert gaba.info()["openblas_threads"] == 2


@pytest.mark.parametrize("bad,exc", [(0, ValueError), (-1, ValueError), (257, ValueError),
                                     (10**30, ValueError), ("2", TypeError), (2.0, TypeError),
                                     (True, TypeError), (None, TypeError)])
def test_set_num_threads_rejects(bad, exc):
    with pytest.raises(exc, match="set_num_threads"):
        gaba.set_num_threads(bad)


@pytest.mark.parametrize("env,expected", [
    ({"GABA_NUM_THREADS": "3"}, 3),
    ({"OMP_NUM_THREADS": "5,2"}, 5),
    ({"GABA_NUM_THREADS": "4", "OMP_NUM_THREADS": "6"}, 4),
    ({"GABA_NUM_THREADS": "zero"}, None),
])
def test_thread_count_from_environment(env, expected):
    clean = {"GABA_NUM_THREADS": "", "OMP_NUM_THREADS": ""}
    clean.update(env)
    result = run_python("import gaba, os; "
                        "print(gaba.get_num_threads(), len(os.sched_getaffinity(0)))",
                        **clean)
    assert result.returncode == 0, result.stderr
    got, cores = map(int, result.stdout.split())
    assert got == (expected if expected is not None else cores)


def test_forced_isa_levels():
    best = gaba.info()["isa_best"]
    order = ["ref", "avx2", "avx512"]
    for level in order:
        result = run_python("import gaba; print(gaba.info()['isa'])", GABA_ISA=level)
        if order.index(level) <= order.index(best):
            assert result.returncode == 0, result.stderr
            assert result.stdout.strip() == level
        else:
            assert f"this CPU supports at most '{best}'" in result.stderr


def test_bad_isa_name_fails_import_clearly():
    result = run_python("import gaba", GABA_ISA="sse9")
    assert result.returncode != 0
    assert "GABA_ISA=sse9 is not a dispatch level; use ref, avx2, avx512 or auto" in result.stderr


def test_parallel_work_survives_fork():
    """A forked child gets a fresh pool: multi-threaded GEMMs work in both."""
    code = (
        "import os, numpy as np, gaba\n"
        "a = np.ones((300, 300), np.float32)\n"
        "gaba.set_num_threads(2); gaba.gemm(a, a)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    ok = gaba.gemm(a, a)[0, 0] == 300; os._exit(0 if ok else 1)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "print(os.waitstatus_to_exitcode(status), gaba.gemm(a, a)[0, 0])\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "300.0"]


# ---- command line --------------------------------------------------------------

def test_cli_info_json():
    result = subprocess.run([sys.executable, "-m", "gaba", "info", "--json"], capture_output=True,
                            text=True, cwd=NEUTRAL_DIR)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["version"] == gaba.__version__


def test_cli_bench_lists_and_rejects():
    from gaba import benchmarks

    result = subprocess.run([sys.executable, "-m", "gaba", "bench"], capture_output=True, text=True,
                            cwd=NEUTRAL_DIR)
    assert result.returncode == 0
    for name in benchmarks.BENCHMARKS:
        assert name in result.stdout
    result = subprocess.run([sys.executable, "-m", "gaba", "bench", "nope"], capture_output=True,
                            text=True, cwd=NEUTRAL_DIR)
    assert result.returncode == 2 and "no benchmark named 'nope'" in result.stderr


def test_cli_runs_startup_benchmark(tmp_path):
    out = tmp_path / "startup.json"
    result = subprocess.run([sys.executable, "-m", "gaba", "bench", "startup", "--runs", "1",
                             "--json", str(out)], capture_output=True, text=True, cwd=NEUTRAL_DIR)
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert data["benchmark"] == "startup" and len(data["rows"]) == 3
    assert "import gaba costs" in result.stdout
