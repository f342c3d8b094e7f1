"""gaba.gemm against the float64 NumPy reference (gaba.ref.gemm)."""
import tempfile
import threading

import numpy as np
import pytest

import gaba
from gaba._ext import _gaba
from gaba.ref import gemm as ref
from arrays import EDGE_SIZES, layouts, rand, with_specials
from tolerances import gemm_bound

pytestmark = pytest.mark.kernels

BACKENDS = ("ref", "openblas", "native", "auto")
FAST = ("openblas", "native", "auto")


def check(result, a, b, alpha=1.0, beta=0.0, c0=None, bias=None, activation=None):
    expected = ref.gemm(a, b, c0, alpha, beta, bias, activation)
    bound = gemm_bound(a, b, alpha, beta, c0)
    if bias is not None:
        bound = bound + 2 * np.finfo(np.float32).eps * np.abs(bias.astype(np.float64))
    assert result.dtype == np.float32 and result.shape == expected.shape
    err = np.abs(result.astype(np.float64) - expected)
    assert np.all(err <= bound), f"max error {err.max()} > bound {bound.max()}"


def residual_check(result, a, b, alpha=1.0, beta=0.0, c0=None):
    """BLIS's test: ||C t - (alpha A (B t) + beta C0 t)|| small for a random vector t."""
    t = rand((b.shape[-1],), np.float64, seed=7)
    lhs = result.astype(np.float64) @ t
    rhs = alpha * (a.astype(np.float64) @ (b.astype(np.float64) @ t))
    if beta != 0.0:
        rhs = rhs + beta * (c0.astype(np.float64) @ t)
    abs_b_t = np.abs(b).astype(np.float64) @ np.abs(t)
    scale = np.linalg.norm(np.abs(a).astype(np.float64) @ abs_b_t)
    assert np.linalg.norm(lhs - rhs) <= (a.shape[-1] + 2) * 2.0**-23 * max(scale, 1e-30)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("m", EDGE_SIZES)
@pytest.mark.parametrize("n", (1, 7, 17, 33))
@pytest.mark.parametrize("k", (1, 5, 16, 67))
def test_sizes(backend, m, n, k):
    a, b = rand((m, k), seed=1), rand((k, n), seed=2)
    result = gaba.gemm(a, b, backend=backend)
    check(result, a, b)
    residual_check(result, a, b)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape", [(0, 5, 3), (4, 0, 3), (4, 5, 0), (0, 0, 0)])
def test_empty(backend, shape):
    m, n, k = shape
    result = gaba.gemm(rand((m, k)), rand((k, n)), backend=backend)
    assert result.shape == (m, n)
    np.testing.assert_array_equal(result, np.zeros((m, n), np.float32))


@pytest.mark.parametrize("backend", BACKENDS)
def test_layouts(backend):
    a, b = rand((13, 17), seed=3), rand((17, 7), seed=4)
    for name_a, va in layouts(a):
        for name_b, vb in layouts(b):
            result = gaba.gemm(va, vb, backend=backend)
            check(result, a, b)
            np.testing.assert_array_equal(va, a, err_msg=f"input a ({name_a}) was modified")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("out_layout", ["C", "F", "negative", "stepped"])
