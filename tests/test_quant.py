"""gaba's quantization against the float32 NumPy oracle (gaba.ref.quant), bit for bit,
and against PyTorch's fake-quantize ops and observers when torch is installed."""
import sys

import numpy as np
import pytest

import gaba
from gaba._ext import _gaba
from gaba.ref import quant as ref
from arrays import SIZES, layouts, rand, with_specials

pytestmark = pytest.mark.kernels

F32 = np.float32


def bits_of(a):
    """float32 bit patterns, so -0.0 != 0.0 and NaN == NaN in comparisons."""
    return np.ascontiguousarray(a, F32).view(np.int32)


def assert_bitexact(actual, expected, msg=""):
    assert actual.shape == expected.shape, msg
    bad = bits_of(actual) != bits_of(expected)
    if bad.any():
        i = np.flatnonzero(bad.reshape(-1))[0]
        raise AssertionError(f"{msg}: {bad.sum()} of {bad.size} differ; first at {i}: "
                             f"{actual.reshape(-1)[i]!r} != {expected.reshape(-1)[i]!r}")


def expected_fq(x, bits, symmetric, axis=None, narrow_range=False, rounding="half_even",
                scale=None, zero_point=None):
    qmin, qmax = ref.grid(bits, symmetric, narrow_range)
    if scale is None:
        scale, zero_point = ref.qparams(*ref.minmax(x, axis), qmin, qmax, symmetric)
    return ref.fake_quantize(x, scale, zero_point, qmin, qmax, axis, rounding)


# ---- the seed's calls and the basic contract ---------------------------------------


def test_seed_positional_calls():
    w = rand((16, 8), seed=1)
    for bits in (8, 4):
        y = gaba.fake_quantize(w, bits, True)
        assert y.dtype == F32 and y.shape == w.shape
        assert_bitexact(y, expected_fq(w, bits, True)[0])
        assert len(np.unique(y)) <= 2**bits


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("bits", (2, 4, 8, 16))
@pytest.mark.parametrize("symmetric", (True, False))
def test_per_tensor_sizes(n, bits, symmetric):
    x = rand((n,), seed=n, low=-3, high=2)
    y, mask = gaba.fake_quantize(x, bits, symmetric, return_mask=True)
    ey, emask = expected_fq(x, bits, symmetric)
    assert_bitexact(y, ey)
    np.testing.assert_array_equal(mask, emask)
    assert mask.dtype == np.bool_


@pytest.mark.parametrize("shape,axis", [((5, 7), 0), ((5, 7), 1), ((5, 7), -1), ((3, 4, 5), 1),
                                        ((64, 3, 3, 3), 0), ((2, 17, 33), 2), ((1,), 0),
                                        ((7, 1, 13), 1), ((4, 0, 3), 0)])
@pytest.mark.parametrize("bits,symmetric,narrow", [(8, True, False), (8, False, False),
                                                   (4, True, True), (3, False, False),
                                                   (16, True, False)])
@pytest.mark.parametrize("rounding", ("half_even", "half_away"))
def test_per_channel(shape, axis, bits, symmetric, narrow, rounding):
    x = rand(shape, seed=sum(shape), low=-2, high=3)
    y, mask = gaba.fake_quantize(x, bits, symmetric, axis=axis, narrow_range=narrow,
                                 rounding=rounding, return_mask=True)
    ey, emask = expected_fq(x, bits, symmetric, axis, narrow, rounding)
    assert_bitexact(y, ey)
    np.testing.assert_array_equal(mask, emask)


def test_zero_dim_and_empty():
    x = np.array(0.3, F32)
    assert_bitexact(gaba.fake_quantize(x, 8), expected_fq(x, 8, True)[0])
    e = np.zeros((0, 4), F32)
    assert gaba.fake_quantize(e, 8).shape == (0, 4)
    assert gaba.fake_quantize(e, 8, axis=1).shape == (0, 4)
    assert gaba.quant_params(e, 8, axis=1)[0].shape == (4,)
    assert gaba.quant_params(e, 8, axis=0)[0].shape == (0,)
    assert gaba.dequantize(gaba.quantize(e, 4, axis=0)).shape == (0, 4)


# ---- rounding: ties, grid edges, parameters given --------------------------------


@pytest.mark.parametrize("zp", (0, 3))
def test_ties_half_even_and_half_away(zp):
    # scale a power of two: x / scale and x * (1/scale) are exact, so every k + 0.5 is a tie.
    scale = 0.25
    k = np.arange(-20, 20, dtype=F32)
    x = ((k + F32(0.5)) * F32(scale)).astype(F32)
    sym = zp == 0
    even = gaba.fake_quantize(x, 8, sym, scale=scale, zero_point=None if sym else zp)
    away = gaba.fake_quantize(x, 8, sym, scale=scale, zero_point=None if sym else zp,
                              rounding="half_away")
    t = k + 0.5
    q_even = np.where(np.floor(t) % 2 == 0, np.floor(t), np.ceil(t))
    q_away = np.sign(t) * np.ceil(np.abs(t))
    qmin, qmax = ref.grid(8, sym)
    for got, q in ((even, q_even), (away, q_away)):
        want = ((np.clip(q + zp, qmin, qmax) - zp) * scale).astype(F32)
        assert_bitexact(got, want)


@pytest.mark.parametrize("symmetric", (True, False))
def test_grid_edges(symmetric):
    """q_f exactly at qmin - 0.5 / qmax + 0.5 (ties) and just inside or outside."""
    qmin, qmax = ref.grid(8, symmetric)
    zp = 0 if symmetric else 7
    scale = 0.5
    q = np.array([qmin - 1, qmin - 0.5, qmin, qmin + 0.5, qmax - 0.5, qmax, qmax + 0.5,
                  qmax + 1], np.float64)
    x = ((q - zp) * scale).astype(F32)
    y, mask = gaba.fake_quantize(x, 8, symmetric, scale=scale,
                                 zero_point=None if symmetric else zp, return_mask=True)
    ey, emask = ref.fake_quantize(x, np.float32(scale), zp, qmin, qmax)
    assert_bitexact(y, ey)
    np.testing.assert_array_equal(mask, emask)
    # ties go to the even integer of x / scale = q - zp (Python's round() is half-even)
    assert mask.tolist() == [qmin <= round(v - zp) + zp <= qmax for v in q]
    assert mask.tolist()[::7] == [False, False] and mask.tolist()[2:6] == [True] * 4


