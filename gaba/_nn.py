"""Single layers of the zoo's op table, by keyword, over a batch (axis 0).

    y = conv2d(x, w, b, stride=2, padding=1, activation="relu")
    q = conv2d(xq, wq, bq, mult=m, shift=s, dtype="int8", in_q=(0.1, 3), out_q=(0.2, -1))

One function per op of ``_gaba.nn_ops()``; each packs its op's parameters p[]
(csrc/include/gaba/nn.h) and runs the layer with ``_gaba.nn_layer`` (float32) or
``_gaba.qnn_layer`` (``dtype="int8"``: int8 inputs and output; ``out_q`` a
``(scale, zero_point)`` pair, ``in_q`` one pair per input or, for a one-input
layer, the pair; ``requant="double"`` or ``"fp32"``). ``dy=`` (float32, the output's shape)
runs the layer's forward then its backward from that gradient and returns
``(y, [d input...], [d weight...])`` (None for token ids). ``reference=True`` runs
the oracle kernels (*_ref.c). ``layer`` runs a layer as a graph holds it (op
name, p[]). Array dtypes and sizes are checked by the bindings. Private: for
tests and benchmarks.
"""
import numpy as np

from ._args import int_arg
from ._ext import _gaba
from .zoo import ACTS, OPS

DTYPES = ("float32", "int8")
REQUANTS = ("double", "fp32")
_I32 = 2**31 - 1
_ABSENT = object()  # a keyword not given (None is passed on, for the binding to reject)


def _choice(value, func, name, options):
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{func}(): argument '{name}' must be one of {options}, got {value!r}")
    return value


def layer(op, inputs, weights=(), params=(), **kw):
    """One layer as a graph holds it: op name, input arrays, weights, p[].

    Keywords: activation, dtype, reference; int8: in_q (one pair per input),
    out_q, requant. int8 weights: (w, bias, mult, shift) for conv/dense,
    (table,) for the embedding, (w_ih, b_ih, acc_scale, w_hh, b_hh) for the GRU."""
    return _run(_choice(op, "layer", "op", tuple(OPS)), inputs, weights, params, kw)


def _run(op, inputs, weights, params, kw):
    act = ACTS[_choice(kw.pop("activation", "none"), op, "activation", tuple(ACTS))]
    dtype = _choice(kw.pop("dtype", "float32"), op, "dtype", DTYPES)
    impl = 1 if kw.pop("reference", False) else 0
    dy = kw.pop("dy", None)
    q = {k: kw.pop(k, _ABSENT) for k in ("in_q", "out_q", "requant")}
    if kw:
        raise TypeError(f"{op}(): unexpected keyword argument '{next(iter(kw))}'")
    if dtype == "float32":
        _int8_only(op, q)
        args = (OPS[op], act, list(params), list(inputs), list(weights))
        if dy is not None:
            return _gaba.nn_backward(*args, dy, impl)
        return _gaba.nn_layer(*args, impl)
    if dy is not None:
        raise ValueError(f"{op}(): 'dy' (backward) is float32 only")
    in_q, out_q, requant = q.values()
    fp32 = _choice("double" if requant is _ABSENT else requant, op, "requant", REQUANTS) == "fp32"
    if in_q is _ABSENT or out_q is _ABSENT:
        raise ValueError(f"{op}(): dtype='int8' needs 'in_q' and 'out_q'")
    if len(inputs) == 1 and isinstance(in_q, tuple) and len(in_q) == 2 and np.ndim(in_q[0]) == 0:
        in_q = [in_q]  # the pair of a one-input layer
    weights, extra = list(weights), ()
    if op == "gru":
        weights, extra = weights[:2], (tuple(weights[2:]),)
    w, b, m, s = (weights + [None] * 4)[:4]
    return _gaba.qnn_layer(OPS[op], act, list(params), list(inputs), in_q, out_q, w, b, m, s,
                           impl, fp32, *extra)


def _int8_only(op, given):
    """A float32 layer given an int8 keyword (other than None) raises."""
    for name, v in given.items():
        if v is not _ABSENT and v is not None:
            raise ValueError(f"{op}(): argument '{name}' is for dtype='int8' only")


def _weighted(op, x, w, b, params, int8, kw):
    """conv/dense: int8 weights come with their per-channel requantization (`int8`:
    mult, shift), float32 ones with none."""
    if kw.get("dtype") == "int8":
        return _run(op, [x], [w, b, *int8.values()], params, kw)
    _int8_only(op, int8)
    return _run(op, [x], [w, b], params, kw)


def _shape(a, func, name, ndim, what):
    shape = np.shape(a)
    if len(shape) != ndim:
        raise ValueError(f"{func}(): argument '{name}' must be {ndim}-D {what}, "
                         f"got shape {shape}")
    return shape


