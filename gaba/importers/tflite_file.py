"""Read a TensorFlow Lite model file (``.tflite``) without TensorFlow.

``read_tflite(path_or_bytes)`` decodes the flatbuffer of TensorFlow Lite's ``schema.fbs``
(file identifier ``TFL3``) into plain Python objects: the tensors of subgraph 0 with their
shapes, dtypes, quantization and constant data (read-only NumPy arrays over the file's bytes),
and its operators with their opcode names and builtin options as a dict.

Every read is bounds-checked. A damaged or unsupported file raises ``TFLiteError`` (a
``ValueError``) naming what is wrong and where, never another exception. Choices:

- The file identifier ``TFL3`` at bytes 4..8 and schema version 3 are required, as
  TensorFlow Lite requires them.
- Flatbuffer offsets are unsigned and point forward, and each level of the schema is read by
  its own function, so a file cannot make the reader loop or recurse.
- Buffers stored after the flatbuffer (``Buffer.offset``/``size`` of models over 2 GB) are read
  from the file's bytes. Sparse tensors and the types STRING, RESOURCE, VARIANT, INT4 and
  BFLOAT16 (no NumPy dtype) are refused.
- Operator options are decoded from the ``builtin_options`` union; an operator whose options
  table is missing gets the table's defaults. The second union (``builtin_options_2``, StableHLO
  operators) is not decoded: those operators get ``{}``. Absent vectors and strings in options
  are ``None``, enums are their names.
- Only subgraph 0 is decoded; ``n_subgraphs`` tells how many the file holds.
"""
import os
import struct
from dataclasses import dataclass
from typing import Optional

import numpy as np


class TFLiteError(ValueError):
    """A .tflite file is damaged, truncated or uses what this reader does not support."""


# --- Schema data (TensorFlow Lite schema.fbs) ------------------------------------------------

