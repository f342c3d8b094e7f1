"""Backward of the ops without a GEMM (softmax, pooling, upsample, concat, add/sub/mul,
the copies, transpose, embedding, layer norm, batch norm) against PyTorch's autograd.

Each test runs one layer's forward and backward over a batch through
``_nn.<op>(..., dy=g)``, with the fast and the reference kernels, and compares
the gradients with those torch computes for the same layer from the same ``g``.
Shapes are odd, batches above one (the weights' gradients sum over samples) and
windows overlap (an input's gradient sums over the outputs that read it).
"""
import numpy as np
import pytest

from gaba import _nn
from grads import check, torch, torch_grads

F = torch.nn.functional
pytestmark = pytest.mark.kernels
IMPLS = [False, True]  # reference=False: the fast kernels; True: the oracles


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def ties(*shape, seed=0):
    """Small integers: most pooling windows hold their maximum more than once."""
    return np.random.default_rng(seed).integers(0, 3, shape).astype(np.float32)


def run(fn, inputs, weights, gaba_fn, f64=False):
    """gaba's and torch's gradients of one layer from the same random upstream gradient;
    f64: torch's in float64, where float32 rounding in torch is the limit."""
    y = gaba_fn()
    g = rand(*y.shape, seed=7)
    dtype = np.float64 if f64 else np.float32
    inputs, weights = ([a.astype(dtype) for a in arrs] for arrs in (inputs, weights))
    check(gaba_fn(dy=g), torch_grads(fn, inputs, weights, g.astype(dtype)))


@pytest.mark.parametrize("reference", IMPLS)
@pytest.mark.parametrize("shape", [(3, 10), (2, 5, 7), (2, 3, 4, 1), (2, 2, 3, 3, 6)])
def test_softmax(shape, reference):
    x = rand(*shape) * 3
    run(lambda t: F.softmax(t, -1), [x], [],
        lambda **kw: _nn.softmax(x, reference=reference, **kw))


def torch_pool(op, x, kernel, stride, pads):
    """gaba's pooling in torch for any padding (top, left, bottom, right): max over
    -inf padding; average as a sum over the window's input cells by their count."""
    one_d = x.dim() == 3
    pad = (pads[1], pads[3]) if one_d else (pads[1], pads[3], pads[0], pads[2])
    pool = F.max_pool1d if one_d else F.max_pool2d
    if op == "maxpool":
        return pool(F.pad(x, pad, value=-float("inf")), kernel, stride)
    pool = F.avg_pool1d if one_d else F.avg_pool2d
    count = pool(F.pad(torch.ones_like(x), pad), kernel, stride)
    return pool(F.pad(x, pad), kernel, stride) / count.clamp(min=1e-3)  # 0 / 0: no cell read


POOL_CASES = [  # x shape, kernel, stride, padding as _nn takes them
    ((2, 3, 9, 11), (3, 2), (2, 3), (1, 1, 2, 0)),  # overlapping rows, asymmetric padding
    ((2, 3, 8, 8), 2, 2, 0),
    ((2, 3, 9, 8), 3, (2, 1), 0),  # unpadded, overlapping
    ((1, 2, 7, 7), 2, 2, 0),  # the last row and column in no window
    ((1, 2, 7, 5), 3, 1, (1, 2)),
    ((2, 1, 2, 3), 2, 1, (1, 0, 3, 1)),  # windows wholly in the bottom padding
    ((3, 4, 13), 4, 3, (1, 2)),  # 1-D
    ((2, 3, 10), 3, 1, 1),
    ((2, 2, 6), 2, 2, 0),
]


@pytest.mark.parametrize("reference", IMPLS)
@pytest.mark.parametrize("data", [rand, ties])
@pytest.mark.parametrize("op", ["maxpool", "avgpool"])
@pytest.mark.parametrize("case", POOL_CASES)
def test_pool(case, op, data, reference):
    shape, kernel, stride, padding = case
    x = data(*shape)
    one_d = len(shape) == 3
    k, s = _nn._two(kernel, op, "", 1, one_d), _nn._two(stride, op, "", 1, one_d)
    pads = _nn._pads(padding, op, one_d)
    k, s = (k[1], s[1]) if one_d else (k, s)
    run(lambda t: torch_pool(op, t, k, s, pads), [x], [],
        lambda **kw: getattr(_nn, op)(x, kernel, stride=stride, padding=padding,
                                      reference=reference, **kw))


@pytest.mark.parametrize("reference", IMPLS)
def test_pool_as_torch_pads(reference):
    """Symmetric padding straight through torch's own pooling (count_include_pad=False)."""
    x = ties(2, 3, 9, 10)
    run(lambda t: F.max_pool2d(t, 3, 2, padding=1), [x], [],
        lambda **kw: _nn.maxpool(x, 3, stride=2, padding=1, reference=reference, **kw))
    x = rand(2, 3, 9, 10)
    run(lambda t: F.avg_pool2d(t, (3, 2), (2, 1), padding=1, count_include_pad=False), [x], [],
        lambda **kw: _nn.avgpool(x, (3, 2), stride=(2, 1), padding=1, reference=reference,
                                 **kw))


@pytest.mark.parametrize("reference", IMPLS)
@pytest.mark.parametrize("data", [rand, ties])
@pytest.mark.parametrize("op", ["global_maxpool", "global_avgpool"])
@pytest.mark.parametrize("shape", [(2, 3, 5, 7), (3, 4, 11), (2, 3, 2, 3, 4), (2, 5, 1)])
def test_global_pool(shape, op, data, reference):
    x = data(*shape)
    pool = F.adaptive_max_pool1d if op == "global_maxpool" else F.adaptive_avg_pool1d
    if len(shape) == 4:  # the 2-D pools themselves
        pool2 = F.adaptive_max_pool2d if op == "global_maxpool" else F.adaptive_avg_pool2d
        fn = lambda t: pool2(t, 1).flatten(1)  # noqa: E731
    else:
        fn = lambda t: pool(t.flatten(2), 1).flatten(1)  # noqa: E731
    run(fn, [x], [], lambda **kw: getattr(_nn, op)(x, reference=reference, **kw))