def _two(v, func, name, lo, one_d):
    """An int or an (h, w) pair; a 1-D layer (one_d) takes an int, its h is 1."""
    if isinstance(v, (tuple, list)):
        if one_d or len(v) != 2:
            raise ValueError(f"{func}(): argument '{name}' must be an int"
                             f"{'' if one_d else ' or an (h, w) pair'}, got {v!r}")
        return tuple(int_arg(e, func, name, lo, _I32) for e in v)
    v = int_arg(v, func, name, lo, _I32)
    return (1 if one_d else v, v)


def _pads(v, func, one_d):
    """(top, left, bottom, right) from an int, a pair ((left, right) for a 1-D
    layer, (h, w) for a 2-D one) or, 2-D only, the four."""
    if not isinstance(v, (tuple, list)):
        v = int_arg(v, func, "padding", 0, _I32)
        return (0, v, 0, v) if one_d else (v, v, v, v)
    if not (len(v) == 2 or (len(v) == 4 and not one_d)):
        what = "(left, right)" if one_d else "(h, w) or (top, left, bottom, right)"
        raise ValueError(f"{func}(): argument 'padding' must be an int or {what}, got {v!r}")
    v = [int_arg(e, func, "padding", 0, _I32) for e in v]
    if len(v) == 4:
        return tuple(v)
    return (0, v[0], 0, v[1]) if one_d else (v[0], v[1], v[0], v[1])


def _conv(func, x, w, b, kernel, stride, padding, dilation, groups, one_d, kw):
    sh, sw = _two(stride, func, "stride", 1, one_d)
    dh, dw = _two(dilation, func, "dilation", 1, one_d)
    pads = _pads(padding, func, one_d)
    g = int_arg(groups, func, "groups", 1, _I32)
    int8 = {"mult": kw.pop("mult", None), "shift": kw.pop("shift", None)}
    params = [np.shape(w)[0], *kernel, sh, sw, *pads, dh, dw, g]
    return _weighted(func, x, w, b, params, int8, kw)


def conv2d(x, w, b, *, stride=1, padding=0, dilation=1, groups=1, **kw):
    """2-D convolution, x (N, C, H, W), w (c_out, C/groups, kh, kw), b (c_out).
    ``stride``/``dilation``: int or (h, w); ``padding``: int, (h, w) or (top,
    left, bottom, right). Keywords: activation, dtype, reference; int8: mult,
    shift (per-channel int32), in_q, out_q, requant."""
    kernel = _shape(w, "conv2d", "w", 4, "(c_out, C/groups, kh, kw)")[2:]
    return _conv("conv2d", x, w, b, kernel, stride, padding, dilation, groups, False, kw)


def conv1d(x, w, b, *, stride=1, padding=0, dilation=1, groups=1, **kw):
    """1-D convolution, x (N, C, L), w (c_out, C/groups, k); ``padding``: int or
    (left, right) (a causal conv pads (k-1)*dilation on the left). Keywords as
    conv2d's."""
    k = _shape(w, "conv1d", "w", 3, "(c_out, C/groups, k)")[2]
    return _conv("conv1d", x, w, b, (1, k), stride, padding, dilation, groups, True, kw)


def dense(x, w, b, *, mult=None, shift=None, **kw):
    """y = x.reshape(N, F) @ w.T + b, w (n_out, F). Keywords as conv2d's."""
    n_out = _shape(w, "dense", "w", 2, "(n_out, F)")[0]
    return _weighted("dense", x, w, b, [n_out], {"mult": mult, "shift": shift}, kw)


def embedding(ids, table, **kw):
    """Rows of table (vocab, dim) for int32 ids (N, L) -> (N, dim, L)."""
    vocab, dim = _shape(table, "embedding", "table", 2, "(vocab, dim)")
    return _run("embedding", [ids], [table], [dim, vocab], kw)


def batchnorm(x, scale, shift, **kw):
    """x * scale + shift per channel, scale and shift (C): a batch norm run alone, its
    statistics folded into them (p[]'s epsilon only serves the zoo's folding)."""
    return _run("batchnorm", [x], [scale, shift], [0], kw)


def layer_norm(x, gamma, beta, *, eps=1e-5, **kw):
    """(x - mean) / sqrt(var + eps) * gamma + beta over the channels (axis 1) of each
    position, torch.nn.LayerNorm(C) on x with its channels last; gamma and beta (C)
    float32 for both dtypes. eps is kept in units of 1e-9 (p[0])."""
    if not isinstance(eps, (int, float)) or not 1e-9 <= eps <= _I32 * 1e-9:
        raise ValueError(f"layer_norm(): argument 'eps' must be a number from 1e-9 to "
                         f"{_I32 * 1e-9:.3f}, got {eps!r}")
    return _run("layer_norm", [x], [gamma, beta], [round(eps * 1e9)], kw)


def act(x, activation, **kw):
    """The activation alone, elementwise."""
    return _run("act", [x], (), (), dict(kw, activation=activation))