@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (0.5, 1.0), (-2.0, 0.25), (0.0, 3.0)])
def test_alpha_beta_out(backend, out_layout, alpha, beta):
    a, b, c0 = rand((9, 11), seed=5), rand((11, 6), seed=6), rand((9, 6), seed=7)
    out = dict(layouts(c0, include=(out_layout,)))[out_layout]
    result = gaba.gemm(a, b, out, alpha=alpha, beta=beta, backend=backend)
    assert result is out
    check(result, a, b, alpha, beta, c0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_beta_zero_never_reads_out(backend):
    a, b = rand((17, 13), seed=8), rand((13, 5), seed=9)
    out = np.full((17, 5), np.nan, np.float32)
    gaba.gemm(a, b, out, beta=0.0, backend=backend)
    assert np.isfinite(out).all()
    check(out, a, b)


@pytest.mark.parametrize("backend", BACKENDS)
def test_alpha_zero_does_not_read_inputs(backend):
    a = np.full((4, 3), np.nan, np.float32)
    b = np.full((3, 2), np.inf, np.float32)
    c0 = rand((4, 2), seed=1)
    out = c0.copy()
    gaba.gemm(a, b, out, alpha=0.0, beta=2.0, backend=backend)
    np.testing.assert_array_equal(out, 2.0 * c0)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("activation", [None, "relu", "relu6"])
def test_bias_activation(backend, activation):
    a, b = rand((13, 9), seed=10, low=-3, high=3), rand((9, 21), seed=11, low=-3, high=3)
    bias = rand((21,), seed=12, low=-4, high=4)
    for _, vbias in layouts(bias, include=("C", "negative", "stepped")):
        result = gaba.gemm(a, b, bias=vbias, activation=activation, backend=backend)
        check(result, a, b, bias=bias, activation=activation)


@pytest.mark.parametrize("backend", BACKENDS)
def test_specials_propagate(backend):
    a = with_specials(rand((8, 8), seed=13))
    b = rand((8, 8), seed=14)
    result = gaba.gemm(a, b, backend=backend)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_array_equal(np.isnan(result), np.isnan(expected))
    finite = np.isfinite(expected)
    assert np.allclose(result[finite], expected[finite], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_relu_keeps_nan(backend):
    a = np.array([[np.nan, 1.0]], np.float32)
    b = np.ones((2, 3), np.float32)
    for activation in ("relu", "relu6"):
        assert np.isnan(gaba.gemm(a, b, activation=activation, backend=backend)).all()


def test_large_against_numpy():
    a, b = rand((257, 129), seed=15), rand((129, 255), seed=16)
    check(gaba.gemm(a, b, backend="openblas"), a, b)


@pytest.mark.parametrize("backend,m,n,k", [("openblas", 1100, 1030, 1024), ("ref", 300, 290, 64)])
def test_long_call_in_pieces(backend, m, n, k):
    """On the main thread a long product runs in interruptible pieces (OpenBLAS: chunks of K,
    beta on the first, bias and activation on the last; the reference: tiles of C)."""
    a, b = rand((m, k), seed=40), rand((k, n), seed=41)
    c0, bias = rand((n, m), seed=42).T, rand((n,), seed=43)
    out = c0.copy(order="F")
    result = gaba.gemm(a, b, out=out, alpha=2.0, beta=0.5, bias=bias, activation="relu",
                       backend=backend)
    assert result is out
    check(result, a, b, alpha=2.0, beta=0.5, c0=c0, bias=bias, activation="relu")
    out[:] = np.nan  # beta == 0 reads no piece of it
    check(gaba.gemm(a, b, out=out, backend=backend), a, b)


def test_int_and_float_arguments_out_of_range():
    """Out-of-range ints and floats raise TypeError/ValueError naming the argument,
    never OverflowError (the fuzzer's 2**63 and 10**400)."""
    a = rand((3, 4))
    with pytest.raises(TypeError, match="'trans_a' must be a bool, got int"):
        gaba.gemm(a, a.T, trans_a=2**63)
    for name in ("alpha", "beta"):
        with pytest.raises(ValueError, match=f"gemm\\(\\): argument '{name}' is too large"):
            gaba.gemm(a, a.T, out=np.zeros((3, 3), np.float32), **{name: 10**400})
    with pytest.raises(ValueError, match="'threads' must be in 1..256, got 9223372036854775808"):
        gaba.peak_gflops(2**63)
    acc = np.zeros((2, 3), np.int32)
    m, s = gaba.quantize_multiplier([0.5, 0.5, 0.5])
    for name in ("zero_point", "act_min", "act_max"):
        with pytest.raises(ValueError, match=f"'{name}' must be in -128..127, got"):
            gaba.requantize(acc, m, s, **{name: 2**63})
    with pytest.raises(ValueError, match="'real' is too large"):
        gaba._gaba.quantize_multiplier(10**400)
    with pytest.raises(ValueError, match="'class' must be in 0..9"):
        gaba._gaba.gemm_auto_get(2**63, 1)
    with pytest.raises(ValueError, match="'threads' must be in 1..256"):
        gaba._gaba.gemm_auto_set(0, 2**31 + 1, "native")
    with pytest.raises(ValueError, match="'m' must be in 0.."):
        gaba._gaba.gemm_auto_class(-1, 1, 1)
    with pytest.raises(TypeError, match="'threads' must be an int, got float"):
        gaba._gaba.gemm_native_set_threads(float("inf"))


def test_releases_gil():
    """Two Python threads run GEMMs at once and both get correct results."""
    a, b = rand((192, 192), seed=17), rand((192, 192), seed=18)
    expected = gaba.gemm(a, b)
    results = [None] * 4

    def work(i):
        for _ in range(20):
            results[i] = gaba.gemm(a, b)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_array_equal(r, expected)


# ---- transposes, odd sizes, blocking edges ---------------------------------------


def op(x, trans):
    """The stored operand for op(x) = x: the transpose itself when trans (a view)."""
    return np.ascontiguousarray(np.swapaxes(x, -1, -2)) if trans else x


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (-0.5, 1.0), (2.0, -0.75)])
@pytest.mark.parametrize("activation", [None, "relu6"])
def test_transposes_alpha_beta_epilogue(backend, trans_a, trans_b, alpha, beta, activation):
    m, n, k = 13, 35, 29
    a, b = rand((m, k), seed=20, low=-2, high=2), rand((k, n), seed=21, low=-2, high=2)
    c0, bias = rand((m, n), seed=22, low=-3, high=3), rand((n,), seed=23, low=-2, high=2)
    kinds_a = ("C", "F", "stepped", "negative", "misaligned")
    for name_a, va in layouts(op(a, trans_a), include=kinds_a):
        for name_b, vb in layouts(op(b, trans_b), include=("C", "F", "stepped")):
            out = c0.copy()
            result = gaba.gemm(va, vb, out, alpha=alpha, beta=beta, trans_a=trans_a,
                               trans_b=trans_b, bias=bias, activation=activation, backend=backend)
            assert result is out
            check(result, a, b, alpha, beta, c0, bias, activation)


