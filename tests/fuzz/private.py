"""One generator per function of the private extension module gaba._gaba.

Each builds the positional arguments the public wrapper would pass (valid),
then swaps each with probability p (`Draw.args`), now and then with one
argument too few or too many. Left out: `set_openblas_path` (it dlopens any
path by design) and `tune`'s cache writing (public `gaba.tune` is left out for
the same reason). Calls that change process-wide settings (thread counts, the
GEMM selector table, the int8 kernel) put them back afterwards, so that every
call can be replayed alone.
"""
import numpy as np

import gaba
from gaba import _gaba

from fuzz.targets import (Call, LOWRANK_ERRORS, F32, TRAIN_MODELS, inputs, model, model_name,
                          qmodel, target)

OPS, ACTS = gaba.zoo.OPS, gaba.zoo.ACTS


def private(name, make, allowed=()):
    """Register `_gaba.<name>` with `make(d) -> list of valid positional arguments`."""
    fn = getattr(_gaba, name)
    target("_gaba." + name)(lambda d: Call(fn, d.args(make(d)), {}, allowed))


def restoring(fn, undo):
    def run(*args):
        try:
            return fn(*args)
        finally:
            undo()
    return run


def _x(d):
    return d.values(d.shape(d.choice((0, 1, 2, 3))))


def _grid(d):
    bits = d.rng.randint(2, 16)
    if d.rng.random() < 0.5:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def _axis(d, x):
    return d.rng.randrange(x.ndim) if x.ndim and d.rng.random() < 0.5 else None


def _channels(x, axis):
    return 1 if axis is None else x.shape[axis]


# ---- runtime and GEMM -----------------------------------------------------------------------

for _name in ("build_info", "get_num_threads", "gemm_machine", "gemm_auto_classes",
              "gemm_native_blocks", "zoo_names", "nn_ops", "nn_acts"):
    private(_name, lambda d: [])


@target("_gaba.set_num_threads")
def _set_num_threads(d):
    before = gaba.get_num_threads()
    return Call(restoring(_gaba.set_num_threads, lambda: _gaba.set_num_threads(before)),
                d.args([d.rng.randint(1, 4)]))


@target("_gaba.gemm_native_set_threads")
def _gemm_native_set_threads(d):
    before = gaba.get_num_threads()
    return Call(restoring(_gaba.gemm_native_set_threads,
                          lambda: _gaba.gemm_native_set_threads(before)),
                d.args([d.rng.randint(0, 4)]))


@target("_gaba.gemm_s8_kernel")
def _gemm_s8_kernel(d):
    before = _gaba.gemm_s8_kernel(None)
    return Call(restoring(_gaba.gemm_s8_kernel, lambda: _gaba.gemm_s8_kernel(before)),
                [d.arg(d.choice((None, before)))])


@target("_gaba.gemm_auto_set")
def _gemm_auto_set(d):
    cls = d.rng.randrange(len(_gaba.gemm_auto_classes()))
    threads = d.rng.randint(1, 2)
    before = _gaba.gemm_auto_get(cls, threads)
    return Call(restoring(_gaba.gemm_auto_set, lambda: _gaba.gemm_auto_set(cls, threads, before)),
                d.args([cls, threads, d.choice(("native", "openblas"))]))


private("gemm_auto_get", lambda d: [d.rng.randrange(len(_gaba.gemm_auto_classes())),
                                    d.rng.randint(1, 2)])
private("gemm_auto_class", lambda d: [d.dim(), d.dim(), d.dim()])
# seconds below 2 ms: a long measurement is a valid request for long work
private("peak_gflops", lambda d: [d.rng.randint(1, 2), d.rng.uniform(1e-4, 2e-3)])
private("quantize_multiplier", lambda d: [d.rng.uniform(0, 2)])


def _gemm(d):
    m, k, n = d.dim(), d.dim(), d.dim()
    out = d.values((m, n)) if d.chance(0.4) else None
    beta = d.rng.uniform(-1, 1) if out is not None else 0.0
    bias = d.values((n,)) if d.chance(0.3) else None
    return [d.values((m, k)), d.values((k, n)), out, d.rng.uniform(-2, 2), beta, False, False,
            bias, d.choice((None, "none", "relu", "relu6")),
            d.choice(("auto", "native", "openblas", "ref"))]