def softmax(x, **kw):
    """Softmax over the last axis."""
    return _run("softmax", [x], (), (), kw)


def _pool(op, x, kernel, stride, padding, kw):
    one_d = np.ndim(x) == 3
    k = _two(kernel, op, "kernel", 1, one_d)
    s = k if stride is None else _two(stride, op, "stride", 1, one_d)
    return _run(op, [x], (), [*k, *s, *_pads(padding, op, one_d)], kw)


def maxpool(x, kernel, *, stride=None, padding=0, **kw):
    """Max pooling of x (N, C, H, W) or (N, C, L); ``kernel``/``stride`` (default:
    the kernel) as conv2d's stride, ``padding`` as its padding (1-D: int or
    (left, right)); padded cells are -inf."""
    return _pool("maxpool", x, kernel, stride, padding, kw)


def avgpool(x, kernel, *, stride=None, padding=0, **kw):
    """Average pooling, as maxpool; padded cells are not counted."""
    return _pool("avgpool", x, kernel, stride, padding, kw)


def global_avgpool(x, **kw):
    """Mean over all but the channel axis: (N, C, ...) -> (N, C)."""
    return _run("global_avgpool", [x], (), (), kw)


def global_maxpool(x, **kw):
    """Maximum over all but the channel axis: (N, C, ...) -> (N, C)."""
    return _run("global_maxpool", [x], (), (), kw)


def upsample(x, *, scale=2, mode="nearest", **kw):
    """Upsampling of x (N, C, H, W) by an int or (h, w) ``scale``, or of x (N, C,
    L) by an int; ``mode`` "nearest" or "bilinear" (PyTorch's align_corners=False)."""
    s = _two(scale, "upsample", "scale", 1, np.ndim(x) == 3)
    m = ("nearest", "bilinear").index(_choice(mode, "upsample", "mode", ("nearest", "bilinear")))
    return _run("upsample", [x], (), [*s, m], kw)


def concat(inputs, **kw):
    """2 to 4 arrays (N, C_i, rest...) joined along the channel axis; int8:
    ``in_q`` one pair per input."""
    return _run("concat", list(inputs), (), (), kw)


def add(a, b, **kw):
    """a + b; b of a's shape or (N, C) / (N, C, 1, ...), broadcast per channel.
    int8: ``in_q`` one pair for a, one for b."""
    return _run("add", [a, b], (), (), kw)


def sub(a, b, **kw):
    """a - b, as add."""
    return _run("sub", [a, b], (), (), kw)


def mul(a, b, **kw):
    """a * b, as add."""
    return _run("mul", [a, b], (), (), kw)


def reshape(x, shape, **kw):
    """The same values in a per-sample ``shape`` (1 to 4 axes, one may be -1)."""
    if not isinstance(shape, (tuple, list)) or not 1 <= len(shape) <= 4:
        raise ValueError(f"reshape(): argument 'shape' must be a tuple of 1 to 4 ints, "
                         f"got {shape!r}")
    dims = [int_arg(d, "reshape", "shape", -1, _I32) for d in shape]
    return _run("reshape", [x], (), [len(dims), *dims], kw)


def flatten(x, **kw):
    """(N, ...) -> (N, numel)."""
    return _run("flatten", [x], (), (), kw)


def transpose(x, **kw):
    """(N, A, B) -> (N, B, A)."""
    return _run("transpose", [x], (), (), kw)


def gru(x, w_ih, w_hh, b_ih, b_hh, *, return_sequences=False, acc_scale=None, **kw):
    """PyTorch's GRU over x (N, F, T), h0 = 0: the last state (N, H) or every
    state (N, H, T). w_ih (3H, F), w_hh (3H, H), b_ih, b_hh (3H). int8: w_ih
    int8, b_ih int32, ``acc_scale`` (3H) float32; the recurrence stays float32."""
    hidden = _shape(w_hh, "gru", "w_hh", 2, "(3*hidden, hidden)")[1]
    p = [hidden, 1 if return_sequences else 0]
    if kw.get("dtype") == "int8":
        return _run("gru", [x], [w_ih, b_ih, acc_scale, w_hh, b_hh], p, kw)
    _int8_only("gru", {"acc_scale": acc_scale})
    return _run("gru", [x], [w_ih, w_hh, b_ih, b_hh], p, kw)


def attention(x, w_qkv, b_qkv, w_o, b_o, **kw):
    """Single-head self-attention over the L positions of x (N, D, L), float32:
    w_qkv (3*d_k, D), b_qkv (3*d_k), w_o (D, d_k), b_o (D)."""
    d_k = _shape(w_o, "attention", "w_o", 2, "(D, d_k)")[1]
    if kw.get("dtype", "float32") != "float32":
        raise ValueError("attention(): dtype must be 'float32' (the int8 attention runs in "
                         "a quantized model only)")
    return _run("attention", [x], [w_qkv, b_qkv, w_o, b_o], [d_k], kw)
