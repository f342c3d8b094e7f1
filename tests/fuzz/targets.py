"""One generator per public entry point of gaba.

A generator takes a `Draw` and returns a `Call`: mostly valid arguments (small
zoo models, real shapes, so that calls reach the kernels), some swapped for
adversarial ones (see draw.py). Each says what it leaves out and why; the
general rule: no valid request for large work (a 10^5 x 10^5 GEMM, 10^6 power
iterations, a profile of 10^9 runs, a peak measurement of 10^30 seconds), since
its cost is the caller's choice, not a defect. Out-of-range values that a
check must reject (2**31, 2**63, 10**100, negative counts) stay in.

`Call.allowed` names the exceptions besides TypeError and ValueError that the
documentation promises for that call (see README.md, "What counts").
"""
import os

import numpy as np

import gaba
from gaba import _gaba

TARGETS = {}
# Drawn a tenth as often: a peak measurement takes ~80 ms whatever `seconds` asks for.
RARE = {"peak_gflops", "_gaba.peak_gflops"}


class Call:
    __slots__ = ("fn", "args", "kwargs", "allowed")

    def __init__(self, fn, args=(), kwargs=None, allowed=()):
        self.fn, self.args, self.kwargs, self.allowed = fn, tuple(args), kwargs or {}, allowed


def target(name):
    def register(gen):
        TARGETS[name] = gen
        return gen
    return register


F32 = np.float32
LOWRANK_ERRORS = (ArithmeticError,)  # documented for NaN/Inf weights (exact class, not subclasses)


# ---- zoo models, built once per process and reset before each use ------------------------

_MODELS, _QMODELS = {}, {}


def model(name):
    m = _MODELS.get(name)
    if m is None:
        m = _MODELS[name] = gaba.zoo.create(name, threads=2)
    _gaba.zoo_set_impl(m._cap, 0)
    _gaba.zoo_profile(m._cap, False)
    return m


def qmodel(name):
    qm = _QMODELS.get(name)
    if qm is None:
        m = model(name)
        calib = {k: _valid_input(np.random.default_rng(0), v, 4) for k, v in m.inputs.items()}
        qm = _QMODELS[name] = m.quantize(calib, threads=2)
    _gaba.zoo_qset_impl(qm._cap, False)
    _gaba.zoo_qprofile(qm._cap, False)
    return qm


def _valid_input(npr, spec, batch):
    shape = (batch, *spec["shape"])
    if spec["dtype"] == "int32":
        return npr.integers(0, spec.get("vocab", 1), shape).astype(np.int32)
    return npr.standard_normal(shape).astype(F32)


def model_name(d):
    return d.choice(gaba.zoo.names())


def inputs(d, m, batch=None):
    """A batch for `m` (a dict), with adversarial inputs and token ids at rate p."""
    batch = d.choice((0, 1, 1, 2, 3)) if batch is None else batch
    npr = np.random.default_rng(d.seed())
    xs = {}
    for k, spec in m.inputs.items():
        x = _valid_input(npr, spec, batch)
        if spec["dtype"] == "int32":
            if d.chance():
                x = x.astype(d.choice(("i8", "u1", "i2", "u4", "i8", "f4")))
            if x.size and d.chance() and x.dtype.kind in "iu":
                info = np.iinfo(x.dtype)
                bad = d.choice((-1, spec.get("vocab", 1), 2**31 - 1, -2**31))
                x.reshape(-1)[d.rng.randrange(x.size)] = min(max(bad, info.min), info.max)
        elif d.chance(d.p / 2):
            x = _plant_special(d, x)
        xs[k] = d.arg(x)
    return xs


def _plant_special(d, x):
    x = x.copy()
    if x.size:
        x.reshape(-1)[d.rng.randrange(x.size)] = d.choice((np.nan, np.inf, -np.inf, 3.4e38, 1e-45))
    return x


def pass_inputs(d, m, xs):
    """(args, kwargs) for m(...): positional, by keyword or one dict, sometimes wrong."""
    form = d.rng.randrange(3)
    names = list(m.inputs)
    if d.chance():
        xs = dict(xs)
        if d.chance(0.5) or not xs:
            xs["nope"] = np.zeros(1, F32)
        else:
            xs.pop(d.choice(names))
    if form == 0 and set(xs) == set(names):
        return [xs[n] for n in names], {}
    if form == 1:
        return [], dict(xs)
    return [xs], {}


def out_for(d, m, xs, raw=False):
    """None, a valid out (array or dict), or an out aliasing an input / of the wrong kind."""
    if d.chance(0.6):
        return None
    first = next(iter(xs.values()), None)
    batch = first.shape[0] if isinstance(first, np.ndarray) and first.ndim else 1
    dt = np.int8 if raw else F32
    outs = {k: np.empty((batch, *v["shape"]), dt) for k, v in m.outputs.items()}
    if d.chance():
        k = d.choice(sorted(outs))
        if isinstance(first, np.ndarray) and first.dtype == dt and first.size >= outs[k].size \
                and d.chance(0.5):
            outs[k] = first.reshape(-1)[:outs[k].size].reshape(outs[k].shape)  # aliases an input
        else:
            outs[k] = d.bad(outs[k])
    return outs if len(outs) > 1 or d.chance(0.2) else next(iter(outs.values()))


def threads_arg(d):
    return d.arg(d.choice((None, None, 1, 2)))


# ---- runtime --------------------------------------------------------------------------------


@target("info")
def _info(d):
    return Call(gaba.info, d.args([]) if d.chance() else [])


@target("set_num_threads")
def _set_num_threads(d):
    return Call(gaba.set_num_threads, [d.int(1, 4)])


@target("get_num_threads")
def _get_num_threads(d):
    return Call(gaba.get_num_threads, d.args([]) if d.chance() else [])


# ---- GEMM -----------------------------------------------------------------------------------


def _gemm_operands(d):
    m, k, n = d.dim(), d.dim(), d.dim()
    batch = () if d.chance(0.7) else (d.choice((1, 2, 3)),)
    ta, tb = d.rng.random() < 0.3, d.rng.random() < 0.3
    a = d.values(batch + ((k, m) if ta else (m, k)))
    b = d.values((() if d.chance(0.5) else batch) + ((n, k) if tb else (k, n)))
    return a, b, batch, m, n, ta, tb


