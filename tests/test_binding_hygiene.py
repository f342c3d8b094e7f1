"""Binding hygiene for every public function: no reference leaks over 1000
calls (on the success path and on the error path), inputs left unchanged.

Each family adds its public functions to CASES: a name, a function taking the
arguments, and a builder returning fresh (args, kwargs).
"""
import sys

import numpy as np
import pytest

import gaba
from arrays import rand


def gemm_args():
    kwargs = {"bias": rand((3,), seed=3), "activation": "relu"}
    return (rand((7, 5), seed=1), rand((5, 3), seed=2)), kwargs


def gemm_out_args():
    return (rand((7, 5), seed=1), rand((5, 3), seed=2), rand((7, 3), seed=4)), {"beta": 0.5}


def quant_inputs():
    x, g = rand((9, 13), seed=50), rand((9, 13), seed=51)
    return x, g, rand((9, 13), seed=52) > 0


def observe(x):
    obs = gaba.MovingAverageObserver(axis=0)
    obs.update(x)
    return obs.qparams(4, False)


_KWS = gaba.zoo.create("KeywordSpotMicro", threads=1)
_QKWS = _KWS.quantize(rand((4, 40, 49), seed=60), threads=1)


F32 = np.float32
CASES = [
    ("gemm", gaba.gemm, gemm_args),
    ("gemm(out=)", gaba.gemm, gemm_out_args),
    ("get_num_threads", gaba.get_num_threads, lambda: ((), {})),
    ("low_rank_factorization", gaba.low_rank_factorization,
     lambda: ((rand((12, 9), seed=5), 3), {})),
    ("singular_values", gaba.singular_values, lambda: ((rand((12, 9), seed=5),), {})),
    ("distillation_loss", gaba.distillation_loss,
     lambda: ((rand((6, 5), seed=6), rand((6, 5), seed=7), 2.0, 0.5),
              {"labels": np.arange(6, dtype=np.int64) % 5, "return_grad": True})),
    ("magnitude_prune", gaba.magnitude_prune, lambda: ((rand((8, 8), seed=8), 0.5), {})),
    ("magnitude_prune 2:4", gaba.magnitude_prune,
     lambda: ((rand((8, 8), seed=8), None), {"pattern": (2, 4)})),
    ("fake_quantize", gaba.fake_quantize,
     lambda: ((quant_inputs()[0], 4), {"axis": 1, "return_mask": True})),
    ("fake_quantize(scale=)", gaba.fake_quantize,
     lambda: ((quant_inputs()[0], 8, False), {"axis": 0, "scale": np.full(9, 0.1, F32),
                                            "zero_point": np.arange(9)})),
    ("fake_quantize_backward", gaba.fake_quantize_backward, lambda: (quant_inputs()[1:], {})),
    ("fake_quantize_lsq_backward", gaba.fake_quantize_lsq_backward,
     lambda: ((quant_inputs()[1], quant_inputs()[0], np.full(13, 0.02, F32), np.zeros(13, F32), 8),
              {"axis": 1})),
    ("quant_params", gaba.quant_params, lambda: ((quant_inputs()[0], 8, False), {"axis": 0})),
    ("quantize/dequantize", lambda x: gaba.quantize(x, 4, axis=0).dequantize(),
     lambda: ((quant_inputs()[0],), {})),
    ("observer", observe, lambda: ((quant_inputs()[0],), {})),
    ("gemm batched", gaba.gemm,
     lambda: ((rand((3, 4, 5), seed=9), rand((5, 2), seed=10)), {"trans_a": False})),
    ("gemm_s8", gaba.gemm_s8,
     lambda: ((rand((5, 7), np.uint8, seed=11), rand((7, 3), np.int8, seed=12)), {})),
    ("requantize", gaba.requantize,
     lambda: ((rand((4, 3), np.int32, seed=13) // 4096, np.full(3, 1 << 30, np.int32),
               np.zeros(3, np.int32)),
              {"bias": np.arange(3, dtype=np.int32)})),
    ("quantize_multiplier", gaba.quantize_multiplier, lambda: ((np.array([0.5, 0.01]),), {})),
    ("zoo QuantizedModel", _QKWS, lambda: ((rand((2, 40, 49), seed=61),), {})),
    ("zoo QuantizedModel raw", _QKWS,
     lambda: ((np.arange(2 * 40 * 49).reshape(2, 40, 49).astype(np.int8),), {"raw": True})),
    ("zoo compare",
     lambda x: gaba.zoo.compare(_KWS, _QKWS, x), lambda: ((rand((2, 40, 49), seed=62),), {})),
]