private("gemm", _gemm)
private("gemm_s8", lambda d: (lambda m, k, n: [d.values((m, k), np.uint8, 0, 255),
                                               d.values((k, n), np.int8, -128, 127),
                                               None])(d.dim(), d.dim(), d.dim()))


def _requantize(d):
    m, n = d.dim(), d.dim()
    return [d.values((m, n), np.int32, -2**31, 2**31 - 1),
            d.values((n,), np.int32, 2**30, 2**31 - 1), d.values((n,), np.int32, -31, 30),
            d.rng.randint(-128, 127), None, -128, 127, None]


private("requantize", _requantize)


# ---- quantization ---------------------------------------------------------------------------


def _fake_quantize(d):
    x = _x(d)
    axis = _axis(d, x)
    qmin, qmax = _grid(d)
    return [x, None, None, None, axis, qmin, qmax, qmin < 0, d.choice(("half_even", "half_away")),
            d.rng.random() < 0.5]


def _quantize(d):
    x = _x(d)
    axis = _axis(d, x)
    bits = d.rng.randint(2, 16)
    sym = d.rng.random() < 0.5
    qmin, qmax = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if sym else (0, (1 << bits) - 1)
    storage = gaba.quant._storage(bits, sym)
    return [x, None, None, axis, qmin, qmax, sym, "half_even", storage]


def _dequantize(d):
    x = _x(d)
    q = gaba.quantize(x, d.rng.randint(2, 16), d.rng.random() < 0.5, axis=_axis(d, x))
    out = d.values(x.shape) if d.chance(0.4) else None
    return [q.data, q._storage, q.shape, q.axis, q.scale, q.zero_point, out]


def _observe(d):
    x = _x(d)
    axis = _axis(d, x)
    ch = _channels(x, axis)
    return [np.full(ch, np.inf, F32), np.full(ch, -np.inf, F32), d.rng.randint(0, 3),
            d.choice((-1.0, d.rng.random())), x, axis]


def _qparams(d):
    ch = d.dim(9)
    lo = d.values((ch,), F32, -3, 0)
    qmin, qmax = _grid(d)
    return [lo, lo + d.values((ch,), F32, 0, 3), qmin, qmax, qmin < 0]


def _lsq(d):
    x = _x(d)
    axis = _axis(d, x)
    ch = _channels(x, axis)
    qmin, qmax = _grid(d)
    return [d.values(x.shape), x, d.values((ch,), F32, 1e-3, 1), np.zeros(ch, F32), axis, qmin,
            qmax, d.rng.uniform(-1, 1)]


def _quant_params(d):
    x = _x(d)
    qmin, qmax = _grid(d)
    return [x, _axis(d, x), qmin, qmax, qmin < 0]


private("fake_quantize", _fake_quantize)
private("quantize", _quantize)
private("dequantize", _dequantize)
private("observe", _observe)
private("qparams", _qparams)
private("lsq_backward", _lsq)
private("quant_params", _quant_params)
private("ste_backward", lambda d: (lambda s: [d.values(s), d.values(s, np.bool_)])(
    d.shape(d.choice((0, 1, 2)))))


# ---- low rank, distillation, pruning -----------------------------------------------------


def _low_rank(d):
    """n_iter up to 8 and oversample up to 16 (see the public generator)."""
    w = d.values(d.shape(2, 33))
    return [w, d.rng.randint(0, min(w.shape)), d.choice(("exact", "randomized")),
            d.rng.randint(0, 16), d.rng.randint(0, 8), d.choice(("lu", "qr", "none")),
            d.rng.randrange(2**32)]


def _distill(d):
    n, c = d.dim(9), d.dim(9)
    labels = d.values((n,), np.int64, 0, c - 1) if c and d.chance(0.4) else None
    return [d.values((n, c)), d.values((n, c)), d.rng.uniform(0.1, 8), d.rng.random(), labels,
            d.choice(("batchmean", "sum", "none")), d.rng.random() < 0.5]


def _structured(d):
    outer, dd, inner = d.dim(9), d.dim(9), d.dim(9)
    return [d.values((outer, dd, inner)), outer, dd, inner, d.rng.randint(0, dd)]