@target("gemm")
def _gemm(d):
    """Sizes up to 33 per axis: a valid large GEMM is the caller's choice of work."""
    a, b, batch, m, n, ta, tb = _gemm_operands(d)
    kw = {"alpha": d.float(-2, 2), "trans_a": d.arg(ta), "trans_b": d.arg(tb)}
    out = None
    if d.chance(0.4):
        out = d.values(batch + (m, n))
        kw["beta"] = d.float(-1, 1)
        if d.chance():  # the same memory as an input, or overlapping it
            src = d.choice((a, b))
            if src.size >= out.size and out.size:
                off = d.choice((0, 1))
                flat = src.reshape(-1)
                out = flat[off:off + out.size].reshape(out.shape) if off + out.size <= flat.size \
                    else flat[:out.size].reshape(out.shape)
            else:
                out = d.bad(out)
    if d.chance(0.3):
        kw["bias"] = d.array((n,))
    if d.chance(0.3):
        kw["activation"] = d.pick((None, "none", "relu", "relu6"))
    kw["backend"] = d.pick(("auto", "native", "openblas", "ref"))
    return Call(gaba.gemm, [d.arg(a), d.arg(b)] + ([out] if out is not None else []), kw)


@target("gemm_s8")
def _gemm_s8(d):
    m, k, n = d.dim(), d.dim(), d.dim()
    a = d.array((m, k), d.choice((np.int8, np.uint8)), -128, 255)
    b = d.array((k, n), np.int8, -128, 127)
    kw = {"out": d.array((m, n), np.int32)} if d.chance(0.3) else {}
    return Call(gaba.gemm_s8, [a, b], kw)


@target("quantize_multiplier")
def _quantize_multiplier(d):
    real = d.rng.uniform(0, 2) if d.chance(0.5) else d.values((d.dim(8),), np.float64, 0, 2)
    return Call(gaba.quantize_multiplier, [d.arg(real)])


@target("requantize")
def _requantize(d):
    m, n = d.dim(), d.dim()
    per = n if d.chance(0.7) else 1
    acc = d.array((m, n), np.int32, -2**31, 2**31 - 1)
    mult = d.array((per,), np.int32, 2**30, 2**31 - 1)
    shift = d.array((per,), np.int32, -31, 30)
    kw = {"zero_point": d.int(-128, 127)}
    if d.chance(0.3):
        kw["bias"] = d.array((n,), np.int32, -2**20, 2**20)
    lo = d.rng.randint(-128, 127)
    kw["act_min"], kw["act_max"] = d.arg(lo), d.int(lo, 127)
    if d.chance(0.3):
        kw["out"] = d.array((m, n), np.int8)
    return Call(gaba.requantize, [acc, mult, shift], kw)


@target("peak_gflops")
def _peak_gflops(d):
    """seconds stays below 2 ms, and adversarial seconds leave out large finite values (a
    valid request for that much work); NaN, +-Inf, 0 and negatives stay in."""
    seconds = d.rng.uniform(1e-4, 2e-3)
    if d.chance():
        seconds = d.choice((np.nan, np.inf, -np.inf, 0.0, -0.0, -1.0, 5e-324, None, "0.001"))
    return Call(gaba.peak_gflops, [d.int(1, 2), seconds])


# ---- quantization ---------------------------------------------------------------------------


def _qargs(d, x):
    """bits, symmetric and the keywords fake_quantize/quantize share, mostly valid."""
    bits = d.int(2, 16)
    symmetric = d.flag()
    kw = {}
    if d.chance(0.5) and isinstance(x, np.ndarray) and x.ndim:
        kw["axis"] = d.int(-x.ndim, x.ndim - 1)
    if d.chance(0.3):
        axis = kw.get("axis")
        per_channel = isinstance(axis, int) and -x.ndim <= axis < x.ndim and d.chance(0.5)
        scale = d.values((x.shape[axis],), F32, 1e-3, 1) if per_channel else d.rng.uniform(1e-3, 1)
        kw["scale"] = d.arg(scale)
        if d.chance(0.7):
            kw["zero_point"] = d.arg(0 if d.chance(0.5) else d.rng.randint(0, 3))
    if d.chance(0.2):
        kw["narrow_range"] = d.flag()
    if d.chance(0.3):
        kw["rounding"] = d.pick(("half_even", "half_away"))
    return bits, symmetric, kw


def _float_tensor(d):
    return d.values(d.shape(d.choice((0, 1, 1, 2, 2, 3, 4))))


@target("fake_quantize")
def _fake_quantize(d):
    x = _float_tensor(d)
    bits, symmetric, kw = _qargs(d, x)
    if d.chance(0.3):
        kind = d.rng.randrange(3)
        kw["out"] = x if kind == 0 else (  # in place (documented) or overlapping x
            x.reshape(-1)[1:].reshape(-1) if kind == 1 and x.size > 1 else d.array(x.shape))
    if d.chance(0.3):
        kw["return_mask"] = d.flag()
    return Call(gaba.fake_quantize, [d.arg(x), bits, symmetric], kw)


@target("fake_quantize_backward")
def _fake_quantize_backward(d):
    shape = d.shape(d.choice((0, 1, 2, 3)))
    return Call(gaba.fake_quantize_backward, [d.array(shape), d.array(shape, np.bool_)])


@target("fake_quantize_lsq_backward")
def _fake_quantize_lsq_backward(d):
    x = _float_tensor(d)
    bits, symmetric, kw = _qargs(d, x)
    scale = kw.pop("scale", d.float(1e-3, 1))
    zp = kw.pop("zero_point", 0.0)
    kw.pop("rounding", None)
    if d.chance(0.3):
        kw["grad_factor"] = d.float(-1, 1)
    return Call(gaba.fake_quantize_lsq_backward, [d.array(x.shape), d.arg(x), scale, zp, bits,
                                                  symmetric], kw)