# 1..67 (sampled), MR/NR neighbours, and sizes that cross the KC/MC blocks.
ODD = [(1, 1, 1), (2, 3, 67), (11, 31, 64), (12, 32, 5), (13, 33, 1), (25, 65, 7),
       (127, 129, 67), (129, 127, 255), (255, 33, 257), (257, 255, 129), (31, 17, 513),
       (1, 513, 257), (513, 1, 255), (67, 513, 33), (300, 97, 700)]


@pytest.mark.parametrize("backend", FAST)
@pytest.mark.parametrize("m,n,k", ODD)
def test_odd_sizes(backend, m, n, k):
    a, b = rand((m, k), seed=24), rand((k, n), seed=25)
    c0, bias = rand((m, n), seed=26), rand((n,), seed=27)
    result = gaba.gemm(a, b, backend=backend)
    check(result, a, b)
    residual_check(result, a, b)
    out = c0.copy()
    gaba.gemm(a, b, out, alpha=0.5, beta=-1.5, bias=bias, activation="relu", backend=backend)
    check(out, a, b, 0.5, -1.5, c0, bias, "relu")


@pytest.mark.parametrize("backend", FAST)
@pytest.mark.parametrize("shape", [(64, 64, 64), (1, 300, 200), (200, 1, 300), (150, 170, 900)])
@pytest.mark.parametrize("out_layout", ["C", "F", "stepped"])
def test_beta_zero_nan_out_paths(backend, shape, out_layout):
    """beta == 0 never reads C, on every path (direct, GEMV, blocked with several k blocks)."""
    m, n, k = shape
    a, b = rand((m, k), seed=28), rand((k, n), seed=29)
    out = dict(layouts(np.full((m, n), np.nan, np.float32), include=(out_layout,)))[out_layout]
    gaba.gemm(a, b, out, beta=0.0, bias=np.ones(n, np.float32), backend=backend)
    assert np.isfinite(out).all()
    check(out, a, b, bias=np.ones(n, np.float32))