@pytest.mark.parametrize("reference", IMPLS)
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("shape,scale", [((2, 3, 5, 7), 2), ((2, 2, 4, 3), (3, 2)),
                                         ((1, 2, 1, 4), (2, 3)), ((2, 2, 3, 40), 2),
                                         ((3, 2, 9), 3), ((2, 3, 1), 2),
                                         ((2, 1, 2, 1100), 2)])  # rows past the fast path's
def test_upsample(shape, scale, mode, reference):
    x = rand(*shape)
    one_d = len(shape) == 3
    sf = (scale, scale) if isinstance(scale, int) and not one_d else scale
    tmode = "linear" if one_d and mode == "bilinear" else mode
    extra = {} if mode == "nearest" else {"align_corners": False}
    run(lambda t: F.interpolate(t, scale_factor=sf, mode=tmode, **extra), [x], [],
        lambda **kw: _nn.upsample(x, scale=scale, mode=mode, reference=reference, **kw))


@pytest.mark.parametrize("reference", IMPLS)
@pytest.mark.parametrize("channels", [(1, 2), (3, 1, 2), (2, 4, 1, 3)])
def test_concat(channels, reference):
    xs = [rand(2, c, 3, 5, seed=i) for i, c in enumerate(channels)]
    run(lambda *ts: torch.cat(ts, 1), xs, [],
        lambda **kw: _nn.concat(xs, reference=reference, **kw))


@pytest.mark.parametrize("reference", IMPLS)
@pytest.mark.parametrize("op", ["add", "sub", "mul"])
@pytest.mark.parametrize("a_shape,b_shape", [((2, 4, 3, 5), (2, 4, 3, 5)), ((2, 4, 3, 5), (2, 4)),
                                             ((3, 5, 7), (3, 5, 1)), ((2, 6), (2, 6))])
def test_binary(a_shape, b_shape, op, reference):
    a, b = rand(*a_shape), rand(*b_shape, seed=1)
    fns = {"add": torch.add, "sub": torch.sub, "mul": torch.mul}
    bcast = b_shape[:2] + (1,) * (len(a_shape) - 2)  # b per channel: (N, C, 1, ...)
    bcast = a_shape if b.size == a.size else bcast
    run(lambda ta, tb: fns[op](ta, tb.reshape(bcast)), [a, b], [],
        lambda **kw: getattr(_nn, op)(a, b, reference=reference, **kw))


@pytest.mark.parametrize("reference", IMPLS)
def test_copies_and_transpose(reference):
    x = rand(2, 3, 4, 5)
    run(lambda t: t.reshape(2, 5, -1), [x], [],
        lambda **kw: _nn.reshape(x, (5, -1), reference=reference, **kw))
    run(lambda t: t.flatten(1), [x], [], lambda **kw: _nn.flatten(x, reference=reference, **kw))
    x = rand(3, 5, 7)
    run(lambda t: t.transpose(1, 2), [x], [],
        lambda **kw: _nn.transpose(x, reference=reference, **kw))


@pytest.mark.parametrize("reference", IMPLS)
def test_embedding(reference):
    ids = np.random.default_rng(0).integers(0, 11, (3, 9)).astype(np.int32)
    ids[0, :3] = ids[1, 4]  # one row read several times, in a sample and across samples
    table = rand(11, 6)
    g = rand(3, 6, 9, seed=7)
    y, dx, dw = _nn.embedding(ids, table, dy=g, reference=reference)
    assert dx == [None]  # token ids have no gradient
    ti = torch.tensor(ids, dtype=torch.long)
    want = torch_grads(lambda t: F.embedding(ti, t).transpose(1, 2), [], [table], g)
    check((y, [], dw), want)
    assert not dw[0][np.setdiff1d(np.arange(11), ids)].any()  # rows never read: no gradient


@pytest.mark.parametrize("reference", IMPLS)
@pytest.mark.parametrize("shape", [(2, 6, 5), (3, 5, 2, 3), (2, 7), (2, 1, 4)])
def test_layer_norm(shape, reference):
    x = rand(*shape) * 2 + 1
    gamma, beta = rand(shape[1], seed=1), rand(shape[1], seed=2)

    def fn(t, w, b):
        return F.layer_norm(t.movedim(1, -1), (shape[1],), w, b).movedim(-1, 1)

    run(fn, [x], [gamma, beta],
        lambda **kw: _nn.layer_norm(x, gamma, beta, reference=reference, **kw), f64=True)


@pytest.mark.parametrize("reference", IMPLS)
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 5, 7), (4, 6)])
def test_batchnorm(shape, reference):
    """The eval-mode op, x * scale + shift per channel."""
    x = rand(*shape)
    scale, shift = rand(shape[1], seed=1), rand(shape[1], seed=2)
    bcast = (1, shape[1]) + (1,) * (len(shape) - 2)
    run(lambda t, s, b: t * s.reshape(bcast) + b.reshape(bcast), [x], [scale, shift],
        lambda **kw: _nn.batchnorm(x, scale, shift, reference=reference, **kw))


def test_fused_activation_has_no_backward():
    a = rand(2, 3, 4)
    with pytest.raises(ValueError, match="add with act relu has no backward"):
        _nn.add(a, a, activation="relu", dy=a)