@target("quant_params")
def _quant_params(d):
    x = _float_tensor(d)
    bits, symmetric, kw = _qargs(d, x)
    kw = {k: v for k, v in kw.items() if k in ("axis", "narrow_range")}
    return Call(gaba.quant_params, [d.arg(x), bits, symmetric], kw)


@target("quantize")
def _quantize(d):
    x = _float_tensor(d)
    bits, symmetric, kw = _qargs(d, x)
    return Call(gaba.quantize, [d.arg(x), bits, symmetric], kw)


def _qtensor(d):
    x = _float_tensor(d)
    axis = d.rng.randrange(x.ndim) if x.ndim and d.chance(0.5) else None
    return gaba.quantize(x, d.rng.randint(2, 16), d.rng.random() < 0.5, axis=axis), x


@target("dequantize")
def _dequantize(d):
    """Also with a forged QTensor: the constructor takes its fields as they are."""
    q, x = _qtensor(d)
    if d.chance():
        field = d.choice(("data", "shape", "axis", "scale", "zero_point", "_storage"))
        value = getattr(q, field)
        setattr(q, field, d.bad(value if not isinstance(value, tuple) else list(value)))
    args = [q]
    if d.chance(0.4):
        args.append(d.array(x.shape))
    return Call(gaba.dequantize, [d.arg(args[0])] + args[1:])


@target("QTensor")
def _qtensor_methods(d):
    """The constructor with adversarial bits, then one method of a QTensor from quantize()
    (methods other than dequantize read fields in Python; forged fields are dequantize's)."""
    q, x = _qtensor(d)
    method = d.choice(("dequantize", "int_repr", "size", "nbytes", "compression_ratio", "repr",
                       "init"))
    if method == "init":
        args = d.args([q.data, q.shape, q.bits, q.symmetric, q.narrow_range, q.axis, q.scale,
                       q.zero_point])
        args[2] = d.int(2, 16)
        return Call(gaba.QTensor, args)
    if method == "dequantize":
        return Call(q.dequantize, [d.array(x.shape)] if d.chance(0.5) else [])
    if method == "repr":
        return Call(repr, [q])
    if method == "int_repr":
        return Call(q.int_repr)
    return Call(getattr, [q, method])


def _observer(d, cls):
    x = _float_tensor(d)
    axis = d.int(-x.ndim, x.ndim - 1) if x.ndim and d.chance(0.5) else d.arg(None)
    obs_args = [axis] if cls is gaba.MinMaxObserver else [d.float(0, 1), axis]
    batches = [d.arg(x)] + [d.array(x.shape) for _ in range(d.rng.randrange(3))]
    if d.chance(0.3) and batches:
        batches[-1] = d.values(d.bad_shape(x).shape) if x.ndim else batches[-1]
    qp = [d.int(2, 16), d.flag(), d.flag() if d.chance(0.3) else False]

    def run(*_):
        obs = cls(*obs_args)
        for b in batches:
            obs.update(b)
        repr(obs)
        return obs.qparams(*qp), obs.min_val, obs.max_val

    return Call(run, [cls.__name__, obs_args, batches, qp])


@target("MinMaxObserver")
def _minmax(d):
    return _observer(d, gaba.MinMaxObserver)


@target("MovingAverageObserver")
def _moving(d):
    return _observer(d, gaba.MovingAverageObserver)


# ---- low rank, distillation, pruning -----------------------------------------------------


@target("low_rank_factorization")
def _low_rank_factorization(d):
    """Matrices up to 33 x 33 (4-D up to 4x3x3x3); n_iter up to 8 and oversample up to 16 when
    valid: 10**6 power iterations is a valid request for a minute of work."""
    w = d.values(d.shape(2, 33) if d.chance(0.8) else d.shape(4, 4))
    kw = {}
    k = min(w.shape[0], int(np.prod(w.shape[1:]))) if w.ndim else 0
    if d.chance(0.8):
        kw["rank"] = d.int(0, k + 1)
    if d.chance(0.3) or "rank" not in kw:
        kw["energy"] = d.float(0, 1)
    kw["method"] = d.pick(("auto", "exact", "randomized"))
    if d.chance(0.3):
        kw["oversample"] = d.int(0, 16)
    if d.chance(0.3):
        kw["n_iter"] = d.arg(d.choice(("auto", 0, 1, 2, 8)))
    if d.chance(0.3):
        kw["seed"] = d.int(0, 2**32)
    if d.chance(0.3):
        kw["normalizer"] = d.pick(("lu", "qr", "none"))
    return Call(gaba.low_rank_factorization, [d.arg(w)], kw, LOWRANK_ERRORS)


@target("low_rank_conv2d")
def _low_rank_conv2d(d):
    w = d.values(d.shape(4, 5))
    kw = {"method": d.pick(("auto", "exact", "randomized"))}
    if d.chance(0.3):
        kw["n_iter"] = d.arg(d.choice((0, 1, 2)))
    return Call(gaba.low_rank_conv2d, [d.arg(w), d.int(0, 6)], kw, LOWRANK_ERRORS)


@target("singular_values")
def _singular_values(d):
    return Call(gaba.singular_values, [d.array(d.shape(2, 33))], {}, LOWRANK_ERRORS)


@target("distillation_loss")
def _distillation_loss(d):
    shape = d.shape(d.choice((1, 2, 2)))
    s, t = d.array(shape, lo=-20, hi=20), d.array(shape, lo=-20, hi=20)
    args = [s, t, d.float(0.1, 8), d.float(0, 1)]
    kw = {}
    if d.chance(0.4) and len(shape) == 2 and shape[1]:
        kw["labels"] = d.array((shape[0],), d.choice((np.int64, np.int32, np.uint8)), 0,
                               shape[1] - 1)
    if d.chance(0.4):
        kw["reduction"] = d.pick(("batchmean", "sum", "none"))
    if d.chance(0.4):
        kw["return_grad"] = d.flag()
    return Call(gaba.distillation_loss, args, kw)