def _nm(d):
    m = d.choice((1, 2, 4, 8))
    w = d.values((d.dim(9), m * d.rng.randint(0, 4)))
    return [w, d.rng.randint(0, m), m]


private("singular_values", lambda d: [d.values(d.shape(2, 33))], LOWRANK_ERRORS)
private("low_rank_factorization", _low_rank, LOWRANK_ERRORS)
private("distillation_loss", _distill)
private("prune_magnitude", lambda d: (lambda w: [w, d.rng.randint(0, w.size)])(_x(d)))
private("prune_structured", _structured)
private("prune_nm", _nm)


# ---- zoo ------------------------------------------------------------------------------------

private("zoo_create", lambda d: [model_name(d), d.rng.randrange(2**32), d.rng.randint(1, 2)])
for _name in ("zoo_describe", "zoo_weights", "zoo_node_seconds"):
    private(_name, lambda d: [model(model_name(d))._cap])
for _name in ("zoo_qdescribe", "zoo_qgraph", "zoo_qnode_seconds"):
    private(_name, lambda d: [qmodel(model_name(d))._cap])
private("zoo_set_impl", lambda d: [model(model_name(d))._cap, d.rng.randint(0, 1)])
private("zoo_profile", lambda d: [model(model_name(d))._cap, d.rng.random() < 0.5])
private("zoo_qset_impl", lambda d: [qmodel(model_name(d))._cap, d.rng.random() < 0.5])
private("zoo_qprofile", lambda d: [qmodel(model_name(d))._cap, d.rng.random() < 0.5])


def _arrays_for(d, m):
    xs = inputs(d, m)
    return [xs[k] for k in m.inputs]


def _outs_for(m, arrays, dtype=F32):
    batch = arrays[0].shape[0] if arrays and isinstance(arrays[0], np.ndarray) and arrays[0].ndim \
        else 1
    return tuple(np.empty((batch, *v["shape"]), dtype) for v in m.outputs.values())


def _zoo_forward(d):
    m = model(model_name(d))
    arrays = _arrays_for(d, m)
    return [m._cap, tuple(arrays), _outs_for(m, arrays), d.rng.randint(1, 2)]


def _zoo_call(d, q):
    m = (qmodel if q else model)(model_name(d))
    arrays = _arrays_for(d, m if not q else m._model)
    raw = q and d.rng.random() < 0.3
    if raw:  # int8 codes for the float inputs (token ids stay)
        arrays = [x.astype(np.int8) if isinstance(x, np.ndarray) and x.dtype == F32 else x
                  for x in arrays]
    kwargs = None if d.rng.random() < 0.5 else dict(zip(m.inputs, arrays))
    args = [m._cap, () if kwargs else tuple(arrays), kwargs, None, d.choice((None, 1, 2))]
    return args + [raw] if q else args


def _zoo_calibrate(d):
    """Now and then into given ranges and histogram state, made odd at times (bins odd in
    number, edges neither empty nor a histogram's)."""
    m = model(model_name(d))
    args = [m._cap, tuple(_arrays_for(d, m))]
    if d.rng.random() < 0.5:
        n = _gaba.zoo_calibrate(m._cap, tuple(np.empty((0, *v["shape"]), v["dtype"])
                                               for v in m.inputs.values())).shape[1]
        edges = np.zeros((n, 2))
        if d.rng.random() < 0.3:
            edges[d.rng.randrange(n)] = d.choice(((0.0, 1e-320), (np.nan, 1.0), (1e308, 1e305),
                                                  (0.0, -1.0), (1.0, np.inf)))
        args += [np.full((2, n), np.inf, F32), edges,
                 np.zeros((n, d.choice((2, 3, 16))), np.uint64)]
    return args