# enum BuiltinOperator, codes 0.. in order
_BUILTIN_OPERATORS = """
ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE
EMBEDDING_LOOKUP FLOOR FULLY_CONNECTED HASHTABLE_LOOKUP L2_NORMALIZATION L2_POOL_2D
LOCAL_RESPONSE_NORMALIZATION LOGISTIC LSH_PROJECTION LSTM MAX_POOL_2D MUL RELU RELU_N1_TO_1 RELU6
RESHAPE RESIZE_BILINEAR RNN SOFTMAX SPACE_TO_DEPTH SVDF TANH CONCAT_EMBEDDINGS SKIP_GRAM CALL
CUSTOM EMBEDDING_LOOKUP_SPARSE PAD UNIDIRECTIONAL_SEQUENCE_RNN GATHER BATCH_TO_SPACE_ND
SPACE_TO_BATCH_ND TRANSPOSE MEAN SUB DIV SQUEEZE UNIDIRECTIONAL_SEQUENCE_LSTM STRIDED_SLICE
BIDIRECTIONAL_SEQUENCE_RNN EXP TOPK_V2 SPLIT LOG_SOFTMAX DELEGATE BIDIRECTIONAL_SEQUENCE_LSTM CAST
PRELU MAXIMUM ARG_MAX MINIMUM LESS NEG PADV2 GREATER GREATER_EQUAL LESS_EQUAL SELECT SLICE SIN
TRANSPOSE_CONV SPARSE_TO_DENSE TILE EXPAND_DIMS EQUAL NOT_EQUAL LOG SUM SQRT RSQRT SHAPE POW
ARG_MIN FAKE_QUANT REDUCE_PROD REDUCE_MAX PACK LOGICAL_OR ONE_HOT LOGICAL_AND LOGICAL_NOT UNPACK
REDUCE_MIN FLOOR_DIV REDUCE_ANY SQUARE ZEROS_LIKE FILL FLOOR_MOD RANGE RESIZE_NEAREST_NEIGHBOR
LEAKY_RELU SQUARED_DIFFERENCE MIRROR_PAD ABS SPLIT_V UNIQUE CEIL REVERSE_V2 ADD_N GATHER_ND COS
WHERE RANK ELU REVERSE_SEQUENCE MATRIX_DIAG QUANTIZE MATRIX_SET_DIAG ROUND HARD_SWISH IF WHILE
NON_MAX_SUPPRESSION_V4 NON_MAX_SUPPRESSION_V5 SCATTER_ND SELECT_V2 DENSIFY SEGMENT_SUM
BATCH_MATMUL PLACEHOLDER_FOR_GREATER_OP_CODES CUMSUM CALL_ONCE BROADCAST_TO RFFT2D CONV_3D IMAG
REAL COMPLEX_ABS HASHTABLE HASHTABLE_FIND HASHTABLE_IMPORT HASHTABLE_SIZE REDUCE_ALL
CONV_3D_TRANSPOSE VAR_HANDLE READ_VARIABLE ASSIGN_VARIABLE BROADCAST_ARGS RANDOM_STANDARD_NORMAL
BUCKETIZE RANDOM_UNIFORM MULTINOMIAL GELU DYNAMIC_UPDATE_SLICE RELU_0_TO_1 UNSORTED_SEGMENT_PROD
UNSORTED_SEGMENT_MAX UNSORTED_SEGMENT_SUM ATAN2 UNSORTED_SEGMENT_MIN SIGN BITCAST BITWISE_XOR
RIGHT_SHIFT STABLEHLO_LOGISTIC STABLEHLO_ADD STABLEHLO_DIVIDE STABLEHLO_MULTIPLY STABLEHLO_MAXIMUM
STABLEHLO_RESHAPE STABLEHLO_CLAMP STABLEHLO_CONCATENATE STABLEHLO_BROADCAST_IN_DIM
STABLEHLO_CONVOLUTION STABLEHLO_SLICE STABLEHLO_CUSTOM_CALL STABLEHLO_REDUCE STABLEHLO_ABS
STABLEHLO_AND STABLEHLO_COSINE STABLEHLO_EXPONENTIAL STABLEHLO_FLOOR STABLEHLO_LOG
STABLEHLO_MINIMUM STABLEHLO_NEGATE STABLEHLO_OR STABLEHLO_POWER STABLEHLO_REMAINDER
STABLEHLO_RSQRT STABLEHLO_SELECT STABLEHLO_SUBTRACT STABLEHLO_TANH STABLEHLO_SCATTER
STABLEHLO_COMPARE STABLEHLO_CONVERT STABLEHLO_DYNAMIC_SLICE STABLEHLO_DYNAMIC_UPDATE_SLICE
STABLEHLO_PAD STABLEHLO_IOTA STABLEHLO_DOT_GENERAL STABLEHLO_REDUCE_WINDOW STABLEHLO_SORT
STABLEHLO_WHILE STABLEHLO_GATHER STABLEHLO_TRANSPOSE DILATE STABLEHLO_RNG_BIT_GENERATOR
REDUCE_WINDOW STABLEHLO_COMPOSITE STABLEHLO_SHIFT_LEFT STABLEHLO_CBRT STABLEHLO_CASE
""".split()
_CUSTOM = _BUILTIN_OPERATORS.index("CUSTOM")

# enum TensorType: name and little-endian NumPy dtype (None: no fixed-size element)
_TENSOR_TYPES = (
    ("FLOAT32", "<f4"), ("FLOAT16", "<f2"), ("INT32", "<i4"), ("UINT8", "u1"), ("INT64", "<i8"),
    ("STRING", None), ("BOOL", "?"), ("INT16", "<i2"), ("COMPLEX64", "<c8"), ("INT8", "i1"),
    ("FLOAT64", "<f8"), ("COMPLEX128", "<c16"), ("UINT64", "<u8"), ("RESOURCE", None),
    ("VARIANT", None), ("UINT32", "<u4"), ("UINT16", "<u2"), ("INT4", None), ("BFLOAT16", None),
)

# The byte enums the options tables use
_ENUMS = {
    "Padding": ("SAME", "VALID"),
    "ActivationFunctionType": ("NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT"),
    "FullyConnectedOptionsWeightsFormat": ("DEFAULT", "SHUFFLED4x16INT8"),
    "LSHProjectionType": ("UNKNOWN", "SPARSE", "DENSE"),
    "LSTMKernelType": ("FULL", "BASIC"),
    "CombinerType": ("SUM", "MEAN", "SQRTN"),
    "MirrorPadMode": ("REFLECT", "SYMMETRIC"),
    "TensorType": tuple(name for name, _ in _TENSOR_TYPES),
}