@target("magnitude_prune")
def _magnitude_prune(d):
    w = _float_tensor(d)
    kw = {}
    sparsity = d.float(0, 1)
    if d.chance(0.3) and w.ndim:
        kw["structured"] = d.flag()
        kw["axis"] = d.int(-w.ndim, w.ndim - 1)
    elif d.chance(0.3):
        m = d.choice((1, 2, 4, 8))
        kw["pattern"] = d.arg((d.rng.randint(0, m), m))
        sparsity = None if d.chance(0.7) else sparsity
    return Call(gaba.magnitude_prune, [d.arg(w), sparsity], kw)


@target("PolynomialDecay")
def _polynomial_decay(d):
    begin = d.rng.randint(0, 100)
    args = d.args([d.rng.random(), d.rng.random(), begin, begin + d.rng.randint(1, 1000),
                   d.rng.choice((1, 2, 3)), d.rng.randint(1, 100)])
    step = d.int(-10, 1200)
    method = d.choice(("sparsity", "should_prune", "__call__", "__repr__"))

    def run(*_):
        sched = gaba.PolynomialDecay(*args)
        return getattr(sched, method)(*([] if method == "__repr__" else [step]))

    return Call(run, [args, method, step])


# ---- zoo ------------------------------------------------------------------------------------


@target("zoo.names")
def _zoo_names(d):
    return Call(gaba.zoo.names, [d.arg(d.choice((None, "vision", "audio", "sensor",
                                                   "reference", "all30")))],
                {"modality": d.arg(d.choice((None,) + gaba.zoo.MODALITIES))})


@target("zoo.info")
def _zoo_info(d):
    return Call(gaba.zoo.info, [d.arg(model_name(d))])


@target("zoo.create")
def _zoo_create(d):
    """threads up to 2 when valid: 2**31 - 1 thread arenas is a request for 10^9 arenas."""
    kw = {}
    if d.chance(0.5):
        kw["seed"] = d.int(0, 2**32)
    if d.chance(0.5):
        kw["threads"] = threads_arg(d)
    name = model_name(d)
    if d.chance(0.4):  # overrides: a class count, an input shape, a width multiplier
        _overrides(d, name, kw)
    return Call(gaba.zoo.create, [d.arg(name)], kw)


def _overrides(d, name, kw):
    """num_classes up to 40, input shapes near the default (each axis halved, kept or up to
    doubled), width 0.25 to 2: a 16x wide model of 10**6 classes is the caller's choice."""
    if d.chance(0.5):
        kw["num_classes"] = d.int(1, 40)
    if d.chance(0.4) or "num_classes" not in kw:
        shapes = {k: tuple(max(1, int(s * d.choice((0.5, 1, 1, 1.5, 2)))) for s in v["shape"])
                  for k, v in gaba.zoo.info(name)["inputs"].items()}
        shape = shapes if len(shapes) > 1 or d.chance(0.2) else next(iter(shapes.values()))
        kw["input_shape"] = d.arg(shape)
    if d.chance(0.4) or not {"num_classes", "input_shape"} & set(kw):
        kw["width"] = d.arg(d.choice((0.25, 0.5, 0.75, 1.0, 1.5, 2.0)))


_SAVED = {}


def saved_model(name, int8=False):
    """Path of a valid saved model file (int8: of its quantized model) in the working
    directory (written once)."""
    path = _SAVED.get((name, int8))
    if path is None:
        path = _SAVED[name, int8] = os.path.abspath(f"saved_{name}{'_int8' * int8}.npz")
        (qmodel if int8 else model)(name).save(path)
    return path


def saved_import(tflite_path):
    """Path of the saved import of a test data TFLite file (written once)."""
    path = _SAVED.get(tflite_path)
    if path is None:
        path = _SAVED[tflite_path] = os.path.abspath(
            f"saved_{os.path.basename(tflite_path)}.npz")
        gaba.zoo.from_tflite(tflite_path, threads=2).save(path)
    return path


@target("zoo.load")
def _zoo_load(d):
    """Valid files (float and int8), byte-mutated and truncated ones, missing paths and
    wrong types. Left out: crafted zip bombs (seconds of work each; the file-format fuzzing
    covers them)."""
    if d.chance(0.2):  # an imported model's file: its layer table (and given parameters)
        path = saved_import(d.choice(_TFLITE_FILES))
    elif d.chance(0.3):  # a trained model's file: "train/..." and "optim/..." entries
        path = saved_trained(d.choice(TRAIN_MODELS), d.rng.randrange(3))
        if d.p and d.chance(0.5):
            path = _mutated_entries(d, path)
        elif d.p and d.chance(0.5):
            path = _mutated_bytes(d, path)
        return Call(_load_and_resume, [path])
    else:
        path = saved_model(model_name(d), d.chance(0.5))
    kind = d.rng.randrange(6) if d.p else 0
    if kind in (1, 2):
        path = _mutated_bytes(d, path, kind == 1)
    elif kind == 3:
        return Call(gaba.zoo.load, ["no_such_dir/model.npz"], {}, (FileNotFoundError,))
    elif kind == 4:
        return Call(gaba.zoo.load, [os.getcwd()], {}, (IsADirectoryError,))
    elif kind == 5:
        path = d.bad(path)
        if isinstance(path, (str, bytes)):  # "", "nope", b"x", "x" * 1000: no such file
            return Call(gaba.zoo.load, [path], {}, (OSError,))
    return Call(gaba.zoo.load, [path])


def _mutated_bytes(d, path, change=None):
    """A copy of the file with bytes changed, or cut short."""
    data = bytearray(open(path, "rb").read())
    if change if change is not None else d.chance(0.5):
        for _ in range(d.rng.randint(1, 16)):
            data[d.rng.randrange(len(data))] = d.rng.randrange(256)
    else:
        data = data[:d.rng.randrange(len(data))]
    path = os.path.abspath("mutated.npz")
    with open(path, "wb") as f:
        f.write(data)
    return path