def test_gemv_layouts():
    """M == 1 (a dense layer on one sample) and N == 1 over strided and transposed operands."""
    x, w = rand((1, 300), seed=30), rand((300, 77), seed=31)
    bias = rand((77,), seed=32)
    for _, vw in layouts(w, include=("C", "F", "stepped", "negative")):
        for _, vx in layouts(x, include=("C", "stepped")):
            check(gaba.gemm(vx, vw, bias=bias, activation="relu", backend="native"), x, w,
                  bias=bias, activation="relu")
    wt = np.ascontiguousarray(w.T)  # (N, K): a PyTorch Linear weight
    check(gaba.gemm(x, wt, trans_b=True, backend="native"), x, w)
    col = rand((300, 1), seed=33)
    check(gaba.gemm(w.T, col, bias=np.full(1, 0.5, np.float32), backend="native"), w.T, col,
          bias=np.full(1, 0.5, np.float32))


@pytest.mark.parametrize("threads", [1, 2])
def test_native_threads_agree(threads):
    """The threaded paths (shared B panel with row blocks, column slabs) match the reference.

    Shapes cross the NC (4096) and KC (512) blocks so that several panels and
    k blocks run through the shared-panel loop.
    """
    gaba.set_num_threads(threads)
    for m, n, k in ((384, 160, 256), (40, 700, 512), (100, 4100, 40), (200, 64, 1100)):
        a, b, bias = rand((m, k), seed=34), rand((k, n), seed=35), rand((n,), seed=36)
        out = rand((m, n), seed=37)
        c0 = out.copy()
        gaba.gemm(a, b, out, beta=0.5, bias=bias, activation="relu6", backend="native")
        check(out, a, b, 1.0, 0.5, c0, bias, "relu6")


def test_isa_levels_agree():
    """The microkernels of every level the CPU has give results within rounding of each other."""
    import subprocess
    import sys

    levels = {"ref": 0, "avx2": 1, "avx512": 2}
    best = levels[gaba.info()["isa_best"]]
    code = ("import numpy as np, gaba, sys; rng = np.random.default_rng(0); "
            "a = rng.standard_normal((37, 301)).astype(np.float32); "
            "b = rng.standard_normal((301, 45)).astype(np.float32); "
            "y = gaba.gemm(a, b, bias=b[0], activation='relu', backend='native'); "
            "sys.stdout.buffer.write(y.tobytes())")
    results = {}
    for name, level in levels.items():
        if level <= best:
            env = dict(__import__("os").environ, GABA_ISA=name)
            # Started outside the source tree, whose gaba/ may hold no build.
            raw = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                                 capture_output=True, cwd=tempfile.gettempdir()).stdout
            results[name] = np.frombuffer(raw, np.float32).reshape(37, 45)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((37, 301)).astype(np.float32)
    b = rng.standard_normal((301, 45)).astype(np.float32)
    for name, result in results.items():
        check(result, a, b, bias=b[0], activation="relu")


# ---- batched --------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shapes", [((3, 5, 7), (3, 7, 4)), ((3, 5, 7), (7, 4)),
                                    ((5, 7), (3, 7, 4)), ((1, 5, 7), (3, 7, 4)),
                                    ((3, 5, 7), (1, 7, 4)), ((0, 5, 7), (7, 4))])
def test_batched_broadcast(backend, shapes):
    sa, sb = shapes
    a, b = rand(sa, seed=38), rand(sb, seed=39)
    bias = rand((sb[-1],), seed=40)
    result = gaba.gemm(a, b, bias=bias, activation="relu", backend=backend)
    expected = np.matmul(a, b)
    assert result.shape == expected.shape
    if result.size:
        check(result, np.broadcast_to(a, expected.shape[:-1] + (sa[-1],)), b, bias=bias,
              activation="relu")


