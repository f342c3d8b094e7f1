"""gaba.zoo.create's overrides: a zoo model's layer table (``_gaba.zoo_table``) rewritten
for another class count, input shape or width, built by ``_gaba.zoo_define``.

Rows keep their order and names, so each layer draws the same weight stream (seed,
layer) as the registered model: a table rewritten with no change is that model bit for
bit. Shapes are inferred again when the table is built."""
import numbers

from ._args import int_arg
from ._ext import _gaba

_OPS = {name: code for code, name in enumerate(_gaba.nn_ops())}
_CONV = {_OPS["conv1d"], _OPS["conv2d"]}
# Layers whose p[0] is an output count the model chooses (channels, units, hidden size).
_COUNT = _CONV | {_OPS["dense"], _OPS["embedding"], _OPS["gru"]}
# One-input layers between a classifier head and the output that keep its class axis.
_AFTER_HEAD = {_OPS[n] for n in ("act", "softmax", "reshape", "flatten", "transpose")}
_PASS = {_OPS[n] for n in ("reshape", "flatten", "transpose")}  # the channel axis is gone
MAX_WIDTH = 16.0  # 16x wider has 256x the parameters: far past any tiny model

# Why num_classes does not apply: the model's (first) output is not a class vector.
NO_CLASSES = {
    "MicroYOLONano": "its output is a detection grid (boxes, objectness and class logits per "
                     "anchor), not a class vector",
    "FaceDetectNano": "its outputs are face boxes and landmarks",
    "PoseEstimateMicro": "its output is one heatmap per keypoint",
    "DepthEstimateLite": "its output is a depth map",
    "ObjectTrackNano": "its output is a box (regression)",
    "SpeechEnhanceNano": "its output is the enhanced waveform",
    "AnomalyDetectEdge": "it is an autoencoder: its output reconstructs its input",
    "DenseAutoencoder_AD": "it is an autoencoder: its output reconstructs its input",
    "TimeSeriesForecastMicro": "its output is a forecast (regression)",
    "EnergyPredictNano": "its output is a forecast (regression)",
    "HealthMonitorNano": "its first output is a regression (heart rate)",
    "GaitAnalysisNano": "its first output is a regression (cycle time)",
    "TextSummarizeNano": "its output is one score per token",
}
# Why input_shape does not apply.
FIXED_INPUT = {
    "MicroYOLONano": "a reshape fixes its output grid at 12x12 cells",
    "TimeSeriesForecastMicro": "its head is reshaped to (3 series, 16 steps)",
}
# Heads whose count is the input's channel count (dim 0): an autoencoder's reconstruction,
# a mask multiplied into the input.
_FOLLOW_INPUT = {"AnomalyDetectEdge": "out", "DenseAutoencoder_AD": "fc10",
                 "SpeechEnhanceNano": "mask_head"}
# Convolutions whose kernel spans the whole input window (a learned temporal pooling).
_WINDOW = {"EnergyPredictNano": "temporal_pool"}


def supports(name):
    """{"num_classes", "input_shape", "width"} -> None where `name` takes the override,
    else the reason it does not."""
    return {"num_classes": NO_CLASSES.get(name), "input_shape": FIXED_INPUT.get(name),
            "width": None}


def _num_classes(value, name):
    n = int_arg(value, "zoo.create", "num_classes", 1, 2**31 - 1)
    if name in NO_CLASSES:
        raise ValueError(f"zoo.create(): num_classes does not apply to {name}: "
                         f"{NO_CLASSES[name]}")
    return n


def _width(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"zoo.create(): argument 'width' must be a float, "
                        f"got {type(value).__name__}")
    if not (0 < value <= MAX_WIDTH):  # NaN fails too
        raise ValueError(f"zoo.create(): argument 'width' must be in (0, {MAX_WIDTH:g}], "
                         f"got {value!r}")
    return float(value)


def _shape(value, default, what):
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise TypeError(f"zoo.create(): argument '{what}' must be a tuple of ints, "
                        f"got {type(value).__name__}")
    if len(value) != len(default):
        raise ValueError(f"zoo.create(): argument '{what}' must have {len(default)} dims, as "
                         f"the default {tuple(default)}, got {tuple(value)!r}")
    return tuple(int_arg(d, "zoo.create", what, 1, 2**31 - 1) for d in value)


def _input_shapes(value, name, inputs):
    """{input name: new shape} of the input_shape argument."""
    if name in FIXED_INPUT:
        raise ValueError(f"zoo.create(): input_shape does not apply to {name}: "
                         f"{FIXED_INPUT[name]}")
    default = {row[0]: tuple(row[2]) for row in inputs}
    if isinstance(value, dict):
        unknown = set(value) - set(default)
        if unknown:
            raise ValueError(f"zoo.create(): input_shape names unknown inputs "
                             f"{sorted(map(str, unknown))}; {name}'s inputs are {list(default)}")
        return {k: _shape(v, default[k], f"input_shape[{k!r}]") for k, v in value.items()}
    if len(default) != 1:
        raise ValueError(f"zoo.create(): {name} has {len(default)} inputs "
                         f"({', '.join(default)}); give input_shape as a dict of their shapes")
    (only,) = default
    return {only: _shape(value, default[only], "input_shape")}