def saved_trained(name, kind):
    """Path of a trained model's file (written once): kind 0 one SGD step, no optimizer;
    1 an Adam step, with the optimizer; 2 an SGD step with momentum, with the optimizer
    and a model made with overrides."""
    path = _SAVED.get((name, "trained", kind))
    if path is None:
        path = _SAVED[name, "trained", kind] = os.path.abspath(f"trained_{name}_{kind}.npz")
        m = gaba.zoo.create(name, threads=1, **({"width": 0.5} if kind == 2 else {}))
        opt = (gaba.optim.SGD(m, lr=0.01), gaba.optim.Adam(m, lr=0.01),
               gaba.optim.SGD(m, lr=0.01, momentum=0.9))[kind]
        npr = np.random.default_rng(kind)
        x = {k: _valid_input(npr, v, 2) for k, v in m.inputs.items()}
        shape = tuple(_first_output(m))
        y = np.array([0, 1]) % shape[0] if len(shape) == 1 else npr.random((2, *shape)).astype(F32)
        m.train_step(x, y, opt, loss="cross_entropy" if len(shape) == 1 else "mse")
        m.save(path, optimizer=opt if kind else None)
    return path


def _mutated_entries(d, path):
    """The file rewritten (a valid zip) with its metadata's training fields or its
    "train/..." / "optim/..." arrays changed: shapes, dtypes, values, keys, classes."""
    import json

    with np.load(path) as z:
        entries = {k: z[k] for k in z.files}
    meta = json.loads(str(entries["__gaba_meta__"]))
    for _ in range(d.rng.randint(1, 4)):
        trained = sorted(k for k in entries if k.startswith(("train/", "optim/")))
        kind = d.rng.randrange(6)
        if kind == 0 and trained:  # an array of another shape, dtype, layout or values
            k = d.choice(trained)
            if entries[k].dtype.kind == "f":  # (not one changed already: a record's layout)
                entries[k] = d.bad(entries[k])
        elif kind == 1 and trained:  # an entry gone
            entries.pop(d.choice(trained), None)
        elif kind == 2 and isinstance(meta.get("train"), dict) and meta["train"]:  # a shape
            k = d.choice(sorted(meta["train"]))
            meta["train"][k] = d.bad(meta["train"][k])
        elif kind == 3 and isinstance(meta.get("optimizer"), dict):  # its class, numbers, arrays
            o = meta["optimizer"]
            field = d.choice(("class", "scalars", "arrays"))
            o[field] = d.choice((d.bad(o.get(field)), "Optimizer", {"lr": -1.0, "steps": -1},
                                 ["exp_avg", "nope"], None, 7))
        elif kind == 4:  # a training field of the metadata of the wrong type
            meta[d.choice(("train", "optimizer"))] = d.choice((None, [], 1, "x", {"a": [1]}))
        else:  # an extra "train/" key that names no parameter
            entries["train/nope.weight"] = np.zeros(3, F32)
            if isinstance(meta.get("train"), dict):
                meta["train"]["nope.weight"] = [3]
    try:
        entries["__gaba_meta__"] = np.array(json.dumps(meta))
    except (TypeError, ValueError):  # d.bad() put an object JSON cannot write
        entries["__gaba_meta__"] = np.array(json.dumps({**meta, "train": "?"}, default=str))
    out = os.path.abspath("mutated_trained.npz")
    np.savez(out, **{k: v for k, v in entries.items() if isinstance(v, np.ndarray)})
    return out


def _load_and_resume(path):
    """zoo.load, then the saved optimizer's state into a new optimizer of its class and a
    step (what resuming does)."""
    m = gaba.zoo.load(path)
    state = getattr(m, "optimizer_state", None)
    if state is not None:
        state = dict(state)
        cls = getattr(gaba.optim, str(state.pop("class")), None)
        if not (isinstance(cls, type) and issubclass(cls, gaba.optim.Optimizer)):
            raise ValueError(f"zoo.load gave optimizer class {cls!r}")
        opt = cls(m)
        opt.load_state_dict(state)
        opt.step()
    return m


_TFLITE_FILES = [os.path.join(os.path.dirname(__file__), "..", "data", "mlperf", name)
                 for name in ("kws_ref_model.tflite", "kws_ref_model_float32.tflite")]


@target("zoo.from_tflite")
def _zoo_from_tflite(d):
    """The test data's TFLite files, whole or with bytes changed (each mutation either
    parses, and reaches the layer table and the quantizer, or is refused); then a run
    when the import succeeds. Left out: the larger ResNet file (a second per call)."""
    data = bytearray(open(d.choice(_TFLITE_FILES), "rb").read())
    if d.p:
        for _ in range(d.rng.randint(1, 8)):
            data[d.rng.randrange(len(data))] = d.rng.randrange(256)

    def run(blob):
        m = gaba.zoo.from_tflite(blob, threads=1)
        (name, spec), = m.inputs.items()
        x = np.zeros((1,) + tuple(spec["shape"]), np.float32)
        if isinstance(m, gaba.zoo.QuantizedModel):
            return m(x.astype(np.int8), raw=True)
        return m(x)

    if d.chance(0.95):
        return Call(run, [bytes(data)])
    return Call(run, [d.bad(bytes(data))], {}, (OSError,))  # a str is a path to open


_ONNX = {}


def _onnx_usable():
    """Whether onnx imports here (it may be absent, or built for another NumPy)."""
    try:
        import onnx  # noqa: F401
    except Exception:  # noqa: BLE001
        return False
    return True


def onnx_bytes(int8):
    """The ONNX export of a small zoo model (int8: its QDQ graph), made once."""
    if int8 not in _ONNX:
        path = os.path.abspath(f"onnx_{'int8' if int8 else 'float'}.onnx")
        (qmodel if int8 else model)("AnomalyDetectEdge").to_onnx(path)
        _ONNX[int8] = open(path, "rb").read()
    return _ONNX[int8]


def _zoo_from_onnx(d):
    """A small zoo model's ONNX export (float or QDQ), whole, with bytes changed or cut
    short (each either parses, passes ONNX's checker and reaches the layer table and the
    quantizer, or is refused); then a run when the import succeeds."""
    data = bytearray(onnx_bytes(d.chance(0.5)))
    if d.p:
        if d.chance(0.5):
            for _ in range(d.rng.randint(1, 8)):
                data[d.rng.randrange(len(data))] = d.rng.randrange(256)
        else:
            data = data[:d.rng.randrange(len(data))]

    def run(blob):
        m = gaba.zoo.from_onnx(blob, threads=1)
        xs = {n: np.zeros((1,) + tuple(s["shape"]), np.float32) for n, s in m.inputs.items()}
        return m(xs)

    if d.chance(0.95):
        return Call(run, [bytes(data)])
    bad = d.choice([None, 3, [1, 2], "no_such_dir/model.onnx"])  # OSError: no such file
    return Call(run, [bad], {}, (OSError,))