@pytest.mark.parametrize("backend", FAST)
def test_batched_transposed_strided_out(backend):
    a, b = rand((4, 9, 6), seed=41), rand((4, 11, 9), seed=42)  # op(a) = a^T, op(b) = b^T
    big = np.full((4, 11, 2 * 6), np.nan, np.float32)
    out = big[:, :, ::2].transpose(0, 2, 1)[:, :, ::-1]  # (4, 6, 11), strided and reversed
    c0 = rand((4, 6, 11), seed=43)
    out[...] = c0
    gaba.gemm(a, b[:, ::-1, :], out, alpha=2.0, beta=1.0, trans_a=True, trans_b=True,
              backend=backend)
    at, bt = np.swapaxes(a, 1, 2), np.swapaxes(b[:, ::-1, :], 1, 2)
    check(out, at, bt, 2.0, 1.0, c0)


def test_batched_many_small_threads():
    """A batch of small products is spread over the pool; results match one by one."""
    gaba.set_num_threads(2)
    a, b = rand((200, 24, 40), seed=44), rand((40, 48), seed=45)
    result = gaba.gemm(a, b, backend="native")
    for i in (0, 99, 199):
        check(result[i], a[i], b)


def test_batched_out_errors():
    a, b = np.ones((3, 4, 5), np.float32), np.ones((5, 2), np.float32)
    with pytest.raises(ValueError, match=r"out.shape\[0\] must be 3 \(the batch size\)"):
        gaba.gemm(a, b, np.ones((2, 4, 2), np.float32))
    with pytest.raises(ValueError, match="'out' must be 3-D, got 2-D"):
        gaba.gemm(a, b, np.ones((4, 2), np.float32))
    buf = np.zeros((3, 4, 5), np.float32)
    with pytest.raises(ValueError, match="overlaps the memory of input 'a'"):
        gaba.gemm(buf, np.ones((5, 5), np.float32), buf)


def test_against_torch():
    torch = pytest.importorskip("torch")
    a, b, bias = rand((33, 70), seed=46), rand((70, 45), seed=47), rand((45,), seed=48)
    ta, tb, tbias = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(bias)
    expected = torch.relu(ta @ tb + tbias).numpy()
    for backend in FAST:
        result = gaba.gemm(a, b, bias=bias, activation="relu", backend=backend)
        np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4)


# ---- errors ------------------------------------------------------------------