# union BuiltinOptions, in order (type code 1..): each table and its fields in slot order,
# `name:type[=default]`; a `-` name keeps the slot of a deprecated field.
_OPTION_TABLES = """
Conv2DOptions padding:Padding stride_w:int stride_h:int
  fused_activation_function:ActivationFunctionType dilation_w_factor:int=1
  dilation_h_factor:int=1 quantized_bias_type:TensorType
DepthwiseConv2DOptions padding:Padding stride_w:int stride_h:int depth_multiplier:int
  fused_activation_function:ActivationFunctionType dilation_w_factor:int=1
  dilation_h_factor:int=1
ConcatEmbeddingsOptions num_channels:int num_columns_per_channel:[int]
  embedding_dim_per_channel:[int]
LSHProjectionOptions type:LSHProjectionType
Pool2DOptions padding:Padding stride_w:int stride_h:int filter_width:int filter_height:int
  fused_activation_function:ActivationFunctionType
SVDFOptions rank:int fused_activation_function:ActivationFunctionType
  asymmetric_quantize_inputs:bool
RNNOptions fused_activation_function:ActivationFunctionType asymmetric_quantize_inputs:bool
FullyConnectedOptions fused_activation_function:ActivationFunctionType
  weights_format:FullyConnectedOptionsWeightsFormat keep_num_dims:bool
  asymmetric_quantize_inputs:bool quantized_bias_type:TensorType
SoftmaxOptions beta:float
ConcatenationOptions axis:int fused_activation_function:ActivationFunctionType
AddOptions fused_activation_function:ActivationFunctionType pot_scale_int16:bool=1
L2NormOptions fused_activation_function:ActivationFunctionType
LocalResponseNormalizationOptions radius:int bias:float alpha:float beta:float
LSTMOptions fused_activation_function:ActivationFunctionType cell_clip:float proj_clip:float
  kernel_type:LSTMKernelType asymmetric_quantize_inputs:bool
ResizeBilinearOptions -:int -:int align_corners:bool half_pixel_centers:bool
CallOptions subgraph:uint
ReshapeOptions new_shape:[int]
SkipGramOptions ngram_size:int max_skip_size:int include_all_ngrams:bool
SpaceToDepthOptions block_size:int
EmbeddingLookupSparseOptions combiner:CombinerType
MulOptions fused_activation_function:ActivationFunctionType
PadOptions
GatherOptions axis:int batch_dims:int
BatchToSpaceNDOptions
SpaceToBatchNDOptions
TransposeOptions
ReducerOptions keep_dims:bool
SubOptions fused_activation_function:ActivationFunctionType pot_scale_int16:bool=1
DivOptions fused_activation_function:ActivationFunctionType
SqueezeOptions squeeze_dims:[int]
SequenceRNNOptions time_major:bool fused_activation_function:ActivationFunctionType
  asymmetric_quantize_inputs:bool
StridedSliceOptions begin_mask:int end_mask:int ellipsis_mask:int new_axis_mask:int
  shrink_axis_mask:int offset:bool
ExpOptions
TopKV2Options
SplitOptions num_splits:int
LogSoftmaxOptions
CastOptions in_data_type:TensorType out_data_type:TensorType
DequantizeOptions
MaximumMinimumOptions
ArgMaxOptions output_type:TensorType
LessOptions
NegOptions
PadV2Options
GreaterOptions
GreaterEqualOptions
LessEqualOptions
SelectOptions
SliceOptions
TransposeConvOptions padding:Padding stride_w:int stride_h:int
  fused_activation_function:ActivationFunctionType quantized_bias_type:TensorType
SparseToDenseOptions validate_indices:bool
TileOptions
ExpandDimsOptions
EqualOptions
NotEqualOptions
ShapeOptions out_type:TensorType
PowOptions
ArgMinOptions output_type:TensorType
FakeQuantOptions min:float max:float num_bits:int narrow_range:bool
PackOptions values_count:int axis:int
LogicalOrOptions
OneHotOptions axis:int
LogicalAndOptions
LogicalNotOptions
UnpackOptions num:int axis:int
FloorDivOptions
SquareOptions
ZerosLikeOptions
FillOptions
BidirectionalSequenceLSTMOptions fused_activation_function:ActivationFunctionType
  cell_clip:float proj_clip:float merge_outputs:bool time_major:bool=1
  asymmetric_quantize_inputs:bool
BidirectionalSequenceRNNOptions time_major:bool fused_activation_function:ActivationFunctionType
  merge_outputs:bool asymmetric_quantize_inputs:bool
UnidirectionalSequenceLSTMOptions fused_activation_function:ActivationFunctionType
  cell_clip:float proj_clip:float time_major:bool asymmetric_quantize_inputs:bool
  diagonal_recurrent_tensors:bool
FloorModOptions
RangeOptions
ResizeNearestNeighborOptions align_corners:bool half_pixel_centers:bool
LeakyReluOptions alpha:float
SquaredDifferenceOptions
MirrorPadOptions mode:MirrorPadMode
AbsOptions
SplitVOptions num_splits:int
UniqueOptions idx_out_type:TensorType=2
ReverseV2Options
AddNOptions
GatherNdOptions
CosOptions
WhereOptions
RankOptions
ReverseSequenceOptions seq_dim:int batch_dim:int
MatrixDiagOptions
QuantizeOptions
MatrixSetDiagOptions
HardSwishOptions
IfOptions then_subgraph_index:int else_subgraph_index:int
WhileOptions cond_subgraph_index:int body_subgraph_index:int
DepthToSpaceOptions block_size:int
NonMaxSuppressionV4Options
NonMaxSuppressionV5Options
ScatterNdOptions
SelectV2Options
DensifyOptions
SegmentSumOptions
BatchMatMulOptions adj_x:bool adj_y:bool asymmetric_quantize_inputs:bool
CumsumOptions exclusive:bool reverse:bool
CallOnceOptions init_subgraph_index:int
BroadcastToOptions
Rfft2dOptions
Conv3DOptions padding:Padding stride_d:int stride_w:int stride_h:int
  fused_activation_function:ActivationFunctionType dilation_d_factor:int=1
  dilation_w_factor:int=1 dilation_h_factor:int=1
HashtableOptions table_id:int key_dtype:TensorType value_dtype:TensorType
HashtableFindOptions
HashtableImportOptions
HashtableSizeOptions
VarHandleOptions container:string shared_name:string
ReadVariableOptions
AssignVariableOptions
RandomOptions seed:long seed2:long
BucketizeOptions boundaries:[float]
GeluOptions approximate:bool
DynamicUpdateSliceOptions
UnsortedSegmentProdOptions
UnsortedSegmentMaxOptions
UnsortedSegmentMinOptions
UnsortedSegmentSumOptions
ATan2Options
SignOptions
BitcastOptions
BitwiseXorOptions
RightShiftOptions
"""