if _onnx_usable():  # otherwise from_onnx can only say so
    target("zoo.from_onnx")(_zoo_from_onnx)


def _model_call(d, method):
    m = model(model_name(d))
    xs = inputs(d, m)
    args, kw = pass_inputs(d, m, xs)
    out = out_for(d, m, xs)
    if out is not None:
        kw["out"] = out
    if d.chance(0.5):
        kw["threads"] = threads_arg(d)
    return Call(getattr(m, method), args, kw)


@target("Model.__call__")
def _model_call_(d):
    return _model_call(d, "__call__")


@target("Model.forward")
def _model_forward(d):
    return _model_call(d, "forward")


@target("Model.quantize")
def _model_quantize(d):
    """Calibration batches of 0 to 3; threads up to 2 when valid (see zoo.create)."""
    m = model(model_name(d))
    xs = inputs(d, m, d.choice((0, 1, 2, 3)))
    form = d.rng.randrange(4)  # a dict, a list in input order, or the one array
    calib = list(xs.values()) if form == 0 else xs if form == 1 or len(xs) > 1 else \
        next(iter(xs.values()))
    kw = {}
    if d.chance(0.4):
        kw["threads"] = threads_arg(d)
    if d.chance(0.4):
        kw["requant"] = d.pick(("double", "fp32"))
    return Call(m.quantize, [d.arg(calib)], kw)


def _runs(d):
    """runs/warmup up to 3 when valid. Adversarial values are those a check must reject: a
    profile of 2**31 runs is a valid request for days of work (and 272 GiB of timings)."""
    kw = {}
    for key, valid in (("runs", (1, 2, 3)), ("warmup", (0, 1))):
        if d.chance(0.7):
            kw[key] = d.choice(valid)
            if d.chance():
                kw[key] = d.choice((-1, -2**31 - 1, -10**100, 0 if key == "runs" else -5, 1.5,
                                    float("nan"), float("inf"), "2", None, [1]))
    return kw


@target("Model.profile")
def _model_profile(d):
    m = model(model_name(d))
    xs = inputs(d, m, d.choice((0, 1, 2)))
    args, kw = pass_inputs(d, m, xs)
    kw.update(_runs(d))
    return Call(m.profile, args, kw)


@target("Model.summary")
def _model_summary(d):
    m = model(model_name(d))
    return Call(m.summary, d.args([]) if d.chance() else [])


@target("Model.save")
def _model_save(d):
    """A zoo model's file; now and then a trained model's, with its optimizer (or an
    object that is none), loaded back."""
    path = os.path.abspath("written.npz")
    if d.chance(0.3):
        m, opt = trained_model(d)
        bad = d.choice((None, object(), "adam", opt.state_dict(), gaba.optim))
        return Call(_save_load, [m, path, opt if not d.chance() else bad])
    m = model(model_name(d))
    if d.chance():
        bad = d.bad(path)
        if isinstance(bad, (str, bytes, int, np.integer)) or bad is None:  # no stray files or fds
            return Call(m.save, ["no_such_dir/model.npz"], {}, (FileNotFoundError,))
        return Call(m.save, [bad])
    return Call(m.save, [path])


def _qmodel_call(d, method):
    qm = qmodel(model_name(d))
    raw = d.chance(0.3)
    xs = inputs(d, qm._model)
    if raw:
        xs = {k: (qm.quantize_input(v, k) if k in qm.input_qparams and isinstance(v, np.ndarray)
                  and v.dtype == F32 else v) for k, v in xs.items()}
    args, kw = pass_inputs(d, qm, xs)
    if raw:
        kw["raw"] = d.arg(True)
    out = out_for(d, qm, xs, raw)
    if out is not None:
        kw["out"] = out
    if d.chance(0.5):
        kw["threads"] = threads_arg(d)
    return Call(getattr(qm, method), args, kw)


@target("QuantizedModel.__call__")
def _qmodel_call_(d):
    return _qmodel_call(d, "__call__")


@target("QuantizedModel.forward")
def _qmodel_forward(d):
    return _qmodel_call(d, "forward")


@target("QuantizedModel.quantize_input")
def _qmodel_quantize_input(d):
    qm = qmodel(model_name(d))
    names = list(qm.input_qparams) or list(qm.inputs)
    name = d.choice(names)
    x = d.array((d.dim(4), *qm.inputs[name]["shape"]))
    kw = {"name": d.arg(name)} if d.chance(0.5) else {}
    return Call(qm.quantize_input, [x], kw)


@target("QuantizedModel.dequantize_output")
def _qmodel_dequantize_output(d):
    qm = qmodel(model_name(d))
    name = d.choice(list(qm.outputs))
    q = d.array((d.dim(4), *qm.outputs[name]["shape"]), np.int8, -128, 127)
    kw = {"name": d.arg(name)} if d.chance(0.5) else {}
    return Call(qm.dequantize_output, [q], kw)


@target("QuantizedModel.profile")
def _qmodel_profile(d):
    qm = qmodel(model_name(d))
    xs = inputs(d, qm._model, d.choice((0, 1, 2)))
    args, kw = pass_inputs(d, qm, xs)
    kw.update(_runs(d))
    return Call(qm.profile, args, kw)


# ---- training ---------------------------------------------------------------------------

# Models whose training step at a batch of a few samples takes a few milliseconds: training a
# large one is the caller's choice of work. A training call gets a fresh model (its own weights
# and trainer), so that a call replays alone whatever the calls before it trained.
TRAIN_MODELS = ("KeywordSpotMicro", "AudioEventNano", "VoiceActivityMicro",
                "SentimentAnalysisMicro", "IntentClassifyNano", "LanguageDetectNano",
                "AnomalyDetectEdge", "TimeSeriesForecastMicro", "SensorFusionNano",
                "FallDetectMicro", "NamedEntityMicro", "TextSummarizeNano", "DSCNN_KWS",
                "GaitAnalysisNano")
