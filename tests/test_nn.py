"""The zoo's layer library: every op, fast and reference kernels, against the
float64 NumPy references of gaba/ref/nn.py (explicit loops / einsum)."""
import numpy as np
import pytest

from gaba import _gaba, _nn, zoo
from gaba.ref import nn as ref
from arrays import rand
from tolerances import nn_close

pytestmark = pytest.mark.kernels
IMPLS = [False, True]  # reference=False: the fast kernels; True: the *_ref.c oracles


def he(shape, seed):
    fan = int(np.prod(shape[1:])) or 1
    return (rand(shape, seed=seed) * np.sqrt(6.0 / fan)).astype(np.float32)


CONV2D_CASES = [
    # (C, H, W, Co, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups)
    (3, 9, 11, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
    (3, 16, 16, 5, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 1),    # TF "same" stride 2
    (4, 7, 10, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1),     # pointwise
    (17, 11, 13, 13, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1),  # pointwise: row and column tails
    (6, 9, 15, 9, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 3),     # grouped pointwise
    (5, 3, 7, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),     # 16 outputs a row, 64 channels
    (4, 9, 9, 4, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1),      # 1x1 stride 2
    (8, 12, 13, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8),    # depthwise
    (8, 12, 13, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 8),    # depthwise stride 2
    (6, 11, 9, 6, 5, 3, 1, 1, 2, 1, 2, 1, 1, 1, 6),     # depthwise 5x3
    (3, 5, 37, 3, 3, 3, 2, 2, 0, 2, 1, 0, 1, 1, 3),     # depthwise stride 2, odd row, skewed pads
    (4, 9, 40, 4, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 4),     # depthwise dilated, 3 chunks a row
    (3, 8, 40, 3, 3, 3, 1, 2, 1, 1, 1, 1, 1, 1, 3),     # depthwise strides 1 x 2
    (4, 7, 9, 4, 3, 3, 1, 1, 2, 0, 0, 2, 1, 1, 4),      # depthwise plane as one line, skewed pads
    (5, 5, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5),      # depthwise 5x5 plane: 2 chunks, one partial
    (2, 30, 12, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2),    # depthwise narrow plane too big for a line
    (3, 11, 20, 3, 3, 3, 2, 1, 0, 1, 1, 1, 1, 1, 3),    # depthwise strides 2 x 1
    (2, 13, 70, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2),    # depthwise stride 2, wide row
    (2, 1, 70, 2, 1, 5, 1, 1, 0, 4, 0, 0, 1, 1, 2),     # depthwise 1-D, causal
    (2, 1, 3000, 2, 1, 3, 1, 1, 0, 1, 0, 1, 1, 1, 2),   # depthwise row past the mask table
    (6, 10, 10, 4, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 2),    # dilated, grouped
    (3, 19, 35, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3),    # depthwise: 8-row groups, a tail, chunks
    (16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16),   # depthwise 8-wide rows, padding both sides
    (6, 10, 10, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6),    # depthwise plane as one line, odd chunks
    (2, 6, 9, 2, 3, 3, 1, 1, 10, 10, 10, 10, 1, 1, 2),  # depthwise padding wider than a chunk
    (3, 12, 27, 3, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 3),    # depthwise 5x5 stride 2
    (4, 1, 45, 4, 1, 5, 1, 2, 0, 4, 0, 4, 1, 2, 4),     # depthwise 1-D, stride 2, dilated
    (3, 11, 14, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 3),    # depthwise stride 3 (generic body)
    (1, 49, 10, 7, 10, 4, 2, 2, 4, 1, 5, 1, 1, 1, 1),   # DS-CNN stem
    (2, 12, 21, 9, 3, 3, 1, 2, 2, 3, 2, 1, 2, 2, 1),    # direct: dilated, strides 1 x 2, pads
    (3, 6, 40, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),     # direct: 3 chunks a row
    (3, 16, 19, 5, 4, 4, 4, 4, 0, 0, 0, 1, 1, 1, 1),    # direct: stride-4 patch stem
    (2, 9, 200, 3, 3, 3, 2, 4, 1, 2, 1, 2, 1, 1, 1),    # direct: stride 4, 3 wide, 4 chunks
    (2, 5, 5, 3, 3, 3, 3, 3, 0, 0, 0, 0, 1, 1, 1),      # stride > kernel gaps
    (150, 9, 17, 7, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1),   # pointwise: two K blocks, two column blocks
    (16, 6, 23, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),   # im2col GEMM, K = 144
    (3, 7, 70, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1),     # direct: stride 2, units inside the row
    (3, 5, 35, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),    # direct: stride 1, two channel passes
    (1, 4, 90, 8, 1, 5, 1, 1, 0, 2, 0, 2, 1, 1, 1),     # direct: 1-D stem, 5 taps
    (4, 1, 96, 4, 1, 96, 1, 1, 0, 0, 0, 0, 1, 1, 4),    # depthwise over the whole row (a pooling)
    (3, 5, 7, 3, 5, 7, 1, 1, 0, 0, 0, 0, 1, 1, 3),      # depthwise over the whole plane, 35 taps
]


@pytest.mark.parametrize("case", CONV2D_CASES)
@pytest.mark.parametrize("reference", IMPLS)
@pytest.mark.parametrize("activation", ["none", "relu", "relu6", "hard_swish", "sigmoid", "tanh"])
def test_conv2d(case, reference, activation):
    c, h, w, co, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, g = case
    x = rand((2, c, h, w), seed=1) * 3
    wt = he((co, c // g, kh, kw), 2)
    b = rand((co,), seed=3)
    got = _nn.conv2d(x, wt, b, stride=(sh, sw), padding=(pt, pl, pb, pr), dilation=(dh, dw),
                     groups=g, activation=activation, reference=reference)
    want = ref.conv2d(x, wt, b, (sh, sw), (pt, pl, pb, pr), (dh, dw), g, activation)
    assert got.shape == want.shape
    nn_close(got, want, c // g * kh * kw)


@pytest.mark.parametrize("reference", IMPLS)
@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
@pytest.mark.parametrize("case", [(4, 9, 21, 3, 1, 1), (4, 7, 9, 3, 1, 1), (4, 9, 20, 3, 2, 1),
                                  (3, 1, 40, 5, 1, 2)])
def test_dwconv_unfused_activation(case, reference, activation):
    """The activations the depthwise kernels run as a pass after their stores."""
    c, h, w, k, s, d = case
    kh = 1 if h == 1 else k
    x = rand((1, c, h, w), seed=11) * 3
    wt, b = he((c, 1, kh, k), 12), rand((c,), seed=13)
    ph, pw = d * (kh - 1) // 2, d * (k - 1) // 2
    got = _nn.conv2d(x, wt, b, stride=s, padding=(ph, pw), dilation=d, groups=c,
                     activation=activation, reference=reference)
    want = ref.conv2d(x, wt, b, (s, s), (ph, pw, ph, pw), (d, d), c, activation)
    nn_close(got, want, kh * k)


@pytest.mark.parametrize("reference", IMPLS)
@pytest.mark.parametrize("k,s,pl,pr,d,g", [(3, 1, 1, 1, 1, 1), (3, 1, 4, 0, 2, 1),  # causal
                                            (5, 2, 2, 2, 1, 1), (3, 1, 2, 2, 2, 6),
                                            (1, 1, 0, 0, 1, 1), (7, 1, 12, 0, 2, 3)])
def test_conv1d(reference, k, s, pl, pr, d, g):
    x = rand((3, 6, 29), seed=4)
    wt = he((12 if g != 6 else 6, 6 // g, k), 5)
    co = wt.shape[0]
    b = rand((co,), seed=6)
    got = _nn.conv1d(x, wt, b, stride=s, padding=(pl, pr), dilation=d, groups=g,
                     activation="relu", reference=reference)
    want = ref.conv1d(x, wt, b, s, (pl, pr), d, g, "relu")
    nn_close(got, want, 6 // g * k)
    if pr == 0 and s == 1:  # causal: output t depends on inputs <= t only
        x2 = x.copy()
        x2[:, :, 20:] = 7.0
        got2 = _nn.conv1d(x2, wt, b, stride=s, padding=(pl, pr), dilation=d, groups=g,
                          activation="relu", reference=reference)
        np.testing.assert_array_equal(got2[:, :, :20], got[:, :, :20])


@pytest.mark.parametrize("reference", IMPLS)
@pytest.mark.parametrize("activation", ["none", "relu", "relu6", "sigmoid", "tanh"])
@pytest.mark.parametrize("shape,n", [((17,), 5), ((4, 6), 33), ((1,), 1)])
def test_dense(reference, activation, shape, n):
    x = rand((3,) + shape, seed=7)
    f = int(np.prod(shape))
    w, b = he((n, f), 8), rand((n,), seed=9)
    got = _nn.dense(x, w, b, activation=activation, reference=reference)
    nn_close(got, ref.dense(x, w, b, activation), f)


def test_embedding_and_range():
    ids = np.array([[0, 5, 255, 17], [3, 3, 1, 254]], np.int32)
    table = rand((256, 6), seed=10)
    got = _nn.embedding(ids, table)
    np.testing.assert_array_equal(got, ref.embedding(ids, table))
    with pytest.raises(ValueError):
        _nn.embedding(np.array([[0, 256]], np.int32), table)
    with pytest.raises(ValueError):
        _nn.embedding(np.array([[-1, 2]], np.int32), table)


@pytest.mark.parametrize("activation", list(zoo.ACTS))
def test_activations(activation):
    x = rand((2, 3, 50), seed=11, low=-8, high=8)
    nn_close(_nn.act(x, activation), ref.act(x, activation), 1)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_activations_at_range_ends(activation):
    # Where the vector expf clamps or flushes its argument, and near 0, where
    # tanh's 2 / (1 + exp(-2x)) - 1 cancels; 37 values: every lane and a tail.
    edge = [-np.inf, -1e4, -100.0, -88.5, -87.5, -44.0, -20.0, -1e-3, -1e-7, 0.0,
            1e-7, 1e-3, 20.0, 44.0, 87.5, 88.5, 100.0, 1e4, np.inf]
    x = np.array([edge + edge[:18]], np.float32)
    with np.errstate(over="ignore"):  # the float64 reference's exp(1e4) is inf, as it should be
        want = ref.act(x, activation)
    nn_close(_nn.act(x, activation), want, 1)
    nan = _nn.act(np.full((1, 9), np.nan, np.float32), activation)
    assert np.isnan(nan).all()


@pytest.mark.parametrize("reference", IMPLS)
@pytest.mark.parametrize("n", [1, 7, 8, 9, 15, 16, 17, 50])
def test_softmax(n, reference):
    """Row lengths around the 8- and 16-lane bodies (the tails masked); rows
    spread over 60 units (exp of -60 is still normal) and rows with one value
    far above the rest (the others underflow to 0)."""
    x = rand((2, 5, n), seed=12 + n, low=-30, high=30)
    x[1, 0] = -1e4
    x[1, 0, 0] = 50.0
    got = _nn.softmax(x, reference=reference)
    nn_close(got, ref.softmax(x), 9)
    np.testing.assert_allclose(got.sum(-1), 1.0, rtol=1e-5)


def test_batchnorm_alone_and_fold():
    x = rand((2, 4, 5, 3), seed=13)
    scale, shift = rand((4,), seed=14), rand((4,), seed=15)
    nn_close(_nn.batchnorm(x, scale, shift, activation="relu"),
             ref.batchnorm(x, scale, shift, "relu"), 1)
    # Folding: conv(x, w') + b' == BN(conv(x, w) + b) with arbitrary statistics.
    w, b = he((4, 3, 3, 3), 16), rand((4,), seed=17)
    gamma, beta = rand((4,), seed=18, low=0.5, high=2), rand((4,), seed=19)
    mean, var = rand((4,), seed=20), rand((4,), seed=21, low=0.1, high=3)
    w2, b2 = w.reshape(4, -1).copy(), b.copy()
    zoo._batchnorm_fold(w2, b2, gamma, beta, mean, var, 1e-3)
    wr, br = ref.batchnorm_fold(w, b, gamma, beta, mean, var, 1e-3)
    nn_close(w2, wr.reshape(4, -1), 1)
    nn_close(b2, br, 1)
    xi = rand((1, 3, 6, 6), seed=22)
    direct = (ref.conv2d(xi, w, b, pad=(1, 1, 1, 1)) - mean[None, :, None, None]) \
        / np.sqrt(var[None, :, None, None] + 1e-3) * gamma[None, :, None, None] \
        + beta[None, :, None, None]
    nn_close(ref.conv2d(xi, w2.reshape(w.shape), b2, pad=(1, 1, 1, 1)), direct, 27)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("k,s,pad", [((2, 2), (2, 2), (0, 0, 0, 0)),
                                     ((3, 3), (2, 2), (1, 1, 1, 1)),
                                     ((3, 2), (1, 2), (0, 1, 2, 0)),
                                     ((24, 5), (24, 5), (0, 0, 0, 0)),
                                     ((25, 5), (25, 5), (0, 0, 0, 0))])  # one window: the plane
def test_pool2d(kind, k, s, pad):
    x = rand((2, 3, 25, 11), seed=23)
    if k[0] >= 24:
        x = rand((2, 3, 25, 5), seed=23)
    pool = getattr(_nn, kind + "pool")
    got = pool(x, k, stride=s, padding=pad)
    nn_close(got, ref.pool2d(x, kind, k, s, pad), k[0] * k[1])
    if k[0] < 24:  # rows long enough for the vector loops, and a NaN that must come out
        xw = rand((1, 2, 9, 75), seed=22)
        xw[0, 1, 4, 37] = np.nan
        got = pool(xw, k, stride=s, padding=pad)
        want = ref.pool2d(xw, kind, k, s, pad)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        assert np.isnan(want).any()
        nn_close(np.nan_to_num(got), np.nan_to_num(want), k[0] * k[1])


def test_pool1d_and_global():
    x = rand((2, 4, 31), seed=24)
    got = _nn.maxpool(x, 3, stride=2, padding=(1, 1))
    want = ref.pool2d(x[:, :, None], "max", (1, 3), (1, 2), (0, 1, 0, 1))[:, :, 0]
    nn_close(got, want, 1)
    x4 = rand((3, 5, 6, 7), seed=25)
    nn_close(_nn.global_avgpool(x4), ref.global_pool(x4, "avg"), 42)
    nn_close(_nn.global_maxpool(x4), ref.global_pool(x4, "max"), 1)
    # planes shorter than the 16 partial results, and longer with a NaN to keep
    for shape in ((2, 3, 5), (2, 3, 100)):
        xs = rand(shape, seed=26)
        xs[1, 2, -1] = np.nan
        for kind in ("avg", "max"):
            got = getattr(_nn, f"global_{kind}pool")(xs)
            want = ref.global_pool(xs, kind)
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
            assert np.isnan(want[1, 2]) and np.isnan(want).sum() == 1
            nn_close(np.nan_to_num(got), np.nan_to_num(want), shape[-1])


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("sh,sw", [(2, 2), (1, 3), (4, 2)])
def test_upsample(mode, sh, sw):
    x = rand((2, 3, 5, 7), seed=26)
    got = _nn.upsample(x, scale=(sh, sw), mode=mode)
    nn_close(got, ref.upsample2d(x, sh, sw, mode), 4)
    x1 = rand((2, 3, 9), seed=27)
    got1 = _nn.upsample(x1, scale=2, mode=mode)
    nn_close(got1, ref.upsample2d(x1[:, :, None], 1, 2, mode)[:, :, 0], 4)
    # scale 2 has its own row loop from 3 columns on, and runs small planes as one line
    for h, w in [(4, 1), (4, 2), (4, 3), (4, 37), (40, 60)]:
        xw = rand((1, 2, h, w), seed=w)
        got = _nn.upsample(xw, scale=(sh, sw), mode=mode)
        nn_close(got, ref.upsample2d(xw, sh, sw, mode), 4)


def test_concat_binary_reshape_transpose():
    a, b, c = rand((2, 3, 4, 5), seed=28), rand((2, 2, 4, 5), seed=29), rand((2, 1, 4, 5), seed=30)
    np.testing.assert_array_equal(_nn.concat([a, b, c]), np.concatenate([a, b, c], 1))
    b2 = rand((2, 3, 4, 5), seed=31)
    for op, f in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply)]:
        run = getattr(_nn, op)
        nn_close(run(a, b2, activation="relu"), np.maximum(f(a, b2), 0), 1)
        gate = rand((2, 3), seed=32)
        nn_close(run(a, gate), f(a, gate[:, :, None, None]), 1)
    np.testing.assert_array_equal(_nn.reshape(a, (12, -1)),
                                  a.reshape(2, 12, 5))
    np.testing.assert_array_equal(_nn.flatten(a), a.reshape(2, -1))
    t = rand((2, 7, 3), seed=33)
    np.testing.assert_array_equal(_nn.transpose(t), t.transpose(0, 2, 1))
    with pytest.raises(ValueError):
        _nn.add(a, rand((2, 3, 4, 4), seed=34))


@pytest.mark.parametrize("reference", IMPLS)
@pytest.mark.parametrize("seq", [0, 1])
# h 7: a partial 8-lane block; h 21: full and partial 8- and 16-lane blocks;
# gain 6 saturates the gates; h 40: the AVX-512 product in two passes (6 + 2
# vectors of 3H = 120)
@pytest.mark.parametrize("h,gain", [(7, 1.0), (21, 6.0), (40, 2.0)])
def test_gru(reference, seq, h, gain):
    f, t = 5, 9
    x = rand((2, f, t), seed=35) * gain
    w_ih, w_hh = rand((3 * h, f), seed=36), rand((3 * h, h), seed=37)
    b_ih, b_hh = rand((3 * h,), seed=38), rand((3 * h,), seed=39)
    got = _nn.gru(x, w_ih, w_hh, b_ih, b_hh, return_sequences=bool(seq), reference=reference)
    nn_close(got, ref.gru(x, w_ih, w_hh, b_ih, b_hh, bool(seq)), (f + h) * t)


@pytest.mark.parametrize("reference", IMPLS)
def test_attention(reference):
    d, length, dk = 6, 11, 4
    x = rand((2, d, length), seed=40)
    w_qkv, b_qkv = rand((3 * dk, d), seed=41), rand((3 * dk,), seed=42)
    w_o, b_o = rand((d, dk), seed=43), rand((d,), seed=44)
    got = _nn.attention(x, w_qkv, b_qkv, w_o, b_o, reference=reference)
    nn_close(got, ref.attention(x, w_qkv, b_qkv, w_o, b_o), d * length)


def test_prepare_rejects_bad_layers():
    x = rand((1, 3, 4, 4), seed=45)
    w, b = he((4, 3, 5, 5), 46), rand((4,), seed=47)
    with pytest.raises(ValueError):  # kernel larger than the padded input
        _nn.conv2d(x, w, b)
    with pytest.raises(ValueError):  # groups must divide the channels
        _nn.conv2d(x, w, b, padding=2, groups=2)
    with pytest.raises(ValueError):  # wrong number of weights
        _nn.layer("dense", [x], [w], [4])


# One well-formed call per op with weights (op, per-sample input shapes, params, weight
# shapes): the base that test_layer_rejects_inconsistent_arrays breaks one way at a time.
LAYERS = [
    ("conv2d", [(3, 6, 6)], [4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1], [(4, 3, 3, 3), (4,)]),
    ("conv1d", [(3, 9)], [5, 1, 3, 1, 1, 0, 2, 0, 0, 1, 1, 1], [(5, 3, 3), (5,)]),
    ("dense", [(2, 5)], [7], [(7, 10), (7,)]),
    ("batchnorm", [(3, 4)], [0], [(3,), (3,)]),
    ("gru", [(5, 4)], [6, 1], [(18, 5), (18, 6), (18,), (18,)]),
    ("attention", [(6, 5)], [4], [(12, 6), (12,), (6, 4), (6,)]),
    ("add", [(3, 4), (3, 4)], [], []),
    ("mul", [(3, 4), (3,)], [], []),
    ("concat", [(2, 5), (3, 5), (1, 5)], [], []),
]


@pytest.mark.parametrize("op,shapes,params,wshapes", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_rejects_inconsistent_arrays(op, shapes, params, wshapes):
    """Inputs whose batches differ and weights one value too long or short raise
    ValueError naming the array, before any kernel reads past an array's end (the
    ASan build checks that)."""
    xs = [rand((2,) + s, seed=50 + i) for i, s in enumerate(shapes)]
    ws = [rand(s, seed=60 + i) for i, s in enumerate(wshapes)]
    assert _nn.layer(op, xs, ws, params).shape[0] == 2
    for i in range(1, len(xs)):  # a later input with more or fewer samples than inputs[0]
        for batch in (1, 3, 1000):
            bad = list(xs)
            bad[i] = rand((batch,) + shapes[i], seed=70)
            with pytest.raises(ValueError, match=rf"'inputs\[{i}\]'.*one batch"):
                _nn.layer(op, bad, ws, params)
    for j, s in enumerate(wshapes):
        for size in (int(np.prod(s)) - 1, int(np.prod(s)) + 1):
            bad = list(ws)
            bad[j] = rand((size,), seed=71)
            with pytest.raises(ValueError, match="values, op .* needs"):
                _nn.layer(op, xs, bad, params)
    if wshapes:
        with pytest.raises(ValueError, match="holds"):
            _nn.layer(op, xs, ws[:-1], params)


def test_op_and_activation_names_come_from_the_op_table():
    """Python's op and activation codes are the C op table's names in code order (nn.h's enum,
    read from the header), and C's messages name ops the same way."""
    import re
    from pathlib import Path

    ops, acts = _gaba.nn_ops(), _gaba.nn_acts()
    header = (Path(__file__).resolve().parent.parent / "csrc/include/gaba/nn.h").read_text()
    enum = sorted((int(code), name.lower())
                  for name, code in re.findall(r"GABA_NN_(\w+) = (\d+),", header)
                  if name not in ("OP_COUNT", "F32", "I32", "I8", "IMPL_FAST", "IMPL_REF")
                  and not name.startswith("ACT_"))
    assert ops == tuple(name for _, name in enum)
    assert acts == ("none", "relu", "relu6", "sigmoid", "tanh", "hard_swish")
    assert zoo.OPS == {n: i for i, n in enumerate(ops)}
    assert zoo.ACTS == {n: i for i, n in enumerate(acts)}
    for op in ("dense", "gru", "attention"):
        with pytest.raises(ValueError, match=f"op {op} does not take"):
            _gaba.nn_layer(zoo.OPS[op], 0, [0], [rand((2, 4), seed=73)], [], 0)


def test_every_op_has_a_keyword_function():
    """gaba._nn has one function per op of the table, named as the op."""
    assert [op for op in _gaba.nn_ops() if not callable(getattr(_nn, op, None))] == []


X4, X3 = rand((2, 3, 6, 6), seed=76), rand((2, 3, 9), seed=77)
W4, W3, B = he((4, 3, 3, 3), 78), he((4, 3, 3), 79), rand((4,), seed=80)
Q8 = np.zeros((2, 3, 9), np.int8)
BAD_KEYWORDS = [  # (call, error, message)
    (lambda: _nn.conv2d(X4, W4, B, stride=0), ValueError,
     r"conv2d\(\): argument 'stride' must be in 1\.\."),
    (lambda: _nn.conv2d(X4, W4, B, stride=2**31), ValueError, r"'stride' must be in"),
    (lambda: _nn.conv2d(X4, W4, B, dilation=1.5), TypeError,
     r"conv2d\(\): argument 'dilation' must be an int"),
    (lambda: _nn.conv2d(X4, W4, B, padding=(1, 2, 3)), ValueError,
     r"conv2d\(\): argument 'padding' must be an int or \(h, w\) or \(top"),
    (lambda: _nn.conv2d(X4, W4, B, padding=-1), ValueError, r"'padding' must be in 0\.\."),
    (lambda: _nn.conv2d(X4, W4.reshape(4, -1), B), ValueError,
     r"conv2d\(\): argument 'w' must be 4-D"),
    (lambda: _nn.conv2d(X4, W4, B, 2), TypeError, "positional"),
    (lambda: _nn.conv2d(X4, W4, B, strde=2), TypeError,
     r"conv2d\(\): unexpected keyword argument 'strde'"),
    (lambda: _nn.conv2d(X4, W4, B, activation="gelu"), ValueError,
     r"conv2d\(\): argument 'activation' must be one of"),
    (lambda: _nn.conv2d(X4, W4, B, dtype="float16"), ValueError,
     r"conv2d\(\): argument 'dtype' must be one of"),
    (lambda: _nn.conv2d(X4, W4, B, in_q=(0.1, 0)), ValueError,
     r"conv2d\(\): argument 'in_q' is for dtype='int8' only"),
    (lambda: _nn.conv2d(X4, W4, B, requant="fp32"), ValueError,
     r"conv2d\(\): argument 'requant' is for dtype='int8' only"),
    (lambda: _nn.conv2d(X4, W4, B, shift=B), ValueError,
     r"conv2d\(\): argument 'shift' is for dtype='int8' only"),
    (lambda: _nn.dense(X3, W4[0, 0], B[:3], mult=B[:3]), ValueError,
     r"dense\(\): argument 'mult' is for dtype='int8' only"),
    (lambda: _nn.gru(X3, W4[0], W4[0, 0], B, B, acc_scale=B), ValueError,
     r"gru\(\): argument 'acc_scale' is for dtype='int8' only"),
    (lambda: _nn.conv1d(X3, W3, B, stride=(1, 2)), ValueError,
     r"conv1d\(\): argument 'stride' must be an int, got"),
    (lambda: _nn.conv1d(X3, W3, B, padding=(0, 1, 0, 1)), ValueError,
     r"conv1d\(\): argument 'padding' must be an int or \(left, right\), got"),
    (lambda: _nn.dense(Q8, W4, B, dtype="int8"), ValueError,
     r"dense\(\): argument 'w' must be 2-D"),
    (lambda: _nn.act(Q8, "relu", dtype="int8", out_q=(0.1, 0)), ValueError,
     r"act\(\): dtype='int8' needs 'in_q' and 'out_q'"),
    (lambda: _nn.act(Q8, "relu", dtype="int8", in_q=[(0.1, 0)], out_q=(0.1, 0),
                     requant="round"), ValueError, r"act\(\): argument 'requant' must be one of"),
    (lambda: _nn.maxpool(X4, (2, 2, 2)), ValueError,
     r"maxpool\(\): argument 'kernel' must be an int or an \(h, w\) pair"),
    (lambda: _nn.avgpool(X3, 0), ValueError, r"avgpool\(\): argument 'kernel' must be in 1"),
    (lambda: _nn.upsample(X4, mode="cubic"), ValueError,
     r"upsample\(\): argument 'mode' must be one of \('nearest', 'bilinear'\)"),
    (lambda: _nn.upsample(X3, scale=(2, 2)), ValueError,
     r"upsample\(\): argument 'scale' must be an int, got"),
    (lambda: _nn.reshape(X4, (1,) * 5), ValueError,
     r"reshape\(\): argument 'shape' must be a tuple of 1 to 4 ints"),
    (lambda: _nn.reshape(X4, (-2, 54)), ValueError,
     r"reshape\(\): argument 'shape' must be in -1\.\."),
    (lambda: _nn.batchnorm(X4, B[:3], B[:3], eps=1e-3), TypeError,
     r"batchnorm\(\): unexpected keyword argument 'eps'"),
    (lambda: _nn.gru(X3, W4, B, B, B), ValueError, r"gru\(\): argument 'w_hh' must be 2-D"),
    (lambda: _nn.attention(X3, W4, B, W4, B), ValueError,
     r"attention\(\): argument 'w_o' must be 2-D"),
    (lambda: _nn.attention(Q8, W4[0, 0], B, W4[0, 0], B, dtype="int8"), ValueError,
     r"attention\(\): dtype must be 'float32'"),
    (lambda: _nn.layer("conv3d", [X4]), ValueError, r"layer\(\): argument 'op' must be one of"),
    (lambda: _nn.layer(["add"], [X4]), ValueError, r"layer\(\): argument 'op' must be one of"),
]


@pytest.mark.parametrize("call,err,what", BAD_KEYWORDS)
def test_keyword_api_rejects_bad_arguments(call, err, what):
    """gaba._nn's own checks: each names the function and the argument."""
    with pytest.raises(err, match=what):
        call()


def test_layer_reproducers_and_argument_ranges():
    """The reproducers: input 0 of one sample beside an input of 1000 (rows 1..999 were read
    past input 0's end); op, act, impl and params out of range or of the wrong type."""
    one, many = np.ones((1, 64), np.float32), np.ones((1000, 64), np.float32)
    with pytest.raises(ValueError, match="one batch"):
        _gaba.nn_layer(zoo.OPS["add"], 0, [0], [one, many], [], 1)
    x = [rand((2, 4), seed=72)]
    for op, act, params, impl, err, what in [
            (len(zoo.OPS), 0, [], 0, ValueError, f"'op' must be in 0..{len(zoo.OPS) - 1}"),
            (-1, 0, [], 0, ValueError, "'op'"),
            (2**63, 0, [], 0, ValueError, "'op'"),
            (zoo.OPS["act"], len(zoo.ACTS), [], 0, ValueError, "'act' must be in 0..5"),
            (zoo.OPS["act"], 0, [], 2, ValueError, "'impl'"),
            (zoo.OPS["act"], 0, [1] * 13, 0, ValueError, "'params' holds at most 12"),
            (zoo.OPS["dense"], 0, [2**31], 0, ValueError, "'params' must be in"),
            (zoo.OPS["dense"], 0, [1.0], 0, TypeError, "'params' must be an int"),
            (zoo.OPS["dense"], 0, 4, 0, TypeError, "params"),
            (zoo.OPS["act"], 0, [], None, TypeError, "'impl'"),
            ("act", 0, [], 0, TypeError, "'op'"),
            (zoo.OPS["act"], 0.5, [], 0, TypeError, "'act'")]:
        with pytest.raises(err, match=what):
            _gaba.nn_layer(op, act, params, x, [], impl)
    # float32 inputs only (int32 ids for the embedding)
    with pytest.raises(TypeError, match=r"'inputs\[0\]' must have dtype float32"):
        _gaba.nn_layer(zoo.OPS["act"], 0, [], [np.ones((2, 4), np.int32)], [], 0)
    with pytest.raises(ValueError, match="1 to 4 arrays"):
        _gaba.nn_layer(zoo.OPS["concat"], 0, [], x * 5, [], 0)
    with pytest.raises(ValueError, match="does not take"):  # conv2d on a 1-D sample
        _gaba.nn_layer(zoo.OPS["conv2d"], 0, [1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1], x, [], 0)
    with pytest.raises(TypeError, match="'eps'"):
        _gaba.nn_batchnorm_fold(*[rand((2, 3), seed=73)] + [rand((2,), seed=74)] * 5, "1e-5")


@pytest.mark.parametrize("op,params,shape", [
    ("upsample", [3, 2**30, 0], (2, 9, 4)),  # 4 * 2^30 columns, truncated to 0
    ("upsample", [1, 2**30 + 1, 0], (2, 4)),  # 4 (2^30 + 1) = 2^32 + 4: truncated to 4
    ("conv2d", [1, 1, 1, 1, 1, 2**31 - 1, 0, 2**31 - 1, 0, 1, 1, 1], (2, 9, 4)),
    ("maxpool", [1, 1, 1, 1, 0, 0, 2**31 - 1, 2**31 - 1], (2, 9, 4)),
    ("gru", [2**30, 0], (2, 9)),  # 3 hidden overflows int32
    ("attention", [2**30], (2, 9))])
def test_layer_rejects_sizes_past_int32(op, params, shape):
    """Parameters that make an output or weight dimension leave int32 raise ValueError
    (an output dimension was truncated, so the kernel wrote past a smaller output)."""
    with pytest.raises(ValueError, match="does not take these params"):
        _nn.layer(op, [rand((1,) + shape, seed=75)], [], params)


def test_conv_matches_torch():
    torch = pytest.importorskip("torch")
    x = rand((2, 8, 12, 12), seed=48)
    w, b = he((8, 1, 3, 3), 49), rand((8,), seed=50)
    got = _nn.conv2d(x, w, b, stride=2, padding=1, groups=8)
    want = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w),
                                      torch.from_numpy(b), stride=2, padding=1, groups=8)
    nn_close(got, want.numpy(), 9)
    up = _nn.upsample(x, scale=2, mode="bilinear")
    want_up = torch.nn.functional.interpolate(torch.from_numpy(x), scale_factor=2,
                                              mode="bilinear", align_corners=False)
    nn_close(up, want_up.numpy(), 4)


def layer_norm_np(x, gamma, beta, eps):
    """x (N, C, ...) normalized over C in float64, biased variance."""
    x = x.astype(np.float64)
    per = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(1, keepdims=True)
    var = ((x - mean) ** 2).mean(1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma.reshape(per) + beta.reshape(per)


@pytest.mark.parametrize("reference", IMPLS)
@pytest.mark.parametrize("shape,eps_e9", [
    ((1, 5), 0),         # one channel: y = beta
    ((5, 7), 0),         # fewer positions than a vector
    ((13, 17), 0),       # a full 16-lane body and a tail of 1
    ((64, 50), 0),       # the zoo's post-attention shape
    ((3, 5, 9), 0),      # (C, H, W): 45 positions
    ((37, 33), 1000),    # eps 1e-6
    ((8, 24), 100_000_000)])  # eps 0.1, larger than some variances
def test_layer_norm(shape, eps_e9, reference):
    """LayerNorm over the channels of each position against NumPy in float64 and
    torch.nn.LayerNorm(C) on x with the channels moved last; values offset by 50
    (a one-pass variance would cancel), some positions constant (var 0)."""
    c = shape[0]
    x = rand((3,) + shape, seed=40 + c) * 3 + 50
    x[1, :, 0] = 7.0
    gamma = rand((c,), seed=41, low=-2, high=2)
    beta = rand((c,), seed=42)
    eps = eps_e9 * 1e-9 if eps_e9 else 1e-5
    got = _nn.layer_norm(x, gamma, beta, eps=eps, reference=reference)
    nn_close(got, layer_norm_np(x, gamma, beta, eps), 2 * c)
    torch = pytest.importorskip("torch")
    ln = torch.nn.LayerNorm(c, eps=eps)
    with torch.no_grad():
        ln.weight.copy_(torch.from_numpy(gamma))
        ln.bias.copy_(torch.from_numpy(beta))
        want = ln(torch.from_numpy(x).movedim(1, -1)).movedim(-1, 1).numpy()
    nn_close(got, want, 2 * c)


def test_layer_norm_rejects():
    """A fused activation, a negative eps and weights of the wrong length are refused."""
    x = rand((2, 4, 6), seed=1)
    w = np.ones(4, np.float32)
    with pytest.raises(ValueError, match="op layer_norm does not take these params, act"):
        _nn.layer_norm(x, w, w, activation="relu")
    with pytest.raises(ValueError, match="op layer_norm does not take these params, act"):
        _nn.layer("layer_norm", [x], [w, w], [-1])
    with pytest.raises(ValueError, match="argument 'eps' must be a number from 1e-9"):
        _nn.layer_norm(x, w, w, eps=0.0)
    with pytest.raises(ValueError, match="weight 'weight' has 3 values, op layer_norm needs 4"):
        _nn.layer_norm(x, w[:3], w[:3])
