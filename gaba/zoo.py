"""The model zoo: tiny networks defined in C as data, run by a C executor.

>>> import numpy as np, gaba
>>> m = gaba.zoo.create("MicroYOLONano", seed=0)
>>> m(np.zeros((32, 3, 96, 96), np.float32)).shape
(32, 12, 12, 3, 10)

Every model is a const layer table in csrc/zoo/ (one file per model), built
once by ``create``: shapes inferred, batch norms folded, weights in one
contiguous block (He-initialised from `seed`), activations planned into one
arena. Inference allocates nothing in C; samples of a batch run one after
another (or split over threads), so any batch size works. See docs/zoo.md.
"""
import os

import numpy as np

from ._args import int_arg, threads_arg
from ._ext import _gaba
from .errors import ModelFileError, UnknownModelError

__all__ = ["names", "info", "create", "from_tflite", "from_onnx", "load", "compare", "Model",
           "QuantizedModel", "Summary", "Profile", "Calibration", "CATEGORIES", "MODALITIES",
           "FORMAT_VERSION", "TOP1_MAX_SHARE"]

CATEGORIES = ("vision", "audio", "sensor", "reference")
# What a model reads; "sensor" covers sensor signals and other time series.
MODALITIES = ("vision", "audio", "text", "sensor")
FORMAT_VERSION = 1
_FORMAT = "gaba.zoo"
_QFORMAT = "gaba.zoo.int8"  # QuantizedModel.save's files
_REQUANT = {"double": 0, "fp32": 1}  # gaba_qnn_requant_mode

# Op and activation codes of csrc/include/gaba/nn.h by name, as the op table
# (csrc/nn/ops.c) names them (gaba._nn runs single layers by them).
OPS = {name: i for i, name in enumerate(_gaba.nn_ops())}
ACTS = {name: i for i, name in enumerate(_gaba.nn_acts())}


def names(category=None, *, modality=None):
    """Names of the zoo's models, in catalogue order.

    Parameters
    ----------
    category : {None, "vision", "audio", "sensor", "reference", "all30"}
        The catalogue's section. None lists every model; "all30" the 30 of
        vision, audio and sensor.
    modality : {None, "vision", "audio", "text", "sensor"}
        Keep only the models that read this kind of input (the text models
        take token ids). Combines with `category`.
    """
    rows = _gaba.zoo_names()
    if category is not None and category != "all30" and category not in CATEGORIES:
        raise ValueError(f"zoo.names(): unknown category {category!r}; "
                         f"expected one of {CATEGORIES + ('all30',)} or None")
    if modality is not None and modality not in MODALITIES:
        raise ValueError(f"zoo.names(): unknown modality {modality!r}; "
                         f"expected one of {MODALITIES} or None")
    return [n for n, c, mod in rows
            if (category is None or c == category or category == "all30" and c != "reference")
            and (modality is None or mod == modality)]


def _describe(capsule):
    d = _gaba.zoo_describe(capsule)
    d["inputs"] = {n: {"shape": s, "dtype": t, **({"vocab": v} if v else {})}
                   for n, s, t, v in d["inputs"]}
    d["outputs"] = {n: {"shape": s, "dtype": t} for n, s, t in d["outputs"]}
    return d


_INFO_KEYS = ("name", "category", "modality", "task", "inputs", "outputs", "params", "macs",
              "weight_bytes", "arena_bytes")


def info(name):
    """A model's card: a dict with name, category, modality (one of
    :data:`MODALITIES`), task, inputs and outputs (each
    ``{tensor: {"shape": per-sample shape, "dtype": ...}}``), params, macs (per
    sample), weight_bytes (the weight block) and arena_bytes (activations and
    scratch of one sample, as planned)."""
    d = _describe(_gaba.zoo_create(_check_name(name), 0, 1))
    out = {k: d[k] for k in _INFO_KEYS}
    out["budget_params"] = d["budget"]
    return out


def _check_name(name):
    if not isinstance(name, str):
        raise TypeError(f"zoo: a model name must be a str, got {type(name).__name__}")
    known = names()
    if name not in known:
        import difflib

        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
        raise UnknownModelError(f"zoo: no model named {name!r}{hint}; see gaba.zoo.names()")
    return name


def from_tflite(path, *, threads=None):
    """Import a TensorFlow Lite model (docs/import.md).

    A float32 file becomes a :class:`Model`; an int8 file (int8 inputs and
    outputs, per-channel or per-tensor int8 weights) a :class:`QuantizedModel`
    on the file's own scales and zero points, whose raw outputs
    (``qm(x, raw=True)``) equal TensorFlow Lite Micro's bit for bit. The
    model takes and gives tensors in the file's layout (NHWC per sample:
    ``(batch, H, W, C)``); inside, gaba runs channel-major.

    Parameters
    ----------
    path : str, os.PathLike or bytes
        The ``.tflite`` file, or its contents.
    threads : int, optional
        Thread slots of the model (default: gaba's thread count).

    Raises
    ------
    gaba.importers.tflite_file.TFLiteError
        (a ValueError) for a file that is not a valid TFLite flatbuffer.
    gaba.importers.ModelImportError
        (a ValueError) for a valid file gaba cannot map: the message names the
        operator, its index and what is supported.
    OSError
        From opening `path`, as ``open()`` raises it.
    """
    from .importers.tflite import from_tflite as _from_tflite

    return _from_tflite(path, threads=threads)


def from_onnx(path, *, threads=None, requant="fp32"):
    """Import an ONNX model (docs/import.md).

    A float graph (opset 13 or later) becomes a :class:`Model`; a QDQ graph
    (QuantizeLinear / DequantizeLinear around the float ops, as ONNX
    Runtime's quantizer and :meth:`QuantizedModel.to_onnx` write it) a
    :class:`QuantizedModel` on the file's own scales and zero points (uint8
    activations shifted exactly to int8), no calibration. ONNX's NCHW is
    gaba's layout: the model takes and gives the file's shapes.

    Parameters
    ----------
    path : str, os.PathLike or bytes
        The ``.onnx`` file, or its contents.
    threads : int, optional
        Thread slots of the model (default: gaba's thread count).
    requant : {"fp32", "double"}
        How a QDQ graph's conv and dense layers requantize
        (:meth:`Model.quantize`): ``"fp32"`` (default) rounds once in float32
        as ONNX Runtime's QLinearConv does; ``"double"`` is TFLite's scheme,
        the default of :meth:`Model.quantize`, which a file written by
        ``QuantizedModel.to_onnx`` from such a model needs to come back equal.

    Raises
    ------
    ImportError
        When the ``onnx`` package is missing (``pip install onnx``).
    gaba.importers.onnx.ONNXError
        (a ValueError) for bytes that are not a valid ONNX model.
    gaba.importers.ModelImportError
        (a ValueError) for a valid model gaba cannot map: the message names the
        node's index, its operator type and what is supported.
    OSError
        From opening `path`, as ``open()`` raises it.
    """
    from .importers.onnx import from_onnx as _from_onnx

    return _from_onnx(path, threads=threads, requant=requant)


def create(name, seed=0, *, threads=None, num_classes=None, input_shape=None, width=None):
    """Build model `name` with deterministic He-initialised weights from `seed`.

    Parameters
    ----------
    name : str
        One of :func:`names`.
    seed : int
        Weights are drawn from gaba's PCG32 stream (seed, layer): the same seed
        gives the same weights on every platform.
    threads : int, optional
        Thread slots to reserve (one arena each); default: gaba's thread count.
    num_classes : int, optional
        The class count of the classifier head (the last conv or dense layer
        before the first output): classes per sample, per position for the
        taggers (NamedEntityMicro, OCRNano's CTC classes with the blank, or
        SegmentMicro's per pixel). ValueError for a model whose output is not a
        class vector (detection, regression, autoencoders; docs/zoo.md lists them).
    input_shape : tuple of int, or dict, optional
        The per-sample input shape, of the default's rank: channels and
        spatial or time dims, or a token model's sequence length. A dict
        ``{input: shape}`` for a model with several inputs. Layers after
        global pooling or a flatten adapt; a shape the layers reject is a
        ValueError naming it.
    width : float, optional
        A multiplier on the channel counts of the hidden conv, dense, GRU,
        attention and embedding layers (``round(c * width)``, at least 1):
        the inputs and the output heads keep theirs, depthwise layers follow
        their input. 0.5 gives about a quarter of the conv parameters.

    Returns
    -------
    Model
        With no override, the registered model. With one, the layer table
        rewritten and built as :func:`from_onnx` builds an imported one (the
        layers keep their names and weight streams, so ``width=1.0`` gives
        the same weights bit for bit); its ``name`` stays the architecture's
        and :meth:`Model.save` records the table, so :func:`load` restores it.
    """
    seed = int_arg(seed, "zoo.create", "seed", 0, 2**64 - 1)
    n_threads = threads_arg(threads, "zoo.create")
    name = _check_name(name)
    if num_classes is None and input_shape is None and width is None:
        return Model(_gaba.zoo_create(name, seed, n_threads), seed=seed)
    from . import _zoo_config

    d, reshapes = _zoo_config.table(name, num_classes, input_shape, width)
    graph = {k: d[k] for k in ("name", "category", "task", "modality")}
    graph.update(inputs=[list(r) for r in d["inputs"]], outputs=list(d["outputs"]),
                 layers=[list(r) for r in d["layers"]])
    try:
        m = _define({"graph": graph, "model": name, "seed": seed}, None, n_threads)
    except ValueError as e:
        if input_shape is None:
            raise
        raise ValueError(f"zoo.create(): input_shape {input_shape!r} does not fit {name} "
                         f"(its layers reject the shapes it gives)") from e
    if reshapes:
        _zoo_config.check_reshapes(m, create(name, seed, threads=1), reshapes, input_shape)
    return m