# Documented by gaba.train.backward: a loss that is not finite (NaN inputs, a diverging run).
TRAIN_ERRORS = (FloatingPointError,)
LOSS_NAMES = ("cross_entropy", "binary_cross_entropy", "mse", "l1", "huber")


def train_model(d):
    return gaba.zoo.create(d.choice(TRAIN_MODELS), d.rng.randrange(2**32), threads=2)


def _first_output(m):
    return next(iter(m.outputs.values()))["shape"]


def train_targets(d, m, batch, loss=None):
    """(targets, loss name): class labels for a class vector, else arrays of the output's
    shape; at rate p labels out of range, of a float dtype or of another length."""
    shape = tuple(_first_output(m))
    npr = np.random.default_rng(d.seed())
    if loss is None:
        loss = "cross_entropy" if len(shape) == 1 and d.chance(0.8) else d.choice(
            ("mse", "l1", "huber", "binary_cross_entropy"))
    if loss == "cross_entropy":
        y = npr.integers(0, shape[0], batch).astype(d.choice((np.int64, np.int32, np.uint8)))
        if d.chance() and batch:
            y = y.astype(np.int64)
            y[d.rng.randrange(batch)] = d.choice((-1, shape[0], 2**40, -2**63))
    else:
        y = npr.uniform(0, 1, (batch, *shape)).astype(F32)
    if d.chance():
        other = max(0, batch + d.choice((-1, 1, 9)))  # labels of another count of samples
        y = d.bad(y) if d.chance(0.7) else npr.integers(0, 2, (other,))
    return y, d.arg(loss)


def _train_kw(d, loss, teacher_of=None):
    kw = {"loss": loss}
    if d.chance(0.3):
        kw["threads"] = threads_arg(d)
    if d.chance(0.2):
        kw["label_smoothing"] = d.float(0, 1)
    if teacher_of is not None and d.chance(0.15):  # distillation: the same architecture
        kw["teacher"] = gaba.zoo.create(teacher_of.name, 1, threads=1)
        kw["temperature"], kw["alpha"] = d.float(0.5, 4), d.float(0, 1)
    return kw


def trained_model(d):
    """A fresh model after one valid training step, and its optimizer."""
    m = train_model(d)
    opt = _valid_optimizer(d, m)
    npr = np.random.default_rng(d.seed())
    x = {k: _valid_input(npr, v, 2) for k, v in m.inputs.items()}
    shape = tuple(_first_output(m))
    if len(shape) == 1:
        m.train_step(x, npr.integers(0, shape[0], 2), opt)
    else:
        m.train_step(x, npr.random((2, *shape)).astype(F32), opt, loss="mse")
    return m, opt


def _save_load(m, path, optimizer):
    m.save(path, optimizer=optimizer)
    return _load_and_resume(path)


def _valid_optimizer(d, params):
    while True:  # a model's step is what the call is about: its optimizer is built validly
        try:
            return _made(d, d.choice((gaba.optim.SGD, gaba.optim.Adam, gaba.optim.AdamW)), params)
        except (TypeError, ValueError):
            continue


@target("Model.backward")
def _model_backward(d):
    """Batches of 0 to 4: a large batch is the caller's choice of work."""
    m = train_model(d)
    batch = d.choice((0, 1, 2, 3, 4))
    xs = inputs(d, m, batch)
    y, loss = train_targets(d, m, batch)
    args, _ = pass_inputs(d, m, xs)
    x = args[0] if len(args) == 1 else tuple(args) if args else xs
    return Call(m.backward, [x, y], _train_kw(d, loss, m), TRAIN_ERRORS)


@target("Model.train_step")
def _model_train_step(d):
    """One to three steps on batches of 0 to 4, an optimizer made on the model (or on
    another model, or no optimizer at all), then a look at the parameters."""
    m = train_model(d)
    batch = d.choice((0, 1, 2, 3, 4))
    xs = inputs(d, m, batch)
    y, loss = train_targets(d, m, batch)
    opt = _valid_optimizer(d, m) if not d.chance() else d.choice(
        (None, "adam", _valid_optimizer(d, train_model(d))))
    kw = _train_kw(d, loss)
    steps = d.rng.randint(1, 3)

    def run(*_):
        for _ in range(steps):
            value = m.train_step(xs, y, opt, **kw)
        finite = all(np.isfinite(v).all() for v in m.parameters.values())
        return value, finite, m(xs)

    return Call(run, [m, xs, y, opt, kw, steps], {}, TRAIN_ERRORS)


@target("Model.evaluate")
def _model_evaluate(d):
    m = train_model(d)
    batch = d.choice((0, 1, 2, 5))
    xs = inputs(d, m, batch)
    y, loss = train_targets(d, m, batch)
    kw = {"loss": loss}
    if d.chance(0.5):
        kw["batch_size"] = d.int(1, 4)
    if d.chance(0.3):
        kw["threads"] = threads_arg(d)
    return Call(m.evaluate, [xs, y], kw)


@target("Model.training_arena_bytes")
def _model_training_arena_bytes(d):
    """batch_size 1 to 64 when valid: 2**31 - 1 samples is a request for terabytes."""
    m = train_model(d)
    batch = d.rng.randint(1, 64)
    if d.chance():
        batch = d.choice((0, -1, 2**31, 2**63, -2**63, 1.5, float("nan"), None, "2", [2]))
    return Call(m.training_arena_bytes, [batch])


@target("Model.parameters")
def _model_parameters(d):
    """The training views (parameters, gradients, buffers), written now and then, then the
    weights they fold into and a forward."""
    m = train_model(d)
    what = d.choice(("parameters", "gradients", "buffers"))

    def run(*_):
        views = getattr(m, what)
        if views and d.chance(0.5):
            v = views[d.choice(sorted(views))]
            v[...] = d.choice((0.0, 1.0, np.nan, 3e38))
            m._weights_changed()
        xs = inputs(d, m, 1)
        return len(views), m(xs)

    return Call(run, [m, what])