GOOD = np.ones((3, 4), np.float32)


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        (dict(a=np.ones((3, 4), np.int64)), TypeError,
         r"gemm\(\): argument 'a' must have dtype float32, got int64"),
        (dict(a=np.ones((3, 4), np.float64)), TypeError, "got float64"),
        (dict(a=None), TypeError, r"argument 'a' must be a numpy.ndarray of float32, got NoneType"),
        (dict(a=[[1.0] * 4] * 3), TypeError, "got list"),
        (dict(a=np.ones((1, 2, 3, 4), np.float32)), ValueError,
         r"'a' must be 2-D to 3-D, got 4-D shape \(1, 2, 3, 4\)"),
        (dict(a=np.ones((2, 3, 4), np.float32), b=np.ones((3, 4, 5), np.float32)), ValueError,
         r"batch sizes of 'a' \(2\) and 'b' \(3\) do not broadcast"),
        (dict(out=np.ones((2, 3, 5), np.float32)), ValueError, "'out' must be 2-D, got 3-D"),
        (dict(trans_a=True), ValueError,
         r"'b' has shape \(4, 5\), but b.shape\[0\] must be 3 \(a.shape\[0\]\)"),
        (dict(trans_b="yes"), TypeError, "'trans_b' must be a bool, got str"),
        (dict(b=np.ones((5, 2), np.float32)), ValueError,
         r"'b' has shape \(5, 2\), but b.shape\[0\] must be 4"),
        (dict(b=np.ones(4, np.float32)), ValueError, "must be 2-D to 3-D, got 1-D"),
        (dict(out=np.ones((3, 2), np.float32)), ValueError, r"out.shape\[1\] must be 5"),
        (dict(out=np.ones((3, 5), np.float64)), TypeError, "'out' must have dtype float32"),
        (dict(bias=np.ones(4, np.float32)), ValueError, r"bias.shape\[0\] must be 5"),
        (dict(bias=np.ones((1, 5), np.float32)), ValueError, "'bias' must be 1-D"),
        (dict(activation="gelu"), ValueError,
         "'activation' must be one of 'none', 'relu', 'relu6', got 'gelu'"),
        (dict(activation=3), TypeError, "'activation' must be a str or None"),
        (dict(backend="cuda"), ValueError, "'backend' must be one of"),
        (dict(beta=1.0), ValueError, r"beta=1\.0 needs an existing 'out'"),
        (dict(alpha="x"), TypeError, "must be real number"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    args = dict(a=GOOD, b=np.ones((4, 5), np.float32))
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        gaba.gemm(**args)


def test_read_only_out():
    out = np.zeros((3, 5), np.float32)
    out.setflags(write=False)
    with pytest.raises(ValueError, match="output 'out' is read-only"):
        gaba.gemm(GOOD, np.ones((4, 5), np.float32), out)


def test_misaligned_out_rejected():
    from arrays import misaligned

    out = misaligned(np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match="aligned"):
        gaba.gemm(GOOD, np.ones((4, 5), np.float32), out)


def test_overlapping_out():
    buf = np.zeros((4, 4), np.float32)
    with pytest.raises(ValueError, match="overlaps the memory of input 'a'"):
        gaba.gemm(buf, np.ones((4, 4), np.float32), buf)
    with pytest.raises(ValueError, match="overlaps the memory of input 'b'"):
        gaba.gemm(np.ones((4, 4), np.float32), buf[:, ::-1], buf)


# ---- selector, tuning, peak ----------------------------------------------------------


def test_tune_writes_and_reloads_cache(tmp_path, monkeypatch):
    import json

    from gaba import tuning

    monkeypatch.setenv("GABA_CACHE_DIR", str(tmp_path))
    before = tuning.current_table()
    try:
        result = gaba.tune(threads=[1], classes=["tiny", "gemv"])
        assert result["path"] == str(tmp_path / "gemm_tune.json")
        data = json.loads((tmp_path / "gemm_tune.json").read_text())
        assert data["version"] == tuning.CACHE_VERSION
        assert set(data["table"]["1"]) == {"tiny", "gemv"}
        assert tuning.current_table()["1"]["tiny"] == data["table"]["1"]["tiny"]
        # A file from another build is ignored; a matching one is applied.
        data["fingerprint"]["gaba"] = "0.0.0"
        (tmp_path / "gemm_tune.json").write_text(json.dumps(data))
        assert tuning.load_cache() is None
        data["fingerprint"] = tuning._fingerprint()
        data["table"] = {"1": {"tiny": "openblas"}}
        (tmp_path / "gemm_tune.json").write_text(json.dumps(data))
        assert tuning.load_cache() == str(tmp_path / "gemm_tune.json")
        assert tuning.current_table()["1"]["tiny"] == "openblas"
        a, b = rand((16, 16), seed=50), rand((16, 16), seed=51)
        check(gaba.gemm(a, b, backend="auto"), a, b)
    finally:
        for t, row in before.items():
            tuning._apply({t: row})


def test_info_shows_auto_choice():
    info = gaba.info()
    assert set(info["gemm_auto"].values()) <= {"native", "openblas"}
    assert "64x64x64" in info["gemm_auto"]
    assert info["gemm_native_blocks"]["mr"] >= 1


def test_peak_gflops():
    assert gaba.peak_gflops(1, seconds=0.02) > 0.1
    with pytest.raises(ValueError, match="'threads' must be in 1..256"):
        gaba.peak_gflops(0)
    with pytest.raises(TypeError, match="'threads' must be an int, got str"):
        gaba.peak_gflops("2")
    with pytest.raises(ValueError, match="'seconds' must be > 0"):
        gaba.peak_gflops(1, seconds=0)


def test_tune_rejects_bad_arguments(tmp_path, monkeypatch):
    monkeypatch.setenv("GABA_CACHE_DIR", str(tmp_path))
    with pytest.raises(ValueError, match=r"unknown shape class\(es\) \['nope'\]; known:"):
        gaba.tune(threads=[1], classes=["nope"])
    with pytest.raises(ValueError, match="thread counts must be in 1..256"):
        gaba.tune(threads=0)
    with pytest.raises(TypeError, match="threads must be an int or a list of ints"):
        gaba.tune(threads=["1"])
    assert not list(tmp_path.iterdir())  # nothing was written


# ---- int8 GEMM and requantization --------------------------------------------------

S8_KERNELS = ("ref", "avx2", "avxvnni", "avx512vnni")


@pytest.fixture(params=S8_KERNELS)
def s8_kernel(request):
    """Runs the test once per int8 kernel this CPU has, then restores the dispatched one."""
    default = gaba._gaba.gemm_s8_kernel(None)
    try:
        gaba._gaba.gemm_s8_kernel(request.param)
    except RuntimeError:
        pytest.skip(f"CPU lacks {request.param}")
    except ValueError:
        pytest.skip(f"not built: {request.param}")
    yield request.param
    gaba._gaba.gemm_s8_kernel(default)


@pytest.mark.parametrize("a_dtype", [np.uint8, np.int8])
@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (2, 3, 5), (7, 17, 33), (13, 33, 67), (12, 32, 4),
                                   (67, 129, 127), (129, 31, 513), (5, 257, 1030)])