def test_all_zero_channels_get_a_valid_scale():
    x = rand((4, 6), seed=3)
    x[1] = 0.0
    x[3] = np.nan  # no finite value: treated like all-zero
    for sym in (True, False):
        scale, zp = gaba.quant_params(x, 8, sym, axis=0)
        eps = np.finfo(F32).eps
        assert scale[1] == eps and scale[3] == eps
        assert np.all(np.isfinite(scale)) and np.all(scale > 0)
        y = gaba.fake_quantize(x, 8, sym, axis=0)
        np.testing.assert_array_equal(y[1], 0.0)
        assert np.isnan(y[3]).all()
    y = gaba.fake_quantize(np.zeros(5, F32), 4)
    np.testing.assert_array_equal(y, 0.0)


def test_given_parameters_match_reference():
    x = rand((6, 10), seed=4, low=-4, high=4)
    scale = np.linspace(0.01, 0.2, 6).astype(F32)
    zp = np.arange(6, dtype=np.int32) * 20
    y = gaba.fake_quantize(x, 8, False, axis=0, scale=scale, zero_point=zp)
    assert_bitexact(y, ref.fake_quantize(x, scale, zp, 0, 255, axis=0)[0])
    # a scalar scale broadcasts over the channels
    y = gaba.fake_quantize(x, 8, True, axis=1, scale=0.05)
    assert_bitexact(y, ref.fake_quantize(x, np.full(10, 0.05, F32), 0, -128, 127, axis=1)[0])


def test_torch_non_finite_differences_are_the_documented_ones():
    torch = pytest.importorskip("torch")
    x = np.array([np.nan, np.inf, -np.inf, 1e20, -1e20, 3.0], F32)
    ours = gaba.fake_quantize(x, 8, scale=1.0)
    tensor = torch.fake_quantize_per_tensor_affine(torch.from_numpy(x), 1.0, 0, -128, 127).numpy()
    channel = torch.fake_quantize_per_channel_affine(
        torch.from_numpy(x[None]), torch.ones(1), torch.zeros(1, dtype=torch.int32), 0, -128,
        127).numpy()[0]
    assert np.isnan(ours[0]) and tensor[0] == channel[0] == -128  # NaN: ours NaN, theirs qmin
    np.testing.assert_array_equal(ours[1:], tensor[1:])  # per-tensor saturates as we do
    assert channel[1] == channel[3] == -128 and ours[1] == ours[3] == 127  # int64 overflow


def test_non_finite_policy():
    x = np.array([np.nan, np.inf, -np.inf, 1e30, -1e30, 0.5, -0.0], F32)
    for axis in (None, 0):
        y, mask = gaba.fake_quantize(x.copy(), 8, True, axis=axis, scale=0.1, return_mask=True)
        assert np.isnan(y[0])
        assert y[1] == y[3] == F32(127) * F32(0.1)
        assert y[2] == y[4] == F32(-128) * F32(0.1)
        assert mask.tolist() == [False, False, False, False, False, True, True]
    # scales from data ignore NaN/Inf
    s, _ = gaba.quant_params(with_specials(np.array([1.0, -2.0, 0.5] * 5, F32)), 8, True)
    assert s == F32(2.0) / F32(127.5)
    q = gaba.quantize(x, 8, scale=0.1)
    assert q.int_repr()[0] == 0  # NaN stored as the zero point


# ---- layouts, out=, big inputs, threads ----------------------------------------------


@pytest.mark.parametrize("axis", (None, 0, 1))
def test_layouts(axis):
    x = rand((13, 17), seed=5)
    want = gaba.fake_quantize(x, 8, False, axis=axis)
    for name, view in layouts(x):
        before = np.array(view, copy=True)
        assert_bitexact(gaba.fake_quantize(view, 8, False, axis=axis), want, name)
        np.testing.assert_array_equal(view, before, err_msg=f"{name}: input modified")


def test_out_and_in_place():
    x = rand((33, 5), seed=6)
    want = gaba.fake_quantize(x, 4)
    out = np.empty_like(x)
    assert gaba.fake_quantize(x, 4, out=out) is out
    assert_bitexact(out, want)
    y = x.copy()
    assert gaba.fake_quantize(y, 4, out=y) is y
    assert_bitexact(y, want)