# The options table TensorFlow Lite reads for an operator, for the operators an importer is
# likely to map: one listed here whose file stores no options gets this table's defaults, and
# one that stores another table is refused. (LOGISTIC, TANH, RELU, RELU6 have no table.)
_OPTIONS_OF = {
    "CONV_2D": "Conv2DOptions", "DEPTHWISE_CONV_2D": "DepthwiseConv2DOptions",
    "TRANSPOSE_CONV": "TransposeConvOptions", "FULLY_CONNECTED": "FullyConnectedOptions",
    "AVERAGE_POOL_2D": "Pool2DOptions", "MAX_POOL_2D": "Pool2DOptions",
    "L2_POOL_2D": "Pool2DOptions", "ADD": "AddOptions", "SUB": "SubOptions",
    "MUL": "MulOptions", "DIV": "DivOptions", "MEAN": "ReducerOptions", "SUM": "ReducerOptions",
    "REDUCE_MAX": "ReducerOptions", "REDUCE_MIN": "ReducerOptions",
    "REDUCE_PROD": "ReducerOptions", "RESHAPE": "ReshapeOptions", "SOFTMAX": "SoftmaxOptions",
    "CONCATENATION": "ConcatenationOptions", "RESIZE_BILINEAR": "ResizeBilinearOptions",
    "RESIZE_NEAREST_NEIGHBOR": "ResizeNearestNeighborOptions", "SQUEEZE": "SqueezeOptions",
    "LEAKY_RELU": "LeakyReluOptions", "GATHER": "GatherOptions",
    "STRIDED_SLICE": "StridedSliceOptions", "PACK": "PackOptions", "SPLIT": "SplitOptions",
    "TRANSPOSE": "TransposeOptions", "PAD": "PadOptions", "QUANTIZE": "QuantizeOptions",
    "DEQUANTIZE": "DequantizeOptions", "HARD_SWISH": "HardSwishOptions",
}