def _zoo_quantize(d):
    """Calibrated ranges, now and then with entries made empty, reversed, infinite or NaN
    (zoo.load refuses the reversed and NaN ones; the quantizer must take any)."""
    qm = qmodel(model_name(d))
    m, ranges = qm._model, qm._source[2].copy()
    if d.rng.random() < 0.5:
        flat = ranges.reshape(-1)
        for _ in range(d.rng.randint(1, 8)):
            flat[d.rng.randrange(flat.size)] = d.choice(
                (np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-38, 3e38, -3e38, float(d.rng.random())))
    keep = (np.random.default_rng(d.rng.randrange(1 << 30)).random(len(m.layers)) < 0.3)
    args = [m._cap, ranges, d.rng.randint(1, 2), d.rng.randint(0, 1), keep.astype(np.uint8)]
    if d.rng.random() < 0.3:  # parameters an imported file fixes
        tensors = list(m.inputs) + [la["output"] for la in m.layers]
        params = {d.choice(tensors): (d.choice((1e-3, 0.1, 5.0, 0.0, -1.0, np.nan, 1e38)),
                                      d.choice((-128, 0, 127, 300)))
                  for _ in range(d.rng.randint(0, 6))}
        convs = [la for la in m.layers if la["op"] in ("conv2d", "conv1d", "dense")
                 and not la["share"]]
        scales = {}
        for la in convs[:d.rng.randint(0, 3)]:
            co = la["params"][0]
            scales[la["name"]] = d.choice((np.full(co, 0.01, F32), np.full(co + 1, 0.01, F32),
                                           np.zeros(co, F32), np.full(co, 1e-3)))
        args += [params, scales]
    return args


def _zoo_qforward(d):
    qm = qmodel(model_name(d))
    arrays = _arrays_for(d, qm._model)
    raw = d.rng.random() < 0.3
    if raw:
        arrays = [qm.quantize_input(x, k) if k in qm.input_qparams and isinstance(x, np.ndarray)
                  and x.dtype == F32 else x for k, x in zip(qm.inputs, arrays)]
    return [qm._cap, tuple(arrays), _outs_for(qm, arrays, np.int8 if raw else F32), raw,
            d.rng.randint(1, 2)]


def _qnode_eval(d):
    qm = qmodel(model_name(d))
    graph = _gaba.zoo_qgraph(qm._cap)
    int8 = [i for i, nd in enumerate(graph["nodes"]) if nd[1] == "int8"] or [0]
    node = d.choice(int8)
    shapes = [graph["tensors"][j][2] for j in graph["nodes"][node][5]]
    return [qm._cap, node, [d.values(s, np.int8, -128, 127) for s in shapes], d.rng.random() < 0.5]


private("zoo_forward", _zoo_forward)
def _zoo_define(d):
    """A zoo model's own layer table (as m.layers gives it, batch norms folded), with
    fields changed at rate p: op and act codes, parameters, tensor and layer names,
    the input shape; then zoo_define builds it (or refuses it). Left out: valid tables
    of huge tensors (a 2**31 - 1 input asks for gigabytes of arena)."""
    m = model(model_name(d))
    rows = [[la["name"], OPS[la["op"]], ACTS[la["act"]], list(la["params"]),
             list(la["inputs"]), la["output"], la["share"] or None] for la in m.layers]
    names = [r[5] for r in rows] + list(m.inputs)
    for _ in range(d.rng.randint(1, 6) if d.p else 0):
        r = d.choice(rows)
        field = d.rng.randrange(6)
        if field == 0:
            r[1] = d.rng.randrange(len(OPS))
        elif field == 1:
            r[2] = d.rng.randrange(len(ACTS))
        elif field == 2 and r[3]:
            r[3][d.rng.randrange(len(r[3]))] = d.choice((0, -1, 1, 2, 7, 2**31 - 1, -2**31))
        elif field == 3:
            r[4][d.rng.randrange(len(r[4]))] = d.choice(names)
        elif field == 4:
            r[5] = d.choice(names)
        else:
            r[6] = d.choice([None] + [q[0] for q in rows])
    ins = [(k, v["dtype"], tuple(v["shape"]), v.get("vocab", 0)) for k, v in m.inputs.items()]
    if d.chance():
        k, dt, shape, vocab = ins[0]
        ins[0] = (k, dt, tuple(d.choice((1, 2, 3, 64)) for _ in shape) if d.chance(0.8)
                  else (65536, 65536), vocab)  # the second: over 2**31 values, refused
    return ["T", "imported", "fuzz", ins, list(m.outputs), rows, d.rng.randrange(2**32), 1]