def test_threads_agree_and_16m_elements():
    n = 1 << 24  # 16M: several threaded tasks, partial last task
    x = rand((n + 7,), seed=7, low=-5, high=5)
    x[123456] = 9.0
    qmin, qmax = ref.grid(8, False)
    scale, zp = ref.qparams(*ref.minmax(x), qmin, qmax, False)
    want = ref.fake_quantize(x, scale, zp, qmin, qmax)[0]
    for threads in (1, 2):
        gaba.set_num_threads(threads)
        assert gaba.quant_params(x, 8, False) == (float(scale[0]), int(zp[0]))
        assert_bitexact(gaba.fake_quantize(x, 8, False), want, f"threads={threads}")
        q = gaba.quantize(x, 4, False, scale=scale[0] * 16, zero_point=int(zp[0]) // 16)
        y = gaba.fake_quantize(x, 4, False, scale=scale[0] * 16, zero_point=int(zp[0]) // 16)
        assert_bitexact(gaba.dequantize(q), y, f"int4 threads={threads}")


def test_per_channel_threaded_matches_serial():
    x = rand((1024, 1030), seed=8)
    want = expected_fq(x, 4, True, axis=0)[0]
    for threads in (1, 2):
        gaba.set_num_threads(threads)
        assert_bitexact(gaba.fake_quantize(x, 4, True, axis=0), want)
        assert_bitexact(gaba.fake_quantize(x, 4, True, axis=1),
                        expected_fq(x, 4, True, axis=1)[0])
    # per-element parameters (channel axis last), odd row length, packed INT4, threaded
    z = rand((3001, 131), seed=9, low=-1, high=2)
    for threads in (1, 2):
        gaba.set_num_threads(threads)
        for bits, sym in ((4, False), (8, True)):
            q = gaba.quantize(z, bits, sym, axis=1)
            assert_bitexact(q.dequantize(), expected_fq(z, bits, sym, axis=1)[0])
            assert_bitexact(gaba.fake_quantize(z.reshape(3001, 131, 1), bits, sym, axis=1),
                            expected_fq(z, bits, sym, axis=1)[0].reshape(3001, 131, 1))


# ---- validation ------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs,error,text", [
    (dict(bits=1), ValueError, "bits must be from 2 to 16"),
    (dict(bits=17), ValueError, "bits must be from 2 to 16"),
    (dict(bits=8.0), TypeError, "bits must be an int"),
    (dict(scale=0.0), ValueError, "scale must be finite and > 0"),
    (dict(scale=-1.0), ValueError, "scale must be finite and > 0"),
    (dict(scale=np.nan), ValueError, "scale must be finite and > 0"),
    (dict(scale=np.inf), ValueError, "scale must be finite and > 0"),
    (dict(scale=1e-45), ValueError, "finite 1/scale"),
    (dict(scale=0.1, zero_point=3), ValueError, "symmetric quantization has zero_point 0"),
    (dict(symmetric=False, scale=0.1), ValueError, "needs zero_point"),
    (dict(symmetric=False, scale=0.1, zero_point=256), ValueError, r"\[0, 255\]"),
    (dict(symmetric=False, scale=0.1, zero_point=1.5), ValueError, "must hold integers"),
    (dict(zero_point=0), ValueError, "without scale"),
    (dict(symmetric=False, narrow_range=True), ValueError, "narrow_range"),
    (dict(axis=2), ValueError, r"'axis' must be in -2\.\.1, got 2"),
    (dict(axis=0, scale=[0.1, 0.2]), ValueError, "one value per channel"),
    (dict(rounding="up"), ValueError, "'half_even', 'half_away'"),
])
def test_validation(kwargs, error, text):
    x = rand((3, 4), seed=9)
    args = {"bits": 8, "symmetric": True, **kwargs}
    with pytest.raises(error, match=text):
        gaba.fake_quantize(x, args.pop("bits"), args.pop("symmetric"), **args)


def test_validation_arrays():
    x = rand((3, 4), seed=10)
    with pytest.raises(TypeError, match="must have dtype float32"):
        gaba.fake_quantize(x.astype(np.float64), 8)
    with pytest.raises(TypeError, match="numpy.ndarray"):
        gaba.fake_quantize([1.0, 2.0], 8)
    with pytest.raises(ValueError, match="shape of 'x'"):
        gaba.fake_quantize(x, 8, out=np.empty((4, 3), F32))
    ro = np.empty_like(x)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        gaba.fake_quantize(x, 8, out=ro)
    big = np.zeros(13, F32)
    with pytest.raises(ValueError, match="overlaps"):
        gaba.fake_quantize(big[1:], 8, out=big[:-1])
    with pytest.raises(ValueError, match="same shape"):
        gaba.fake_quantize_backward(np.ones(3, F32), np.ones(4, bool))
    with pytest.raises(TypeError, match="QTensor"):
        gaba.dequantize(x)


def test_dequantize_out_must_have_the_tensors_rank():
    """An `out` of another rank is refused, 0-D included (it crashed the
    interpreter: its dims pointer is NULL), and so is one with extra axes."""
    q = gaba.quantize(np.ones((2, 3), F32), 8)
    for out in (np.empty((), F32), np.empty((2, 3, 1), F32), np.empty((6,), F32),
                np.empty((2,), F32)):
        with pytest.raises(ValueError, match=r"'out' must have the tensor's shape \(2, 3\)"):
            gaba.dequantize(q, out=out)
        with pytest.raises(ValueError, match="shape"):
            q.dequantize(out)
    scalar = gaba.quantize(np.array(0.5, F32), 8)
    with pytest.raises(ValueError, match="shape"):
        gaba.dequantize(scalar, out=np.empty(1, F32))
    out = np.empty((), F32)
    assert gaba.dequantize(scalar, out=out) is out
    assert out == gaba.fake_quantize(np.array(0.5, F32), 8)


def test_dequantize_checks_data_before_allocating():
    """A shape the data cannot fill is refused before `out` is allocated (a
    2**31-value shape over 8 bytes asked for 8 GiB first)."""
    s, z = np.ones(1, F32), np.zeros(1, np.int32)
    data = np.zeros(8, np.int8)
    for shape, error, text in [((2**31,), ValueError, "holds 8 values"),
                               ((2**40, 2**40), ValueError, "too many values"),
                               ((-1, 8), ValueError, "negative"),
                               (b"bytes", TypeError, "tuple"),
                               ([8], TypeError, "tuple")]:
        with pytest.raises(error, match=text):
            _gaba.dequantize(data, 0, shape, None, s, z, None)
    with pytest.raises(ValueError, match="'storage' must be in"):
        _gaba.dequantize(data, 2**63, (8,), None, s, z, None)
    np.testing.assert_array_equal(_gaba.dequantize(data, 0, (2, 4), None, s, z, None),
                                  np.zeros((2, 4), F32))