def test_gemm_s8_exact(s8_kernel, a_dtype, m, n, k):
    from arrays import int_extremes

    a, b = int_extremes((m, k), a_dtype, seed=60), int_extremes((k, n), np.int8, seed=61)
    np.testing.assert_array_equal(gaba.gemm_s8(a, b), ref.gemm_s8(a, b))


@pytest.mark.parametrize("a_dtype", [np.uint8, np.int8])
def test_gemm_s8_extremes_and_layouts(s8_kernel, a_dtype):
    from arrays import int_extremes

    lo = np.iinfo(a_dtype).min
    hi = np.iinfo(a_dtype).max
    for fill_a, fill_b in ((lo, -128), (hi, -128), (hi, 127), (lo, 127)):
        a, b = np.full((9, 700), fill_a, a_dtype), np.full((700, 19), fill_b, np.int8)
        np.testing.assert_array_equal(gaba.gemm_s8(a, b), ref.gemm_s8(a, b))
    a, b = int_extremes((23, 45), a_dtype, seed=62), int_extremes((45, 37), np.int8, seed=63)
    expected = ref.gemm_s8(a, b)
    with np.errstate(invalid="ignore"):  # layouts() pads stepped views with NaN
        views_a = layouts(a, include=("C", "F", "negative", "stepped"))
        views_b = layouts(b, include=("C", "F", "stepped"))
    for _, va in views_a:
        for _, vb in views_b:
            out = np.full((23, 37), -1, np.int32)
            assert gaba.gemm_s8(va, vb, out=out) is out
            np.testing.assert_array_equal(out, expected)


def test_gemm_s8_threads():
    gaba.set_num_threads(2)
    a, b = rand((400, 512), np.uint8, seed=64), rand((512, 300), np.int8, seed=65)
    np.testing.assert_array_equal(gaba.gemm_s8(a, b), ref.gemm_s8(a, b))


def test_gemm_s8_errors():
    a, b = np.ones((3, 4), np.uint8), np.ones((4, 5), np.int8)
    wrong_a = r"gemm_s8\(\): argument 'a' must have dtype uint8 or int8, got float32"
    with pytest.raises(TypeError, match=wrong_a):
        gaba.gemm_s8(a.astype(np.float32), b)
    with pytest.raises(TypeError, match="'b' must have dtype int8, got uint8"):
        gaba.gemm_s8(a, b.astype(np.uint8))
    with pytest.raises(ValueError, match=r"b.shape\[0\] must be 4"):
        gaba.gemm_s8(a, np.ones((5, 5), np.int8))
    with pytest.raises(TypeError, match="'out' must have dtype int32"):
        gaba.gemm_s8(a, b, out=np.ones((3, 5), np.int64))
    empty = gaba.gemm_s8(np.ones((3, 0), np.uint8), np.ones((0, 5), np.int8))
    assert empty.tolist() == [[0] * 5] * 3