_SCALARS = {"bool": "<B", "int": "<i", "uint": "<I", "long": "<q", "float": "<f"}
_VECTORS = {"[int]": "<i4", "[float]": "<f4"}


def _parse_option_tables(text):
    """[(table name, ((field name, type, default), ...)), ...] from _OPTION_TABLES."""
    tables = []
    for word in text.split():
        if ":" not in word:
            tables.append((word, []))
            continue
        name, _, kind = word.partition(":")
        kind, _, default = kind.partition("=")
        if not (kind in _SCALARS or kind in _VECTORS or kind in _ENUMS or kind == "string"):
            raise AssertionError(f"option type {kind!r} of {tables[-1][0]}")
        value = int(default or 0)
        tables[-1][1].append((name, kind, float(value) if kind == "float" else value))
    return [(name, tuple(fields)) for name, fields in tables]


_OPTIONS = _parse_option_tables(_OPTION_TABLES)
_OPTIONS_BY_NAME = {name: fields for name, fields in _OPTIONS}

# --- Bounds-checked flatbuffer access ---------------------------------------------------------

_I8, _U8, _U16, _I32, _U32, _U64 = (struct.Struct(f) for f in ("<b", "<B", "<H", "<i", "<I", "<Q"))
_STRUCTS = {kind: struct.Struct(fmt) for kind, fmt in _SCALARS.items()}


class _Buf:
    """The file's bytes, every read checked against their length.

    `budget` bounds the bytes of vectors decoded into Python objects: tables may share one
    vector (flatbuffers allow it), and a file naming one long vector from many tables would
    otherwise cost time and memory quadratic in its size. Without sharing a file decodes at
    most its own size; constant data, viewed in place, is not counted."""

    __slots__ = ("data", "n", "budget")

    def __init__(self, data):
        self.data = data
        self.n = len(data)
        self.budget = 2 * self.n + 65536

    def check(self, pos, size, where, what):
        if pos < 0 or size < 0 or pos + size > self.n:
            raise _error(where, f"{what} at bytes {pos}..{pos + size} lies outside the file "
                                f"({self.n} bytes)")

    def read(self, st, pos, where, what):
        self.check(pos, st.size, where, what)
        return st.unpack_from(self.data, pos)[0]


def _error(where, msg):
    return TFLiteError(f"read_tflite: {where}: {msg}")