# Calls that must fail cleanly, every time, without leaking what they were given.
ERROR_CASES = [
    ("gemm bad dtype", gaba.gemm,
     lambda: ((rand((3, 4), np.float64), rand((4, 2))), {}), TypeError),
    ("gemm bad shape", gaba.gemm, lambda: ((rand((3, 4)), rand((5, 2))), {}), ValueError),
    ("gemm read-only out", gaba.gemm,
     lambda: ((rand((3, 4)), rand((4, 2)), np.zeros((3, 2), np.float32)[:].view()),
              {"beta": 1.0}), None),
    ("set_num_threads 0", gaba.set_num_threads, lambda: ((0,), {}), ValueError),
    ("low_rank bad dtype", gaba.low_rank_factorization,
     lambda: ((rand((4, 4), np.float64), 1), {}), TypeError),
    ("distillation shape mismatch", gaba.distillation_loss,
     lambda: ((rand((6, 5)), rand((6, 4))), {}), ValueError),
    ("prune bad sparsity", gaba.magnitude_prune, lambda: ((rand((4, 4)), 1.5), {}), ValueError),
    ("fake_quantize bad dtype", gaba.fake_quantize,
     lambda: ((rand((9, 13), np.float64), 8), {}), TypeError),
    ("fake_quantize bad scale", gaba.fake_quantize,
     lambda: ((rand((9, 13)), 8), {"scale": -1.0}), ValueError),
    ("fake_quantize bad zero_point", gaba.fake_quantize,
     lambda: ((rand((9, 13)), 8, False), {"axis": 0, "scale": 0.1, "zero_point": np.full(9, 300)}),
     ValueError),
    ("fake_quantize bad out", gaba.fake_quantize,
     lambda: ((rand((9, 13)), 8), {"out": rand((3, 13))}), ValueError),
    ("gemm_s8 bad dtype", gaba.gemm_s8,
     lambda: ((rand((3, 4), np.int16), rand((4, 2), np.int8)), {}), TypeError),
    ("requantize bad clamp", gaba.requantize,
     lambda: ((rand((2, 3), np.int32), 1 << 30, 0), {"act_min": 5, "act_max": 1}), ValueError),
    ("zoo QuantizedModel bad dtype", _QKWS,
     lambda: ((rand((2, 40, 49), np.float64),), {}), TypeError),
    ("zoo QuantizedModel raw float", _QKWS,
     lambda: ((rand((2, 40, 49)),), {"raw": True}), TypeError),
    ("zoo quantize empty", _KWS.quantize, lambda: ((rand((0, 40, 49)),), {}), ValueError),
    ("backward bad shape", gaba.fake_quantize_backward,
     lambda: ((rand((9, 13)), quant_inputs()[2][:2]), {}), ValueError),
]


def _arrays(args, kwargs):
    return [x for x in list(args) + list(kwargs.values()) if isinstance(x, np.ndarray)]


def _refcounts(args, kwargs):
    # Arrays only: small ints and strings are shared process-wide, so their
    # counts move with unrelated code.
    return [sys.getrefcount(x) for x in _arrays(args, kwargs)]


@pytest.mark.parametrize("name,func,build", CASES, ids=[c[0] for c in CASES])
def test_no_leaks_and_inputs_unchanged(name, func, build):
    args, kwargs = build()
    outputs = [a for a in args[2:3]]  # an explicit `out` is the only array written
    snapshots = [a.copy() for a in _arrays(args, kwargs) if not any(a is o for o in outputs)]
    func(*args, **kwargs)  # warm caches (interned strings, dtype objects)
    before = _refcounts(args, kwargs)
    for _ in range(1000):
        result = func(*args, **kwargs)
    del result
    assert _refcounts(args, kwargs) == before
    unchanged = [a for a in _arrays(args, kwargs) if not any(a is o for o in outputs)]
    for snap, arr in zip(snapshots, unchanged):
        np.testing.assert_array_equal(arr, snap)


@pytest.mark.parametrize("name,func,build,exc", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors_do_not_leak(name, func, build, exc):
    args, kwargs = build()
    for a in _arrays(args, kwargs)[2:]:
        a.setflags(write=False)
    exc = exc or ValueError
    with pytest.raises(exc):
        func(*args, **kwargs)
    before = _refcounts(args, kwargs)
    for _ in range(1000):
        with pytest.raises(exc):
            func(*args, **kwargs)
    assert _refcounts(args, kwargs) == before


def test_zoo_qgraph_owns_its_arrays_once_and_does_not_leak():
    import tracemalloc

    g = gaba._gaba.zoo_qgraph(_QKWS._cap)
    w = g["nodes"][1][7]["weight"]
    assert sys.getrefcount(w) == 3  # the dict, the local name, getrefcount's argument
    assert w.base is None and w.flags.owndata and w.dtype == np.int8
    del g, w
    gaba._gaba.zoo_qgraph(_QKWS._cap)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(200):
            gaba._gaba.zoo_qgraph(_QKWS._cap)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 64 * 1024, grown


def test_zoo_qnode_eval_and_attention_params_do_not_leak():
    import tracemalloc

    m = gaba.zoo.create("NamedEntityMicro")
    qm = m.quantize(np.random.default_rng(0).integers(0, 256, (4, 50)).astype(np.int32), threads=1)
    nodes = gaba._gaba.zoo_qgraph(qm._cap)["nodes"]
    index = next(i for i, nd in enumerate(nodes) if nd[2] == gaba.zoo.OPS["attention"])
    x = np.zeros((64, 50), np.int8)
    bad = np.zeros((64, 49), np.int8)
    y = gaba._gaba.zoo_qnode_eval(qm._cap, index, [x], False)
    assert sys.getrefcount(y) == 2 and y.flags.owndata
    before = sys.getrefcount(x), sys.getrefcount(bad)
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        for _ in range(200):
            gaba._gaba.zoo_qgraph(qm._cap)
            gaba._gaba.zoo_qnode_eval(qm._cap, index, [x], True)
            with pytest.raises(ValueError):
                gaba._gaba.zoo_qnode_eval(qm._cap, index, [bad], False)
        grown = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    assert grown < 64 * 1024, grown
    assert (sys.getrefcount(x), sys.getrefcount(bad)) == before


def test_new_output_is_owned_once():
    a, b = rand((4, 4)), rand((4, 4))
    out = gaba.gemm(a, b)
    assert sys.getrefcount(out) == 2  # the local name + getrefcount's argument
    assert out.base is None and out.flags.owndata and out.flags.c_contiguous
