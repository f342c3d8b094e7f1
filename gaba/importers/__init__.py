"""Readers of model files written by other frameworks (TensorFlow Lite, ONNX) and
their mapping onto gaba's layer table (``gaba.zoo.from_tflite``,
``gaba.zoo.from_onnx``; docs/import.md)."""

from ._graph import ModelImportError
from .onnx import ONNXError
from .tflite_file import TFLiteError

__all__ = ["ModelImportError", "ONNXError", "TFLiteError"]