private("zoo_define", _zoo_define)
private("zoo_call", lambda d: _zoo_call(d, False))
private("zoo_qcall", lambda d: _zoo_call(d, True))
private("zoo_calibrate", _zoo_calibrate)
private("zoo_tensor_names", lambda d: [model(model_name(d))._cap])
private("zoo_quantize", _zoo_quantize)
private("zoo_qforward", _zoo_qforward)
private("zoo_qnode_eval", _qnode_eval)


# ---- single layers (test bindings) -------------------------------------------------------


def _nn_layer(d):
    """One op of csrc/nn over a small batch, with the shapes of tests/test_nn.py."""
    b, c, h, w = d.choice((1, 2)), d.choice((1, 3, 4)), d.choice((5, 8)), d.choice((5, 9))
    x4 = d.values((b, c, h, w))
    op = d.choice(("dense", "conv2d", "conv1d", "embedding", "act", "softmax", "batchnorm",
                   "maxpool", "avgpool", "global_avgpool", "global_maxpool", "upsample",
                   "concat", "add", "sub", "mul", "reshape", "flatten", "transpose", "gru",
                   "attention"))
    act = d.choice(list(ACTS.values()))
    if op == "dense":
        n = d.dim(9) or 1
        xs, ws, params = [d.values((b, 17))], [d.values((n, 17)), d.values((n,))], [n]
    elif op == "conv2d":
        co = d.choice((2, 4))
        xs, ws = [x4], [d.values((co, c, 3, 3)), d.values((co,))]
        params = [co, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    elif op == "conv1d":
        xs, ws = [d.values((b, 6, 29))], [d.values((12, 6, 3)), d.values((12,))]
        params = [12, 1, 3, 1, 1, 0, 1, 0, 1, 1, 1, 1]
    elif op == "embedding":
        xs, ws, params = [d.values((b, 4), np.int32, 0, 255)], [d.values((256, 6))], [6, 256]
    elif op in ("act", "softmax", "flatten"):
        xs, ws, params = [x4], [], []
    elif op == "batchnorm":
        xs, ws, params = [x4], [d.values((c,)), d.values((c,))], [0]
    elif op in ("maxpool", "avgpool"):
        xs, ws, params = [x4], [], [2, 2, 2, 2, 0, 0, 0, 0]
    elif op.startswith("global"):
        xs, ws, params = [x4], [], []
    elif op == "upsample":
        xs, ws, params = [x4], [], [2, 2, d.rng.randint(0, 1)]
    elif op == "concat":
        xs, ws, params = [x4, d.values((b, 2, h, w))], [], []
    elif op in ("add", "sub", "mul"):
        xs, ws, params = [x4, d.values((b, c, h, w) if d.chance(0.7) else (b, c))], [], []
    elif op == "reshape":
        xs, ws, params = [x4], [], [c * h, -1]
    elif op == "transpose":
        xs, ws, params = [d.values((b, 7, 3))], [], []
    elif op == "gru":
        hid = 7
        xs = [d.values((b, 5, 9))]
        ws = [d.values((3 * hid, 5)), d.values((3 * hid, hid)), d.values((3 * hid,)),
              d.values((3 * hid,))]
        params = [hid, d.rng.randint(0, 1)]
    else:  # attention
        xs = [d.values((b, 6, 11))]
        ws = [d.values((12, 6)), d.values((12,)), d.values((6, 4)), d.values((6,))]
        params = [4]
    _mismatch(d, xs, ws)
    return [OPS[op], act, params, xs, ws, d.rng.randint(0, 1)]


def _mismatch(d, xs, ws):
    """Inputs that disagree on the batch, or weights on their output channels (in place)."""
    if d.chance():
        i = d.rng.randrange(len(xs))
        x = xs[i]
        xs[i] = d.values((max(0, x.shape[0] + d.choice((-1, 1, 5))), *x.shape[1:]), x.dtype,
                         -128 if x.dtype.kind == "i" else -2, 127 if x.dtype.kind == "i" else 2)
    if ws and d.chance():
        i = d.rng.randrange(len(ws))
        if ws[i] is not None and ws[i].ndim:
            w = ws[i]
            ws[i] = d.values((max(0, w.shape[0] + d.choice((-1, 1))), *w.shape[1:]), w.dtype,
                             -128, 127)


def _q(d):
    return (float(np.float32(d.rng.uniform(0.01, 0.5))), d.rng.randint(-128, 127))


def _qnn_layer(d):
    """One int8 op over a small batch, with the shapes of tests/test_zoo_int8.py."""
    b = d.choice((1, 2))
    op = d.choice(("dense", "conv2d", "maxpool", "avgpool", "global_maxpool", "global_avgpool",
                   "concat", "act", "reshape", "transpose", "upsample", "embedding"))
    i8 = lambda *s: d.values(s, np.int8, -128, 127)  # noqa: E731
    w = bias = mult = shift = None
    act = "none"
    if op == "dense":
        n = d.dim(9) or 1
        xs, params = [i8(b, 17)], [n]
        w, bias = i8(n, 17), d.values((n,), np.int32, -3000, 3000)
        mult, shift = d.values((n,), np.int32, 2**30, 2**31 - 1), d.values((n,), np.int32, -20, 0)
        act = d.choice(("none", "relu"))
    elif op == "conv2d":
        co = 4
        xs, params = [i8(b, 3, 6, 6)], [co, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1]
        w, bias = i8(co, 3, 3, 3), d.values((co,), np.int32, -3000, 3000)
        mult, shift = d.values((co,), np.int32, 2**30, 2**31 - 1), d.values((co,), np.int32, -20, 0)
    elif op in ("maxpool", "avgpool"):
        xs, params = [i8(b, 3, 6, 6)], [2, 2, 2, 2, 0, 0, 0, 0]
    elif op == "concat":
        xs, params = [i8(b, 2, 5), i8(b, 3, 5)], []
    elif op == "act":
        xs, params = [i8(b, 3, 5)], [0]
        act = d.choice(("relu", "relu6", "sigmoid", "tanh", "hard_swish"))
    elif op == "reshape":
        xs, params = [i8(b, 4, 6)], [2, 12]
    elif op == "transpose":
        xs, params = [i8(b, 4, 6)], []
    elif op == "upsample":
        xs, params = [i8(b, 2, 3, 4)], [2, 2, d.rng.randint(0, 1)]
    elif op == "embedding":
        xs, params = [d.values((b, 17), np.int32, 0, 39)], [12, 40]
        w = i8(40, 12)
    else:  # global pools
        xs, params = [i8(b, 3, 6, 6)], []
    weights = [w, bias, mult, shift]
    _mismatch(d, xs, weights)
    w, bias, mult, shift = weights
    in_q = [_q(d) for _ in xs]
    out_q = in_q[0] if op in ("maxpool", "reshape", "transpose", "upsample") else _q(d)
    return [OPS[op], ACTS[act], params, xs, in_q, out_q, w, bias, mult, shift,
            d.rng.randint(0, 1), d.rng.random() < 0.3]


def _softmax_table(d):
    t = np.empty(256, np.int32)
    t[:] = np.round(65536 * np.exp(-d.rng.uniform(0.02, 0.3) * np.arange(256)))
    return d.bad_values(t) if d.chance() else t  # all zeros: a division by the row's sum


private("nn_layer", _nn_layer)
private("nn_batchnorm_fold", lambda d: (lambda co, k: [
    d.values((co, k)), d.values((co,)), d.values((co,)), d.values((co,)), d.values((co,)),
    d.values((co,), F32, 0.1, 2), 1e-5])(d.dim(9), d.dim(9)))
private("qnn_layer", _qnn_layer)
private("qnn_softmax", lambda d: (lambda n: [d.values((n, n), np.int8, -128, 127),
                                             _softmax_table(d), d.rng.random() < 0.5])(d.dim(17)))
private("qnn_quantize", lambda d: [d.values(d.shape(2, 9)), *_q(d)])


def _nn_backward(d):
    """nn_layer's arguments and an output gradient of the forward's shape (when the forward
    takes them; else of a drawn shape)."""
    op, act, params, xs, ws, impl = _nn_layer(d)
    try:
        shape = _gaba.nn_layer(op, act, params, xs, ws, impl).shape
    except (TypeError, ValueError):
        shape = d.shape(d.rng.randint(1, 4), 9)
    dy = d.values(shape)
    if d.chance():
        dy = d.bad(dy)
    return [op, act, params, xs, ws, dy, impl]


private("nn_backward", _nn_backward)


# ---- losses, optimizer updates -------------------------------------------------------------


def _loss(d):
    """kind 0 cross-entropy (int64 labels), 1 BCE, 2 MSE, 3 L1, 4 Huber."""
    kind = d.rng.randrange(5)
    n, c = d.dim(9), d.dim(17)
    target_ = d.values((n,), np.int64, 0, max(c - 1, 0)) if kind == 0 else d.values((n, c))
    param = d.rng.uniform(0, 1) if kind == 0 else d.rng.uniform(0.1, 3) if kind == 4 else 0.0
    return [kind, d.values((n, c), F32, -8, 8), target_, param, d.rng.random() < 0.5]


def _sgd_step(d):
    n = d.dim(33)
    momentum = d.rng.uniform(0, 0.99) if d.chance(0.5) else 0.0
    return [d.values((n,)), d.values((n,)), d.values((n,)) if momentum else None,
            d.rng.randint(1, 5), d.rng.uniform(1e-4, 1), momentum,
            d.rng.uniform(0, 0.5) if d.chance(0.3) else 0.0, d.rng.uniform(0, 0.1),
            momentum > 0 and d.chance(0.3)]


def _adam_step(d):
    n = d.dim(33)
    return [d.values((n,)), d.values((n,)), d.values((n,)), d.values((n,), F32, 0, 1),
            d.rng.randint(1, 5), d.rng.uniform(1e-4, 1), d.rng.uniform(0, 0.99),
            d.rng.uniform(0, 0.9999), d.rng.uniform(1e-10, 1e-6), d.rng.uniform(0, 0.1),
            d.rng.random() < 0.5]


private("loss", _loss)
private("sgd_step", _sgd_step)
private("adam_step", _adam_step)
private("clip_grad_norm", lambda d: [d.values((d.dim(33),)), d.rng.uniform(1e-3, 10)])
private("zoo_table", lambda d: [model_name(d)])


# ---- the trainer ----------------------------------------------------------------------------
# A trainer made per call, on a fresh model of the small ones (train_model): its blocks, its
# arena and the model's weights it syncs are the call's own.


def _trainer(d, batch=None):
    m = gaba.zoo.create(d.choice(TRAIN_MODELS), threads=2)
    cap = _gaba.trainer_new(m._cap, d.rng.randint(1, 2))
    if batch:
        _gaba.trainer_reserve(cap, batch)
    return m, cap


def _trainer_run(d):
    """Forward, then (at times) backward, of a batch up to the reserved one (of 4)."""
    m, cap = _trainer(d, 4)
    xs = inputs(d, m, d.choice((1, 2, 4, 0, 5)))
    args = d.args([cap, tuple(xs[k] for k in m.inputs if k in xs), d.rng.randint(1, 2), 0])
    backward = d.chance(0.5)

    def run(*a):
        _gaba.trainer_run(*a)
        if backward and len(a) == 4:
            _gaba.trainer_run(*a[:3], 1)
    return Call(run, args)


@target("_gaba.trainer_run")
def _trainer_run_target(d):
    return _trainer_run(d)


private("trainer_new", lambda d: [gaba.zoo.create(d.choice(TRAIN_MODELS), threads=1)._cap,
                                  d.rng.randint(1, 2)])
private("trainer_blocks", lambda d: [_trainer(d)[1]])
private("trainer_describe", lambda d: [_trainer(d, d.choice((None, 2)))[1]])


@target("_gaba.trainer_reserve")
def _trainer_reserve(d):
    """Batches up to 64 when valid: 2**31 - 1 samples is a request for terabytes of arena."""
    batch = d.rng.randint(1, 64)
    if d.chance():
        batch = d.choice((0, -1, 2**31, 2**63, -2**63, 10**100, 1.5, float("nan"), None, "2"))
    return Call(_gaba.trainer_reserve, [d.arg(_trainer(d)[1]), batch])


private("trainer_outputs", lambda d: [_trainer(d, 3)[1], d.rng.randint(1, 3)])
private("trainer_sync", lambda d: [_trainer(d)[1], d.rng.randint(0, 1)])
