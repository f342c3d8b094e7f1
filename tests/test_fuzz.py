"""The API fuzzer (tests/fuzz) over a short, fixed stretch of calls: every generator runs, and
the calls find nothing. Longer runs: tests/fuzz/README.md."""
import os
import subprocess
import sys
import tempfile

import gaba

RUN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz", "run.py")


def fuzz(*args):
    # Through the supervisor: a call that crashes must not take pytest down with it.
    where = os.path.dirname(os.path.dirname(os.path.abspath(gaba.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (where, os.environ.get("PYTHONPATH")) if p))
    return subprocess.run([sys.executable, RUN, *args], capture_output=True, text=True, env=env,
                          cwd=tempfile.gettempdir(), timeout=600)


def test_two_thousand_calls_find_nothing():
    got = fuzz("--seed", "1", "--calls", "2000")
    assert got.returncode == 0, got.stdout + got.stderr
    assert "2000 calls" in got.stdout and "crashes 0, hangs 0, wrong exceptions 0" in got.stdout


def test_every_target_runs_and_replays():
    listed = fuzz("--list").stdout.split()
    assert {"gemm", "Model.__call__", "QuantizedModel.profile", "zoo.load",
            "_gaba.qnn_layer", "Model.train_step", "Model.backward", "Model.evaluate",
            "train.fit", "losses.cross_entropy", "optim.AdamW"} <= set(listed)
    assert "tune" not in listed and "_gaba.set_openblas_path" not in listed
    private = {n for n in dir(gaba._gaba) if not n.startswith("_")} - {"set_openblas_path"}
    assert {"_gaba." + n for n in private} <= set(listed)
    public = {n for n in gaba.__all__ if callable(getattr(gaba, n)) and not (
        isinstance(getattr(gaba, n), type) and issubclass(getattr(gaba, n), Exception))}
    assert "tune" in public and "QTensor" in public
    public.discard("tune")  # it writes the tuning cache
    assert public <= set(listed)
    got = fuzz("--replay", "3:19")
    assert got.stdout.startswith("3:19 _gaba.lsq_backward(<f4[7]{nonfinite}, "), \
        got.stdout + got.stderr
    assert "-> acceptable" in got.stdout