class _Table:
    """One flatbuffer table: its fields by slot (the field's order in the schema)."""

    __slots__ = ("buf", "pos", "where", "vt", "vt_len", "obj_len")

    def __init__(self, buf, pos, where):
        self.buf, self.pos, self.where = buf, pos, where
        self.vt = pos - buf.read(_I32, pos, where, "table")
        self.vt_len = buf.read(_U16, self.vt, where, "vtable")
        self.obj_len = buf.read(_U16, self.vt + 2, where, "vtable")
        if self.vt_len < 4 or self.vt_len % 2:
            raise _error(where, f"vtable at byte {self.vt} has an invalid size {self.vt_len}")
        if self.obj_len < 4:
            raise _error(where, f"table at byte {pos} has an invalid size {self.obj_len}")
        buf.check(self.vt, self.vt_len, where, "vtable")
        buf.check(pos, self.obj_len, where, "table")

    def _field(self, slot, size, what):
        """The field's byte position, or None when the file leaves it out."""
        entry = 4 + 2 * slot
        if entry + 2 > self.vt_len:
            return None
        off = _U16.unpack_from(self.buf.data, self.vt + entry)[0]
        if off == 0:
            return None
        if off + size > self.obj_len:
            raise _error(self.where, f"field {what} at offset {off} runs past the table's "
                                     f"{self.obj_len} bytes")
        return self.pos + off

    def scalar(self, slot, st, default, what):
        pos = self._field(slot, st.size, what)
        return default if pos is None else st.unpack_from(self.buf.data, pos)[0]

    def _target(self, slot, what):
        """Where the offset field `slot` points, or None."""
        pos = self._field(slot, 4, what)
        if pos is None:
            return None
        target = pos + _U32.unpack_from(self.buf.data, pos)[0]
        self.buf.check(target, 4, self.where, what)
        return target

    def table(self, slot, what):
        target = self._target(slot, what)
        return None if target is None else _Table(self.buf, target, f"{self.where}: {what}")

    def vector(self, slot, elem_size, what, in_place=False):
        """(first element's position, count) of a vector field, or None; `in_place`: the
        caller views the bytes without decoding them (not counted in the budget)."""
        target = self._target(slot, what)
        if target is None:
            return None
        count = _U32.unpack_from(self.buf.data, target)[0]
        start = target + 4
        size = count * elem_size
        if size > self.buf.n - start:
            raise _error(self.where, f"{what}: a vector of {count} elements of {elem_size} bytes "
                                     f"at byte {start} runs past the end of the file "
                                     f"({self.buf.n} bytes)")
        if not in_place:
            self.buf.budget -= size
            if self.buf.budget < 0:
                raise _error(self.where, f"{what}: the vectors read so far exceed twice the "
                                         f"file's {self.buf.n} bytes plus 64 KB (tables share "
                                         f"long vectors)")
        return start, count

    def array(self, slot, dtype, what):
        """A vector of numbers as a read-only NumPy array, or None."""
        dtype = np.dtype(dtype)
        vec = self.vector(slot, dtype.itemsize, what)
        if vec is None:
            return None
        return np.frombuffer(self.buf.data, dtype, vec[1], vec[0])

    def ints(self, slot, what):
        arr = self.array(slot, "<i4", what)
        return None if arr is None else tuple(arr.tolist())

    def string(self, slot, what):
        vec = self.vector(slot, 1, what)
        if vec is None:
            return None
        start, count = vec
        return self.buf.data[start:start + count].decode("utf-8", errors="replace")

    def tables(self, slot, what):
        """A vector of tables as a list of _Table, [] when absent; `what` names one element."""
        vec = self.vector(slot, 4, what)
        if vec is None:
            return []
        start, count = vec
        out = []
        for i in range(count):
            pos = start + 4 * i
            target = pos + _U32.unpack_from(self.buf.data, pos)[0]
            out.append(_Table(self.buf, target, f"{what} {i}"))
        return out


# --- The model ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Quant:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per channel."""

    scale: np.ndarray             # float32, 1-D
    zero_point: np.ndarray        # int64, same length
    quantized_dimension: int      # the axis of the channels when len(scale) > 1


@dataclass(frozen=True)
class Tensor:
    """One tensor of subgraph 0, in TFLite's layout (NHWC activations, OHWI conv weights)."""

    index: int
    name: str
    shape: tuple
    shape_signature: Optional[tuple]
    dtype: np.dtype
    data: Optional[np.ndarray]    # read-only, of .shape and .dtype; None without a buffer
    quant: Optional[Quant]
    is_variable: bool


@dataclass(frozen=True)
class Operator:
    """One operator of subgraph 0, in execution order."""

    index: int
    opcode: str                   # BuiltinOperator name, or "CUSTOM:<custom code>"
    version: int
    inputs: tuple                 # tensor indices, -1 for an absent optional input
    outputs: tuple
    options: dict


@dataclass(frozen=True)
class TFLiteFile:
    """What read_tflite returns: subgraph 0 of the model, and the model's header fields."""

    version: int
    description: str
    tensors: list
    operators: list
    inputs: tuple
    outputs: tuple
    n_subgraphs: int