def _heads(layers, outputs):
    """Names of the count layers whose count an output shows: those reached from an output
    through layers that keep their input's channels."""
    producer = {row[5]: row for row in layers}
    heads, seen, todo = set(), set(), list(outputs)
    while todo:
        t = todo.pop()
        row = producer.get(t)
        if row is None or t in seen:
            continue
        seen.add(t)
        if row[1] in _COUNT:
            heads.add(row[0])
        else:
            todo.extend(row[4])
    return heads


def _class_head(layers, output, name):
    producer = {row[5]: row for row in layers}
    row = producer[output]
    while row[1] in _AFTER_HEAD:
        row = producer[row[4][0]]
    assert row[1] in _COUNT, f"{name}: no classifier head before {output!r}"
    return row[0]


def _scale(count, width):
    return max(1, int(count * width + 0.5))


def _reshape(params, c_old, c_new, layer, name):
    """Reshape p = (ndim, d...) for an input whose size changed: a dim equal to the
    input's channels at the same place follows them, 1 stays, one other becomes -1."""
    ndim, dims = params[0], list(params[1:1 + params[0]]) + [0] * 4
    out, free = [], 0
    for j in range(ndim):
        if j == 0 and dims[0] == c_old and c_old is not None:
            out.append(c_new)
        elif dims[j] == 1:
            out.append(1)
        else:
            out.append(-1)
            free += 1
    if free > 1:
        raise ValueError(f"zoo.create(): {name}'s layer {layer!r} reshapes to the fixed "
                         f"shape {tuple(dims[:ndim])}")
    return (ndim, *out)


def table(name, num_classes=None, input_shape=None, width=None):
    """(definition dict, {reshape layer: input tensor}) of model `name` with the overrides;
    the definition's keys are zoo_table's."""
    d = _gaba.zoo_table(name)
    classes = None if num_classes is None else _num_classes(num_classes, name)
    w = 1.0 if width is None else _width(width)
    shapes = {} if input_shape is None else _input_shapes(input_shape, name, d["inputs"])
    inputs = [(n, t, shapes.get(n, tuple(s)), v) for n, t, s, v in d["inputs"]]
    heads = _heads(d["layers"], d["outputs"])
    head = None if classes is None else _class_head(d["layers"], d["outputs"][0], name)
    # Channels (dim 0) of each tensor before (old) and after (new) the rewrite.
    old = {n: s[0] for n, _, s, _ in d["inputs"]}
    new = {n: s[0] for n, _, s, _ in inputs}
    layers, reshapes = [], {}
    for lname, op, act, p, ins, out, share in d["layers"]:
        p = list(p) + [0] * (12 - len(p))
        x, count = ins[0], p[0]
        if op in _COUNT and lname == head:
            p[0] = classes
        elif op in _COUNT and lname == _FOLLOW_INPUT.get(name):
            p[0] = inputs[0][2][0]
        if op in _CONV and p[11] > 1:  # the zoo's grouped convs have a group per input channel
            per = p[0] // p[11]
            if per > 1 and lname not in heads:
                per = _scale(per, w)
            p[11] = new[x]
            p[0] = per * new[x]
        elif op in _COUNT and lname not in heads:
            p[0] = _scale(p[0], w)
        elif op == _OPS["attention"]:
            p[0] = _scale(p[0], w)
        if op in _CONV and lname == _WINDOW.get(name) and shapes:
            p[2] = inputs[0][2][-1]
        if op == _OPS["reshape"] and (shapes or new[x] != old[x]):
            p = list(_reshape(p, old[x], new[x], lname, name))
            reshapes[lname] = x
        # The output's channels.
        if op in _COUNT:
            old[out], new[out] = count, p[0]
        elif op == _OPS["concat"]:
            old[out] = _sum(old[i] for i in ins)
            new[out] = _sum(new[i] for i in ins)
        elif op in _PASS:
            old[out] = new[out] = None
        else:
            old[out], new[out] = old[x], new[x]
        while p and p[-1] == 0:
            p.pop()
        layers.append((lname, op, act, tuple(p), tuple(ins), out, share))
    return dict(d, inputs=inputs, layers=layers), reshapes


def _sum(values):
    values = list(values)
    return None if None in values else sum(values)


def check_reshapes(model, default, reshapes, shape_arg):
    """ValueError when a rewritten reshape's input lost an axis of size 1 that the
    registered model's has (the reshape would mix axes it only dropped)."""
    def shapes(m):
        s = {n: tuple(v["shape"]) for n, v in m.inputs.items()}
        s.update({la["output"]: tuple(la["shape"]) for la in m.layers})
        return s

    new, old = shapes(model), shapes(default)
    for layer, x in reshapes.items():
        if len(new[x]) != len(old[x]) or any(a == 1 and b != 1 for a, b in zip(old[x], new[x])):
            raise ValueError(f"zoo.create(): input_shape {shape_arg!r} does not fit "
                             f"{model.name}: layer {layer!r} needs its input shaped like "
                             f"{old[x]} (axes of size 1 kept), got {new[x]}")