@pytest.mark.parametrize("value", [2**63, -2**63 - 1, 10**100])
def test_huge_ints_are_value_errors(value):
    """Integers past C's range are ValueErrors naming the argument, not
    OverflowError."""
    x = rand((3, 4), seed=12)
    with pytest.raises(ValueError, match="'axis' must be in -2..1"):
        gaba.fake_quantize(x, 8, axis=value)
    with pytest.raises(ValueError, match="axis"):
        gaba.quant_params(x, 8, axis=value)
    with pytest.raises(ValueError, match="'qmin'"):
        _gaba.fake_quantize(x, None, None, None, None, value, 127, True, None, False)
    with pytest.raises(ValueError, match="'count'"):
        _gaba.observe(np.zeros(1, F32), np.zeros(1, F32), value, 0.0, x, None)


def test_observer_range_overflow_is_a_value_error():
    """The observer words a range too wide for float32 as quant_params does."""
    x = np.array([-3.4e38, 3.4e38], F32)
    obs = gaba.MinMaxObserver()
    obs.update(x)
    with pytest.raises(ValueError, match="overflows float32"):
        obs.qparams(8, False)
    with pytest.raises(ValueError, match="overflows float32"):
        gaba.quant_params(x, 8, False)
    scale, zp = obs.qparams(8, True)
    assert (scale, zp) == gaba.quant_params(x, 8, True)


def test_refcounts_and_inputs_unchanged():
    x = rand((8, 9), seed=11)
    before = x.copy()
    counts = sys.getrefcount(x)
    obs = gaba.MovingAverageObserver(axis=1)
    for _ in range(50):
        _, mask = gaba.fake_quantize(x, 8, axis=0, return_mask=True)
        gaba.fake_quantize_backward(x, mask)
        gaba.fake_quantize_lsq_backward(x, x, 0.1, 3.0, 8, False)
        gaba.quant_params(x, 4, axis=1)
        obs.update(x)
        obs.qparams()
        gaba.quantize(x, 4).dequantize()
        try:
            gaba.fake_quantize(x, 8, out=np.empty((2, 2), F32))
        except ValueError:
            pass
    assert sys.getrefcount(x) == counts
    np.testing.assert_array_equal(x, before)


# ---- QAT gradients ---------------------------------------------------------------------