def _tensor_indices(values, n_tensors, where, what, optional=False):
    if values is None:
        return ()
    for v in values:
        if not (0 <= v < n_tensors or (optional and v == -1)):
            raise _error(where, f"{what} names tensor {v}, the subgraph has {n_tensors}")
    return values


def _opcode(table, i):
    where = f"operator code {i}"
    deprecated = table.scalar(0, _I8, 0, "deprecated_builtin_code")
    code = max(deprecated, table.scalar(3, _I32, 0, "builtin_code"))
    version = table.scalar(2, _I32, 1, "version")
    if not 0 <= code < len(_BUILTIN_OPERATORS):
        raise _error(where, f"builtin code {code} is not a BuiltinOperator this reader knows "
                            f"(0..{len(_BUILTIN_OPERATORS) - 1})")
    if code == _CUSTOM:
        return f"CUSTOM:{table.string(1, 'custom_code') or ''}", version
    return _BUILTIN_OPERATORS[code], version


def _options(table, name, where):
    """The fields of options table `name` as a dict; defaults when `table` is None."""
    out = {}
    for slot, (field, kind, default) in enumerate(_OPTIONS_BY_NAME[name]):
        if field == "-":
            continue
        if table is None:
            value = None if kind in _VECTORS or kind == "string" else default
        elif kind in _VECTORS:
            arr = table.array(slot, _VECTORS[kind], field)
            value = None if arr is None else tuple(arr.tolist())
        elif kind == "string":
            value = table.string(slot, field)
        elif kind in _ENUMS:
            value = table.scalar(slot, _I8, default, field)
        else:
            value = table.scalar(slot, _STRUCTS[kind], default, field)
        if kind in _ENUMS:
            names = _ENUMS[kind]
            if not 0 <= value < len(names):
                raise _error(where, f"{name}.{field} is {value}, outside the enum {kind} "
                                    f"(0..{len(names) - 1})")
            value = names[value]
        elif kind == "bool":
            value = bool(value)
        out[field] = value
    return out


def _operator(table, i, opcodes, n_tensors):
    op_index = table.scalar(0, _U32, 0, "opcode_index")
    where = f"operator {i}"
    if op_index >= len(opcodes):
        raise _error(where, f"opcode index {op_index} is out of range (the model has "
                            f"{len(opcodes)} operator codes)")
    opcode, version = opcodes[op_index]
    where = f"operator {i} ({opcode})"
    inputs = _tensor_indices(table.ints(1, "inputs"), n_tensors, where, "inputs", optional=True)
    outputs = _tensor_indices(table.ints(2, "outputs"), n_tensors, where, "outputs")
    kind = table.scalar(3, _U8, 0, "builtin_options_type")
    if kind > len(_OPTIONS):
        raise _error(where, f"builtin options type {kind} is not in the BuiltinOptions union "
                            f"(1..{len(_OPTIONS)})")
    expected = _OPTIONS_OF.get(opcode)
    if kind == 0:
        options = _options(None, expected, where) if expected else {}
    else:
        name = _OPTIONS[kind - 1][0]
        if expected and name != expected:
            raise _error(where, f"holds {name}, {opcode} takes {expected}")
        options = _options(table.table(4, "builtin_options"), name, where)
    return Operator(i, opcode, version, inputs, outputs, options)


def _quant(table, shape, where):
    if table is None:
        return None
    scale = table.array(2, "<f4", "quantization scale")
    if scale is None or len(scale) == 0:
        return None
    zero_point = table.array(3, "<i8", "quantization zero_point")
    if zero_point is None or len(zero_point) == 0:
        zero_point = np.zeros(len(scale), np.int64)
    if len(zero_point) != len(scale):
        raise _error(where, f"{len(scale)} quantization scales but {len(zero_point)} "
                            f"zero points")
    axis = table.scalar(6, _I32, 0, "quantized_dimension")
    if len(scale) > 1 and not (0 <= axis < len(shape) and shape[axis] == len(scale)):
        raise _error(where, f"{len(scale)} quantization scales along dimension {axis} of "
                            f"shape {shape}")
    return Quant(scale.astype(np.float32), zero_point.astype(np.int64), axis)


