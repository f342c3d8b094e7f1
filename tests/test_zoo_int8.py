"""INT8 inference of the zoo: every int8 op's fast kernel bit-exact against its
C reference and an integer NumPy reference (gaba.ref.zoo_int8); every model
quantizes and runs, fast == reference bit for bit, SQNR against float above
the documented floor of its category, determinism, batch consistency, raw
int8 edges."""
import numpy as np
import pytest

from gaba import _nn, zoo
from gaba._ext import _gaba
from gaba.benchmarks.bench_zoo import make_inputs
from gaba.ref import zoo_int8 as R
from gaba.ref.gemm import quantize_multiplier

ALL = zoo.names()
# SQNR floors (dB) of the int8 model against float on random inputs, per category
# (docs/int8.md): the lowest measured value of the category, rounded down, minus
# a margin; the low ones are small regressors/classifiers whose outputs span
# few quantization steps.
SQNR_FLOOR = {"vision": 20.0, "audio": 8.0, "sensor": 8.0, "reference": 10.0}


def q8(rng, *shape):
    return rng.integers(-128, 128, shape).astype(np.int8)


def f32(v):
    return float(np.float32(v))


def both(fn, *args, **kw):
    """fn(*args, **kw) in int8 by the fast and the reference kernels, equal bit for bit."""
    fast = fn(*args, dtype="int8", **kw)
    np.testing.assert_array_equal(fast, fn(*args, dtype="int8", reference=True, **kw))
    return fast


def conv(x, w, b, m, s, p, **kw):
    """both() of the int8 conv of parameters p = nn.h's conv p[] (the tables below), w as
    (c_out, per): conv1d on x (N, C, L), conv2d on x (N, C, H, W)."""
    co, kh, kw_, sh, sw, pt, pl, pb, pr, dh, dw, g = p
    if x.ndim == 3:
        return both(_nn.conv1d, x, w.reshape(co, -1, kw_), b, mult=m, shift=s, stride=sw,
                    padding=(pl, pr), dilation=dw, groups=g, **kw)
    return both(_nn.conv2d, x, w.reshape(co, -1, kh, kw_), b, mult=m, shift=s, stride=(sh, sw),
                padding=(pt, pl, pb, pr), dilation=(dh, dw), groups=g, **kw)


def weights(rng, co, per, in_scale, out_scale, requant="double"):
    w = rng.integers(-127, 128, (co, per)).astype(np.int8)
    wsc = rng.uniform(0.002, 0.02, co)
    b = rng.integers(-3000, 3000, co).astype(np.int32)
    ratios = [np.float32(in_scale) * np.float32(x) / np.float32(out_scale) for x in wsc]
    ms = multipliers(ratios, requant)
    return (w, b) + ms


def multipliers(scales, requant):
    """Per-channel (mult, shift) int32 arrays: TFLite's Q31 pairs or fp32 scales (qnn.h)."""
    ms = [quantize_multiplier(float(v)) if requant == "double" else R.fp32_multiplier(v)
          for v in scales]
    return np.array([a for a, _ in ms], np.int32), np.array([c for _, c in ms], np.int32)


REQUANT = pytest.mark.parametrize("requant", ["double", "fp32"])


CONVS = [  # (C, H, W), params {c_out, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups}, act
    ((3, 9, 11), (8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1), "relu"),
    ((4, 8, 8), (6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1), "none"),
    ((6, 7, 9), (6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6), "relu6"),
    ((6, 10, 10), (6, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 6), "none"),
    ((6, 10, 10), (6, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 6), "relu6"),  # TF "same", stride 2
    ((5, 9, 21), (5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5), "relu"),
    ((4, 12, 12), (4, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 4), "none"),  # dilated depthwise
    ((4, 6, 6), (8, 3, 3, 1, 1, 0, 0, 1, 1, 1, 1, 2), "relu"),
    ((5, 1, 33), (7, 1, 3, 1, 1, 0, 4, 0, 0, 1, 2, 1), "none"),  # causal dilated conv1d
    # c_out not a multiple of the 6- or 8-row tiles, pixels past a 48-pixel tile, K % 4 != 0
    ((5, 13, 17), (20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), "relu6"),
    ((12, 9, 14), (13, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1), "relu"),  # pointwise, 126 pixels
    # rows longer than the 256-pixel slab: split into runs of one row
    ((3, 1, 601), (5, 1, 3, 1, 2, 0, 1, 0, 1, 1, 1, 1), "none"),
    ((4, 1, 530), (9, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1), "relu"),
    # rows wide enough for the 16-column im2col path (stride 1, 2, dilated)
    ((3, 6, 70), (8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), "relu"),
    ((3, 7, 75), (8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1), "relu6"),
    ((8, 1, 100), (6, 1, 3, 1, 1, 0, 4, 0, 0, 1, 2, 1), "none"),
    # depthwise kernels covering the whole input (one output per channel)
    ((6, 1, 96), (6, 1, 96, 1, 1, 0, 0, 0, 0, 1, 1, 6), "none"),
    ((5, 7, 9), (5, 7, 9, 1, 1, 0, 0, 0, 0, 1, 1, 5), "relu"),
    # reductions past the AVX2 product's 1024-step weight block (partial sums kept
    # between blocks): K = 1107 (K % 4 = 3) and a pointwise K = 1030
    ((123, 5, 7), (7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), "relu"),
    ((1030, 2, 9), (13, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1), "none"),
    # short reductions (the image stems, K <= 64) at the zoo's geometries on widths
    # not a multiple of 16: 3x3 stride 2 and 1 (K = 27), the 4x4 stride-4 patch stem
    # (K = 48), 5x5 stride 4 (K = 25), 1 channel (K = 9), grouped (K = 9, 8 groups)
    ((3, 33, 37), (8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1), "relu"),
    ((3, 20, 45), (16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), "relu6"),
    ((3, 16, 36), (24, 4, 4, 4, 4, 0, 0, 0, 0, 1, 1, 1), "none"),
    ((1, 22, 50), (16, 5, 5, 4, 4, 2, 2, 2, 2, 1, 1, 1), "relu"),
    ((1, 9, 40), (16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), "relu"),
    ((8, 13, 19), (32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 8), "relu"),
    # the same path up to K = 256 and 64 kernel rows: a conv1d of k 5 over 24
    # channels (K = 120), a causal dilated TCN layer (K = 96), 3x3 over 21
    # channels (K = 189, 63 kernel rows), k 4 over 64 channels (K = 256)
    ((24, 1, 150), (8, 1, 5, 1, 1, 0, 2, 0, 2, 1, 1, 1), "none"),
    ((32, 1, 64), (32, 1, 3, 1, 1, 0, 8, 0, 0, 1, 4, 1), "relu"),
    ((21, 6, 40), (9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), "relu"),
    ((64, 1, 70), (5, 1, 4, 1, 1, 0, 3, 0, 0, 1, 1, 1), "relu6"),
    # padding on all sides, unequal; c_out not a multiple of the tile; strides 3, 4;
    # dilation; kernels narrower than 3 and strides past 4 (the per-tap and generic
    # paths); a row longer than the slab; an input smaller than the kernel's reach
    ((3, 18, 38), (13, 4, 4, 4, 4, 1, 2, 2, 1, 1, 1, 1), "relu6"),
    ((3, 11, 29), (13, 3, 3, 2, 2, 0, 1, 2, 1, 1, 1, 1), "none"),
    ((2, 17, 70), (5, 3, 3, 4, 4, 1, 1, 1, 1, 1, 1, 1), "relu"),
    ((3, 14, 50), (7, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1), "none"),
    ((2, 12, 40), (6, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1), "relu"),
    ((4, 9, 35), (6, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1), "none"),
    ((3, 10, 33), (5, 2, 2, 2, 2, 0, 1, 1, 0, 1, 1, 1), "relu"),
    ((2, 8, 60), (4, 3, 3, 5, 5, 1, 1, 1, 1, 1, 1, 1), "none"),
    ((3, 4, 300), (8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), "relu"),
    ((1, 2, 3), (4, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1, 1), "none"),
]