def test_ste_backward_and_finite_differences():
    x = rand((200,), seed=12, low=-1.5, high=1.5)
    scale = 0.01  # grid covers [-1.28, 1.27]: some values fall outside
    y, mask = gaba.fake_quantize(x, 8, scale=scale, return_mask=True)
    grad = rand((200,), seed=13)
    gx = gaba.fake_quantize_backward(grad, mask)
    assert_bitexact(gx, (grad * mask.astype(F32)).astype(F32))
    # STE = derivative of the unrounded surrogate (clamp(x/s) * s) away from the clamp edges.
    xs = x.astype(np.float64)
    surrogate = lambda v: np.clip(v / scale, -128, 127) * scale
    h = 1e-6
    fd = (surrogate(xs + h) - surrogate(xs - h)) / (2 * h)
    far = np.abs(np.abs(xs / scale + 0.0) - 127.5) > 1
    np.testing.assert_allclose(gx[far], (grad * fd)[far], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("axis", (None, 0, 1))
@pytest.mark.parametrize("symmetric", (True, False))
def test_lsq_matches_reference(axis, symmetric):
    x = rand((9, 31), seed=14, low=-3, high=3)
    grad = rand((9, 31), seed=15)
    channels = 1 if axis is None else x.shape[axis]
    scale = np.linspace(0.01, 0.03, channels).astype(F32)
    zp = np.zeros(channels, F32) if symmetric else np.linspace(90.3, 140, channels).astype(F32)
    qmin, qmax = ref.grid(8, symmetric)
    gx, gs, gz = gaba.fake_quantize_lsq_backward(
        grad, x, scale if axis is not None else scale[0], zp if axis is not None else zp[0],
        8, symmetric, axis=axis, grad_factor=0.5)
    ex, es, ez = ref.lsq_backward(grad, x, scale, zp, qmin, qmax, axis, 0.5)
    assert_bitexact(gx, ex)
    np.testing.assert_allclose(np.atleast_1d(gs), es, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.atleast_1d(gz), ez, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("axis", (None, 0))
def test_lsq_large_threaded(axis):
    x = rand((600, 700), seed=17, low=-3, high=3)
    grad = rand((600, 700), seed=18)
    channels = 1 if axis is None else 600
    scale = np.full(channels, 0.02, F32)
    zp = np.full(channels, 3.0, F32)
    ex, es, ez = ref.lsq_backward(grad, x, scale, zp, 0, 255, axis, 0.25)
    for threads in (1, 2):
        gaba.set_num_threads(threads)
        gx, gs, gz = gaba.fake_quantize_lsq_backward(
            grad, x, scale if axis is not None else 0.02, zp if axis is not None else 3.0, 8,
            False, axis=axis, grad_factor=0.25)
        assert_bitexact(gx, ex)
        # float64 sums of the same float32 terms in another order: ~1e-16 relative
        np.testing.assert_allclose(np.atleast_1d(gs), es, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(np.atleast_1d(gz), ez, rtol=1e-6, atol=1e-9)


def test_lsq_finite_differences():
    """LSQ's d/dscale and d/dzero_point against central differences of the fake-quant
    function, with round() passed straight through (the LSQ surrogate)."""
    rng = np.random.default_rng(16)
    x = rng.uniform(-2, 2, 300).astype(F32)
    grad = rng.uniform(-1, 1, 300).astype(F32)
    s, z, qmin, qmax = 0.01, 60.0, 0, 255
    xs, g = x.astype(np.float64), grad.astype(np.float64)
    rounded = np.round(xs / s)  # held fixed: the straight-through part

    def loss(s_, z_):
        u = xs / s_
        q = np.clip(rounded + (u - u.copy()) + z_, qmin, qmax)  # q, with u - stop_grad(u) = 0
        inside = (rounded + z >= qmin) & (rounded + z <= qmax)
        # inside: d/ds of s * (round(x/s) - x/s + x/s) under STE = round(x/s) - x/s
        return np.sum(g * np.where(inside, (rounded - xs / s) * s_ + xs, (q - z_) * s_))

    h = 1e-7
    fd_s = (loss(s + h, z) - loss(s - h, z)) / (2 * h)
    fd_z = (loss(s, z + 1e-3) - loss(s, z - 1e-3)) / 2e-3
    _, gs, gz = gaba.fake_quantize_lsq_backward(grad, x, s, z, 8, False)
    assert abs(gs - fd_s) <= 1e-3 * max(1.0, abs(fd_s))
    assert abs(gz - fd_z) <= 1e-4 * max(1.0, abs(fd_z))


# ---- observers --------------------------------------------------------------------------


@pytest.mark.parametrize("axis", (None, 0, -1))
def test_observers_match_reference(axis):
    batches = [rand((6, 11), seed=20 + i, low=-1 - i, high=1 + 0.5 * i) for i in range(4)]
    batches[2][0, 0] = np.nan
    mm, ema = gaba.MinMaxObserver(axis=axis), gaba.MovingAverageObserver(0.01, axis=axis)
    channels = 1 if axis is None else batches[0].shape[axis]
    rm = (np.full(channels, np.inf, F32), np.full(channels, -np.inf, F32))
    re = rm
    for i, b in enumerate(batches):
        mm.update(b)
        ema(b)
        rm = ref.observe(*rm, b, axis)
        re = ref.observe(*re, b, axis, 0.01, first=i == 0)
    for obs, (lo, hi) in ((mm, rm), (ema, re)):
        np.testing.assert_array_equal(np.atleast_1d(obs.min_val), lo)
        np.testing.assert_array_equal(np.atleast_1d(obs.max_val), hi)
        for bits, sym, narrow in ((8, True, False), (8, False, False), (4, True, True)):
            scale, zp = obs.qparams(bits, sym, narrow)
            es, ez = ref.qparams(lo, hi, *ref.grid(bits, sym, narrow), sym)
            np.testing.assert_array_equal(np.atleast_1d(scale), es)
            np.testing.assert_array_equal(np.atleast_1d(zp), ez)
    assert "count=4" in repr(mm)


def test_per_channel_observer_repr_is_a_summary():
    """A per-channel observer's repr gives the channel count and the spread of
    the bounds, not one number per channel."""
    obs = gaba.MinMaxObserver(axis=0)
    assert repr(obs) == "MinMaxObserver(axis=0, count=0, min_val=None, max_val=None)"
    x = np.linspace(-2, 3, 4000, dtype=F32).reshape(1000, 4)
    obs.update(x)
    lo, hi = x.min(1), x.max(1)
    assert repr(obs) == (f"MinMaxObserver(axis=0, count=1, channels=1000, min_val in "
                         f"[{lo.min():.4g}, {lo.max():.4g}], max_val in "
                         f"[{hi.min():.4g}, {hi.max():.4g}])")


def test_observer_errors():
    obs = gaba.MinMaxObserver(axis=0)
    with pytest.raises(ValueError, match="no data observed"):
        obs.qparams()
    obs.update(rand((3, 4)))
    with pytest.raises(ValueError, match="tracks 3 channels"):
        obs.update(rand((5, 4)))
    with pytest.raises(ValueError, match="averaging_constant"):
        gaba.MovingAverageObserver(1.5)


# ---- quantized tensors --------------------------------------------------------------------


def test_nibble_order():
    x = np.array([1, -2, 3, 7, -8], F32)
    q = gaba.quantize(x, 4, scale=1.0)
    assert q.data.dtype == np.uint8
    assert q.data.tolist() == [0xE1, 0x73, 0x08]  # element 2i low nibble, padding 0
    np.testing.assert_array_equal(q.int_repr(), x.astype(np.int8))
    qa = gaba.quantize(np.array([0, 15, 9], F32), 4, False, scale=1.0, zero_point=0)
    assert qa.data.tolist() == [0xF0, 0x09]


@pytest.mark.parametrize("shape,axis", [((67,), None), ((5, 13), 0), ((5, 13), 1),
                                        ((3, 5, 7), 1), ((64, 3, 3, 3), 0), ((2, 33, 17), None),
                                        ((300, 129), 0), ((31, 1), 0)])
@pytest.mark.parametrize("bits,symmetric", [(8, True), (8, False), (4, True), (4, False),
                                            (2, True), (6, False), (12, True), (16, False)])
@pytest.mark.parametrize("rounding", ("half_even", "half_away"))
def test_quantize_dequantize_equals_fake_quantize(shape, axis, bits, symmetric, rounding):
    x = rand(shape, seed=len(shape) + bits, low=-2, high=1.5)
    q = gaba.quantize(x, bits, symmetric, axis=axis, rounding=rounding)
    assert_bitexact(gaba.dequantize(q), gaba.fake_quantize(x, bits, symmetric, axis=axis,
                                                           rounding=rounding))
    qmin, qmax = ref.grid(bits, symmetric)
    ints = ref.quantize_int(x, q.scale, q.zero_point, qmin, qmax, axis, rounding)
    np.testing.assert_array_equal(q.int_repr(), ints)
    if bits <= 4:
        np.testing.assert_array_equal(q.data, ref.pack_nibbles(ints))
    assert_bitexact(q.dequantize(), ref.dequantize_int(ints, q.scale, q.zero_point, axis))


def test_qtensor_bytes_and_repr():
    w = rand((256, 256), seed=30)
    q8, q4 = gaba.quantize(w, 8), gaba.quantize(w, 4, axis=0)
    assert q8.nbytes == 256 * 256 + 8 and q8.data.dtype == np.int8
    assert q4.nbytes == 256 * 128 + 256 * 8
    assert q4.data.shape == (256 * 128,)
    assert "per-channel axis=0" in repr(q4) and "7.53x smaller than float32" in repr(q4)
    assert gaba.quantize(w, 8, False).data.dtype == np.uint8
    assert gaba.quantize(w, 12).data.dtype == np.int16
    out = np.empty_like(w)
    assert gaba.dequantize(q4, out=out) is out


# ---- PyTorch parity (optional) ---------------------------------------------------------


def tie_crafted(n, seed):
    """Values that land exactly on k + 0.5 after scaling, near grid edges, plus randoms."""
    rng = np.random.default_rng(seed)
    scale = F32(2.0**-5)
    k = rng.integers(-140, 140, n // 2).astype(F32)
    ties = ((k + F32(0.5)) * scale).astype(F32)
    rnd = rng.standard_normal(n - n // 2).astype(F32)
    return np.concatenate([ties, rnd]), scale


def test_torch_bitexact_1m():
    torch = pytest.importorskip("torch")
    n = 1_000_000
    x = np.random.default_rng(40).standard_normal(n).astype(F32) * F32(3)
    ties, tscale = tie_crafted(n, 41)
    for bits in (2, 3, 4, 8):
        for sym in (True, False):
            qmin, qmax = ref.grid(bits, sym)
            for data, given in ((x, None), (ties, tscale)):
                if given is None:
                    scale, zp = gaba.quant_params(data, bits, sym)
                else:
                    scale, zp = float(given), (0 if sym else (qmin + qmax) // 2)
                y, mask = gaba.fake_quantize(data, bits, sym, scale=scale,
                                             zero_point=None if sym else zp, return_mask=True)
                ty, tmask = torch.ops.aten.fake_quantize_per_tensor_affine_cachemask(
                    torch.from_numpy(data), scale, zp, qmin, qmax)
                assert_bitexact(y, ty.numpy(), f"bits={bits} sym={sym}")
                np.testing.assert_array_equal(mask, tmask.numpy())


def test_torch_per_channel_bitexact():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(42).standard_normal((1000, 1000)).astype(F32)
    x[::7] *= 10
    ties, tscale = tie_crafted(1_000_000, 43)
    ties = ties.reshape(1000, 1000)
    for bits, sym in ((8, True), (8, False), (4, True), (4, False)):
        qmin, qmax = ref.grid(bits, sym)
        for axis in (0, 1):
            scale, zp = gaba.quant_params(x, bits, sym, axis=axis)
            y = gaba.fake_quantize(x, bits, sym, axis=axis)
            ty = torch.fake_quantize_per_channel_affine(
                torch.from_numpy(x), torch.from_numpy(scale), torch.from_numpy(zp), axis, qmin,
                qmax)
            assert_bitexact(y, ty.numpy(), f"bits={bits} sym={sym} axis={axis}")
        s = np.full(1000, tscale, F32)
        z = np.full(1000, 0 if sym else (qmin + qmax) // 2, np.int32)
        y = gaba.fake_quantize(ties, bits, sym, axis=0, scale=s, zero_point=None if sym else z)
        ty = torch.fake_quantize_per_channel_affine(torch.from_numpy(ties), torch.from_numpy(s),
                                                    torch.from_numpy(z), 0, qmin, qmax)
        assert_bitexact(y, ty.numpy(), "ties")


def test_torch_ste_and_lsq():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(44)
    x = (rng.standard_normal((16, 50)) * 2).astype(F32)
    grad = rng.standard_normal((16, 50)).astype(F32)
    # STE through the autograd of fake_quantize_per_tensor_affine
    tx = torch.from_numpy(x.copy()).requires_grad_()
    torch.fake_quantize_per_tensor_affine(tx, 0.02, 0, -128, 127).backward(torch.from_numpy(grad))
    _, mask = gaba.fake_quantize(x, 8, scale=0.02, return_mask=True)
    assert_bitexact(gaba.fake_quantize_backward(grad, mask), tx.grad.numpy())
    # LSQ, per tensor and per channel
    for sym, zp in ((True, 0.0), (False, 100.4)):
        qmin, qmax = ref.grid(8, sym)
        tx = torch.from_numpy(x.copy()).requires_grad_()
        ts = torch.tensor([0.015], requires_grad=True)
        tz = torch.tensor([zp], requires_grad=True)
        torch._fake_quantize_learnable_per_tensor_affine(tx, ts, tz, qmin, qmax, 0.7).backward(
            torch.from_numpy(grad))
        gx, gs, gz = gaba.fake_quantize_lsq_backward(grad, x, 0.015, zp, 8, sym, grad_factor=0.7)
        assert_bitexact(gx, tx.grad.numpy())
        np.testing.assert_allclose(gs, ts.grad.item(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(gz, tz.grad.item(), rtol=1e-4, atol=1e-5)
        scale = np.linspace(0.01, 0.03, 16).astype(F32)
        zps = np.full(16, zp, F32)
        tx = torch.from_numpy(x.copy()).requires_grad_()
        ts = torch.from_numpy(scale.copy()).requires_grad_()
        tz = torch.from_numpy(zps.copy()).requires_grad_()
        torch._fake_quantize_learnable_per_channel_affine(tx, ts, tz, 0, qmin, qmax,
                                                          0.7).backward(torch.from_numpy(grad))
        gx, gs, gz = gaba.fake_quantize_lsq_backward(grad, x, scale, zps, 8, sym, axis=0,
                                                     grad_factor=0.7)
        assert_bitexact(gx, tx.grad.numpy())
        np.testing.assert_allclose(gs, ts.grad.numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(gz, tz.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_torch_observers():
    torch = pytest.importorskip("torch")
    from torch.ao.quantization import observer as tobs

    rng = np.random.default_rng(45)
    batches = [(rng.standard_normal((8, 20)) * (1 + i)).astype(F32) + i * 0.1 for i in range(5)]
    cases = [
        (gaba.MinMaxObserver(), tobs.MinMaxObserver, {}, None),
        (gaba.MovingAverageObserver(0.01), tobs.MovingAverageMinMaxObserver,
         {"averaging_constant": 0.01}, None),
        (gaba.MinMaxObserver(axis=0), tobs.PerChannelMinMaxObserver, {"ch_axis": 0}, 0),
        (gaba.MovingAverageObserver(0.01, axis=1), tobs.MovingAveragePerChannelMinMaxObserver,
         {"averaging_constant": 0.01, "ch_axis": 1}, 1),
    ]
    for ours, cls, kw, axis in cases:
        for b in batches:
            ours.update(b)
        for bits, sym in ((8, True), (8, False), (4, True), (4, False)):
            qmin, qmax = ref.grid(bits, sym)
            if axis is None:
                scheme = torch.per_tensor_symmetric if sym else torch.per_tensor_affine
            else:
                scheme = torch.per_channel_symmetric if sym else torch.per_channel_affine
            theirs = cls(dtype=torch.qint8 if sym else torch.quint8, qscheme=scheme,
                         quant_min=qmin, quant_max=qmax, **kw)
            for b in batches:
                theirs(torch.from_numpy(b))
            np.testing.assert_array_equal(np.atleast_1d(ours.min_val), theirs.min_val.numpy())
            np.testing.assert_array_equal(np.atleast_1d(ours.max_val), theirs.max_val.numpy())
            ts, tz = theirs.calculate_qparams()
            s, z = ours.qparams(bits, sym)
            np.testing.assert_array_equal(np.atleast_1d(s), ts.numpy(), err_msg=cls.__name__)
            np.testing.assert_array_equal(np.atleast_1d(z), tz.numpy(), err_msg=cls.__name__)


# ---- binding hygiene: 1000 calls leak nothing, inputs unchanged ------------------------
# (the rows of a binding-hygiene table, kept here beside the family's other tests)


def test_new_outputs_are_owned_once():
    x = rand((4, 5), seed=53)
    y, mask = gaba.fake_quantize(x, 8, return_mask=True)
    out = gaba.fake_quantize(x, 8)
    assert sys.getrefcount(out) == 2
    assert out.base is None and out.flags.owndata and out.flags.c_contiguous
    q = gaba.quantize(x, 4)
    refs = sys.getrefcount(q.data)  # outside the assert: pytest's rewrite holds a reference
    assert refs == 2 and q.data.flags.owndata


def test_qtensor_constructor_checks_shape_and_axis():
    q = gaba.quantize(np.ones((2, 3), F32), 8)
    args = (q.data, (2, 3), 8, True, False, None, q.scale, q.zero_point)
    with pytest.raises(TypeError, match="'shape' must be an int"):
        gaba.QTensor(q.data, (2, float("inf")), *args[2:])
    with pytest.raises(ValueError, match="'shape' must be in"):
        gaba.QTensor(q.data, (2, -3), *args[2:])
    with pytest.raises(ValueError, match="'axis' must be in -2..1"):
        gaba.QTensor(*args[:5], 2, *args[6:])
    np.testing.assert_array_equal(gaba.QTensor(*args).dequantize(), q.dequantize())


# ---- scheme="tflite": the grid and scale rule that m.quantize deploys ------------------


def tflite_reference(x, bits, axis):
    """The levels (clamped, int64) and float32 scales of TFLite's per-channel weight rule:
    scale = max|x| / qmax in float64 (1 for a channel of zeros), q = round(x / scale)
    with ties away from zero."""
    qmax = 2 ** (bits - 1) - 1
    rows = np.moveaxis(x, axis, 0).reshape(x.shape[axis], -1).astype(np.float64)
    amax = np.abs(rows).max(axis=1)
    scale = np.where(amax > 0, amax / qmax, 1.0)
    v = rows / scale[:, None]
    levels = np.sign(v) * np.floor(np.abs(v) + 0.5)  # exact here: no |v| near 0.5 - 2**-54
    q = np.clip(levels, -qmax, qmax).astype(np.int64)
    return np.moveaxis(q.reshape(np.moveaxis(x, axis, 0).shape), 0, axis), scale.astype(F32)


@pytest.mark.parametrize("bits", (8, 4))
@pytest.mark.parametrize("shape,axis", [((16, 27), 0), ((5, 7, 3), 1), ((4, 9), -1)])
def test_tflite_scheme_matches_reference(bits, shape, axis):
    x = rand(shape, seed=bits, low=-2, high=3)
    x[(0,) * x.ndim] = 0.0
    np.moveaxis(x, axis, 0)[1] = 0.0  # a channel of zeros: scale 1, as the quantizer gives
    np.moveaxis(x, axis, 0)[2].reshape(-1)[:3] = (127.0, 2.5, -3.5)  # scale 1: ties
    q, scale = tflite_reference(x, bits, axis)
    want = (q.astype(F32) * np.expand_dims(scale, [d for d in range(x.ndim) if d != axis % x.ndim]))
    y, mask = gaba.fake_quantize(x, bits, axis=axis, scheme="tflite", return_mask=True)
    assert_bitexact(y, want)
    assert mask.all()
    s, zp = gaba.quant_params(x, bits, axis=axis, scheme="tflite")
    assert_bitexact(s, scale)
    assert not zp.any()
    t = gaba.quantize(x, bits, axis=axis, scheme="tflite")
    np.testing.assert_array_equal(t.int_repr(), q)
    assert t.symmetric and t.narrow_range
    assert_bitexact(t.dequantize(), want)
    # PyTorch's grid (the default) is another one: scale max|x| / 127.5, ties to even
    assert not np.array_equal(gaba.fake_quantize(x, bits, axis=axis), want)


def test_tflite_scheme_per_tensor_clamps_and_masks():
    x = np.array([-2.0, -1.0, 0.3, 1.0, np.inf, np.nan], F32)
    y, mask = gaba.fake_quantize(x, 8, scale=1 / 127, scheme="tflite", return_mask=True)
    s = F32(1 / 127)
    want = np.array([-127, -127, round(0.3 * 127), 127, 127, np.nan], F32) * s
    assert_bitexact(y, want)
    np.testing.assert_array_equal(mask, [False, True, True, True, False, False])
    # a +-Inf tensor gets scale 1 (as the quantizer does), NaN is ignored
    assert gaba.quant_params(x, scheme="tflite") == (1.0, 0)
    assert gaba.quant_params(x[:4], scheme="tflite") == (float(F32(2.0 / 127)), 0)
    out = np.empty_like(x)
    assert gaba.fake_quantize(x, scheme="tflite", scale=s, out=out) is out
    assert_bitexact(out, want)
    assert gaba.quantize(x, scale=s, scheme="tflite").int_repr()[-1] == 0  # NaN stored as 0


def test_tflite_scheme_conflicts_raise():
    x = rand((4, 3), seed=2)
    calls = [("fake_quantize", lambda **k: gaba.fake_quantize(x, axis=0, **k)),
             ("quantize", lambda **k: gaba.quantize(x, axis=0, **k)),
             ("quant_params", lambda **k: gaba.quant_params(x, axis=0, **k)),
             ("fake_quantize_lsq_backward",
              lambda **k: gaba.fake_quantize_lsq_backward(x, x, 0.1, **k))]
    for func, call in calls:
        for bad in ({"symmetric": False}, {"narrow_range": False}):
            with pytest.raises(ValueError, match=rf"{func}\(\): scheme='tflite' means .*"
                                                 rf"{next(iter(bad))}=False"):
                call(scheme="tflite", **bad)
        with pytest.raises(ValueError, match=rf"{func}\(\): scheme must be 'pytorch' or"):
            call(scheme="TFLite")
        call(scheme="tflite", symmetric=True, narrow_range=True)  # agreeing values are fine
    for func in (gaba.fake_quantize, gaba.quantize):
        with pytest.raises(ValueError, match="rounding='half_even'"):
            func(x, scheme="tflite", rounding="half_even")
        with pytest.raises(ValueError, match="zero_point must be 0"):
            func(x, scheme="tflite", scale=0.1, zero_point=3)
    with pytest.raises(ValueError, match="zero_point must be 0"):
        gaba.fake_quantize_lsq_backward(x, x, 0.1, 2.0, scheme="tflite")
    for bad, what in ((x.astype(np.float64), "must have dtype"), ([1.0], "must be a numpy")):
        with pytest.raises(TypeError, match=rf"fake_quantize\(\): argument 'x' {what}"):
            gaba.fake_quantize(bad, scheme="tflite")
    with pytest.raises(ValueError, match="scale must be finite and > 0"):
        gaba.fake_quantize(x, scheme="tflite", scale=0.0)
    with pytest.raises(ValueError, match="'out' must have the shape of 'x'"):
        gaba.fake_quantize(x, scheme="tflite", out=np.empty((3, 4), F32))


def test_tflite_scheme_lsq_uses_the_narrow_grid():
    x = rand((6, 5), seed=4, low=-2, high=2)
    x[0, 0] = -2.0
    g = rand((6, 5), seed=5)
    scale = np.full(6, 1 / 64, F32)
    got = gaba.fake_quantize_lsq_backward(g, x, scale, np.zeros(6, F32), axis=0, scheme="tflite")
    want = gaba.fake_quantize_lsq_backward(g, x, scale, np.zeros(6, F32), axis=0,
                                           narrow_range=True)
    for a, b in zip(got, want):
        assert_bitexact(np.asarray(a), np.asarray(b))
    wide = gaba.fake_quantize_lsq_backward(g, x, scale, np.zeros(6, F32), axis=0)
    assert not np.array_equal(got[0], wide[0])  # x = -2 is level -128: inside only when wide


@pytest.mark.parametrize("name", ["ResNet8", "KeywordSpotMicro", "SentimentAnalysisMicro"])
def test_tflite_scheme_equals_what_the_int8_model_stores(name):
    """Every conv/dense layer of a vision, an audio and a text model: fake-quantizing its
    float weights per output channel with scheme="tflite" is, bit for bit, the int8
    weights m.quantize stored times their w_scale."""
    from gaba import zoo
    from gaba.benchmarks.bench_zoo import make_inputs

    m = zoo.create(name, seed=1)
    first = next(L["name"] for L in m.layers if L["op"] in ("conv2d", "conv1d", "dense"))
    w = m.weights[f"{first}.weight"]
    w[0] = 0.0  # a channel of zeros (scale 1), and a channel with ties at scale 1
    w[1].reshape(-1)[:3] = (127.0, 2.5, -3.5)
    qm = m.quantize(make_inputs(m, 8, seed=0))
    stored = {nd[0]: nd[7] for nd in _gaba.zoo_qgraph(qm._cap)["nodes"]
              if nd[1] == "int8" and "w_scale" in nd[7]}
    layers = [L["name"] for L in m.layers if L["op"] in ("conv2d", "conv1d", "dense")]
    assert sorted(stored) == sorted(layers) and len(layers) >= 5
    for layer in layers:
        fw, s = m.weights[f"{layer}.weight"], stored[layer]
        q = s["weight"].reshape(fw.shape)
        deployed = q.astype(F32) * s["w_scale"].reshape(-1, *[1] * (fw.ndim - 1))
        assert_bitexact(gaba.fake_quantize(fw, axis=0, scheme="tflite"), deployed, layer)
        assert_bitexact(gaba.quant_params(fw, axis=0, scheme="tflite")[0], s["w_scale"], layer)
        np.testing.assert_array_equal(gaba.quantize(fw, axis=0, scheme="tflite").int_repr(), q)
        assert not np.array_equal(gaba.fake_quantize(fw, axis=0), deployed), layer