@target("train.fit")
def _train_fit(d):
    """One epoch (now and then two or none) over 0 to 6 samples, batches of 1 to 4, with or
    without validation, a schedule and callbacks."""
    m = train_model(d)
    n = d.choice((0, 1, 2, 3, 6))
    xs = inputs(d, m, n)
    y, loss = train_targets(d, m, n)
    kw = _train_kw(d, loss, m)
    epochs = d.choice((1, 1, 1, 2, 0))
    if d.chance():  # only values a check must reject: 2**31 - 1 epochs is long work
        epochs = d.choice((-1, 2**31, 2**63, 1.5, float("nan"), None, "1", [1]))
    kw.update(epochs=epochs, batch_size=d.int(1, 4),
              verbose=False, seed=d.int(0, 2**32))
    if d.chance(0.5):
        opt = kw["optimizer"] = _valid_optimizer(d, m)
        if d.chance(0.3):
            kw["schedule"] = gaba.optim.StepLR(opt, d.rng.randint(1, 3))
    if d.chance(0.3):
        kw["validation"] = d.arg((xs, y))
    if d.chance(0.2):
        kw["callbacks"] = [gaba.train.EarlyStopping(d.choice(("loss", "val_loss", "accuracy")),
                                                    patience=d.rng.randint(0, 2))]
    if d.chance(0.2):
        kw["shuffle"] = d.flag()
    return Call(gaba.train.fit, [m, xs, y], kw, TRAIN_ERRORS)


def _loss_target(name):
    fn = getattr(gaba.losses, name)

    def gen(d):
        shape = (d.dim(9), d.dim(17)) if d.chance(0.8) else d.shape(d.choice((1, 3)), 9)
        pred = d.array(shape, lo=-8, hi=8)
        if name == "cross_entropy":
            n, c = (shape[0], shape[1]) if len(shape) == 2 else (shape[0] if shape else 0, 1)
            target_ = d.array((n,), d.choice((np.int64, np.int32, np.uint8)), 0, max(c - 1, 0))
        else:
            target_ = d.array(shape, lo=0 if name == "binary_cross_entropy" else -2, hi=1)
        kw = {}
        if d.chance(0.5):
            kw["grad"] = d.flag()
        if name == "cross_entropy" and d.chance(0.3):
            kw["label_smoothing"] = d.float(0, 1)
        if name == "huber" and d.chance(0.5):
            kw["delta"] = d.float(0.1, 3)
        return Call(fn, [pred, target_], kw)
    return gen


for _name in LOSS_NAMES:
    target("losses." + _name)(_loss_target(_name))


def _param_pair(d):
    n = d.dim(33)
    return (d.values((n,)), d.values((n,)))


def _optim_target(cls):
    def gen(d):
        """Construct (on a (weights, grads) pair, now and then a model), then steps, clipping,
        a schedule, state_dict and load_state_dict of a state changed at rate p."""
        params = _param_pair(d) if d.chance(0.9) else train_model(d)
        if d.chance(0.1):
            params = d.bad(params if isinstance(params, tuple) else params._train_arrays())
        ops = [d.choice(("step", "step", "zero_grad", "clip", "schedule", "state", "lr"))
               for _ in range(d.rng.randint(1, 5))]

        def run(*_):
            d_ = d  # the rest of the call's stream, drawn as the call runs
            opt = _made(d_, cls, params)
            sched = None
            for op in ops:
                if op == "step":
                    opt.step()
                elif op == "zero_grad":
                    opt.zero_grad()
                elif op == "clip":
                    opt.clip_grad_norm(d_.float(0.01, 10))
                elif op == "lr":
                    opt.lr = d_.float(0, 1)
                elif op == "schedule":
                    sched = _schedule(d_, opt)
                    for _ in range(d_.rng.randint(0, 3)):
                        sched.step()
                    sched.load_state_dict(d_.arg(sched.state_dict()))
                else:
                    state = opt.state_dict()
                    if d_.chance():
                        state = d_.bad(state)
                    opt.load_state_dict(state)
            return opt.state_dict(), repr(opt)

        return Call(run, [cls.__name__, params, ops])
    return gen


def _made(d, cls, params):
    kw = {"lr": d.float(1e-4, 1)}
    if cls is gaba.optim.SGD:
        if d.chance(0.5):
            kw["momentum"] = d.float(0, 0.99)
            kw["nesterov"] = d.arg(d.chance(0.3))
        if d.chance(0.3):
            kw["dampening"] = d.float(0, 0.5)
    else:
        if d.chance(0.4):
            kw["betas"] = d.arg((d.rng.uniform(0, 0.99), d.rng.uniform(0, 0.9999)))
        if d.chance(0.3):
            kw["eps"] = d.float(1e-10, 1e-6)
    if d.chance(0.4):
        kw["weight_decay"] = d.float(0, 0.1)
    return cls(params, **kw)


def _schedule(d, opt):
    kind = d.rng.randrange(4)
    if kind == 0:
        return gaba.optim.StepLR(opt, d.int(1, 5), d.float(0.01, 2))
    if kind == 1:
        return gaba.optim.CosineAnnealingLR(opt, d.int(1, 10), d.float(0, 1e-3))
    if kind == 2:
        return gaba.optim.LinearWarmup(opt, d.int(0, 5), d.float(0, 1))
    a = gaba.optim.LinearWarmup(opt, d.rng.randint(1, 3))
    b = gaba.optim.CosineAnnealingLR(opt, d.rng.randint(1, 5))
    return gaba.optim.SequentialLR(opt, d.arg([a, b]), d.arg([d.rng.randint(1, 4)]))


for _cls in (gaba.optim.SGD, gaba.optim.Adam, gaba.optim.AdamW):
    target("optim." + _cls.__name__)(_optim_target(_cls))


@target("optim.clip_grad_norm")
def _clip_grad_norm(d):
    params = _param_pair(d)
    return Call(gaba.optim.clip_grad_norm, [d.arg(params), d.float(1e-3, 10)])