@pytest.mark.kernels
@REQUANT
@pytest.mark.parametrize("case", range(len(CONVS)))
def test_conv_int8(case, requant):
    shape, p, act = CONVS[case]
    rng = np.random.default_rng(case)
    x = q8(rng, 2, *shape)
    is1d = shape[1] == 1
    if is1d:
        x = x[:, :, 0, :].copy()
    co, kh, kw, g = p[0], p[1], p[2], p[11]
    s_in, s_out, zx, zy = f32(0.05), f32(0.1), 7, -3
    w, b, m, s = weights(rng, co, shape[0] // g * kh * kw, s_in, s_out, requant)
    y = conv(x, w, b, m, s, p, activation=act, in_q=(s_in, zx), out_q=(s_out, zy))
    lo, hi = R.clamp_for(act, s_out, zy)
    for n in range(2):
        xn = x[n][:, None, :] if is1d else x[n]
        want = R.conv(xn, zx, w.reshape(co, shape[0] // g, kh, kw), b, m, s, zy, lo, hi,
                      stride=(p[3], p[4]), pad=(p[5], p[6], p[7], p[8]), dilation=(p[9], p[10]),
                      groups=g)
        np.testing.assert_array_equal(y[n], want[:, 0, :] if is1d else want)


def extreme_weights(rng, co, per):
    """Rows of all +127, all -127, alternating, then random +-127."""
    w = np.where(rng.random((co, per)) < 0.5, 127, -127).astype(np.int8)
    w[0], w[1], w[2] = 127, -127, np.resize([127, -127], per)
    return w


@pytest.mark.kernels
@REQUANT
@pytest.mark.parametrize("x_fill", [127, None])
def test_conv_int8_extremes(x_fill, requant):
    """All-255 packed activations (x = 127, zx = -128) against +-127 weights with
    K = 603 (K % 4 = 3): the pairwise int16 products overflow int16, the sums
    need int32. 7 channels (not a multiple of the tile rows), 15 pixels."""
    rng = np.random.default_rng(11)
    c, co, zx, zy = 67, 7, -128, 3
    x = np.full((1, c, 3, 5), 127, np.int8) if x_fill else \
        np.where(rng.random((1, c, 3, 5)) < 0.5, 127, -128).astype(np.int8)
    w = extreme_weights(rng, co, c * 9)
    b = rng.integers(-3000, 3000, co).astype(np.int32)
    m, s = multipliers(rng.uniform(2e-6, 5e-6, co).astype(np.float32), requant)
    p = (co, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1)
    y = conv(x, w, b, m, s, p, in_q=(1.0, zx), out_q=(1.0, zy))
    want = R.conv(x[0], zx, w.reshape(co, c, 3, 3), b, m, s, zy, -128, 127, pad=(1, 1, 1, 1))
    np.testing.assert_array_equal(y[0], want)
    assert np.any((y > -128) & (y < 127)), "the case must not only clamp"


@pytest.mark.kernels
@REQUANT
@pytest.mark.parametrize("x_fill", [127, -128, None])
@pytest.mark.parametrize("shape,p", [
    ((3, 9, 21), (9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1)),
    ((3, 8, 20), (7, 4, 4, 4, 4, 0, 0, 0, 0, 1, 1, 1)),
    ((1, 9, 23), (5, 5, 5, 4, 4, 2, 2, 2, 2, 1, 1, 1)),
])
def test_conv_int8_short_extremes(x_fill, shape, p, requant):
    """Short reductions (K = 27, 48, 25) on inputs of all 127 (255 after + 128),
    all -128 (0), or a random mix, zero point -128 (the padding is 0 after + 128)
    or 127, with +-127 weights."""
    rng = np.random.default_rng(13)
    co, kh, kw = p[0], p[1], p[2]
    x = np.full((1,) + shape, x_fill, np.int8) if x_fill is not None else \
        np.where(rng.random((1,) + shape) < 0.5, 127, -128).astype(np.int8)
    w = extreme_weights(rng, co, shape[0] * kh * kw)
    b = rng.integers(-3000, 3000, co).astype(np.int32)
    m, s = multipliers(rng.uniform(2e-4, 5e-4, co).astype(np.float32), requant)
    for zx in (-128, 127):
        y = conv(x, w, b, m, s, p, in_q=(1.0, zx), out_q=(1.0, 3))
        want = R.conv(x[0], zx, w.reshape(co, shape[0], kh, kw), b, m, s, 3, -128, 127,
                      stride=(p[3], p[4]), pad=(p[5], p[6], p[7], p[8]))
        np.testing.assert_array_equal(y[0], want)


@pytest.mark.kernels
@REQUANT
def test_dense_int8_extremes(requant):
    """Dense with x = 127 (255 after + 128, zx = -128) and +-127 weights over
    1007 inputs (not a multiple of the 16-step dot product), 6 outputs."""
    rng = np.random.default_rng(12)
    f, n_out = 1007, 6
    x = np.full((1, f), 127, np.int8)
    w = extreme_weights(rng, n_out, f)
    b = rng.integers(-3000, 3000, n_out).astype(np.int32)
    m, s = multipliers(rng.uniform(2e-6, 3e-6, n_out).astype(np.float32), requant)
    y = both(_nn.dense, x, w, b, mult=m, shift=s, in_q=(1.0, -128), out_q=(1.0, 0))
    np.testing.assert_array_equal(y[0], R.dense(x[0], -128, w, b, m, s, 0, -128, 127))
    assert np.any((y > -128) & (y < 127)), "the case must not only clamp"


DEPTHWISE = [  # (C, H, W), params as CONVS (groups = C = c_out), input zero point
    ((3, 5, 17), (3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), -128),  # width past 16
    ((2, 9, 33), (2, 3, 3, 1, 1, 0, 2, 2, 1, 1, 1), 127),  # uneven pads, 33 wide
    ((3, 11, 50), (3, 3, 3, 2, 2, 1, 0, 0, 1, 1, 1), -128),  # stride 2, pads on one side
    ((2, 13, 13), (2, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2), 127),  # stride 2, dilation 2
    ((2, 14, 40), (2, 3, 3, 1, 1, 3, 0, 1, 3, 2, 2), 0),  # dilation 2, pads past the taps
    ((2, 7, 65), (2, 3, 3, 1, 2, 1, 1, 1, 1, 1, 1), 5),  # stride 1 down, 2 across
    ((3, 6, 9), (3, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1), -3),  # stride 2 down, 1 across
    ((2, 1, 70), (2, 1, 3, 1, 1, 0, 2, 0, 0, 1, 2), 127),  # a 1xN plane, causal, dilated
    ((2, 3, 1), (2, 3, 1, 1, 1, 1, 0, 1, 0, 1, 1), -128),  # an Nx1 plane
    ((2, 12, 20), (2, 5, 3, 1, 1, 2, 1, 2, 1, 1, 1), 9),  # 5 rows of 3 taps
    ((2, 8, 30), (2, 3, 4, 1, 2, 1, 1, 2, 2, 1, 3), -60),  # 4 taps, dilation 3, stride 2
    ((2, 9, 19), (2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 7), 11),  # dilation past a 16-byte lane
    ((2, 4, 150), (2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), 3),  # wide: inner chunks read in place
    ((2, 5, 151), (2, 3, 5, 1, 2, 1, 2, 1, 2, 1, 1), -7),  # stride 2, wide, 5 taps (pairs + one)
    ((2, 1, 123), (2, 1, 5, 1, 1, 0, 16, 0, 16, 1, 8), 100),  # 1xN, dilation 8, 5 taps
    ((2, 3, 60), (2, 3, 3, 1, 1, 1, 20, 1, 20, 1, 1), -1),  # pads past a chunk: several strips
    ((2, 2, 8), (2, 2, 3, 1, 2, 0, 1, 1, 1, 1, 3), 4),  # stride 2, dilation 3, 8 wide
    # kernels 5 to 8 wide read in place as two quadruples per row: the zoo's
    # conv1d (5 taps: stride 2, dilation 2), 7 and 8 taps, stride 3, 5x5, 3x7 dilated
    ((3, 1, 49), (3, 1, 5, 1, 1, 0, 2, 0, 2, 1, 1), -128),
    ((2, 1, 49), (2, 1, 5, 1, 2, 0, 2, 0, 2, 1, 1), 17),
    ((2, 1, 25), (2, 1, 5, 1, 1, 0, 4, 0, 4, 1, 2), 127),
    ((2, 1, 40), (2, 1, 7, 1, 1, 0, 6, 0, 0, 1, 1), -5),
    ((2, 1, 70), (2, 1, 8, 1, 3, 0, 3, 0, 4, 1, 1), 0),
    ((2, 11, 23), (2, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1), 8),
    ((2, 9, 37), (2, 3, 7, 1, 1, 1, 6, 1, 6, 1, 2), -77),
    # the zoo's small planes, 8 and 4 outputs wide: most of the 16 lanes past
    # the row, heights off the 4-row block, stride 2, dilation, 5x5
    ((3, 8, 8), (3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), -128),
    ((3, 4, 4), (3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), 127),
    ((2, 8, 8), (2, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1), 5),  # TF "same", stride 2, to 4x4
    ((2, 16, 16), (2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1), -7),  # stride 2, to 8x8
    ((2, 7, 8), (2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), 3),  # 7 rows
    ((2, 5, 4), (2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), -1),  # 5 rows of 4
    ((2, 10, 8), (2, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1), 9),  # 5x5: two quadruples
    ((2, 12, 12), (2, 3, 3, 1, 1, 0, 0, 0, 0, 2, 2), 0),  # dilation 2, to 8x8
    ((2, 6, 12), (2, 3, 5, 1, 1, 1, 0, 1, 0, 1, 1), -50),  # 12 wide in, 8 out
    ((2, 6, 4), (2, 3, 3, 1, 1, 2, 2, 0, 0, 1, 1), 77),  # pads top and left only
    ((2, 9, 9), (2, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1), 2),  # 4x4 out of rows 9 wide
    # 3x3 "same" planes of up to 64 values, 8 wide, run as one flat row: the
    # zoo's 5x5, 7x9 (4 blocks), one row, one column (both of a row's edges
    # in a lane), and 9 x 7 (65 values: the row passes)
    ((3, 5, 5), (3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), 11),
    ((2, 8, 7), (2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), -100),
    ((2, 1, 8), (2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), 40),
    ((2, 9, 1), (2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), -9),
    ((2, 9, 7), (2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), 6),
]


@pytest.mark.kernels
@REQUANT
@pytest.mark.parametrize("case", range(len(DEPTHWISE)))
def test_dwconv_int8(case, requant):
    """The in-place depthwise kernel's edges: widths off the 16-output chunk,
    pads on every side, strides, dilation, thin planes, the input zero point
    at both ends, weights at both ends (and zero), accumulators at the
    edges of the output stage."""
    shape, p, zx = DEPTHWISE[case]
    rng = np.random.default_rng(100 + case)
    c, kh, kw = shape[0], p[1], p[2]
    x = q8(rng, 2, *shape)
    x[0, 0] = -128  # a plane of the extreme value either side
    x[0, -1] = 127
    s_in, s_out, zy = f32(0.05), f32(0.1), -3
    w, b, m, s = weights(rng, c, kh * kw, s_in, s_out, requant)
    w[0] = -128
    w[-1] = 127
    w[-1, ::2] = 0
    for act in ("none", "relu6"):
        y = conv(x, w, b, m, s, list(p) + [c], activation=act, in_q=(s_in, zx),
                 out_q=(s_out, zy))
        lo, hi = R.clamp_for(act, s_out, zy)
        for n in range(2):
            want = R.conv(x[n], zx, w.reshape(c, 1, kh, kw), b, m, s, zy, lo, hi,
                          stride=(p[3], p[4]), pad=(p[5], p[6], p[7], p[8]),
                          dilation=(p[9], p[10]), groups=c)
            np.testing.assert_array_equal(y[n], want)


@pytest.mark.kernels
@pytest.mark.parametrize("op_kind", ["pointwise", "depthwise", "dense"])
def test_requant_ties(op_kind):
    """The output stage at and next to its rounding ties: multipliers 2^30 and
    2^30 +- 1 (Q31 0.5) with right shifts 0..31 put acc M / 2^(31 + r) on a
    half integer (TFLite rounds the high product half up, the shift half away
    from zero) or within 2^-31 of one, where the AVX-512 float estimate of
    the double rounding must hand over to the integer path."""
    rng = np.random.default_rng(77)
    shifts = [0, -1, -2, -3, -5, -8, -11, -12, -13, -16, -20, -24, -30, -31]
    mults = [1 << 30, (1 << 30) + 1, (1 << 30) - 1, 3 << 28, (1 << 31) - 1]
    pairs = [(mm, sh) for sh in shifts for mm in mults]
    co = len(pairs)
    m = np.array([a for a, _ in pairs], np.int32)
    s = np.array([c for _, c in pairs], np.int32)
    zx, zy = 3, -5
    b = rng.integers(-100, 100, co).astype(np.int32)
    if op_kind == "dense":  # 16 outputs a vector: 300 samples give each channel 300 sums
        x = q8(rng, 300, 4)
        w = rng.integers(-3, 4, (co, 4)).astype(np.int8)
        for act in ("none", "relu"):
            lo, hi = R.clamp_for(act, 1.0, zy)
            y = both(_nn.dense, x, w, b, mult=m, shift=s, activation=act, in_q=(1.0, zx),
                     out_q=(1.0, zy))
            for n in range(len(x)):
                np.testing.assert_array_equal(y[n], R.dense(x[n], zx, w, b, m, s, zy, lo, hi))
        acc = (x.astype(np.int64) - zx) @ w.T.astype(np.int64) + b  # (samples, co)
        _assert_ties_reached(acc.T, pairs)
        return
    if op_kind == "pointwise":
        c_in, kh = 4, 1
        x = q8(rng, 1, c_in, 3, 41)
        w = rng.integers(-3, 4, (co, c_in)).astype(np.int8)  # small sums: few clamp
        p, groups = (co, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1), 1
    else:
        c_in, kh = co, 3
        x = q8(rng, 1, co, 5, 37)
        w = rng.integers(-3, 4, (co, 9)).astype(np.int8)
        p, groups = (co, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, co), co
    w4 = w.reshape(co, c_in // groups, kh, kh)
    geom = dict(pad=(kh // 2,) * 4, groups=groups)
    want = R.conv(x[0], zx, w4, b, m, s, zy, -128, 127, **geom)
    for act in ("none", "relu"):
        lo, hi = R.clamp_for(act, 1.0, zy)
        y = conv(x, w, b, m, s, p, activation=act, in_q=(1.0, zx), out_q=(1.0, zy))
        np.testing.assert_array_equal(y[0], np.clip(want, lo, hi))
    _assert_ties_reached(R.conv_acc(x[0], zx, w4, b, **geom).reshape(co, -1), pairs)


def _assert_ties_reached(acc, pairs):
    """The case must reach the ties: with M = 2^30, acc M / 2^(31 + r) is a
    half integer where acc = 2^r mod 2^(r + 1), and the output not clamped
    (acc: channels x values)."""
    for i, (mm, sh) in enumerate(pairs):
        if mm == 1 << 30 and -sh <= 5:
            r = -sh
            tie = (acc[i] % (1 << (r + 1)) == (1 << r)) & (np.abs(acc[i]) < (100 << (r + 1)))
            assert np.count_nonzero(tie) > 0, r


@pytest.mark.kernels
@REQUANT
@pytest.mark.parametrize("act", ["none", "relu", "relu6"])
def test_dense_int8(act, requant):
    rng = np.random.default_rng(1)
    x = q8(rng, 3, 4, 10)
    s_in, s_out, zx, zy = f32(0.03), f32(0.07), -20, 5
    w, b, m, s = weights(rng, 13, 40, s_in, s_out, requant)
    y = both(_nn.dense, x, w, b, mult=m, shift=s, activation=act, in_q=(s_in, zx),
             out_q=(s_out, zy))
    lo, hi = R.clamp_for(act, s_out, zy)
    for n in range(3):
        np.testing.assert_array_equal(y[n], R.dense(x[n], zx, w, b, m, s, zy, lo, hi))


@pytest.mark.kernels
@REQUANT
@pytest.mark.parametrize("n_out,n_in", [(7, 130), (1, 64), (9, 3)])
def test_dense_int8_shapes(n_out, n_in, requant):
    """Dense widths around the 64-byte dot product and outputs around its 4 rows."""
    rng = np.random.default_rng(n_in)
    x = q8(rng, 2, n_in)
    s_in, s_out, zx, zy = f32(0.04), f32(0.09), 3, -7
    w, b, m, s = weights(rng, n_out, n_in, s_in, s_out, requant)
    y = both(_nn.dense, x, w, b, mult=m, shift=s, activation="relu", in_q=(s_in, zx),
             out_q=(s_out, zy))
    lo, hi = R.clamp_for("relu", s_out, zy)
    for k in range(2):
        np.testing.assert_array_equal(y[k], R.dense(x[k], zx, w, b, m, s, zy, lo, hi))


@pytest.mark.kernels
def test_requantize_extremes():
    """The vector output stage at the edges of int32 (large accumulators, shifts
    either way) against the library's scalar requantization."""
    rng = np.random.default_rng(2)
    x = q8(rng, 1, 64)
    w = np.full((40, 64), 127, np.int8)
    w[::2] = -127
    b = rng.integers(-(1 << 30), 1 << 30, 40).astype(np.int32)
    m = rng.integers(1 << 30, (1 << 31) - 1, 40).astype(np.int32)
    s = rng.integers(-20, 3, 40).astype(np.int32)
    y = both(_nn.dense, x, w, b, mult=m, shift=s, in_q=(1.0, 0), out_q=(1.0, 0))
    np.testing.assert_array_equal(y[0], R.dense(x[0], 0, w, b, m, s, 0, -128, 127))


@pytest.mark.kernels
def test_fp32_requantize():
    """The fp32 output stage (qnn.h) against its definition in float64: the
    accumulator's conversion to float32 and the float32 product are single
    roundings, then rint half to even: exact ties (accumulators (2j + 1)
    2^(k-1) by scales 2^-k) go to even; products past int32 (scales up to
    2^40) saturate at the clamp without wrapping; zero points at both ends."""
    rng = np.random.default_rng(3)
    x = np.zeros((1, 64), np.int8)  # acc = bias: the accumulators are chosen exactly
    w = rng.integers(-127, 128, (48, 64)).astype(np.int8)
    k = rng.integers(8, 24, 16)
    b = np.concatenate([(2 * rng.integers(-60, 60, 16) + 1) << (k - 1),
                        rng.integers(-(1 << 30), 1 << 30, 32)]).astype(np.int32)
    scales = np.concatenate([np.float32(2.0) ** -k, rng.uniform(1e-7, 1e-3, 16),
                             np.float32(2.0) ** rng.integers(10, 40, 16)]).astype(np.float32)
    m, s = multipliers(scales, "fp32")
    prod = np.float64(b.astype(np.float32)) * np.float64(scales)
    assert np.all(prod[:16] % 1 == 0.5)  # the ties are exact
    for zy in (-128, 0, 127):
        y = both(_nn.dense, x, w, b, mult=m, shift=s, in_q=(1.0, 0), out_q=(1.0, zy))
        want = np.clip(np.rint(prod.astype(np.float32).astype(np.float64)) + zy, -128, 127)
        np.testing.assert_array_equal(y[0], want)
        np.testing.assert_array_equal(y[0], R.dense(x[0], 0, w, b, m, s, zy, -128, 127))


@pytest.mark.kernels
def test_pools_int8():
    rng = np.random.default_rng(3)
    x = q8(rng, 2, 3, 9, 8)
    q = (f32(0.1), 3)
    y = both(_nn.maxpool, x, 2, in_q=q, out_q=q)
    a = both(_nn.avgpool, x, (3, 2), stride=2, in_q=q, out_q=q)
    gm = both(_nn.global_maxpool, x, in_q=q, out_q=q)
    ga = both(_nn.global_avgpool, x, in_q=q, out_q=q)
    for n in range(2):
        np.testing.assert_array_equal(y[n], R.maxpool(x[n], (2, 2), (2, 2)))
        np.testing.assert_array_equal(a[n], R.avgpool(x[n], (3, 2), (2, 2)))
        np.testing.assert_array_equal(gm[n], R.global_pool(x[n], True))
        np.testing.assert_array_equal(ga[n], R.global_pool(x[n], False))
    # average pooling at width stride 1 (OCRNano's 4x1 collapse; 16 outputs a step):
    # rows off 16, windows of 3 and 25 (ties of the mean at +-1/2), the extremes
    x = q8(rng, 2, 5, 8, 37)
    x[0, 0] = 127
    x[0, 1] = -128
    x[1, 2, :, ::2] = 1  # means of 4 (and 2 x 2) values at exact halves
    x[1, 2, :, 1::2] = 2
    for k, s in [((4, 1), (4, 1)), ((1, 3), (1, 1)), ((2, 2), (2, 1)), ((5, 5), (3, 1))]:
        a = both(_nn.avgpool, x, k, stride=s, in_q=q, out_q=q)
        for n in range(2):
            np.testing.assert_array_equal(a[n], R.avgpool(x[n], k, s))


@pytest.mark.kernels
@pytest.mark.parametrize("s", [1, 31, 32, 33, 63, 64, 65, 100, 128, 1024])
def test_global_pools_int8(s):
    """Global pooling around the 32- and 64-value steps, on random values, all -128, all
    127 and exact ties of the mean (+-0.5 rounds away from zero)."""
    rng = np.random.default_rng(s)
    x = np.concatenate([q8(rng, 1, 3, s), np.full((1, 2, s), -128, np.int8),
                        np.full((1, 2, s), 127, np.int8)], axis=1)
    if s % 2 == 0:  # means of -0.5 and 0.5: half the values one more than the rest
        x[0, 0] = np.resize([0, -1], s)
        x[0, 1] = np.resize([0, 1], s)
    q = (f32(0.1), 3)
    for op, is_max in (("global_maxpool", True), ("global_avgpool", False)):
        y = both(getattr(_nn, op), x, in_q=q, out_q=q)
        np.testing.assert_array_equal(y[0], R.global_pool(x[0], is_max))


@pytest.mark.kernels
# rows of 16- and 32-output vector blocks and a tail, 3-row windows, 1-D rows, odd widths
@pytest.mark.parametrize("shape,k,s", [((3, 5, 70), (3, 2), (2, 2)), ((4, 1, 101), (1, 2), (1, 2)),
                                       ((2, 4, 33), (2, 2), (1, 2)), ((2, 3, 40), (1, 3), (1, 3)),
                                       ((2, 2, 64), (2, 2), (2, 2)), ((2, 1, 129), (1, 2), (1, 2))])
def test_maxpool_int8_rows(shape, k, s):
    rng = np.random.default_rng(5)
    x = q8(rng, 2, *shape)
    x[0, 0, 0, :8] = [-128, 127, 127, -128, -128, -128, 5, 5]
    q = (f32(0.1), 3)
    y = both(_nn.maxpool, x, k, stride=s, in_q=q, out_q=q)
    for n in range(2):
        np.testing.assert_array_equal(y[n], R.maxpool(x[n], k, s))


@pytest.mark.kernels
@REQUANT
@pytest.mark.parametrize("op", ["add", "sub", "mul"])
@pytest.mark.parametrize("act", ["none", "relu"])
@pytest.mark.parametrize("bcast", [False, True])
# 700 values: mul's 256-value chunks cross channels; s 1: a per-channel b is elementwise
@pytest.mark.parametrize("c,s", [(5, 12), (7, 100), (33, 1)])
def test_binary_int8(op, act, bcast, requant, c, s):
    rng = np.random.default_rng(4)
    a = q8(rng, 2, c, s)
    b = q8(rng, 2, c) if bcast else q8(rng, 2, c, s)
    qa, qb, qy = (f32(0.05), -4), (f32(0.13), 10), (f32(0.11), -9)
    y = both(getattr(_nn, op), a, b, activation=act, in_q=[qa, qb], out_q=qy, requant=requant)
    lo, hi = R.clamp_for(act, *qy)
    for n in range(2):
        bn = np.broadcast_to(b[n][:, None], a[n].shape) if bcast else b[n]
        if op == "mul":
            want = R.mul(a[n], qa[1], qa[0], bn, qb[1], qb[0], qy[1], qy[0], lo, hi, requant)
        else:
            want = R.add(a[n], qa[1], qa[0], bn, qb[1], qb[0], qy[1], qy[0], lo, hi,
                         subtract=op == "sub", requant=requant)
        np.testing.assert_array_equal(y[n], want)
    if requant == "fp32":  # against the real arithmetic: within 1 LSB of the exact rounding
        fa, fb = qa[0] * (a.astype(np.float64) - qa[1]), qb[0] * (b.astype(np.float64) - qb[1])
        fb = fb[:, :, None] if bcast else fb
        real = fa * fb if op == "mul" else fa - fb if op == "sub" else fa + fb
        exact = np.clip(np.rint(real / qy[0]) + qy[1], lo, hi)
        assert np.abs(y - exact).max() <= 1


@pytest.mark.kernels
@REQUANT
@pytest.mark.parametrize("op", ["add", "sub"])
@pytest.mark.parametrize("bcast", [False, True])
def test_addsub_int8_rows(op, bcast, requant):
    """The add/sub row kernels' vector body and tail (row lengths around 8 and
    16), saturation at both clamp ends and extreme input scale ratios (one
    input rescaled by up to 2^-31 of the other's), against the NumPy reference."""
    rng = np.random.default_rng(9)
    cases = [  # (a scale, zp), (b scale, zp), (y scale, zp), act
        ((f32(0.05), -4), (f32(0.13), 10), (f32(0.11), -9), "none"),
        ((f32(0.5), 127), (f32(0.5), -128), (f32(0.002), 0), "none"),  # saturates both ends
        ((f32(1.0), -128), (f32(3e-10), 127), (f32(0.01), 5), "relu"),  # b: ratio near 2^-31
        ((f32(2e-6), 0), (f32(40.0), -1), (f32(0.3), -100), "none"),
        ((f32(0.02), 3), (f32(0.02), 3), (f32(0.5), -128), "relu"),  # equal scales: ratio 0.5
    ]
    for s in (1, 7, 8, 9, 15, 16, 17, 203):
        for qa, qb, qy, act in cases:
            a = q8(rng, 2, 3, s)
            b = q8(rng, 2, 3) if bcast else q8(rng, 2, 3, s)
            y = both(getattr(_nn, op), a, b, activation=act, in_q=[qa, qb], out_q=qy,
                     requant=requant)
            lo, hi = R.clamp_for(act, *qy)
            for n in range(2):
                bn = np.broadcast_to(b[n][:, None], a[n].shape) if bcast else b[n]
                want = R.add(a[n], qa[1], qa[0], bn, qb[1], qb[0], qy[1], qy[0], lo, hi,
                             subtract=op == "sub", requant=requant)
                np.testing.assert_array_equal(y[n], want, err_msg=f"{s} {qa} {qb} {qy}")
    # both clamp ends reached: a +- b = +-255 and +-256
    a = np.array([[[127] * 9 + [-128] * 9]], np.int8)
    b = a if op == "add" else a[:, :, ::-1].copy()
    y = both(getattr(_nn, op), a, b, in_q=[(f32(0.5), 0), (f32(0.5), 0)], out_q=(f32(0.001), 0),
             requant=requant)
    assert y.min() == -128 and y.max() == 127


@pytest.mark.kernels
@pytest.mark.parametrize("op", ["add", "sub"])
@pytest.mark.parametrize("bcast", [False, True])
def test_addsub_int8_all_pairs(op, bcast):
    """Every (a, b) pair of codes through the default add/sub, whose AVX-512 row
    estimates the output in float32 and takes the integer path near a rounding
    tie (or for the whole row where the estimate's error bound is too wide: the
    output scale 500x finer than the inputs', where only near-cancelling sums
    do not saturate), against the NumPy reference."""
    codes = np.arange(-128, 128, dtype=np.int8)
    a = np.broadcast_to(codes, (256, 256)).copy()[None]  # a[0, i, j] = j - 128
    b = codes[None].copy() if bcast else a.transpose(0, 2, 1).copy()  # b = i - 128
    cases = [((f32(0.05), -4), (f32(0.13), 10), (f32(0.11), -9)),
             ((f32(0.02), 3), (f32(0.021), -3), (f32(0.04), 0)),
             ((f32(0.3), -128), (f32(0.007), 127), (f32(0.29), 1)),
             ((f32(1.0), 0), (f32(1.0), 0), (f32(0.05), 0)),
             ((f32(1.0), 0), (f32(0.5), 0), (f32(0.01), 0)),
             ((f32(1.0), 0), (f32(0.9), 0), (f32(0.002), 0))]  # near-cancelling sums
    for qa, qb, qy in cases:
        for act in ("none", "relu"):
            y = both(getattr(_nn, op), a, b, activation=act, in_q=[qa, qb], out_q=qy)
            lo, hi = R.clamp_for(act, *qy)
            bn = np.broadcast_to(b[0][:, None], a[0].shape) if bcast else b[0]
            want = R.add(a[0], qa[1], qa[0], bn, qb[1], qb[0], qy[1], qy[0], lo, hi,
                         subtract=op == "sub")
            np.testing.assert_array_equal(y[0], want, err_msg=f"{qa} {qb} {qy} {act}")


@pytest.mark.kernels
def test_concat_clamp_reshape_int8():
    rng = np.random.default_rng(5)
    xs = [q8(rng, 2, 3, 300), q8(rng, 2, 2, 300), q8(rng, 2, 1, 300)]
    qs = [(f32(0.1), 2), (f32(0.25), -7), (f32(0.1), 2)]
    y = both(_nn.concat, xs, in_q=qs, out_q=(f32(0.1), 2))
    for n in range(2):
        np.testing.assert_array_equal(y[n], R.concat([x[n] for x in xs], qs, 2, f32(0.1)))
    # The rescaled input against the exact rounding of s_i (q - zp_i) / s_y (as
    # TFLite's float concat): the 20-bit shift keeps MBQM's double rounding fine,
    # so at most 1 LSB off and only next to ties (a ratio in [0.25, 0.5) was one
    # value in four off without it). Ratios without exact ties.
    for ratio in (2.7, 0.37):
        sy = f32(0.25 / ratio)
        x = q8(rng, 1, 2, 500)
        got = both(_nn.concat, [x, q8(rng, 1, 1, 500)], in_q=[(f32(0.25), -7)] * 2,
                   out_q=(sy, 2))
        exact = np.float64(f32(0.25)) / np.float64(sy) * (x[0].astype(np.float64) + 7)
        want = np.clip(np.sign(exact) * np.floor(np.abs(exact) + 0.5) + 2, -128, 127)
        diff = np.abs(got[0, :2].astype(np.int64) - want)
        assert diff.max() <= 1 and np.mean(diff > 0) <= 0.01, (ratio, np.mean(diff > 0))
    x = xs[0]
    for act in ("relu", "relu6"):
        c = both(_nn.act, x, act, in_q=qs[0], out_q=qs[0])
        lo, hi = R.clamp_for(act, *qs[0])
        np.testing.assert_array_equal(c, np.clip(x, lo, hi))
    r = both(_nn.reshape, x, (30, 30), in_q=qs[0], out_q=qs[0])
    np.testing.assert_array_equal(r, x.reshape(2, 30, 30))
    t = both(_nn.transpose, x, in_q=qs[0], out_q=qs[0])
    np.testing.assert_array_equal(t, x.transpose(0, 2, 1))
    u = both(_nn.upsample, x[:, :, :10].copy(), scale=2, in_q=qs[0], out_q=qs[0])
    np.testing.assert_array_equal(u, np.repeat(x[:, :, :10], 2, axis=2))


@pytest.mark.kernels
@pytest.mark.parametrize("sh, sw", [(1, 2), (2, 2), (1, 1), (3, 3)])
def test_upsample_nearest_int8(sh, sw):
    """Nearest upsampling moves int8 values: widths around the fast kernel's
    16- and 32-byte steps, 1-D (C, L) and 2-D planes, against np.repeat."""
    rng = np.random.default_rng(10 * sh + sw)
    q = (f32(0.05), 3)
    for w in (1, 15, 16, 17, 32, 47, 64, 100):
        x = q8(rng, 2, 3, w)
        if sh == 1:
            y = both(_nn.upsample, x, scale=sw, in_q=q, out_q=q)
            np.testing.assert_array_equal(y, np.repeat(x, sw, axis=2))
        x2 = q8(rng, 2, 3, 4, w)
        y2 = both(_nn.upsample, x2, scale=(sh, sw), in_q=q, out_q=q)
        np.testing.assert_array_equal(y2, np.repeat(np.repeat(x2, sh, axis=2), sw, axis=3))


def _bilinear_inputs(rng, n, c, h, w):
    """Random codes, then the extremes: all -128, all 127, alternating -128/127."""
    x = q8(rng, n, c, h, w)
    x[0, 0], x[0, -1] = -128, 127
    x[-1, 0] = np.where((np.arange(h)[:, None] + np.arange(w)) % 2, 127, -128)
    return x


@pytest.mark.kernels
@pytest.mark.parametrize("sh, sw", [(2, 2), (1, 2), (3, 3), (2, 3), (4, 1), (1, 1)])
def test_upsample_bilinear_int8(sh, sw):
    """Bilinear upsampling with exact integer weights: fast == C reference == the
    NumPy reference bit for bit, for 1x1, 1xN and Nx1 planes, widths around the
    fast kernel's 8- and 16-column steps, random and extreme codes and zero points
    at both ends; 1-D (C, L) inputs for the factors across."""
    rng = np.random.default_rng(10 * sh + sw)
    for h, w in [(1, 1), (1, 9), (6, 1), (2, 2), (3, 7), (8, 8), (5, 15), (4, 16), (3, 17),
                 (2, 33), (7, 40), (2, 64)]:
        for zp in (-128, -1, 0, 37, 127):
            q = (f32(0.05), zp)
            x = _bilinear_inputs(rng, 3, 2, h, w)
            y = both(_nn.upsample, x, scale=(sh, sw), mode="bilinear", in_q=q, out_q=q)
            for n in range(3):
                np.testing.assert_array_equal(y[n], R.upsample_bilinear(x[n], zp, sh, sw))
            if sh == 1:
                y1 = both(_nn.upsample, x[:, :, 0].copy(), scale=sw, mode="bilinear", in_q=q,
                          out_q=q)
                np.testing.assert_array_equal(y1, y[:, :, 0])


@pytest.mark.kernels
@pytest.mark.parametrize("s", [2, 3])
def test_upsample_bilinear_int8_vs_float(s):
    """Against the float op on the dequantized input, quantized (half away from
    zero) with the input's parameters: at most 1 LSB off, and only where the exact
    value is a tie the float sums round to either side."""
    rng = np.random.default_rng(s)
    for zp in (-128, -20, 0, 90):
        q = (f32(0.0371), zp)
        x = _bilinear_inputs(rng, 2, 3, 9, 13)
        got = both(_nn.upsample, x, scale=s, mode="bilinear", in_q=q, out_q=q).astype(np.int64)
        real = _nn.upsample(np.float32(q[0]) * (x.astype(np.float32) - zp), scale=s,
                            mode="bilinear")
        v = real / np.float32(q[0])
        want = np.clip(np.sign(v) * np.floor(np.abs(v) + 0.5) + zp, -128, 127)
        diff = np.abs(got - want)
        assert diff.max() <= 1, (zp, diff.max())
        exact = np.stack([R._bilinear_weights(9, s) @ (x[n].astype(np.int64) - zp)
                          @ R._bilinear_weights(13, s).T for n in range(2)]) / (4 * s * s)
        assert (np.abs(np.abs(exact[diff > 0]) % 1 - 0.5) < 1e-3).all(), zp


@pytest.mark.kernels
@pytest.mark.parametrize("act", ["sigmoid", "tanh", "hard_swish"])
def test_lut_activation_int8(act):
    """sigmoid/tanh/hard-swish as 256-entry tables: every input code, against
    the float64 NumPy table; and the table against the float function (each
    entry within half an output step plus float rounding)."""
    x = np.arange(-128, 128, dtype=np.int8).reshape(1, 2, 128)
    sig = act == "sigmoid"
    qi, qo = (f32(0.06), 11), (f32(1 / 200 if sig else 0.021), -100 if sig else 3)
    y = both(_nn.act, x, act, in_q=qi, out_q=qo)
    table = R.lut(act, qi[0], qi[1], qo[0], qo[1])
    np.testing.assert_array_equal(y[0], R.apply_lut(x[0], table))
    real = qi[0] * (np.arange(-128, 128) - qi[1])
    f = {"sigmoid": lambda v: 1 / (1 + np.exp(-v)), "tanh": np.tanh,
         "hard_swish": lambda v: v * np.clip(v + 3, 0, 6) / 6}[act](real)
    want = np.clip(f / qo[0] + qo[1], -128, 127)
    assert np.abs(table.astype(np.float64) - want).max() <= 0.5 + 1e-6
    # Lengths around the fast kernels' 32- and 64-byte steps (tails, one short block).
    for n in (1, 31, 32, 33, 63, 64, 65, 203):
        xs = np.random.default_rng(n).integers(-128, 128, (2, 1, n)).astype(np.int8)
        ys = both(_nn.act, xs, act, in_q=qi, out_q=qo)
        np.testing.assert_array_equal(ys, R.apply_lut(xs, table))


@pytest.mark.kernels
def test_embedding_int8():
    """The int8 gather: int32 ids, the int8 table's rows, channel-major; bad ids raise."""
    rng = np.random.default_rng(6)
    table = q8(rng, 40, 12)
    ids = rng.integers(0, 40, (3, 17)).astype(np.int32)
    q = (f32(0.02), 5)
    y = both(_nn.embedding, ids, table, in_q=q, out_q=q)
    for n in range(3):
        np.testing.assert_array_equal(y[n], R.embedding(ids[n], table))
    bad = ids.copy()
    bad[1, 3] = 40
    with pytest.raises(ValueError):
        _nn.embedding(bad, table, dtype="int8", in_q=q, out_q=q)


# Input scales from every value near the row's max (1e-4) to diff_min keeping the top two
# codes (10): 0.35 and up cut values off (diff_min > -255).
SOFTMAX_SCALES = [1e-4, 0.003, 0.02, 0.0625, 0.1, 0.35, 1.0, 2.5, 10.0]


def softmax_int8(x, in_q):
    """The int8 softmax of x (N, ..., n) by the fast and reference kernels (equal)."""
    return both(_nn.softmax, x, in_q=in_q, out_q=(1 / 256, -128))


def softmax_rows(rng, n):
    """Random rows, all-equal rows (at both ends of the range) and rows of -128/127 only."""
    return np.concatenate([q8(rng, 3, n), np.full((1, n), 7, np.int8),
                           np.full((1, n), -128, np.int8), np.full((1, n), 127, np.int8),
                           rng.choice(np.array([-128, 127], np.int8), (2, n))])


@pytest.mark.kernels
@pytest.mark.parametrize("n", [1, 2, 10, 12, 1000, 4096])
def test_softmax_int8(n):
    """TFLite's int8 softmax over the last axis (gemmlowp's fixed point): fast == C
    reference == the NumPy reference bit for bit at every input scale and several zero
    points; dequantized, within half an output step of the float softmax of the
    dequantized input (a full step where 1 is clamped to 255/256); short rows sum to
    1 within their rounding (and the clamp)."""
    rng = np.random.default_rng(n)
    x = softmax_rows(rng, n)
    assert max(R.softmax_params(s)[2] for s in SOFTMAX_SCALES) > -255  # some cut off
    for scale in SOFTMAX_SCALES:
        for zp in (-128, 0, 37):
            y = softmax_int8(x[:, None, :], (f32(scale), zp))[:, 0]
            np.testing.assert_array_equal(y, R.softmax_tflite(x, scale))
            v = f32(scale) * (x.astype(np.float64) - zp)
            p = np.exp(v - v.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            err = np.abs((y + 128.0) / 256 - p)
            assert err[y < 127].max(initial=0) <= 1 / 512 + 1e-5, (scale, zp)
            assert err.max() <= 1 / 256 + 1e-9, (scale, zp)
            if n <= 12:
                assert np.abs((y + 128.0).sum(axis=1) / 256 - 1).max() <= (n + 1) / 512 + 1e-5


@pytest.mark.kernels
def test_softmax_int8_last_axis():
    """Over the last axis of a (3, 4, 10) input, batch 2; long rows whose sum of exp
    values reaches 512 give -128 throughout (TFLite Micro stops on them), as NumPy."""
    rng = np.random.default_rng(3)
    x = q8(rng, 2, 3, 4, 10)
    for scale, zp in ((0.07, -5), (0.5, 100)):
        y = softmax_int8(x, (f32(scale), zp))
        np.testing.assert_array_equal(y, R.softmax_tflite(x, scale))
    flat = np.full((1, 1, 600), 3, np.int8)
    np.testing.assert_array_equal(softmax_int8(flat, (0.1, 0)), np.full(flat.shape, -128))


def softmax_tflite_model(shape, scale, zp):
    """A .tflite flatbuffer of one int8 SOFTMAX (beta 1) from x (scale, zp) to y (1/256,
    -128), both of `shape`."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as S

    def tensor(name, q, buffer):
        t = S.TensorT()
        t.name, t.shape, t.type, t.buffer = name, list(shape), S.TensorType.INT8, buffer
        t.quantization = S.QuantizationParametersT()
        t.quantization.scale, t.quantization.zeroPoint = [q[0]], [q[1]]
        return t

    code = S.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = S.BuiltinOperator.SOFTMAX
    op = S.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [0], [1]
    op.builtinOptionsType, op.builtinOptions = S.BuiltinOptions.SoftmaxOptions, S.SoftmaxOptionsT()
    op.builtinOptions.beta = 1.0
    g = S.SubGraphT()
    g.tensors = [tensor("x", (scale, zp), 1), tensor("y", (1 / 256, -128), 2)]
    g.inputs, g.outputs, g.operators = [0], [1], [op]
    m = S.ModelT()
    m.version, m.operatorCodes, m.subgraphs = 3, [code], [g]
    m.buffers = [S.BufferT() for _ in range(3)]
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def test_softmax_int8_matches_tflite_micro():
    """The TFLite Micro interpreter's int8 softmax on one-op models (rows up to 500
    values: TFLite Micro aborts on a row whose sum of exp values reaches 512) equals
    gaba's fast and reference kernels bit for bit."""
    pytest.importorskip("flatbuffers")
    runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")
    rng = np.random.default_rng(11)
    for scale in SOFTMAX_SCALES + [0.0123, 0.17, 16.0, 40.0]:
        for n in (1, 3, 10, 500):
            x = softmax_rows(rng, n)
            x[-1] = rng.integers(120, 128, n)  # values near the max
            zp = int(rng.integers(-128, 128))
            model = softmax_tflite_model(x.shape, f32(scale), zp)
            interp = runtime.Interpreter.from_bytes(model, arena_size=1 << 17)
            interp.set_input(x, 0)
            interp.invoke()
            want = interp.get_output(0)
            np.testing.assert_array_equal(softmax_int8(x[None], (f32(scale), zp))[0], want)


def test_softmax_int8_errors():
    """TFLite's int8 softmax takes output scale 1/256 and zero point -128 only, and an
    input scale above 2^-26 (its multiplier must exceed 1); other ops without an int8
    kernel raise."""
    x = np.zeros((1, 4, 4), np.int8)
    for out_q in ((0.1, 0), (1 / 256, 0), (1 / 255, -128)):
        with pytest.raises(ValueError, match="invalid argument"):
            _nn.softmax(x, dtype="int8", in_q=(0.1, 0), out_q=out_q)
    with pytest.raises(ValueError, match="multiplier"):
        _nn.softmax(x, dtype="int8", in_q=(1e-9, 0), out_q=(1 / 256, -128))
    with pytest.raises(ValueError, match="no int8 kernel"):
        _nn.batchnorm(x, np.ones(1, np.float32), np.zeros(1, np.float32), dtype="int8",
                      in_q=(0.1, 0), out_q=(0.1, 0))


# ---- models ------------------------------------------------------------------------

_q = {}


def quantized(name):
    if name not in _q:
        m = zoo.create(name, seed=0)
        _q[name] = (m, m.quantize(make_inputs(m, 8, 1)))
    return _q[name]


def as_dict(m, y):
    return y if isinstance(y, dict) else {next(iter(m.outputs)): y}


@pytest.mark.parametrize("name", ALL)
def test_model_int8(name):
    m, qm = quantized(name)
    x = make_inputs(m, 3, 2)
    y = as_dict(m, qm(x))
    for k, spec in m.outputs.items():
        assert y[k].shape == (3,) + tuple(spec["shape"]) and y[k].dtype == np.float32
        assert np.isfinite(y[k]).all()
    # the reference int8 kernels agree bit for bit
    qm._use_reference(True)
    try:
        yr = as_dict(m, qm(x))
    finally:
        qm._use_reference(False)
    for k in y:
        np.testing.assert_array_equal(y[k], yr[k])
    # batch 1 == batch N, and determinism (a second quantization of the same model)
    y1 = as_dict(m, qm({k: v[1:2] for k, v in x.items()}))
    for k in y:
        np.testing.assert_array_equal(y1[k][0], y[k][1])
    qm2 = m.quantize(make_inputs(m, 8, 1))
    y2 = as_dict(m, qm2(x))
    for k in y:
        np.testing.assert_array_equal(y2[k], y[k])
    # accuracy against float
    r = zoo.compare(m, qm, x)
    assert r["sqnr_db"] >= SQNR_FLOOR[m.category], r
    # memory: int8 weights and arena are planned and smaller than float's weights
    assert 0 < qm.weight_bytes < m.weight_bytes
    assert qm.arena_bytes > 0
    # the memory target: int8 weights + arena within 100 KB for audio and sensor models
    if m.category in ("audio", "sensor"):
        assert qm.weight_bytes + qm.arena_bytes <= 100 * 1024, (qm.weight_bytes, qm.arena_bytes)


@pytest.mark.parametrize("name", ALL)
def test_model_int8_fp32(name):
    """quantize(requant="fp32"): the same graph and parameters as the default
    but conv/dense requantizing by float32 scales; fast == reference bit for
    bit, batch 1 == batch N, the same SQNR floor, and the weights' scales as
    the default model's (only the multiplier slots differ)."""
    m, qd = quantized(name)
    qm = m.quantize(make_inputs(m, 8, 1), requant="fp32")
    assert (qm.requant, qd.requant) == ("fp32", "double")
    assert (qm.weight_bytes, qm.arena_bytes) == (qd.weight_bytes, qd.arena_bytes)
    x = make_inputs(m, 3, 2)
    y = as_dict(m, qm(x))
    qm._use_reference(True)
    try:
        yr = as_dict(m, qm(x))
    finally:
        qm._use_reference(False)
    y1 = as_dict(m, qm({k: v[1:2] for k, v in x.items()}))
    for k in y:
        np.testing.assert_array_equal(y[k], yr[k])
        np.testing.assert_array_equal(y1[k][0], y[k][1])
    assert zoo.compare(m, qm, x)["sqnr_db"] >= SQNR_FLOOR[m.category]
    with pytest.raises(ValueError, match="requant"):
        m.quantize(make_inputs(m, 2, 1), requant="single")


@pytest.mark.parametrize("name", ["KeywordSpotMicro", "ObjectTrackNano", "SentimentAnalysisMicro"])
def test_raw_int8_edges(name):
    m, qm = quantized(name)
    x = make_inputs(m, 2, 3)
    raw = {}
    for k, v in x.items():
        raw[k] = qm.quantize_input(v, k) if k in qm.input_qparams else v
    yr = as_dict(m, qm(raw, raw=True))
    y = as_dict(m, qm(x))
    for k in y:
        assert yr[k].dtype == np.int8
        np.testing.assert_array_equal(qm.dequantize_output(yr[k], k), y[k])


def _quantize_edge(x, scale, zp):
    """The float edge in NumPy: round half away from zero of x / scale (in
    float32, as the kernel divides), + zp, clamped; NaN -> zp."""
    with np.errstate(over="ignore"):  # past float32: +-inf, which clamps
        v = np.asarray(x, np.float32) / np.float32(scale)
    a = np.abs(v)
    with np.errstate(invalid="ignore"):
        r = np.sign(v) * np.where(a - np.floor(a) >= 0.5, np.ceil(a), np.floor(a))
    return np.where(np.isnan(v), zp, np.clip(np.nan_to_num(r) + zp, -128, 127)).astype(np.int8)


@pytest.mark.kernels
def test_quantize_edge_kernel():
    """The float -> int8 edge (qm(x)'s and quantize_input's kernel) against NumPy:
    exact ties in both signs round away from zero, values past the int8 range
    clamp, NaN gives the zero point, +-inf clamp; lengths around the 8- and
    16-lane bodies."""
    rng = np.random.default_rng(21)
    scale = f32(0.25)  # a power of two: x / scale is exact, so the ties are real ties
    ties = (np.arange(-300, 300) + 0.5).astype(np.float32) * np.float32(scale)
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30, 3e-39], np.float32)
    for n in (1, 7, 8, 9, 15, 16, 17, 33, 1000):
        for zp in (-128, -3, 0, 127):
            pool = np.concatenate([ties, special, rng.normal(0, 20, 64).astype(np.float32)])
            x = rng.choice(pool, n)
            got = _gaba.qnn_quantize(x, scale, zp)
            np.testing.assert_array_equal(got, _quantize_edge(x, scale, zp), err_msg=f"{n} {zp}")
            assert got.dtype == np.int8 and got.shape == x.shape
    # a scale that is not a power of two: the float32 quotient decides, as in NumPy
    x = rng.normal(0, 3, 4097).astype(np.float32)
    np.testing.assert_array_equal(_gaba.qnn_quantize(x, f32(0.0371), 5),
                                  _quantize_edge(x, f32(0.0371), 5))
    # scales that are not powers of two, on the float32 values next to each
    # tie: the quotient's own rounding decides
    for scale in (f32(0.0371), f32(0.1), f32(1 / 3), f32(7.77e-3), f32(0.913)):
        k = np.arange(-135, 135) + 0.5
        x = (k * np.float64(scale)).astype(np.float32)
        x = np.concatenate([x + d * np.spacing(x) for d in range(-3, 4)])
        for zp in (-7, 0):
            np.testing.assert_array_equal(_gaba.qnn_quantize(x, scale, zp),
                                          _quantize_edge(x, scale, zp), err_msg=f"{scale}")
    # a subnormal scale: quotients past float32 clamp, small ones stay exact
    x = np.array([0.0, 1e-45, 3e-45, -4e-45, 1e-44, 1.0, np.nan] * 3, np.float32)
    np.testing.assert_array_equal(_gaba.qnn_quantize(x, f32(1.4e-45), 1),
                                  _quantize_edge(x, f32(1.4e-45), 1))
    # quantize_input is that kernel, on values next to the model scale's ties
    m, qm = quantized("KeywordSpotMicro")
    s, z = qm.input_qparams["mfcc"]
    shape = (1,) + tuple(m.inputs["mfcc"]["shape"])
    k = rng.integers(-140, 140, shape) + 0.5
    x = (k * s).astype(np.float32) + rng.integers(-2, 3, shape) * np.spacing(np.float32(140 * s))
    np.testing.assert_array_equal(qm.quantize_input(x), _quantize_edge(x, s, z))
    with pytest.raises(ValueError, match="scale"):
        _gaba.qnn_quantize(x, 0.0, 0)
    with pytest.raises(ValueError, match="zero_point"):
        _gaba.qnn_quantize(x, 1.0, 300)
    with pytest.raises(TypeError):
        _gaba.qnn_quantize(x.astype(np.float64), 1.0, 0)


# One well-formed int8 call per op with per-channel vectors: op, per-sample input shapes,
# params, act.
QLAYERS = [
    ("conv2d", [(3, 6, 6)], [4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1], "relu"),
    ("conv1d", [(3, 9)], [5, 1, 3, 1, 1, 0, 2, 0, 0, 1, 1, 1], "none"),
    ("dense", [(2, 5)], [7], "relu6"),
    ("add", [(3, 4), (3, 4)], [], "none"),
    ("sub", [(3, 4), (3,)], [], "relu"),
    ("mul", [(3, 4), (3, 4)], [], "none"),
    ("concat", [(2, 5), (3, 5), (1, 5)], [], "none"),
    ("act", [(3, 4)], [], "tanh"),
]


def qlayer_args(op, shapes, params, rng):
    xs = [q8(rng, 2, *s) for s in shapes]
    in_q = [(f32(0.05 * (i + 1)), i - 1) for i in range(len(xs))]
    if op not in ("conv2d", "conv1d", "dense"):
        return xs, in_q, []
    per = int(np.prod(shapes[0])) if op == "dense" else shapes[0][0] * params[1] * params[2]
    return xs, in_q, list(weights(rng, params[0], per, 0.05, 0.1))


@pytest.mark.parametrize("op,shapes,params,act", QLAYERS, ids=[c[0] for c in QLAYERS])
def test_layer_int8_rejects_inconsistent_arrays(op, shapes, params, act):
    """Inputs whose batches differ, and w / bias / mult / shift that agree with each other
    but not with the layer's c_out (params[0]) and input, raise ValueError naming the
    array, before any kernel reads past an array's end (the ASan build checks that)."""
    rng = np.random.default_rng(80)
    xs, in_q, wbms = qlayer_args(op, shapes, params, rng)
    out_q = (f32(0.1), 3)

    def run(xs, in_q, out_q, *wbms):
        return _nn.layer(op, xs, wbms, params, activation=act, dtype="int8", in_q=in_q,
                         out_q=out_q)

    want = both(_nn.layer, op, xs, wbms, params, activation=act, in_q=in_q, out_q=out_q)
    assert want.shape[0] == 2
    for i in range(1, len(xs)):
        for batch in (1, 3, 1000):
            bad = list(xs)
            bad[i] = q8(rng, batch, *shapes[i])
            with pytest.raises(ValueError, match=rf"'inputs\[{i}\]'.*one batch"):
                run(bad, in_q, out_q, *wbms)
    if wbms:
        w, b, m, s = wbms
        co = params[0]
        for c in (co - 1, co + 1):  # all four for c channels: w's rows of the right length
            per = w.shape[1]
            ok = (np.resize(w, (c, per)), np.resize(b, c), np.resize(m, c), np.resize(s, c))
            with pytest.raises(ValueError, match="'w' has .* c_out"):
                run(xs, in_q, out_q, *ok)
        for j, name in enumerate(["w", "bias", "mult", "shift"]):
            for d in (-1, 1):
                bad = list(wbms)
                bad[j] = np.resize(wbms[j], wbms[j].size + d)
                with pytest.raises(ValueError, match=f"'{name}' has .* c_out"):
                    run(xs, in_q, out_q, *bad)
        for j, v in [(2, -1), (3, 32), (3, -32), (3, 126)]:  # a mult / shift no kernel takes
            bad = list(wbms)
            bad[j] = wbms[j].copy()
            bad[j][-1] = v
            with pytest.raises(ValueError, match=f"channel {co - 1}'s mult"):
                run(xs, in_q, out_q, *bad)
    # (scale, zero point) pairs: any 2-sequence; the same result as tuples
    np.testing.assert_array_equal(run(xs, [list(p) for p in in_q], list(out_q),
                                      *wbms), want)
    np.testing.assert_array_equal(run(xs, [np.array(p, object) for p in in_q],
                                      np.array(out_q, object), *wbms), want)
    for pair, err, what in [
            ([0.1], TypeError, "pair"), ((0.1, 0, 1), TypeError, "pair"), (0.1, TypeError, "pair"),
            (None, TypeError, "pair"), (("a", 0), TypeError, "scale"),
            ((0.1, 0.5), TypeError, "int"),
            ((0.0, 0), ValueError, "positive"), ((np.nan, 0), ValueError, "positive"),
            ((1e300, 0), ValueError, "finite"), ((1e-50, 0), ValueError, "positive"),
            ((0.1, 128), ValueError, "-128..127"), ((0.1, 2**63), ValueError, "-128")]:
        with pytest.raises(err, match=what):
            run(xs, in_q[:-1] + [pair], out_q, *wbms)
        with pytest.raises(err, match=what):
            run(xs, in_q, pair, *wbms)
    with pytest.raises(ValueError, match="'in_q' holds"):
        run(xs, in_q + in_q[:1], out_q, *wbms)


def test_layer_int8_reproducers_and_argument_ranges():
    """The reproducers: a (2, 16) weight (the 32 values of a (4, 8) one) with two-value
    bias/mult/shift for 4 outputs (bias, mult, shift were read at [2], [3]); an in_q item
    that is a list (SystemError); op, act, impl and params out of range or with no int8
    kernel."""
    x = np.ones((1, 8), np.int8)
    with pytest.raises(ValueError, match="'bias' has 2 values, the layer's c_out"):
        _gaba.qnn_layer(zoo.OPS["dense"], 0, [4], [x], [(0.1, 0)], (0.1, 0),
                        np.ones((2, 16), np.int8), np.zeros(2, np.int32),
                        np.full(2, 1 << 30, np.int32), np.zeros(2, np.int32), 1)
    x4 = np.array([[-3, 0, 5, 120]], np.int8)
    got = _gaba.qnn_layer(zoo.OPS["act"], 1, [], [x4], [[0.1, 0]], (0.1, 0), None, None, None,
                          None, 1)
    np.testing.assert_array_equal(got, np.maximum(x4, 0))
    for op, act, params, impl, err, what in [
            (len(zoo.OPS), 0, [], 0, ValueError, f"'op' must be in 0..{len(zoo.OPS) - 1}"),
            (zoo.OPS["act"], -1, [], 0, ValueError, "'act'"),
            (zoo.OPS["act"], 0, [], 2**64, ValueError, "'impl'"),
            (zoo.OPS["dense"], 0, [-2**31 - 1], 0, ValueError, "'params' must be in"),
            (zoo.OPS["dense"], 0, [None], 0, TypeError, "'params'"),
            (zoo.OPS["batchnorm"], 0, [0], 0, ValueError, "no int8 kernel"),
            (zoo.OPS["dense"], zoo.ACTS["sigmoid"], [4], 0, ValueError, "no int8 kernel"),
            (zoo.OPS["attention"], 0, [4], 0, ValueError, "no int8 kernel here")]:
        with pytest.raises(err, match=what):
            _gaba.qnn_layer(op, act, params, [x4], [(0.1, 0)], (0.1, 0), None, None, None, None,
                            impl)
    with pytest.raises(ValueError, match="token id"):
        _gaba.qnn_layer(zoo.OPS["embedding"], 0, [2, 3], [np.array([[0, 3]], np.int32)], [(0.1, 0)],
                        (0.1, 0), np.zeros((3, 2), np.int8), None, None, None, 0)
    with pytest.raises(ValueError, match="vocab"):
        _gaba.qnn_layer(zoo.OPS["embedding"], 0, [2, 3], [np.array([[0, 2]], np.int32)], [(0.1, 0)],
                        (0.1, 0), np.zeros((2, 2), np.int8), None, None, None, 0)


@pytest.mark.parametrize("ref", [False, True])
def test_attention_softmax_int8_rejects_bad_tables(ref):
    """The softmax divides by a row's sum of table entries, exp_table[0] among them, and
    forms 512 e + 3 sum in int32: an all-zero table (a division by zero, SIGFPE), a
    negative entry, exp_table[0] = 0 or entries too large for the row length raise
    ValueError; the largest table the bound allows gives the NumPy reference's probs."""
    from gaba._ext import _gaba as g
    s = np.zeros((2, 2), np.int8)
    for table in (np.zeros(256, np.int32), np.full(256, -1, np.int32),
                  np.r_[0, np.ones(255)].astype(np.int32),
                  np.r_[1, -1, np.ones(254)].astype(np.int32),
                  np.full(256, 2**31 // 518 + 1, np.int32)):
        with pytest.raises(ValueError, match="exp_table"):
            g.qnn_softmax(s, table, ref)
    top = np.full(256, (2**31 - 1) // 518, np.int32)
    s = np.array([[5, -100], [3, 3]], np.int8)
    np.testing.assert_array_equal(g.qnn_softmax(s, top, ref), R.softmax(s, top))
    with pytest.raises(ValueError, match="256 values"):
        g.qnn_softmax(s, top[:255], ref)
    with pytest.raises(ValueError, match="at most"):
        g.qnn_softmax(np.zeros((8193, 8193), np.int8), np.ones(256, np.int32), ref)


def test_quantize_input_argument_types():
    """zero_point past the int range is ValueError (was OverflowError), a scale that is not
    a number TypeError naming it."""
    x = np.ones(3, np.float32)
    for zp in (2**63, 2**64, -2**63 - 1):
        with pytest.raises(ValueError, match="'zero_point' must be in -128..127"):
            _gaba.qnn_quantize(x, 1.0, zp)
    with pytest.raises(TypeError, match="'zero_point'"):
        _gaba.qnn_quantize(x, 1.0, 1.0)
    with pytest.raises(TypeError, match="'scale'"):
        _gaba.qnn_quantize(x, "1", 0)


def test_fully_int8_models_listed():
    """The models docs/int8.md lists as fully int8 have no float layer."""
    full = [n for n in ALL if quantized(n)[1].fully_int8]
    assert "KeywordSpotMicro" in full and "MicroYOLONano" in full
    # the attention models run their attention in int8 too
    assert {"EmotionRecogNano", "TextSummarizeNano", "NamedEntityMicro"} <= set(full)
    # and the bilinear decoders their upsampling
    assert {"SegmentMicro", "PoseEstimateMicro", "DepthEstimateLite"} <= set(full)


def test_quantize_errors():
    m = zoo.create("KeywordSpotMicro")
    with pytest.raises(ValueError):
        m.quantize(np.zeros((0,) + tuple(m.inputs["mfcc"]["shape"]) if "mfcc" in m.inputs
                            else (0,) + tuple(next(iter(m.inputs.values()))["shape"]), np.float32))
    with pytest.raises(TypeError):
        m.quantize(np.zeros((2,) + tuple(next(iter(m.inputs.values()))["shape"]), np.float64))


def test_quantized_profile():
    """QuantizedModel.profile times every node of the int8 graph: the float
    layers' names in order, the edges, and a conv's sigmoid table as its own node."""
    m, qm = quantized("SpeechEnhanceNano")
    table = qm.profile(make_inputs(m, 2, 4), runs=3, warmup=1)
    layers = [r["layer"] for r in table if r["layer"] not in ("quantize", "dequantize")]
    runs = [n for i, n in enumerate(layers) if i == 0 or layers[i - 1] != n]
    assert runs == [la["name"] for la in m.layers]
    ops = {r["op"] for r in table if r["layer"] == "mask_head"}
    assert ops == {"conv1d int8", "sigmoid int8"}
    assert all(r["p50_us"] > 0 for r in table) and table.total_us > 0
    assert abs(sum(r["share"] for r in table) - 1) < 1e-9
    with pytest.raises(ValueError):
        qm.profile(make_inputs(m, 1, 4), runs=0)


@pytest.mark.kernels
@pytest.mark.parametrize("n", [1, 7, 16, 50, 63, 64, 65, 100])
def test_attention_softmax_int8(n):
    """The attention's integer softmax alone, at lengths around the vector
    widths and past 64 (where a row of equal scores sums to 2^22 and more, the
    16-lane kernel's fallback): random rows, rows of equal scores, rows of one
    peak; fast == C reference == NumPy bit for bit."""
    from gaba._ext import _gaba as g
    rng = np.random.default_rng(n)
    table = np.empty(256, np.int32)
    for scale in (0.02, 0.3):
        table[:] = np.round(65536 * np.exp(-scale * np.arange(256)))
        s = q8(rng, n, n)
        s[0] = 127  # all equal: the largest sum
        if n > 1:
            s[1] = -128
            s[1, n // 2] = 127  # one peak
        fast, ref = g.qnn_softmax(s, table, False), g.qnn_softmax(s, table, True)
        np.testing.assert_array_equal(fast, ref)
        np.testing.assert_array_equal(ref, R.softmax(s, table))
    # exact quotients: with one peak of e = (513 - n) b and the other n - 1 at b,
    # sum = 512 b and the others' floor((512 b + sum) / (2 sum)) is exactly 1,
    # which a float estimate can put just below 1 (the kernels correct it)
    s = np.zeros((n, n), np.int8)
    s[np.arange(n), np.arange(n)] = 1
    for b in range(97, 160, 3):
        table[:] = b
        table[0] = (513 - n) * b
        fast = g.qnn_softmax(s, table, False)
        np.testing.assert_array_equal(fast, R.softmax(s, table))
        assert n == 1 or (fast[~np.eye(n, dtype=bool)] == 1 - 128).all()
    with pytest.raises(ValueError, match="scores"):
        g.qnn_softmax(np.zeros((3, 4), np.int8), table, False)


@pytest.mark.kernels
def test_attention_softmax_quotient_estimate():
    """Two-position rows whose quotient floor((512 e + sum) / (2 sum)) a float32
    estimate, trunc(float(num) * (1 / float(den))), puts one too high (found by
    emulating it in NumPy; one too low happens at exact quotients,
    test_attention_softmax_int8's): the fast softmax's correction gives the
    exact probs."""
    from gaba._ext import _gaba as g
    rng = np.random.default_rng(5)
    a = rng.integers(1, 65537, 2_000_000)
    b = rng.integers(1, 65537, 2_000_000)
    tot = a + b
    num, den = 512 * a + tot, 2 * tot
    inv = np.float32(1) / den.astype(np.float32)
    est = np.trunc(num.astype(np.float32) * inv).astype(np.int64)
    cases = np.flatnonzero(est - num // den == 1)[:20]
    assert len(cases) > 0
    s = np.array([[127, 126], [126, 127]], np.int8)  # row 0 reads (a, b), row 1 (b, a)
    table = np.zeros(256, np.int32)
    for i in cases:
        table[0], table[1] = a[i], b[i]
        np.testing.assert_array_equal(g.qnn_softmax(s, table, False), R.softmax(s, table))


def model_node(name, op):
    """Model `name` (seed 3) quantized, its int8 graph and its one int8 `op` node
    (index, zoo_qgraph row)."""
    m = zoo.create(name, seed=3)
    qm = m.quantize(make_inputs(m, 8, seed=0))
    g = _gaba.zoo_qgraph(qm._cap)
    (index, node), = [(i, nd) for i, nd in enumerate(g["nodes"])
                      if nd[1] == "int8" and nd[2] == zoo.OPS[op]]
    return m, qm, g, index, node


def extreme_inputs(rng, shape):
    """Random int8 codes, all 127, all -128, and a random mix of the two."""
    return (q8(rng, *shape), np.full(shape, 127, np.int8), np.full(shape, -128, np.int8),
            np.where(rng.random(shape) < 0.5, 127, -128).astype(np.int8))


@pytest.mark.kernels
@pytest.mark.parametrize("name", ["EmotionRecogNano", "NamedEntityMicro", "TextSummarizeNano"])
def test_attention_int8(name):
    """A model's int8 attention node (L = 50, d_k = 32) on random and extreme int8
    inputs: fast == C reference == the integer NumPy reference, bit for bit; and
    the softmax rows of the reference sum to about 1 (256 steps of 1/256)."""
    m, qm, g, index, node = model_node(name, "attention")
    tensors = g["tensors"]
    p = node[7]
    shape = tuple(tensors[node[5][0]][2])
    rng = np.random.default_rng(7)
    for x in extreme_inputs(rng, shape):
        fast = _gaba.zoo_qnode_eval(qm._cap, index, [x], False)
        ref = _gaba.zoo_qnode_eval(qm._cap, index, [x], True)
        np.testing.assert_array_equal(fast, ref)
        np.testing.assert_array_equal(fast, R.attention(x, p))
    scores = rng.integers(-128, 128, (50, 50)).astype(np.int8)
    sums = (R.softmax(scores, p["exp_table"]) + 128).sum(axis=1)
    assert np.all(np.abs(sums - 256) <= 50 / 2 + 1)
    with pytest.raises(ValueError, match="input shape"):
        _gaba.zoo_qnode_eval(qm._cap, index, [np.zeros((shape[0], shape[1] + 1), np.int8)], False)
    with pytest.raises(ValueError, match=r"'node' must be in 0\.\."):
        _gaba.zoo_qnode_eval(qm._cap, len(g["nodes"]), [x], False)


@pytest.mark.kernels
@pytest.mark.parametrize("f,t,h,seq", [
    (64, 50, 32, 0),  # VoiceActivityMicro's shape
    (7, 9, 5, 1),     # F % 4 = 3, T % 4 = 1, 3H = 15: one partial vector of gate rows
    (30, 13, 37, 1),  # F % 4 = 2, 3H = 111: a full tile of 6 vectors, then 1
    (5, 4, 16, 0)])
def test_gru_int8_layer(f, t, h, seq):
    """The int8 GRU (int8 input projections, float32 recurrence) with any input
    zero point and random biases, over shapes that leave every tail of the fast
    projection: fast == C reference bit for bit, and within 1 LSB of the NumPy
    reference (exact projections, the recurrence in float64), equal on >= 97%."""
    rng = np.random.default_rng(f * 100 + h)
    x, zx = q8(rng, 3, f, t), int(rng.integers(-128, 128))
    p = {"w_ih_int8": rng.integers(-127, 128, (3 * h, f)).astype(np.int8),
         "b_ih_int32": rng.integers(-20000, 20000, 3 * h).astype(np.int32),
         "acc_scale": (rng.uniform(0.5, 1.5, 3 * h) / (60.0 * 74 * np.sqrt(f))).astype(np.float32),
         "w_hh": (rng.standard_normal((3 * h, h)) / np.sqrt(h)).astype(np.float32),
         "b_hh": (rng.standard_normal(3 * h) * 0.3).astype(np.float32)}
    sy, zy = f32(2.0 / 255), int(rng.integers(-3, 4))
    gru = (p["acc_scale"], p["w_hh"], p["b_hh"])

    def layer(hidden, impl, *extra):
        return _gaba.qnn_layer(zoo.OPS["gru"], zoo.ACTS["none"], [hidden, seq], [x], [(0.02, zx)],
                               (sy, zy), p["w_ih_int8"], p["b_ih_int32"], None, None, impl, False,
                               *extra)

    fast = both(_nn.gru, x, p["w_ih_int8"], p["w_hh"], p["b_ih_int32"], p["b_hh"],
                return_sequences=bool(seq), acc_scale=p["acc_scale"], in_q=(0.02, zx),
                out_q=(sy, zy))
    want = np.stack([R.gru(s, zx, p, seq, zy, sy) for s in x])
    assert fast.shape == want.shape == ((3, h, t) if seq else (3, h))
    diff = np.abs(fast.astype(np.int32) - want)
    assert diff.max() <= 1 and (diff > 0).mean() <= 0.03, (diff.max(), (diff > 0).mean())
    assert len(np.unique(fast)) > 20  # the states spread over the codes (not saturated)
    with pytest.raises(ValueError, match="GRU weights"):
        layer(h + 1, 0, gru)
    with pytest.raises(TypeError, match="gru"):
        layer(h, 0)
    with pytest.raises(ValueError, match="input shapes"):
        _gaba.qnn_layer(zoo.OPS["gru"], zoo.ACTS["none"], [h, seq], [x[:, 0]], [(0.02, zx)],
                        (sy, zy), p["w_ih_int8"], p["b_ih_int32"], None, None, 0, False, gru)


@pytest.mark.kernels
@pytest.mark.parametrize("name", ["VoiceActivityMicro", "FallDetectMicro", "OCRNano"])
def test_gru_int8(name):
    """A model's int8 GRU node (int8 input projections, float32 recurrence; H 32
    and 64, the last state and every state) on random and extreme int8 inputs:
    fast == C reference bit for bit; against the NumPy reference (exact
    projections, the recurrence in float64) within 1 LSB and equal on >= 97% of
    the outputs; the dequantized weights the ONNX export reads are the int8 ones."""
    m, qm, g, index, node = model_node(name, "gru")
    tensors = g["tensors"]
    p, (hd, seq) = node[7], node[4][:2]
    xt, yt = tensors[node[5][0]], tensors[node[6]]
    shape = tuple(xt[2])
    rng = np.random.default_rng(11)
    for x in extreme_inputs(rng, shape):
        fast = _gaba.zoo_qnode_eval(qm._cap, index, [x], False)
        ref = _gaba.zoo_qnode_eval(qm._cap, index, [x], True)
        np.testing.assert_array_equal(fast, ref)
        want = R.gru(x, xt[4], p, seq, yt[4], yt[3])
        assert fast.shape == want.shape == ((hd, shape[1]) if seq else (hd,))
        diff = np.abs(fast.astype(np.int32) - want)
        assert diff.max() <= 1 and (diff > 0).mean() <= 0.03, (diff.max(), (diff > 0).mean())
    scale = np.abs(p["w_ih"]).max(axis=1) / 127  # the rows' scales: their largest weight is +-127
    np.testing.assert_allclose(p["w_ih"], p["w_ih_int8"] * scale[:, None], rtol=1e-6, atol=0)
    np.testing.assert_allclose(p["b_ih"], p["b_ih_int32"] * p["acc_scale"], rtol=1e-6)
    np.testing.assert_array_equal(p["w_hh"], m.weights["gru.w_hh"])
    np.testing.assert_array_equal(p["b_hh"], m.weights["gru.b_hh"])


def layer_norm_int8_np(x, gamma, beta, eps, in_q, out_q):
    """docs/int8.md's int8 LayerNorm in NumPy, x (N, C, S) int8: integer sums, the
    reciprocal square root in double rounded to float32, then the float32 steps
    ((d r) g + b, each rounded once), rounded half to even, + zp, clamped."""
    (sx, zx), (sy, zy) = in_q, out_q
    c = x.shape[1]
    g = (np.float32(gamma) / np.float32(sy))[:, None]
    b = (np.float32(beta) / np.float32(sy))[:, None]
    e = max(1, int(np.round(float(c) * c * float(np.float32(eps)) / (float(np.float32(sx)) ** 2))))
    v = x.astype(np.int64) - zx
    s, q = v.sum(1, keepdims=True), (v * v).sum(1, keepdims=True)
    r = (1.0 / np.sqrt((c * q - s * s + e).astype(np.float64))).astype(np.float32)
    d = (c * v - s).astype(np.float32)
    t = np.clip(d * r * g + b, np.float32(-256), np.float32(256))
    return np.clip(np.rint(t).astype(np.int32) + zy, -128, 127).astype(np.int8)


@pytest.mark.kernels
@pytest.mark.parametrize("c,s", [(1, 3), (5, 7), (13, 17), (64, 50), (3, 33), (200, 9)])
def test_layer_norm_int8(c, s):
    """The int8 LayerNorm on random and extreme codes, positions around the 8- and
    16-lane bodies: fast == C reference == the NumPy version of the scheme, bit for
    bit; and, dequantized, within half a step of the output (plus eps's rounding)
    of the float64 LayerNorm of the dequantized input wherever that is in range."""
    rng = np.random.default_rng(c * 100 + s)
    gamma = rng.uniform(-2, 2, c).astype(np.float32)
    beta = rng.uniform(-1, 1, c).astype(np.float32)
    in_q, out_q = (f32(0.05), -7), (f32(0.03), 5)
    for x in extreme_inputs(rng, (3, c, s)):
        got = both(_nn.layer_norm, x, gamma, beta, in_q=in_q, out_q=out_q)
        np.testing.assert_array_equal(got, layer_norm_int8_np(x, gamma, beta, 1e-5, in_q, out_q))
        xf = np.float64(in_q[0]) * (x.astype(np.float64) - in_q[1])
        mean, var = xf.mean(1, keepdims=True), xf.var(1, keepdims=True)
        real = (xf - mean) / np.sqrt(var + 1e-5) * gamma[:, None] + beta[:, None]
        codes = real / out_q[0] + out_q[1]
        inside = (codes > -128.5) & (codes < 127.5)
        err = np.abs(out_q[0] * (got.astype(np.float64) - out_q[1]) - real)[inside]
        assert err.max(initial=0) <= 0.5 * out_q[0] + 1e-4


def test_layer_norm_int8_rejects():
    """Gamma/beta of the wrong length or dtype, and more channels than the integer
    sums hold, are refused."""
    x = np.zeros((1, 4, 3), np.int8)
    w = np.ones(4, np.float32)
    q = {"dtype": "int8", "in_q": (0.1, 0), "out_q": (0.1, 0)}
    with pytest.raises(ValueError, match="'w'"):
        _nn.layer_norm(x, w[:3], w, **q)
    with pytest.raises(TypeError):
        _nn.layer_norm(x, w.astype(np.float64), w, **q)
    with pytest.raises(ValueError, match="does not take these params"):
        big = np.zeros((1, 32769, 1), np.int8)
        _nn.layer_norm(big, np.ones(32769, np.float32), np.ones(32769, np.float32), **q)


@pytest.mark.kernels
@pytest.mark.parametrize("name", ["EmotionRecogNano", "NamedEntityMicro", "TextSummarizeNano"])
def test_layer_norm_int8_in_model(name):
    """A model's post-attention int8 LayerNorm node (C = 64, 50 positions) with random
    gamma and beta: fast == C reference == NumPy, bit for bit, on random and extreme codes."""
    m = zoo.create(name, seed=3)
    rng = np.random.default_rng(11)
    m.weights["attn_ln.weight"][:] = rng.uniform(0.5, 1.5, 64)
    m.weights["attn_ln.bias"][:] = rng.uniform(-0.2, 0.2, 64)
    qm = m.quantize(make_inputs(m, 8, seed=0))
    g = _gaba.zoo_qgraph(qm._cap)
    (index, node), = [(i, nd) for i, nd in enumerate(g["nodes"])
                      if nd[1] == "int8" and nd[2] == zoo.OPS["layer_norm"]]
    tensors = g["tensors"]
    (xin,), out = node[5], node[6]
    in_q, out_q = tensors[xin][3:5], tensors[out][3:5]
    for x in extreme_inputs(rng, tuple(tensors[xin][2])):
        fast = _gaba.zoo_qnode_eval(qm._cap, index, [x], False)
        np.testing.assert_array_equal(fast, _gaba.zoo_qnode_eval(qm._cap, index, [x], True))
        want = layer_norm_int8_np(x[None], m.weights["attn_ln.weight"], m.weights["attn_ln.bias"],
                                  1e-5, in_q, out_q)[0]
        np.testing.assert_array_equal(fast, want)