def _buffer_bytes(buffers, index, where):
    """(position, size) in the file of buffer `index`'s data."""
    if index >= len(buffers):
        raise _error(where, f"buffer {index} is out of range (the model has {len(buffers)})")
    table = buffers[index]
    offset = table.scalar(1, _U64, 0, "offset")
    if offset > 1:  # stored after the flatbuffer, from the start of the file
        size = table.scalar(2, _U64, 0, "size")
        table.buf.check(offset, size, where, f"buffer {index}")
        return offset, size
    vec = table.vector(0, 1, "data", in_place=True)
    return (0, 0) if vec is None else vec


def _tensor(table, i, buffers):
    name = table.string(3, "name") or ""
    where = f"tensor {i} ({name!r})"
    shape = table.ints(0, "shape") or ()
    if any(d < 0 for d in shape):
        raise _error(where, f"shape {shape} has a negative dimension")
    code = table.scalar(1, _I8, 0, "type")
    if not 0 <= code < len(_TENSOR_TYPES):
        raise _error(where, f"type code {code} is not a TensorType (0..{len(_TENSOR_TYPES) - 1})")
    type_name, dtype = _TENSOR_TYPES[code]
    if dtype is None:
        raise _error(where, f"type {type_name} is not supported")
    if table.table(6, "sparsity") is not None:
        raise _error(where, "sparse tensors are not supported")
    dtype = np.dtype(dtype)
    index = table.scalar(2, _U32, 0, "buffer")
    start, size = _buffer_bytes(buffers, index, where)
    data = None
    if size:
        need = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if size != need:
            raise _error(where, f"buffer {index} holds {size} bytes, shape {shape} "
                                f"{dtype.name} needs {need}")
        data = np.frombuffer(table.buf.data, dtype, need // dtype.itemsize, start).reshape(shape)
    quant = _quant(table.table(4, "quantization"), shape, where)
    return Tensor(i, name, shape, table.ints(7, "shape_signature"), dtype, data, quant,
                  bool(table.scalar(5, _U8, 0, "is_variable")))


def read_tflite(path_or_bytes):
    """Read a .tflite file (a path, or its bytes) into a TFLiteFile; see the module docstring.

    Raises TFLiteError (a ValueError) for a damaged or unsupported file, OSError when the
    path cannot be read and TypeError for an argument that is neither a path nor bytes.
    """
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        data = bytes(path_or_bytes)
    elif isinstance(path_or_bytes, (str, os.PathLike)):
        with open(path_or_bytes, "rb") as f:
            data = f.read()
    else:
        raise TypeError("read_tflite: path_or_bytes must be a path or bytes, not "
                        f"{type(path_or_bytes).__name__}")
    buf = _Buf(data)
    if buf.n < 8:
        raise _error("file", f"{buf.n} bytes is too short for a TFLite flatbuffer")
    if data[4:8] != b"TFL3":
        raise _error("file", f"file identifier {data[4:8]!r} at bytes 4..8 is not b'TFL3'")
    model = _Table(buf, _U32.unpack_from(data, 0)[0], "model")
    version = model.scalar(0, _U32, 0, "version")
    if version != 3:  # versions 0..2 laid out tensors and buffers differently
        raise _error("model", f"schema version {version}, this reader decodes version 3")
    opcodes = [_opcode(t, i) for i, t in enumerate(model.tables(1, "operator code"))]
    subgraphs = model.tables(2, "subgraph")
    if not subgraphs:
        raise _error("model", "no subgraph")
    buffers = model.tables(4, "buffer")
    graph = subgraphs[0]
    tensors = [_tensor(t, i, buffers) for i, t in enumerate(graph.tables(0, "tensor"))]
    n = len(tensors)
    operators = [_operator(t, i, opcodes, n) for i, t in enumerate(graph.tables(3, "operator"))]
    return TFLiteFile(
        version=version,
        description=model.string(3, "description") or "",
        tensors=tensors,
        operators=operators,
        inputs=_tensor_indices(graph.ints(1, "inputs"), n, "subgraph 0", "inputs"),
        outputs=_tensor_indices(graph.ints(2, "outputs"), n, "subgraph 0", "outputs"),
        n_subgraphs=len(subgraphs),
    )