class Model:
    """A built zoo model. Call it on a batch: ``m(x)``, ``m(a=..., b=...)`` or ``m({...})``."""

    def __init__(self, capsule, seed=0):
        self._cap = capsule
        self._desc = _describe(capsule)
        self.seed = seed
        for key in _INFO_KEYS:
            setattr(self, key, self._desc[key])
        self._weights = None
        self._trainer = None
        self.optimizer_state = None  # an optimizer's state read by load(), if saved

    def __repr__(self):
        return (f"<gaba.zoo.Model {self.name} ({self.category}: {self.task}), "
                f"{self.params:,} params, {self.macs:,} MACs>")

    # ---- running ---------------------------------------------------------------

    def _gather_inputs(self, args, kwargs):
        names_ = list(self.inputs)
        if len(args) == 1 and isinstance(args[0], dict) and not kwargs:
            given = dict(args[0])
        else:
            if len(args) > len(names_):
                raise TypeError(f"{self.name}: takes {len(names_)} input(s) "
                                f"({', '.join(names_)}), got {len(args)}")
            given = dict(zip(names_, args))
            for k, v in kwargs.items():
                if k in given:
                    raise TypeError(f"{self.name}: input {k!r} given twice")
                given[k] = v
        unknown = set(given) - set(names_)
        if unknown:
            raise TypeError(f"{self.name}: unknown input(s) {sorted(unknown)}; "
                            f"inputs are {names_}")
        missing = [n for n in names_ if n not in given]
        if missing:
            raise TypeError(f"{self.name}: missing input(s) {missing}")
        arrays, batch = [], None
        for n in names_:
            spec = self.inputs[n]
            x = given[n]
            if not isinstance(x, np.ndarray):
                raise TypeError(f"{self.name}: input {n!r} must be a numpy.ndarray, "
                                f"got {type(x).__name__}")
            shape = tuple(spec["shape"])
            if x.ndim != len(shape) + 1 or tuple(x.shape[1:]) != shape:
                raise ValueError(f"{self.name}: input {n!r} must have shape (batch, "
                                 f"{', '.join(map(str, shape))}), got {tuple(x.shape)}")
            if batch is None:
                batch = x.shape[0]
            elif x.shape[0] != batch:
                raise ValueError(f"{self.name}: inputs disagree on the batch size "
                                 f"({batch} vs {x.shape[0]} for {n!r})")
            if spec["dtype"] == "int32":
                if x.dtype.kind not in "iu":
                    raise TypeError(f"{self.name}: input {n!r} holds token ids and must be an "
                                    f"integer array, got {x.dtype}")
                vocab = spec.get("vocab", 0)
                x = np.array(x)  # checked and run as one snapshot, whatever other threads write
                if x.size and vocab:
                    lo, hi = int(x.min()), int(x.max())
                    if lo < 0 or hi >= vocab:
                        bad = lo if lo < 0 else hi
                        where = tuple(int(i) for i in np.argwhere(x == bad)[0])
                        raise ValueError(f"{self.name}: token id {bad} at {where} of input "
                                         f"{n!r} is outside the vocabulary [0, {vocab})")
                x = x.astype(np.int32, copy=False)
            else:
                if x.dtype != np.float32:
                    raise TypeError(f"{self.name}: input {n!r} must be float32, got {x.dtype} "
                                    f"(use x.astype(np.float32))")
                x = np.ascontiguousarray(x)
                if not x.flags.aligned:
                    x = x.copy()
            arrays.append(x)
        return arrays, batch

    def forward(self, *args, out=None, threads=None, **inputs):
        """Run the model on a batch.

        Parameters
        ----------
        *args, **inputs : numpy.ndarray
            One array per input, shape (batch, *per-sample shape): positional in
            the order of ``m.inputs``, by keyword, or one dict. float32 inputs
            must be float32; token inputs any integer dtype with ids in
            [0, vocab).
        out : numpy.ndarray or dict, optional
            Where to write: an array (one output) or a dict of arrays (several),
            float32, C-contiguous, shape (batch, *per-sample shape).
        threads : int, optional
            Split the batch over this many threads (default: gaba's count).

        Returns
        -------
        numpy.ndarray, or a dict name -> array for multi-output models.
        """
        # the common case (exactly the inputs, as arrays the executor reads) matched in C
        got = _gaba.zoo_call(self._cap, args, inputs, out, threads)
        if got is not NotImplemented:
            return got
        arrays, batch = self._gather_inputs(args, inputs)
        outs = {}
        onames = list(self.outputs)
        if out is not None:
            given = out if isinstance(out, dict) else {onames[0]: out}
            if not isinstance(out, dict) and len(onames) > 1:
                raise TypeError(f"{self.name}: has {len(onames)} outputs; pass out as a dict")
            for n in onames:
                o = given.get(n)
                shape = (batch,) + tuple(self.outputs[n]["shape"])
                if not isinstance(o, np.ndarray) or o.dtype != np.float32 or o.shape != shape \
                        or not o.flags.c_contiguous or not o.flags.writeable or not o.flags.aligned:
                    raise ValueError(f"{self.name}: out[{n!r}] must be a writeable C-contiguous "
                                     f"float32 array of shape {shape}")
                if any(np.may_share_memory(o, x) for x in arrays):
                    raise ValueError(f"{self.name}: out[{n!r}] shares memory with an input")
                outs[n] = o
        else:
            for n in onames:
                outs[n] = np.empty((batch,) + tuple(self.outputs[n]["shape"]), np.float32)
        n_threads = threads_arg(threads, f"{self.name}.forward")
        _gaba.zoo_forward(self._cap, tuple(arrays), tuple(outs[n] for n in onames), n_threads)
        return outs[onames[0]] if len(onames) == 1 else outs

    __call__ = forward  # m(x) is m.forward(x), without a second call's cost

    def profile(self, *args, runs=100, warmup=10, **inputs):
        """Time every layer on the first sample of a batch; return the table.

        The model runs `warmup` times, then `runs` times on one thread, the C
        executor timing each layer of each run; the table gives each layer's
        median (p50) time, its share of the summed medians, its MACs and the
        GFLOP/s they make (2 FLOPs per MAC).

        Parameters
        ----------
        *args, **inputs : numpy.ndarray
            As for :meth:`forward`; only the first sample is used.
        runs, warmup : int
            Timed and untimed runs (runs in 1..100000, warmup in 0..100000).

        Returns
        -------
        Profile
            A list of per-layer dicts (layer, op, p50_us, share, macs, gflops)
            whose ``str`` and ``repr`` are the table (an HTML table in Jupyter);
            ``.total_us`` sums the medians.

        Raises
        ------
        ValueError, TypeError
            For the inputs :meth:`forward` rejects, or runs, warmup out of range.

        Examples
        --------
        >>> import numpy as np, gaba
        >>> m = gaba.zoo.create("AnomalyDetectEdge")
        >>> x = np.zeros((1, 5, 32), np.float32)
        >>> table = m.profile(x, runs=5, warmup=1)
        >>> print(table)  # doctest: +ELLIPSIS
        AnomalyDetectEdge: ... us per sample (sum of per-layer p50)
        ...
        >>> len(table) == len(m.layers)
        True
        """
        runs, warmup = _profile_counts(f"{self.name}.profile", runs, warmup)
        arrays, batch = self._gather_inputs(args, inputs)
        if batch < 1:
            raise ValueError(f"{self.name}.profile(): the batch is empty")
        first = tuple(np.ascontiguousarray(a[:1]) for a in arrays)
        outs = tuple(np.empty((1,) + tuple(o["shape"]), np.float32) for o in self.outputs.values())
        return _profile(self.name, [(la["name"], la["op"], la["macs"]) for la in self.layers],
                        lambda: _gaba.zoo_forward(self._cap, first, outs, 1),
                        lambda on: _gaba.zoo_profile(self._cap, on),
                        lambda: _gaba.zoo_node_seconds(self._cap), runs, warmup)

    @property
    def layers(self):
        """The built graph, one dict per layer in execution order (batch norms folded):
        name, op, act, inputs/output (tensor names), output shape, params (the op's
        integer parameters, docs/zoo.md), n_params, macs, share (weights' owner)."""
        keys = ("name", "op", "act", "shape", "n_params", "macs", "bytes", "folded_bn",
                "share", "inputs", "output", "params")
        return [dict(zip(keys, row)) for row in self._desc["layers"]]

    def quantize(self, calibration, *, method="minmax", percentile=99.99, keep_float=(),
                 threads=None, requant="double"):
        """Post-training int8 quantization (TFLite's scheme), calibrated on batches.

        Activations become asymmetric int8 with one scale and zero point per
        tensor, from a range per tensor chosen by `method` over what this
        model's float run sees on `calibration` (widened to hold 0); conv and
        dense weights symmetric int8 per output channel in [-127, 127], biases
        int32, requantization a Q31 multiplier and shift with double rounding
        (docs/int8.md). Ops without an int8 kernel, and the layers named in
        `keep_float`, run in float32 between a dequantize and a quantize node.

        Parameters
        ----------
        calibration : numpy.ndarray, dict, tuple, or an iterable of them
            One batch, as for :meth:`forward`: an array (one input), a dict of
            named inputs, or a tuple of the inputs in order. Or several: a
            list, generator or any other iterable (a DataLoader-like object)
            whose items are batches in one of those forms. Batches are read
            one at a time, once, and not kept: memory stays that of one batch
            plus the recorded statistics.
        method : {"minmax", "percentile", "mse", "entropy"}
            How each tensor's range is chosen (docs/int8.md, "Calibration"):
            ``"minmax"`` (default) the min and max seen; ``"percentile"``
            clips both tails at `percentile`; ``"mse"`` minimises the expected
            squared int8 error, clipping included; ``"entropy"`` minimises
            the KL divergence between the values' histogram and its int8
            version (TensorRT's entropy calibrator). The last three read a
            histogram of each tensor, built in the same single pass.
        percentile : float
            For ``method="percentile"``: the upper percentile kept, in (50,
            100]; the lower one is ``100 - percentile``.
        keep_float : sequence of str
            Layers (names as in :attr:`layers`) to run in float32 between a
            dequantize and a quantize node, e.g. the one whose int8 error
            dominates.
        threads : int, optional
            Thread slots of the int8 model (default: gaba's thread count).
        requant : {"double", "fp32"}
            How conv and dense layers requantize their int32 accumulators:
            ``"double"`` (default) TFLite's Q31 multiplier and shift with
            double rounding; ``"fp32"`` a float32 scale per channel and one
            rounding half to even (XNNPACK's and ONNX Runtime's QLinearConv
            scheme; cheaper per output). Other ops are the same in both.

        Returns
        -------
        QuantizedModel
            Its :attr:`~QuantizedModel.calibration` table gives each
            tensor's observed and chosen range and the fraction clipped.

        Raises
        ------
        TypeError, ValueError
            For a bad batch (naming its index and what was expected), an
            empty `calibration`, an unknown method or layer name.
        """
        from . import _calib

        func = f"{self.name}.quantize()"
        _calib.check_method(method, percentile, func)
        keep = _keep_mask(self, keep_float, func)
        n_threads = threads_arg(threads, f"{self.name}.quantize")
        if requant not in _REQUANT:
            raise ValueError(f"{func}: requant must be 'double' or 'fp32', got {requant!r}")
        ranges = _empty_ranges(self)  # each batch widens them (and fills the histograms)
        state = _calib.new_state(ranges.shape[1]) if method != "minmax" else ()
        samples = 0
        for arrays, batch in self._calibration_batches(calibration, func):
            _gaba.zoo_calibrate(self._cap, tuple(arrays), ranges, *state)
            samples += batch
        if not samples:
            raise ValueError(f"{func}: calibration holds no sample; expected a batch, or an "
                             "iterable of batches, with at least one")
        chosen, rows = _choose_ranges(self, ranges, state, method, percentile)
        qm = QuantizedModel._from_ranges(self, chosen, requant, n_threads, keep)
        qm.calibration = Calibration(f"{self.name}: {method} calibration over {samples:,} "
                                     "samples", rows)
        return qm

    def _calibration_batches(self, calibration, func):
        """(arrays, batch size) of each calibration batch, one at a time."""
        if isinstance(calibration, (np.ndarray, dict, tuple)):
            calibration = (calibration,)
        elif isinstance(calibration, (str, bytes)) or not hasattr(calibration, "__iter__"):
            raise TypeError(f"{func}: calibration must be a batch or an iterable of batches, "
                            f"got {type(calibration).__name__}")
        specs = ", ".join(f"{n} (batch, {', '.join(map(str, s['shape']))}) {s['dtype']}"
                          for n, s in self.inputs.items())
        expected = (f"expected one array, a dict or a tuple of the inputs: {specs} (a list or "
                    "other iterable is read as several batches)")
        for i, batch in enumerate(calibration):
            if not isinstance(batch, (np.ndarray, dict, tuple)):
                raise TypeError(f"{func}: calibration batch {i} is a {type(batch).__name__}; "
                                f"{expected}")
            try:
                yield self._gather_inputs(batch if isinstance(batch, tuple) else (batch,), {})
            except (TypeError, ValueError) as e:
                msg = str(e).removeprefix(f"{self.name}: ")
                raise type(e)(f"{func}: calibration batch {i}: {msg}; {expected}") from None

    def to_onnx(self, path):
        """Write the float32 graph (same weights, batch norms folded) as an ONNX model
        (opset 17, symbolic batch axis); needs the ``onnx`` package. See docs/zoo.md."""
        from . import zoo_onnx

        return zoo_onnx.export(self, path)

    def _use_reference(self, flag=True):
        """Run the reference kernels (the oracle) instead of the fast ones."""
        _gaba.zoo_set_impl(self._cap, 1 if flag else 0)

    # ---- weights ------------------------------------------------------------------

    @property
    def weights(self):
        """dict "layer.weight" -> writable float32 view into the model's weight block.

        Writing into these arrays (or applying gaba's compression tools to them in
        place) changes the model; batch norms are already folded in.
        """
        if self._weights is None:
            block = _gaba.zoo_weights(self._cap)
            self._weights = {}
            for key, shape, offset in self._desc["weights"]:
                count = int(np.prod(shape))
                self._weights[key] = block[offset:offset + count].reshape(shape)
        return self._weights

    # ---- training (gaba.train) ------------------------------------------------------

    @property
    def parameters(self):
        """dict "layer.weight" -> writable float32 view of a trainable parameter.

        The training form of :attr:`weights`: batch norms unfolded (their
        ``weight`` and ``bias`` are gamma and beta) and shared weights once.
        An optimizer updates these in place; every update is folded back into
        :attr:`weights`. Made from :attr:`weights` on first use.
        """
        from .train import trainer

        return trainer(self).param_views

    @property
    def gradients(self):
        """dict "layer.weight" -> float32 view of the last batch's gradient of each of
        :attr:`parameters` (same keys and shapes), as :meth:`backward` left it."""
        from .train import trainer

        return trainer(self).grad_views

    @property
    def buffers(self):
        """dict "bn.running_mean" / "bn.running_var" -> the batch norms' running
        statistics (views), updated by every training forward."""
        from .train import trainer

        return trainer(self).stat_views

    def backward(self, x, y, **kw):
        """Forward and backward of one batch; fills :attr:`gradients` and returns the
        loss (``gaba.train.backward``: loss, teacher, temperature, alpha, ...)."""
        from .train import backward

        return backward(self, x, y, **kw)[0]

    def train_step(self, x, y, optimizer, **kw):
        """One training step on a batch (``gaba.train.train_step``); returns its loss."""
        from .train import train_step

        return train_step(self, x, y, optimizer, **kw)

    def evaluate(self, x, y, **kw):
        """Loss and accuracy on a data set (``gaba.train.evaluate``)."""
        from .train import evaluate

        return evaluate(self, x, y, **kw)

    def training_arena_bytes(self, batch_size):
        """Bytes of the training arena for a batch: the activations backward needs,
        their gradients and the layers' workspaces, as planned (one block, reused by
        every step). The inference arena is :attr:`arena_bytes` per sample and thread."""
        from .train import trainer

        return trainer(self).arena_bytes(int_arg(batch_size, f"{self.name}.training_arena_bytes",
                                                 "batch_size", 1, 2**31 - 1))

    def _train_arrays(self):
        """The flat (parameters, gradients) blocks an optimizer updates."""
        from .train import trainer

        t = trainer(self)
        return t.params, t.grads

    def _training(self, func):
        """The training state held by this thread (a context): a step, or a save, in
        another thread is refused with ValueError."""
        from .train import exclusive

        return exclusive(self, func)

    def _weights_changed(self):
        """Fold the parameters into the weights (after every optimizer step)."""
        import time

        while True:  # the update is done: wait out a forward in another thread, not fail
            try:
                return _gaba.trainer_sync(self._trainer.cap, 0)
            except ValueError as e:
                if "another thread" not in str(e):
                    raise
            time.sleep(1e-4)

    def summary(self):
        """Per-layer table (op, activation, output shape, params, MACs, output bytes).

        Returns
        -------
        Summary
            The layers' dicts (as :attr:`layers`); ``print`` it (or leave it last in
            a Jupyter cell, where it is an HTML table) to read it.

        Examples
        --------
        >>> import gaba
        >>> print(gaba.zoo.create("AnomalyDetectEdge").summary())  # doctest: +ELLIPSIS
        AnomalyDetectEdge (sensor: ...)
        layer ...
        """
        ins = ", ".join(f"{n} {'x'.join(map(str, s['shape']))} {s['dtype']}"
                        for n, s in self.inputs.items())
        outs = ", ".join(f"{n} {'x'.join(map(str, s['shape']))}" for n, s in self.outputs.items())
        return Summary(f"{self.name} ({self.category}: {self.task})", self.layers,
                       [f"inputs: {ins}; outputs: {outs}",
                        f"params {self.params:,}  MACs {self.macs:,}  weights "
                        f"{self.weight_bytes:,} B  arena {self.arena_bytes:,} B (per sample)"])

    # ---- files --------------------------------------------------------------------------

    def save(self, path, *, optimizer=None):
        """Write the weights and a versioned metadata record to a .npz file.

        Format (version 1): one array per weight key (as in ``m.weights``) and
        ``__gaba_meta__``, a JSON string: {"format": "gaba.zoo", "version": 1,
        "model": name, "seed": seed, "gaba": version, "weights": {key: shape}};
        an imported model (:func:`from_tflite`) adds "graph", its layer table
        (name, category, task, inputs, outputs, layers), which :func:`load`
        builds again. A model that has trained adds its training state:
        "train" ({key: shape} of :attr:`parameters` and :attr:`buffers`, the
        arrays as entries ``train/<key>``), so that training resumes exactly;
        with `optimizer` (a gaba.optim optimizer) its state too ("optimizer":
        class and numbers; arrays as ``optim/<name>``), which :func:`load`
        gives back as ``m.optimizer_state`` for ``opt.load_state_dict``.
        """
        func = f"{self.name}.save"
        if self._trainer is None:
            return self._save(path, func, optimizer)
        with self._training(func):  # the weights, parameters and optimizer of one step
            return self._save(path, func, optimizer)

    def _save(self, path, func, optimizer):
        meta, extra = {"format": _FORMAT, **self._graph_meta()}, {}
        if self._trainer is not None:
            state = {**self._trainer.param_views, **self._trainer.stat_views}
            meta["train"] = {k: list(v.shape) for k, v in state.items()}
            extra.update((f"train/{k}", np.array(v)) for k, v in state.items())
        if optimizer is not None:
            if not hasattr(optimizer, "state_dict"):
                raise TypeError(f"{func}(): optimizer must be a gaba.optim optimizer, got "
                                f"{type(optimizer).__name__}")
            state = optimizer.state_dict()
            arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
            meta["optimizer"] = {"class": type(optimizer).__name__,
                                 "scalars": {k: v for k, v in state.items() if k not in arrays},
                                 "arrays": sorted(arrays)}
            extra.update((f"optim/{k}", np.ascontiguousarray(v, np.float32))
                         for k, v in arrays.items())
        _save(path, func, meta, self.name, self.seed, self.weights, extra)

    def _graph_meta(self):
        """An imported model's layer table ({"graph": ...}) for its file; {} for a zoo model."""
        graph = getattr(self, "_graph", None)
        return {"graph": graph} if graph else {}