def test_quantize_multiplier_matches_tflite_rule():
    reals = [0.0, 1e-12, 2.0**-40, 1e-6, 0.0123, 0.25, 0.5, 0.999999999, 1.0, 1.5, 3.7, 1e10]
    mult, shift = gaba.quantize_multiplier(reals)
    for r, q, s in zip(reals, mult, shift):
        assert (int(q), int(s)) == ref.quantize_multiplier(r), r
        if 2.0**-31 < r < 2.0**30:
            assert abs(q * 2.0 ** (int(s) - 31) - r) <= r * 2.0**-30
    with pytest.raises(ValueError, match="must be finite and >= 0"):
        gaba.quantize_multiplier(-1.0)


@pytest.mark.parametrize("per_channel", [True, False])
def test_requantize_bit_exact(per_channel):
    from arrays import int_extremes

    acc = int_extremes((17, 23), np.int32, seed=66)
    acc[1] = rand((23,), np.int32, seed=67) // 4096  # realistic magnitudes too
    reals = rand((23 if per_channel else 1,), np.float64, seed=68, low=1e-5, high=2.5)
    mult, shift = gaba.quantize_multiplier(reals)
    bias = rand((23,), np.int32, seed=69) // 65536
    for zp, lo, hi in ((0, -128, 127), (-5, -5, 127), (3, 3, 60)):
        got = gaba.requantize(acc, mult, shift, zero_point=zp, bias=bias, act_min=lo, act_max=hi)
        np.testing.assert_array_equal(got, ref.requantize(acc, mult, shift, zp, bias, lo, hi))
    out = np.zeros((23, 17), np.int8).T
    gaba.requantize(acc, mult, shift, out=out)
    np.testing.assert_array_equal(out, ref.requantize(acc, mult, shift))


def test_requantize_errors():
    acc = np.zeros((2, 3), np.int32)
    m, s = gaba.quantize_multiplier([0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match=r"multiplier.shape\[0\] must be 3"):
        gaba.requantize(acc, m[:2], s[:2])
    with pytest.raises(ValueError, match="act_min <= act_max"):
        gaba.requantize(acc, m, s, act_min=5, act_max=4)
    with pytest.raises(ValueError, match="shift must be in -31..31"):
        gaba.requantize(acc, m, np.full(3, 40, np.int32))


def test_bench_gemm_smoke(tmp_path, capsys, monkeypatch):
    """`gaba bench gemm` runs end to end on a tiny grid and writes its JSON (and its plot)."""
    import json
    import os

    from gaba.benchmarks import bench_gemm

    # Unset here, the benchmark runs in this process instead of re-running itself.
    for key in bench_gemm.FORCING:
        monkeypatch.delenv(key, raising=False)
    path, png = tmp_path / "gemm.json", tmp_path / "gemm.png"
    # matplotlib's C++ font code aborts under the preloaded ASan runtime.
    plot = [] if "libasan" in os.environ.get("LD_PRELOAD", "") else ["--plot", str(png)]
    argv = ["--sizes", "16", "--threads", "1", "--no-zoo", "--json", str(path)] + plot
    assert bench_gemm.main(argv) == 0
    assert not plot or png.read_bytes()[:4] == b"\x89PNG"
    data = json.loads(path.read_text())
    row = data["rows"][0]
    assert row["shape"] == "16x16x16" and row["native_us"] > 0 and row["native_over_openblas"] > 0
    assert data["int8_rows"][0]["s8_gops"] > 0
    assert "native/OB" in capsys.readouterr().out


def test_one_bad_option_raises_one_exception():
    """Options are read one after another: a bad activation and a backend that
    is not even UTF-8 raise the first error (it was SystemError: a second
    conversion ran with the first's exception set)."""
    a = np.ones((2, 2), np.float32)
    with pytest.raises(ValueError, match="activation"):
        gaba.gemm(a, a, activation="yes", backend="\udcff")
    with pytest.raises(ValueError, match="truth value"):
        _gaba.fake_quantize(a, None, None, None, None, -128, 127, np.ones(2), "\udcff", False)