def _empty_ranges(m):
    """The ranges calibration records for model `m`, as they start: every one empty."""
    inputs = tuple(np.empty((0, *v["shape"]), v["dtype"]) for v in m.inputs.values())
    return _gaba.zoo_calibrate(m._cap, inputs)


def _keep_mask(m, keep_float, func):
    """keep_float (layer names) as one uint8 flag per layer of model `m`."""
    if isinstance(keep_float, (str, bytes)) or not hasattr(keep_float, "__iter__"):
        raise TypeError(f"{func}: keep_float must be a list of layer names, got "
                        f"{type(keep_float).__name__}")
    layers = [r["name"] for r in m.layers]
    mask = np.zeros(len(layers), np.uint8)
    for name in keep_float:
        if not isinstance(name, str):
            raise TypeError(f"{func}: keep_float holds {type(name).__name__} {name!r}; "
                            "expected layer names (str)")
        if name not in layers:
            import difflib

            close = difflib.get_close_matches(name, layers, n=5, cutoff=0.5)
            raise ValueError(f"{func}: keep_float names {name!r}, which is no layer of "
                             f"{m.name}; close names: {close or 'none'} (all: m.layers)")
        mask[layers.index(name)] = 1
    return mask


def _choose_ranges(m, ranges, state, method, percentile):
    """The ranges `method` chooses from what calibration recorded (ranges, and the
    histogram state for the methods that read it), with a report row per range reached."""
    from . import _calib

    names_ = _gaba.zoo_tensor_names(m._cap)
    n_t, layers = len(names_), m.layers
    producer = {r["output"]: r["name"] for r in layers}
    node_kinds = {"attention": ("q", "k", "v", "scores", "ctx")}
    per_node = (ranges.shape[1] - n_t) // max(len(layers), 1)
    chosen, rows = ranges.copy(), []
    for r in np.flatnonzero(ranges[0] <= ranges[1]):
        lo, hi = float(ranges[0, r]), float(ranges[1, r])
        if r < n_t:
            tensor, layer = names_[r], producer.get(names_[r], "(input)")
        else:
            node = layers[(r - n_t) // per_node]
            layer = node["name"]
            kinds = node_kinds.get(node["op"], ("pre-" + node["act"],))
            tensor = f"{node['name']}.{kinds[(r - n_t) % per_node]}"
        clip = 0.0
        if method != "minmax":
            edges, counts = state[0][r], state[1][r]
            a, b = _calib.choose(method, counts, edges[0], edges[1], lo, hi, percentile)
            a, b = min(a, 0.0), max(b, 0.0)
            chosen[0, r], chosen[1, r] = a, b
            clip = _calib.clipped(counts, edges[0], edges[1], lo, hi, a, b)
        rows.append({"tensor": tensor, "layer": layer, "min": lo, "max": hi,
                     "range": (min(float(chosen[0, r]), 0.0), max(float(chosen[1, r]), 0.0)),
                     "clipped": clip, "method": method})
    return chosen, rows


def _save(path, func, meta, name, seed, weights, extra):
    """Write a model file: `meta` completed with the common keys, the float `weights`
    (key -> array) and the `extra` arrays (entry -> array)."""
    import json  # only here: keeps `import gaba` light

    from . import __version__

    if not (isinstance(path, (str, bytes, os.PathLike)) or hasattr(path, "write")):
        raise TypeError(f"{func}(): path must be a str, os.PathLike or binary file object, "
                        f"got {type(path).__name__}")
    meta = {**meta, "version": FORMAT_VERSION, "model": name, "seed": seed, "gaba": __version__,
            "weights": {k: list(v.shape) for k, v in weights.items()}}
    arrays = {k: np.array(v) for k, v in weights.items()}
    np.savez(path, __gaba_meta__=np.array(json.dumps(meta)), **arrays, **extra)


_PROFILE_MAX_RUNS = 100_000  # the table of node times is runs x nodes float64


def _profile_counts(func, runs, warmup):
    return (int_arg(runs, func, "runs", 1, _PROFILE_MAX_RUNS),
            int_arg(warmup, func, "warmup", 0, _PROFILE_MAX_RUNS))


def _profile(name, nodes, run, switch, node_seconds, runs, warmup):
    """Runs `run` warmup + runs times with the C executor's node timing on; the
    table of each node's (name, op, macs) with its p50 time."""
    seconds = np.empty((runs, len(nodes)))
    switch(True)
    try:
        for _ in range(warmup):
            run()
        for r in range(runs):
            run()
            seconds[r] = node_seconds()
    finally:
        switch(False)
    p50 = np.median(seconds, axis=0)
    total = float(p50.sum())
    return Profile(name, [
        {"layer": layer, "op": op, "p50_us": 1e6 * t, "share": t / total if total > 0 else 0.0,
         "macs": macs, "gflops": 2 * macs / t / 1e9 if t > 0 else 0.0}
        for (layer, op, macs), t in zip(nodes, p50)])


class _Table(list):
    """A list of row dicts whose ``str`` and ``repr`` are a text table and whose
    ``_repr_html_`` is an HTML one (Jupyter); subclasses give ``_head``,
    ``_cells(row)`` and ``_lines()`` (the title and the footer lines)."""

    _left = 2  # the first columns are text, left-aligned; numbers right

    def __str__(self):
        body = [self._cells(r) for r in self]
        widths = [max(len(row[i]) for row in [self._head] + body) for i in range(len(self._head))]

        def fmt(row):
            return "  ".join(c.ljust(w) if i < self._left else c.rjust(w)
                             for i, (c, w) in enumerate(zip(row, widths)))

        title, footer = self._lines()
        return "\n".join([title, fmt(self._head), "  ".join("-" * w for w in widths)]
                         + [fmt(row) for row in body] + footer)

    __repr__ = __str__

    def _repr_html_(self):
        from html import escape

        def tr(cells, tag):
            return "<tr>" + "".join(
                f"<{tag} style='text-align:{'left' if i < self._left else 'right'}'>"
                f"{escape(c)}</{tag}>" for i, c in enumerate(cells)) + "</tr>"

        title, footer = self._lines()
        rows = "".join(tr(self._cells(r), "td") for r in self)
        notes = "".join(f"<br>{escape(line)}" for line in footer)
        return (f"<table><caption style='text-align:left'>{escape(title)}</caption>"
                f"<thead>{tr(self._head, 'th')}</thead><tbody>{rows}</tbody></table>"
                f"<small>{notes[4:]}</small>")


class Summary(_Table):
    """The layers of a model (:meth:`Model.summary`): a list of the layer dicts of
    :attr:`Model.layers` that prints as a table."""

    _head = ("layer", "op", "act", "output", "params", "MACs", "bytes")
    _left = 4

    def __init__(self, title, rows, footer):
        super().__init__(rows)
        self.title, self.footer = title, footer

    def _cells(self, r):
        op = r["op"] + ("+bn" if r["folded_bn"] else "") + (
            f" (shares {r['share']})" if r["share"] else "")
        return (r["name"], op, r["act"], "x".join(map(str, r["shape"])), f"{r['n_params']:,}",
                f"{r['macs']:,}", f"{r['bytes']:,}")

    def _lines(self):
        return self.title, self.footer


class Profile(_Table):
    """Per-layer timings of a model (:meth:`Model.profile`): a list of dicts that
    prints as a table."""

    _head = ("layer", "op", "p50 us", "share", "MACs", "GFLOP/s")

    def __init__(self, name, rows):
        super().__init__(rows)
        self.name = name
        self.total_us = sum(r["p50_us"] for r in rows)

    def _cells(self, r):
        return (r["layer"], r["op"], f"{r['p50_us']:.2f}", f"{100 * r['share']:.1f}%",
                f"{r['macs']:,}", f"{r['gflops']:.1f}")

    def _lines(self):
        return f"{self.name}: {self.total_us:.1f} us per sample (sum of per-layer p50)", []


class Calibration(_Table):
    """Each calibrated range of an int8 model (:attr:`QuantizedModel.calibration`): a
    list of dicts (tensor, layer, min and max seen, the range chosen with 0 held,
    the fraction of calibration values outside it, method) that prints as a table.
    ``clipped`` is read off the histogram (0 for minmax, which clips nothing)."""

    _head = ("tensor", "layer", "min", "max", "range", "clipped", "method")

    def __init__(self, title, rows):
        super().__init__(rows)
        self.title = title

    def _cells(self, r):
        lo, hi = r["range"]
        return (r["tensor"], r["layer"], f"{r['min']:.4g}", f"{r['max']:.4g}",
                f"[{lo:.4g}, {hi:.4g}]", f"{100 * r['clipped']:.3f}%", r["method"])

    def _lines(self):
        return self.title, []


class QuantizedModel:
    """An int8 zoo model made by :meth:`Model.quantize`.

    ``qm(x)`` takes and returns float32 (token inputs int32), quantizing the
    inputs and dequantizing the outputs at the edges; ``qm(x_int8, raw=True)``
    takes and returns the int8 edge tensors themselves, whose parameters are
    ``qm.input_qparams`` / ``qm.output_qparams`` (name -> (scale, zero_point);
    real = scale * (q - zero_point)). It owns its weights (the float model may
    change or go away afterwards). ``qm.requant`` says how its conv and dense
    layers requantize ("double" or "fp32", :meth:`Model.quantize`).
    ``qm.layer_dtypes`` lists (layer, kind) in execution order, kind "int8",
    "float32", or "int8+float32" for the GRU (int8 input projections, float32
    recurrence); ``qm.float_layers`` names the layers that compute in float32
    wholly or in part, ``qm.fully_int8`` says there are none; ``qm.keep_float``
    the layers kept in float32 on request. ``qm.calibration`` reports each
    calibrated range (:class:`Calibration`; None for a model read by :func:`load`).
    """

    calibration = None

    def __init__(self, capsule, model):
        self._cap = capsule
        self._given = None  # _from_ranges: the parameters an imported file fixed
        d = _gaba.zoo_qdescribe(capsule)
        self.name, self.category, self.task = model.name, model.category, model.task
        self.inputs, self.outputs = model.inputs, model.outputs
        self.params, self.macs = model.params, model.macs
        self.weight_bytes = d["weight_bytes"]
        self.arena_bytes = d["arena_bytes"]
        self.requant = d["requant"]
        self._node_kinds = list(d["layers"])
        self.layer_dtypes = [(n, k) for n, k in d["layers"] if k not in ("quantize", "dequantize")]
        self.float_layers = [n for n, k in self.layer_dtypes if k != "int8"]
        self.fully_int8 = not self.float_layers
        self.input_qparams = {n: (s, z) for n, s, z, t in d["raw_inputs"] if t == "int8"}
        self.output_qparams = {n: (s, z) for n, s, z, t in d["raw_outputs"]}
        self._raw_in = [(n, t) for n, s, z, t in d["raw_inputs"]]
        self._model = model  # for input checks only; the weights are copied

    @classmethod
    def _from_ranges(cls, model, ranges, requant, n_threads, keep, given=None):
        """`model` quantized from its calibrated `ranges` (float32 (2, n), _gaba.zoo_calibrate),
        the layers flagged in `keep` (uint8 per layer, _keep_mask) in float32 and, for an
        imported int8 file, the parameters it fixes: `given` = (tensor name -> (scale, zero
        point), layer name -> float32 weight scales). The int8 model is a function of these,
        the float weights and `requant`: they are kept, as they are now, for :meth:`save`."""
        extra = given or ()
        qm = cls(_gaba.zoo_quantize(model._cap, ranges, n_threads, _REQUANT[requant], keep,
                                    *extra), model)
        qm.keep_float = [r["name"] for r, k in zip(model.layers, keep) if k]
        qm._source = (model.seed, np.array(_gaba.zoo_weights(model._cap)), ranges)
        qm._given = given
        return qm

    def __repr__(self):
        kind = "fully int8" if self.fully_int8 else f"{len(self.float_layers)} layers in float32"
        return (f"<gaba.zoo.QuantizedModel {self.name} ({kind}), weights {self.weight_bytes:,} B, "
                f"arena {self.arena_bytes:,} B>")

    def forward(self, *args, raw=False, out=None, threads=None, **inputs):
        """Run the int8 model on a batch.

        Parameters
        ----------
        *args, **inputs : numpy.ndarray
            As :meth:`Model.forward`; with ``raw=True`` the float inputs are
            int8 arrays instead (quantized with ``input_qparams``).
        raw : bool
            int8 in and out (token inputs stay integer).
        out : numpy.ndarray or dict, optional
            Where to write (float32, or int8 with ``raw=True``), C-contiguous,
            shape (batch, *per-sample shape); a dict for several outputs.
        threads : int, optional
            Split the batch over this many threads (default: gaba's count).

        Returns
        -------
        numpy.ndarray, or a dict name -> array for multi-output models
        (float32, or int8 with ``raw=True``).
        """
        got = _gaba.zoo_qcall(self._cap, args, inputs, out, threads, raw)
        if got is not NotImplemented:
            return got
        if raw:
            arrays, batch = self._gather_raw(args, inputs)
        else:
            arrays, batch = self._model._gather_inputs(args, inputs)
        onames = list(self.outputs)
        dt = np.int8 if raw else np.float32
        if out is None:
            outs = [np.empty((batch,) + tuple(self.outputs[n]["shape"]), dt) for n in onames]
        else:
            given = out if isinstance(out, dict) else {onames[0]: out}
            outs = [given.get(n) for n in onames]
            for n, o in zip(onames, outs):
                shape = (batch,) + tuple(self.outputs[n]["shape"])
                if not isinstance(o, np.ndarray) or o.dtype != dt or o.shape != shape:
                    raise ValueError(f"{self.name}: out[{n!r}] must be a {np.dtype(dt)} array "
                                     f"of shape {shape}")
        n_threads = threads_arg(threads, f"{self.name}.forward")
        _gaba.zoo_qforward(self._cap, tuple(arrays), tuple(outs), bool(raw), n_threads)
        return outs[0] if len(onames) == 1 else dict(zip(onames, outs))

    __call__ = forward

    def profile(self, *args, runs=100, warmup=10, **inputs):
        """Time every node of the int8 graph on the first sample of a batch, as
        :meth:`Model.profile` does for the float graph; return the table.

        The nodes are the int8 layers (op ``"<op> int8"``; a conv/dense with a
        sigmoid, tanh or hard-swish is two nodes, the second ``"<act> int8"``, its
        lookup table), the GRU (``"gru int8+float32"``), the float32 layers of a
        mixed model (``"<op> float32"``) and
        the quantize / dequantize edges the quantizer inserted (layer and op
        ``quantize`` / ``dequantize``, no MACs).
        Inputs are float32 as for :meth:`forward` (the float edges are timed too).

        Returns
        -------
        Profile
            As :meth:`Model.profile`: per-node dicts (layer, op, p50_us, share,
            macs, gflops) that print as a table; ``.total_us`` sums the medians.

        Raises
        ------
        ValueError, TypeError
            For the inputs :meth:`forward` rejects, or runs, warmup out of range.
        """
        runs, warmup = _profile_counts(f"{self.name}.profile", runs, warmup)
        arrays, batch = self._model._gather_inputs(args, inputs)
        if batch < 1:
            raise ValueError(f"{self.name}.profile(): the batch is empty")
        first = tuple(np.ascontiguousarray(a[:1]) for a in arrays)
        outs = tuple(np.empty((1,) + tuple(o["shape"]), np.float32) for o in self.outputs.values())
        float_layers = {la["name"]: la for la in self._model.layers}
        nodes = []
        for name, kind in self._node_kinds:
            if kind in ("quantize", "dequantize"):
                nodes.append((kind, kind, 0))
            elif nodes and nodes[-1][0] == name:  # a conv's sigmoid/tanh/hard-swish table
                nodes.append((name, f"{float_layers[name]['act']} int8", 0))
            else:
                la = float_layers[name]
                nodes.append((name, f"{la['op']} {kind}", la["macs"]))
        return _profile(self.name, nodes,
                        lambda: _gaba.zoo_qforward(self._cap, first, outs, False, 1),
                        lambda on: _gaba.zoo_qprofile(self._cap, on),
                        lambda: _gaba.zoo_qnode_seconds(self._cap), runs, warmup)

    def _gather_raw(self, args, kwargs):
        names_ = [n for n, _ in self._raw_in]
        if len(args) == 1 and isinstance(args[0], dict):
            given = dict(args[0])
        else:
            given = dict(zip(names_, args))
        given.update(kwargs)
        arrays, batch = [], None
        for n, t in self._raw_in:
            if n not in given:
                raise TypeError(f"{self.name}: missing input {n!r}")
            x = given[n]
            shape = tuple(self.inputs[n]["shape"])
            if not isinstance(x, np.ndarray) or x.shape[1:] != shape:
                raise ValueError(f"{self.name}: raw input {n!r} must be an array of shape "
                                 f"(batch, {', '.join(map(str, shape))})")
            if t == "int8" and x.dtype != np.int8:
                raise TypeError(f"{self.name}: raw input {n!r} must be int8, got {x.dtype}")
            if t == "int32":
                x = np.ascontiguousarray(x, np.int32)
            batch = x.shape[0] if batch is None else batch
            if x.shape[0] != batch:
                raise ValueError(f"{self.name}: inputs disagree on the batch size")
            arrays.append(np.ascontiguousarray(x))
        return arrays, batch

    def _edge(self, qparams, name, func, kind):
        """(scale, zero_point) of the float edge `name` (None: the first)."""
        if not qparams:
            raise ValueError(f"{self.name}.{func}(): the model has no float32 {kind} "
                             f"(its {kind} are token ids)")
        if name is None:
            name = next(iter(qparams))
        if not isinstance(name, str):
            raise TypeError(f"{self.name}.{func}(): name must be a str or None, "
                            f"got {type(name).__name__}")
        if name not in qparams:
            raise ValueError(f"{self.name}.{func}(): no float32 {kind[:-1]} named {name!r}; "
                             f"they are {list(qparams)}")
        return qparams[name]

    def quantize_input(self, x, name=None):
        """float32 -> the int8 the model's input edge makes (for ``raw=True``):
        ``clamp(round(x / scale) + zero_point)``, rounding half away from zero
        (NaN -> the zero point), by the same kernel as ``qm(x)``'s edge.

        `name` picks the input (default: the first float32 one); ValueError
        for an unknown name or a model whose inputs are all token ids."""
        s, z = self._edge(self.input_qparams, name, "quantize_input", "inputs")
        return _gaba.qnn_quantize(np.asarray(x, np.float32), s, z)

    def dequantize_output(self, q, name=None):
        """int8 output -> float32 with the output's parameters (`name` as in
        :meth:`quantize_input`). `q` must be an int8 array."""
        s, z = self._edge(self.output_qparams, name, "dequantize_output", "outputs")
        q = np.asarray(q)
        if q.dtype != np.int8:
            raise TypeError(f"{self.name}.dequantize_output(): q must be int8, got {q.dtype}")
        return np.float32(s) * (q.astype(np.int32) - z).astype(np.float32)

    def to_onnx(self, path):
        """Write the int8 graph as a standard ONNX QDQ model (opset 17).

        Inputs and outputs are named as ``qm.inputs`` / ``qm.outputs`` with a
        symbolic batch axis, float32 in and out (token inputs int32), quantized
        and dequantized at the edges as ``qm(x)`` does. Every int8 tensor is a
        QuantizeLinear / DequantizeLinear pair with gaba's scale and zero
        point; conv and dense weights are int8 initializers with
        per-output-channel scales and int32 biases; float layers of mixed
        models are their float ops between the pairs. See docs/int8.md, "ONNX QDQ
        export", for the mapping and the measured agreement with ONNX Runtime.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write (its directory must exist).

        Returns
        -------
        onnx.ModelProto
            The model written, checked by ``onnx.checker.check_model``.

        Raises
        ------
        ImportError
            When the ``onnx`` package is missing (``pip install onnx onnxruntime``).
        TypeError
            When `path` is not a str or os.PathLike.
        FileNotFoundError, IsADirectoryError
            When the directory of `path` does not exist, or `path` is a directory.

        Examples
        --------
        >>> import os, tempfile, numpy as np, gaba
        >>> m = gaba.zoo.create("AnomalyDetectEdge")
        >>> qm = m.quantize(np.random.default_rng(0).standard_normal((8, 5, 32), np.float32))
        >>> path = os.path.join(tempfile.mkdtemp(), "anomaly_int8.onnx")
        >>> proto = qm.to_onnx(path)  # doctest: +SKIP
        >>> [i.name for i in proto.graph.input]  # doctest: +SKIP
        ['signal']
        """
        from . import zoo_onnx

        return zoo_onnx.export_qdq(self, path)

    def _use_reference(self, flag=True):
        """Run the reference int8 (and float) kernels instead of the fast ones."""
        _gaba.zoo_qset_impl(self._cap, bool(flag))

    def save(self, path):
        """Write the int8 model to a .npz file; :func:`load` reads it back into a
        QuantizedModel whose outputs (float and raw) equal this one's bit for bit.

        The int8 model is a function of the float model it was made from, the
        ranges calibration recorded and ``requant``, so the file holds those
        (a few kB more than :meth:`Model.save`'s): the float weights as they
        were when this model was quantized, ``__gaba_ranges__`` (float32 (2,
        n): each calibrated range's min and max; +inf and -inf for a range no
        sample reached) and the metadata of :meth:`Model.save` with ``"format":
        "gaba.zoo.int8"``, ``"requant"`` and ``"keep_float"`` (the layer names;
        a file without it keeps none); an imported int8 model adds "given", the
        scales and zero points its file fixed. Loading quantizes again from them.
        """
        seed, block, ranges = self._source
        weights = {k: block[o:o + int(np.prod(shape))].reshape(shape)
                   for k, shape, o in self._model._desc["weights"]}
        meta = {"format": _QFORMAT, "requant": self.requant, "keep_float": self.keep_float,
                **self._model._graph_meta()}
        if self._given:
            params, w_scales = self._given
            meta["given"] = {"params": {k: [float(s), int(z)] for k, (s, z) in params.items()},
                             "w_scales": {k: [float(v) for v in a] for k, a in w_scales.items()}}
        _save(path, f"{self.name}.save", meta, self.name, seed, weights, {_RANGES: ranges})


# Top-1 agreement is reported only where the float model's argmax is spread: when
# one class takes more than this share of the rows, a model that always answers
# that class agrees as often, and the number says nothing about the int8 model.
TOP1_MAX_SHARE = 0.9


def compare(model, qmodel, *args, **inputs):
    """Agreement of a float model and its int8 (or otherwise changed) version on a batch.

    SQNR first: it is defined for every output. Top-1 agreement is given only
    for outputs with a class axis over which the float model's predictions
    are spread (no class takes more than ``TOP1_MAX_SHARE`` of the rows);
    the zoo's weights are random, and several of its classifiers put every
    random input in one class, where any model would "agree".

    Parameters
    ----------
    model : Model
    qmodel : QuantizedModel or Model
    *args, **inputs : numpy.ndarray
        The batch, as for :meth:`Model.forward`.

    Returns
    -------
    dict
        ``sqnr_db``: 10 log10(sum f^2 / sum (f - q)^2) over all outputs;
        ``top1``, ``top1_note``: the first output's; ``per_output``: output
        name -> {"sqnr_db", "top1", "top1_note"} where ``top1`` is the
        fraction of rows (over the last axis) whose argmax agrees, or None
        with ``top1_note`` saying why (e.g. "n/a: the float model predicts one
        class for 97% of these 256 rows"); ``top1_note`` is "" when ``top1``
        is given.

    Examples
    --------
    >>> import numpy as np, gaba
    >>> m = gaba.zoo.create("ResNet8")
    >>> x = np.random.default_rng(0).standard_normal((16, 3, 32, 32), np.float32)
    >>> r = gaba.zoo.compare(m, m.quantize(x), x)
    >>> round(r["sqnr_db"]) > 20, r["top1"], r["top1_note"]
    (True, None, 'n/a: the float model predicts one class for 100% of these 16 rows')
    """
    f = model(*args, **inputs)
    q = qmodel(*args, **inputs)
    if not isinstance(f, dict):
        f, q = {next(iter(model.outputs)): f}, {next(iter(model.outputs)): q}
    sig = err = 0.0
    per = {}
    for n in f:
        a, b = f[n].astype(np.float64), q[n].astype(np.float64)
        s, e = float(np.sum(a * a)), float(np.sum((a - b) ** 2))
        sig, err = sig + s, err + e
        per[n] = {"sqnr_db": _sqnr(s, e), **_top1(a, b)}
    first = per[next(iter(per))]
    return {"sqnr_db": _sqnr(sig, err), "top1": first["top1"], "top1_note": first["top1_note"],
            "per_output": per}


def _top1(a, b):
    """Top-1 agreement of b with a over the last axis, where it means something."""
    if a.ndim < 2 or a.shape[-1] < 2:
        return {"top1": None, "top1_note": "n/a: the output has no class axis"}
    fa = np.argmax(a, -1).ravel()
    if fa.size == 0:
        return {"top1": None, "top1_note": "n/a: the batch is empty"}
    share = np.bincount(fa).max() / fa.size
    if share > TOP1_MAX_SHARE:
        return {"top1": None, "top1_note": f"n/a: the float model predicts one class for "
                f"{share:.0%} of these {fa.size} rows"}
    return {"top1": float(np.mean(fa == np.argmax(b, -1).ravel())), "top1_note": ""}


def _sqnr(signal, noise):
    if noise == 0.0:
        return float("inf")
    if signal == 0.0:
        return float("-inf")
    return 10.0 * float(np.log10(signal / noise))


# Bounds of a model file, checked from zip and .npy headers before any payload is read.
_META = "__gaba_meta__"
_RANGES = "__gaba_ranges__"  # an int8 file's calibrated ranges
_META_MAX_BYTES = 1 << 20  # the metadata's UTF-32 payload; the largest zoo record is 5.5 KB
_NPY_HEADER_MAX = 10000  # numpy's limit on a .npy header's text (read_array_header_*)
_NPY_PREFIX = 12  # the .npy magic and version (8 bytes), a version 2.0 header length (4)
_SEED_MAX = 2**64 - 1  # zoo.create's seed is a uint64 in C
_META_TYPES = {"format": str, "version": int, "model": str, "seed": int, "gaba": str,
               "weights": dict}
_QMETA_TYPES = {**_META_TYPES, "requant": str, "keep_float": list}
_OPTIONAL = {"keep_float"}  # absent from files of earlier gaba versions
# An imported model's layer table (its _graph) and, int8, the parameters its file fixed.
_META_OPTIONAL = {"graph": dict, "given": dict, "train": dict, "optimizer": dict}


def load(path):
    """Read a model written by :meth:`Model.save` or :meth:`QuantizedModel.save`.

    Parameters
    ----------
    path : str, os.PathLike or binary file object
        The .npz file (a file object must be readable and seekable).

    Returns
    -------
    Model or QuantizedModel
        The model named in the file, built with its seed, holding the file's weights;
        for an int8 file, that model quantized from the file's calibrated ranges.

    Raises
    ------
    gaba.ModelFileError
        (a ValueError) when the file is not one that ``save`` writes: truncated or not a
        zip archive, bad or missing metadata, a format version or model this gaba does
        not know, a weight or range array whose dtype (float32, little-endian, C order),
        shape or size differs from the model's, a range with NaN or with min > max
        (other than a range never reached: +inf, -inf), missing or unexpected entries,
        or an entry larger than the model allows. Every size is checked from the zip and
        .npy headers before the data is read, and nothing larger than the model's own
        weights (and ranges) is decompressed.
    OSError
        From opening `path`, as ``open()`` raises it (FileNotFoundError for a missing
        file).
    """
    if hasattr(path, "read"):
        return _load_zip(path, repr(getattr(path, "name", path)))
    if not isinstance(path, (str, bytes, os.PathLike)):  # (open() takes an int as a descriptor)
        raise TypeError(f"zoo.load(): path must be a str, os.PathLike or binary file object, "
                        f"got {type(path).__name__}")
    with open(path, "rb") as fp:
        return _load_zip(fp, repr(fp.name))


def _load_zip(fp, where):
    import zipfile

    with _reading(where, "not a readable zip archive (truncated or damaged)"):
        zf = zipfile.ZipFile(fp)
    with zf:
        members = {}
        for info in zf.infolist():
            if info.filename in members:
                raise ModelFileError(f"zoo.load(): {where} holds entry {info.filename!r} twice")
            members[info.filename] = info
        meta = members.pop(_META + ".npy", None)
        if meta is None:
            raise ModelFileError(f"zoo.load(): {where} is not a gaba.zoo file (no {_META})")
        meta = _read_meta(zf, meta, where)
        m = _define(meta, where) if "graph" in meta else create(meta["model"], seed=meta["seed"])
        w = m.weights
        expected = {k: list(v.shape) for k, v in w.items()}
        if meta["weights"] != expected:
            raise ModelFileError(f"zoo.load(): {where}: the metadata's weights differ from "
                                 f"{m.name}'s in this gaba version")
        names_ = {k + ".npy": k for k in w}
        int8 = meta["format"] == _QFORMAT
        train, optim = _training_entries(meta, m, where)
        wanted = (names_.keys() | ({_RANGES + ".npy"} if int8 else set()) | train.keys()
                  | optim.keys())
        for what, diff in (("missing", wanted - members.keys()),
                           ("unexpected", members.keys() - wanted)):
            if diff:
                raise ModelFileError(f"zoo.load(): {where} has {what} entries "
                                     f"{sorted(diff)[:5]} ({len(diff)} in all)")
        for entry, key in names_.items():
            data = _read_npy(zf, members[entry], where, f"weight {key!r}", np.dtype("<f4"),
                             w[key].shape)
            w[key][...] = np.frombuffer(data, "<f4").reshape(w[key].shape)
        for entry, (key, view) in train.items():
            view[...] = np.frombuffer(_read_npy(zf, members[entry], where, f"training state "
                                                f"{key!r}", np.dtype("<f4"), view.shape),
                                      "<f4").reshape(view.shape)
        if "optimizer" in meta:
            o = meta["optimizer"]
            m.optimizer_state = {"class": o["class"], **o["scalars"]}
            for entry, (key, size) in optim.items():
                m.optimizer_state[key] = np.frombuffer(
                    _read_npy(zf, members[entry], where, f"optimizer state {key!r}",
                              np.dtype("<f4"), (size,)), "<f4").copy()
        if train:
            m._weights_changed()  # the trained parameters, batch norms folded
        if int8:
            ranges = _read_ranges(zf, members[_RANGES + ".npy"], where, m)
            try:
                keep = _keep_mask(m, meta.get("keep_float", []), "zoo.load()")
                return QuantizedModel._from_ranges(m, ranges, meta["requant"],
                                                   threads_arg(None, "zoo.load"), keep,
                                                   _given(meta, where))
            except (TypeError, ValueError) as e:  # what save never wrote
                raise ModelFileError(f"zoo.load(): {where}: {e}") from e
    return m


def _define(meta, where, threads=None):
    """The model of a "graph" record (Model._graph: an imported or a configured zoo
    model's layer table), with the file's seed; every field is checked by
    _gaba.zoo_define. `where` names the file, None for zoo.create's own record."""
    g = meta["graph"]
    keys = {"name", "category", "task", "inputs", "outputs", "layers"}
    if (not keys <= set(g) <= keys | {"modality"} or g["name"] != meta["model"]
            or g.get("modality") not in (None, *MODALITIES)):
        raise ModelFileError(f"zoo.load(): {where}: the graph record needs exactly the keys "
                             f"{sorted(keys)} (and a modality of {MODALITIES}) and the file's "
                             "model name")
    try:
        cap = _gaba.zoo_define(g["name"], g["category"], g["task"],
                               [tuple(row) if isinstance(row, list) else row
                                for row in g["inputs"]], g["outputs"],
                               [tuple(row) if isinstance(row, list) else row
                                for row in g["layers"]], meta["seed"],
                               threads_arg(threads, "zoo.load"))
    except (TypeError, ValueError) as e:
        if where is None:
            raise
        raise ModelFileError(f"zoo.load(): {where}: the graph record does not build: {e}") from e
    m = Model(cap, seed=meta["seed"])
    m.modality = g.get("modality")
    m._graph = g
    return m


def _training_entries(meta, m, where):
    """The entries of a trained model's state: (train: entry -> (key, view of the
    model's trainer), optim: entry -> (name, length)), checked against the model."""
    if "train" not in meta:
        if "optimizer" in meta:
            raise ModelFileError(f"zoo.load(): {where}: an optimizer state without a "
                                 "training state")
        return {}, {}
    views = {**m.parameters, **m.buffers}
    if meta["train"] != {k: list(v.shape) for k, v in views.items()}:
        raise ModelFileError(f"zoo.load(): {where}: the training state's parameters differ "
                             f"from {m.name}'s in this gaba version")
    train = {f"train/{k}.npy": (k, v) for k, v in views.items()}
    optim = {}
    o = meta.get("optimizer")
    if o is not None:
        ok = (set(o) == {"class", "scalars", "arrays"} and isinstance(o["class"], str)
              and isinstance(o["scalars"], dict) and isinstance(o["arrays"], list)
              and all(isinstance(k, str) and k not in o["scalars"] for k in o["arrays"]))
        if not ok:
            raise ModelFileError(f"zoo.load(): {where}: bad optimizer record")
        size = m._train_arrays()[0].size  # an optimizer's arrays are one per parameter
        optim = {f"optim/{k}.npy": (k, size) for k in o["arrays"]}
    return train, optim


def _given(meta, where):
    """The (params, w_scales) of an imported int8 file, or None."""
    g = meta.get("given")
    if g is None:
        return None
    try:
        if set(g) != {"params", "w_scales"}:
            raise ValueError("keys")
        params = {k: (float(s), int(z)) for k, (s, z) in g["params"].items()}
        w_scales = {k: np.array(v, np.float32) for k, v in g["w_scales"].items()}
        if any(a.ndim != 1 for a in w_scales.values()):
            raise ValueError("w_scales")
    except (TypeError, ValueError, AttributeError) as e:
        raise ModelFileError(f"zoo.load(): {where}: bad 'given' record ({e})") from e
    return params, w_scales


def _read_ranges(zf, info, where, m):
    """An int8 file's ranges for model `m`, checked to be ones calibration records: no
    NaN, each min <= max or the pair of a range never reached (+inf, -inf)."""
    shape = _empty_ranges(m).shape
    data = _read_npy(zf, info, where, _RANGES, np.dtype("<f4"), shape)
    lo, hi = ranges = np.frombuffer(data, "<f4").reshape(shape)
    bad = np.flatnonzero(~((lo <= hi) | ((lo == np.inf) & (hi == -np.inf))))
    if bad.size:
        raise ModelFileError(f"zoo.load(): {where}: {bad.size} of the {lo.size} ranges in "
                             f"{_RANGES} are neither min <= max nor (+inf, -inf), the first "
                             f"at {bad[0]}: ({lo[bad[0]]}, {hi[bad[0]]})")
    return ranges


def _reading(where, what):
    """Context turning what zipfile and numpy's header parser raise on a damaged archive or
    member (bad offsets, unknown methods, encryption, a bad CRC, a header that is no
    Python literal) into ModelFileError."""
    import contextlib
    import tokenize
    import zipfile
    import zlib

    # (MemoryError: Python's parser reports a too deeply nested header so, within the
    # header's 10,000 characters; every size is checked before this runs)
    damage = (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError,
              RuntimeError, ValueError, TypeError, SyntaxError, OverflowError, RecursionError,
              MemoryError, tokenize.TokenError)

    @contextlib.contextmanager
    def guard():
        try:
            yield
        except ModelFileError:
            raise
        except damage as e:
            raise ModelFileError(f"zoo.load(): {where}: {what} ({type(e).__name__}: {e})") from e
    return guard()


def _read_npy(zf, info, where, label, dtype, shape):
    """The payload of .npy member `info`, checked from its zip and .npy headers against
    `dtype` (kind and byte order; itemsize too unless it is a str) and `shape` before it is
    read. Reads at most the payload's size plus one byte."""
    import zipfile

    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ModelFileError(f"zoo.load(): {where}: {label} uses zip compression method "
                             f"{info.compress_type}; expected stored or deflated")
    limit = _META_MAX_BYTES if dtype.kind == "U" else int(np.prod(shape)) * dtype.itemsize
    if info.file_size > limit + _NPY_HEADER_MAX + _NPY_PREFIX:
        raise ModelFileError(f"zoo.load(): {where}: {label} declares {info.file_size:,} bytes; "
                             f"too large for at most {limit:,} bytes of data")
    fmt = np.lib.format
    with _reading(where, f"{label} is damaged"), zf.open(info) as f:
        version = fmt.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise ModelFileError(f"zoo.load(): {where}: {label} is .npy version {version}; "
                                 "expected 1.0 or 2.0")
        read_header = (fmt.read_array_header_1_0 if version == (1, 0)
                       else fmt.read_array_header_2_0)
        got_shape, fortran, got = read_header(f, max_header_size=_NPY_HEADER_MAX)
        if (got.kind != dtype.kind or got.byteorder not in ("<", "=") or got.fields
                or got.subdtype or (dtype.kind != "U" and got != dtype)):
            want = "<U (a str)" if dtype.kind == "U" else dtype.str
            raise ModelFileError(f"zoo.load(): {where}: {label} has dtype {got.str}, "
                                 f"expected {want}")
        if got_shape != tuple(shape) or fortran:
            order = " in Fortran order" if fortran else ""
            raise ModelFileError(f"zoo.load(): {where}: {label} has shape {got_shape}{order}, "
                                 f"expected {tuple(shape)} in C order")
        size = got.itemsize * int(np.prod(shape))
        if size > limit or info.file_size != f.tell() + size:
            raise ModelFileError(f"zoo.load(): {where}: {label} declares {info.file_size:,} "
                                 f"bytes; expected {f.tell() + size:,}")
        data = f.read(size)
        if len(data) != size or f.read(1):
            raise ModelFileError(f"zoo.load(): {where}: {label} holds {len(data):,} bytes or "
                                 f"more; expected {size:,}")
    return data


def _read_meta(zf, info, where):
    """The metadata record, checked: a JSON object with the keys and types save writes."""
    import json

    data = _read_npy(zf, info, where, _META, np.dtype("<U1"), ())
    try:  # (numpy's str would accept code points past U+10FFFF; the codec does not)
        meta = json.loads(data.decode("utf-32-le").rstrip("\0"))
    except (ValueError, RecursionError) as e:  # (UnicodeDecodeError is a ValueError)
        raise ModelFileError(f"zoo.load(): {where}: {_META} is not JSON text "
                             f"({type(e).__name__}: {e})") from e
    if not isinstance(meta, dict):
        raise ModelFileError(f"zoo.load(): {where}: {_META} is a JSON {type(meta).__name__}, "
                             "expected an object")
    # format and version first: another version may have other keys
    if meta.get("format") not in (_FORMAT, _QFORMAT):
        raise ModelFileError(f"zoo.load(): {where} has format {repr(meta.get('format'))[:40]}, "
                             f"expected {_FORMAT!r} or {_QFORMAT!r}")
    if type(meta.get("version")) is not int or meta["version"] != FORMAT_VERSION:
        raise ModelFileError(f"zoo.load(): {where} is format version "
                             f"{repr(meta.get('version'))[:40]}; this gaba reads version "
                             f"{FORMAT_VERSION}")
    types = _META_TYPES if meta["format"] == _FORMAT else _QMETA_TYPES
    optional = {k: t for k, t in _META_OPTIONAL.items() if k in meta
                and (k != "given" or meta["format"] == _QFORMAT)
                and (k not in ("train", "optimizer") or meta["format"] == _FORMAT)}
    wrong = [f"no {k!r}" for k in types if k not in meta and k not in _OPTIONAL]
    wrong += [f"unexpected {k[:40]!r}" for k in meta if k not in types and k not in optional]
    types = {**types, **optional}
    wrong += [f"{k!r} is {type(meta[k]).__name__}, expected {t.__name__}"
              for k, t in types.items() if k in meta and type(meta[k]) is not t]
    if wrong:
        raise ModelFileError(f"zoo.load(): {where}: bad {_META}: {'; '.join(wrong[:4])}")
    if "graph" not in meta and meta["model"] not in names():
        raise ModelFileError(f"zoo.load(): {where} holds unknown model {meta['model'][:40]!r}; "
                             "see gaba.zoo.names()")
    if not 0 <= meta["seed"] <= _SEED_MAX:
        raise ModelFileError(f"zoo.load(): {where} has seed {meta['seed']}; expected 0 to "
                             "2**64-1")
    if meta.get("requant", "double") not in _REQUANT:
        raise ModelFileError(f"zoo.load(): {where} has requant {meta['requant'][:40]!r}; "
                             "expected 'double' or 'fp32'")
    return meta


def _batchnorm_fold(w, b, gamma, beta, mean, var, eps=1e-5):
    """In-place batch-norm folding of w (c_out, per_out) and b (c_out) (for tests)."""
    _gaba.nn_batchnorm_fold(w, b, gamma, beta, mean, var, float(eps))
